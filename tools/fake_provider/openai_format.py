"""The OpenAI wire format: Chat Completions (JSON and SSE) and the model listing.

Deterministic behaviour the tests rely on:

* the answer is ``fake_reply`` of the last user message; ``max_tokens`` /
  ``max_completion_tokens`` truncate it (``finish_reason="length"``); a ``stop`` string cuts it;
* ``prompt_tokens`` is ``count_tokens`` over every message's content; models whose name contains
  ``cache`` report half of it as ``cached_tokens``;
* reasoning models (``o1``/``o3``/``o4``/``gpt-5`` families, or ``reason`` in the name) add
  ``REASONING_TOKENS`` reasoning tokens to ``completion_tokens``;
* streams end with a usage chunk when ``stream_options.include_usage`` is set, then ``[DONE]``;
* ``GET /v1/models`` pages with ``limit``/``after`` (or ``server.page_size``) and says
  ``has_more``.

Content parts and tools, as Chat Completions takes them:

* a message's text is its string, or its parts joined by spaces: text parts as they are, an
  ``image_url`` part as ``[image]``, a ``file`` part as ``[file <filename>]``;
* with ``tools`` (and ``tool_choice`` not ``"none"``), when the last message is the user's, each
  of its lines ``call <name> [<arguments>]`` makes the model call that tool with those arguments
  sent verbatim (``{}`` when none; not JSON if the line's are not, for malformed-call tests).
  ``tool_choice="required"`` with no such line calls the first tool with ``{}``; a named
  ``tool_choice`` keeps only (or makes) a call of that tool and, as OpenAI does, finishes with
  ``"stop"``; ``parallel_tool_calls: false`` keeps the first call. Call ids are
  ``call_fake<request number>_<i>``. Streams send each call's id and name, then its arguments
  in pieces of ``ARGUMENT_PIECE`` characters, then ``finish_reason="tool_calls"``;
* when the last message is a tool result, the answer is ``fake_reply`` of the trailing tool
  messages' texts joined by ``"; "``;
* requests that OpenAI refuses get its 400: ``tool_choice`` or ``parallel_tool_calls`` without
  ``tools``; a tool-call id over 40 characters; an assistant's tool calls not followed by a tool
  message for each id; a tool message answering no pending call; an image in a tool message; an
  image URL that is neither ``http(s)://`` nor ``data:image/...;base64,``.

Structured output:

* a ``strict`` schema (``response_format`` ``json_schema``, or a function tool with
  ``"strict": true``) that breaks OpenAI's strict rules gets the API's 400
  (``openai_strict.strict_problem``); ``json_object`` needs the word "json" in the messages;
* a ``json_schema`` request is answered with JSON valid against its schema, made up by
  ``modelwire.providers.mock_tools.example_value`` seeded by the last user message; so is a
  ``json_object`` or plain request whose system message carries modelwire's output
  instructions (the schema after ``INSTRUCTIONS_MARKER``), and a strict tool forced by a
  named ``tool_choice`` (its arguments);
* in such a request, a last user message containing ``INVALID_JSON_LINE`` gets broken JSON,
  and one containing ``REFUSE_LINE`` gets a ``refusal`` (``content`` null) instead.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any

from modelwire.providers.mock_tools import example_value
from tools.fake_provider.openai_strict import strict_problem
from tools.fake_provider.server import (
    FakeProviderServer,
    FakeRequest,
    Reply,
    Route,
    SseEvent,
    count_tokens,
    fake_reply,
    iter_pages,
    split_stream,
)

NAME = "openai"
REQUEST_ID_HEADER = "x-request-id"
CREATED = 1_700_000_000
REASONING_TOKENS = 5
#: Characters per streamed piece of a tool call's arguments.
ARGUMENT_PIECE = 8
MAX_CALL_ID = 40
DEFAULT_MODELS: tuple[str, ...] = (
    "gpt-4o",
    "gpt-4o-mini",
    "o3-mini",
    "gpt-5",
    "text-embedding-3-small",
    "whisper-1",
    "tts-1",
    "dall-e-3",
    "gpt-image-1",
    "omni-moderation-latest",
    "gpt-4o-transcribe",
    "gpt-4o-mini-tts",
    "davinci-002",
)

_REASONING = re.compile(r"^(o\d|gpt-5)|reason")
_CALL_LINE = re.compile(r"^\s*call\s+([A-Za-z_][A-Za-z0-9_-]*)(?:\s+(.*?))?\s*$")
_IMAGE_URL = re.compile(r"^(https?://|data:image/[a-z.+-]+;base64,)")
_SCHEMA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: What modelwire's output instructions say just before the schema.
INSTRUCTIONS_MARKER = "It must validate against this JSON schema"
INVALID_JSON_LINE = "answer invalid json"
REFUSE_LINE = "please refuse"
REFUSAL = "I'm sorry, I can't help with that request."
BROKEN_JSON = '{"answer": '


def error_body(status: int, message: str, code: str | None) -> dict[str, Any]:
    """OpenAI's error envelope."""
    kind = {
        400: "invalid_request_error",
        401: "invalid_request_error",
        404: "invalid_request_error",
        429: "rate_limit_exceeded" if code is None else "requests",
    }.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _auth(request: FakeRequest, server: FakeProviderServer) -> Reply | None:
    header = request.headers.get("authorization", "")
    key = header[7:] if header.lower().startswith("bearer ") else None
    if server.key_accepted(key):
        return None
    body = error_body(401, "Incorrect API key provided.", "invalid_api_key")
    return Reply(status=401, body=body)


def content_text(content: Any) -> str:
    """A message's text: its string, or its parts joined (images and files as placeholders)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    pieces: list[str] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            pieces.append(str(part.get("text") or ""))
        elif kind == "image_url":
            pieces.append("[image]")
        elif kind == "file":
            pieces.append(f"[file {(part.get('file') or {}).get('filename')}]")
    return " ".join(pieces)


def _message_tokens(message: Any) -> int:
    if not isinstance(message, dict):
        return 0
    n = count_tokens(content_text(message.get("content")))
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {} if isinstance(call, dict) else {}
        n += count_tokens(f"{function.get('name', '')} {function.get('arguments', '')}")
    return n


def _usage(model: str, messages: list[Any], completion_text: str) -> dict[str, Any]:
    prompt = sum(_message_tokens(m) for m in messages)
    cached = prompt // 2 if "cache" in model else 0
    reasoning = REASONING_TOKENS if _REASONING.search(model) else 0
    completion = count_tokens(completion_text) + reasoning
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _prompt(messages: list[Any]) -> str:
    """What the fake model answers: the trailing tool results, else the last user message."""
    results: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        results.append(content_text(message.get("content")))
    if results:
        return "; ".join(reversed(results))
    return next(
        (content_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"),
        "",
    )


def _answer(body: dict[str, Any]) -> tuple[str, str]:
    messages = body.get("messages") or []
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    text, truncated = fake_reply(_prompt(messages), int(limit) if limit else None)
    stops = body.get("stop")
    if isinstance(stops, str):
        stops = [stops]
    for stop in stops or ():
        cut = text.find(stop)
        if cut >= 0:
            return text[:cut], "stop"
    return text, "length" if truncated else "stop"


def chat_completions(request: FakeRequest, server: FakeProviderServer) -> Reply:
    """``POST /v1/chat/completions``."""
    denied = _auth(request, server)
    if denied is not None:
        return denied
    body = request.body if isinstance(request.body, dict) else {}
    model = str(body.get("model") or "")
    if not model or not body.get("messages"):
        return Reply(400, error_body(400, "'model' and 'messages' are required", None))
    refused = refusal(body)
    if refused is not None:
        return Reply(400, error_body(400, refused, None))
    problem = structured_problem(body)
    if problem is not None:
        message, param = problem
        return Reply(400, _with_param(error_body(400, message, None), param))
    number = len(server.requests)
    cid = f"chatcmpl-fake{number}"
    calls = planned_calls(body)
    if calls:
        return _tool_call_reply(cid, model, body, calls, number)
    structured = structured_answer(body)
    refusing = structured is not None and REFUSE_LINE in _prompt(body["messages"]).lower()
    if refusing:
        text, finish = "", "stop"
    elif structured is not None:
        text, finish = structured, "stop"
    else:
        text, finish = _answer(body)
    usage = _usage(model, body["messages"], text or REFUSAL)
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        use = usage if include_usage else None
        if refusing:
            return Reply(events=_refusal_stream(cid, model, use))
        return Reply(events=_stream(cid, model, text, finish, use))
    if refusing:
        message = {"role": "assistant", "content": None, "refusal": REFUSAL}
        return Reply(
            body={
                "id": cid,
                "object": "chat.completion",
                "created": CREATED,
                "model": model,
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
                ],
                "usage": usage,
                "system_fingerprint": "fp_fake",
            }
        )
    return Reply(
        body={
            "id": cid,
            "object": "chat.completion",
            "created": CREATED,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": usage,
            "system_fingerprint": "fp_fake",
        }
    )


def refusal(body: dict[str, Any]) -> str | None:
    """The message of the 400 OpenAI gives this body, or ``None`` when it takes it."""
    if not body.get("tools"):
        for name in ("tool_choice", "parallel_tool_calls"):
            if name in body:
                return f"Invalid value for '{name}': only allowed when 'tools' are specified."
    pending: list[str] = []
    for i, message in enumerate(body.get("messages") or []):
        if not isinstance(message, dict):
            return f"Invalid type for 'messages[{i}]': expected an object."
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in pending:
                return (
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceding message with 'tool_calls'."
                )
            pending.remove(call_id)
            content = message.get("content")
            if isinstance(content, list) and any(
                not isinstance(p, dict) or p.get("type") != "text" for p in content
            ):
                return f"Invalid 'messages[{i}].content': a tool message takes text parts only."
            continue
        if pending:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                f"response messages: {', '.join(pending)}"
            )
        for j, call in enumerate(message.get("tool_calls") or ()):
            call_id = str((call or {}).get("id") or "")
            if len(call_id) > MAX_CALL_ID:
                return (
                    f"Invalid 'messages[{i}].tool_calls[{j}].id': string too long. Expected a "
                    f"string with maximum length {MAX_CALL_ID}, but got a string with length "
                    f"{len(call_id)} instead."
                )
            pending.append(call_id)
        content = message.get("content")
        for j, part in enumerate(content if isinstance(content, list) else ()):
            if isinstance(part, dict) and part.get("type") == "image_url":
                url = str((part.get("image_url") or {}).get("url") or "")
                if not _IMAGE_URL.match(url):
                    return f"Invalid 'messages[{i}].content[{j}].image_url.url': not a valid URL."
    if pending:
        return (
            "An assistant message with 'tool_calls' must be followed by tool messages "
            "responding to each 'tool_call_id'. The following tool_call_ids did not have "
            f"response messages: {', '.join(pending)}"
        )
    return None


def _with_param(body: dict[str, Any], param: str) -> dict[str, Any]:
    body["error"]["param"] = param
    return body


def structured_problem(body: dict[str, Any]) -> tuple[str, str] | None:
    """The message and ``param`` of the 400 OpenAI gives a structured-output body it refuses:
    a strict schema that breaks the strict rules, a bad schema name, ``json_object`` without
    the word "json" in the messages."""
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        kind = response_format.get("type")
        if kind == "json_schema":
            spec = response_format.get("json_schema") or {}
            name = str(spec.get("name") or "")
            if not _SCHEMA_NAME.match(name):
                return (
                    "Invalid 'response_format.json_schema.name': string does not match pattern. "
                    "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                    "response_format.json_schema.name",
                )
            if spec.get("strict"):
                found = strict_problem(spec.get("schema"), f"response_format '{name}'")
                if found is not None:
                    return found, "response_format"
        elif kind == "json_object":
            said = " ".join(content_text(m.get("content")) for m in body.get("messages") or ())
            if "json" not in said.lower():
                return (
                    "'messages' must contain the word 'json' in some form, to use "
                    "'response_format' of type 'json_object'.",
                    "messages",
                )
        elif kind != "text":
            return (
                f"Invalid value: '{kind}'. Supported values are: 'json_object', 'json_schema', "
                "and 'text'.",
                "response_format.type",
            )
    for i, tool in enumerate(body.get("tools") or ()):
        function = (tool or {}).get("function") or {}
        if function.get("strict"):
            found = strict_problem(function.get("parameters"), f"function '{function.get('name')}'")
            if found is not None:
                return found, f"tools[{i}].function.parameters"
    return None


def _instructed_schema(messages: list[Any]) -> Any:
    """The schema of modelwire's output instructions in a system message, if any."""
    for message in messages:
        if message.get("role") not in ("system", "developer"):
            continue
        text = content_text(message.get("content"))
        at = text.find(INSTRUCTIONS_MARKER)
        if at < 0:
            continue
        start = text.find("{", at)
        try:
            schema, _ = json.JSONDecoder().raw_decode(text, start)
        except ValueError:
            return None
        return schema
    return None


def _made_up(schema: Any, prompt: str) -> str:
    """JSON valid against ``schema``, the same for the same prompt (broken on request)."""
    if INVALID_JSON_LINE in prompt.lower():
        return BROKEN_JSON
    digest = hashlib.blake2b(prompt.encode(), digest_size=8).digest()
    return json.dumps(example_value(schema, random.Random(digest)))


def structured_answer(body: dict[str, Any]) -> str | None:
    """The fake model's JSON answer to a structured request, or ``None`` for any other."""
    messages = body.get("messages") or []
    response_format = body.get("response_format")
    schema: Any = None
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
    if schema is None:
        schema = _instructed_schema(messages)
    if schema is None:
        return None
    return _made_up(schema, _prompt(messages))


def planned_calls(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The tool calls the fake model makes for ``body``: ``(name, raw arguments)`` pairs."""
    tools = [t.get("function") or {} for t in body.get("tools") or () if isinstance(t, dict)]
    choice = body.get("tool_choice", "auto")
    messages = body.get("messages") or []
    if not tools or choice == "none" or messages[-1].get("role") != "user":
        return []
    calls: list[tuple[str, str]] = []
    for line in content_text(messages[-1].get("content")).splitlines():
        found = _CALL_LINE.match(line)
        if found:
            calls.append((found.group(1), found.group(2) or "{}"))
    if isinstance(choice, dict):
        forced = str((choice.get("function") or {}).get("name"))
        calls = [c for c in calls if c[0] == forced] or [(forced, _forced_arguments(body, forced))]
    elif choice == "required" and not calls:
        calls = [(str(tools[0].get("name")), "{}")]
    if body.get("parallel_tool_calls") is False:
        calls = calls[:1]
    return calls


def _forced_arguments(body: dict[str, Any], name: str) -> str:
    """The arguments of a forced call the user did not spell out: made up from a strict tool's
    schema (a structured output's tool), ``{}`` for any other."""
    for tool in body.get("tools") or ():
        function = (tool or {}).get("function") or {}
        if function.get("name") == name and function.get("strict"):
            return _made_up(function.get("parameters") or {}, _prompt(body.get("messages") or []))
    return "{}"


def _tool_call_reply(
    cid: str, model: str, body: dict[str, Any], calls: list[tuple[str, str]], number: int
) -> Reply:
    wire = [
        {
            "id": f"call_fake{number}_{i}",
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        for i, (name, arguments) in enumerate(calls)
    ]
    # OpenAI finishes a call forced by a named tool_choice with "stop"
    finish = "stop" if isinstance(body.get("tool_choice"), dict) else "tool_calls"
    spoken = " ".join(f"{name} {arguments}" for name, arguments in calls)
    usage = _usage(model, body["messages"], spoken)
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return Reply(
            events=_tool_call_stream(cid, model, wire, finish, usage if include_usage else None)
        )
    message = {"role": "assistant", "content": None, "tool_calls": wire, "refusal": None}
    return Reply(
        body={
            "id": cid,
            "object": "chat.completion",
            "created": CREATED,
            "model": model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            ],
            "usage": usage,
            "system_fingerprint": "fp_fake",
        }
    )


def _tool_call_stream(
    cid: str,
    model: str,
    calls: list[dict[str, Any]],
    finish: str,
    usage: dict[str, Any] | None,
) -> list[SseEvent]:
    events: list[SseEvent] = []
    for index, call in enumerate(calls):
        head: dict[str, Any] = {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        delta: dict[str, Any] = {"tool_calls": [head]}
        if index == 0:
            delta = {"role": "assistant", "content": None, **delta, "refusal": None}
        events.append(_chunk(cid, model, delta, None))
        arguments = call["function"]["arguments"]
        for start in range(0, len(arguments), ARGUMENT_PIECE):
            piece = {
                "index": index,
                "function": {"arguments": arguments[start : start + ARGUMENT_PIECE]},
            }
            events.append(_chunk(cid, model, {"tool_calls": [piece]}, None))
    return _finish_stream(events, cid, model, finish, usage)


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None) -> SseEvent:
    data = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return SseEvent(json.dumps(data))


def _stream(
    cid: str, model: str, text: str, finish: str, usage: dict[str, Any] | None
) -> list[SseEvent]:
    events = [_chunk(cid, model, {"role": "assistant", "content": ""}, None)]
    events += [_chunk(cid, model, {"content": piece}, None) for piece in split_stream(text)]
    return _finish_stream(events, cid, model, finish, usage)


def _refusal_stream(cid: str, model: str, usage: dict[str, Any] | None) -> list[SseEvent]:
    events = [_chunk(cid, model, {"role": "assistant", "content": None, "refusal": ""}, None)]
    events += [_chunk(cid, model, {"refusal": piece}, None) for piece in split_stream(REFUSAL)]
    return _finish_stream(events, cid, model, "stop", usage)


def _finish_stream(
    events: list[SseEvent], cid: str, model: str, finish: str, usage: dict[str, Any] | None
) -> list[SseEvent]:
    events.append(_chunk(cid, model, {}, finish))
    if usage is not None:
        tail = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "choices": [],
            "usage": usage,
        }
        events.append(SseEvent(json.dumps(tail)))
    events.append(SseEvent("[DONE]"))
    return events


def list_models(request: FakeRequest, server: FakeProviderServer) -> Reply:
    """``GET /v1/models`` with optional ``limit``/``after`` paging."""
    denied = _auth(request, server)
    if denied is not None:
        return denied
    ids = server.models.get(NAME, [])
    raw_limit = request.query.get("limit")
    limit = int(raw_limit) if raw_limit else server.page_size
    page, has_more = iter_pages(ids, request.query.get("after"), limit)
    body: dict[str, Any] = {
        "object": "list",
        "data": [
            {"id": i, "object": "model", "created": CREATED, "owned_by": "fake"} for i in page
        ],
    }
    if limit is not None:
        body["has_more"] = has_more
        body["first_id"] = page[0] if page else None
        body["last_id"] = page[-1] if page else None
    return Reply(body=body)


ROUTES = [
    Route("POST", r"(?:/v1)?/chat/completions", chat_completions),
    Route("GET", r"(?:/v1)?/models", list_models),
]
