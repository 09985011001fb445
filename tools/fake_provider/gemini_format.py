"""The Gemini API wire format: generateContent (JSON and SSE) and the model listing with paging.

Deterministic behaviour the tests rely on:

* the key comes in ``x-goog-api-key`` (or ``?key=``); a key refused by ``server.accepted_keys``
  gets Gemini's real answer: 400 ``INVALID_ARGUMENT`` with reason ``API_KEY_INVALID``;
* the answer is ``fake_reply`` of the last ``user`` turn's text, cut to
  ``generationConfig.maxOutputTokens`` (``finishReason="MAX_TOKENS"``) or at the first of
  ``stopSequences``;
* ``promptTokenCount`` is ``count_tokens`` over ``systemInstruction`` and every content part;
  models whose name contains ``cache`` report half of it as ``cachedContentTokenCount``;
* models named ``*pro*`` or ``*think*``, or a ``thinkingConfig`` with a non-zero
  ``thinkingBudget``, report ``THOUGHTS_TOKENS`` in ``thoughtsTokenCount`` (and, with
  ``includeThoughts``, a ``thought`` part);
* more prompt tokens than ``CONTEXT_TOKENS`` (``TINY_CONTEXT_TOKENS`` for ``*tiny*`` models) give
  400 "The input token count (N) exceeds the maximum number of tokens allowed (M).";
* ``:streamGenerateContent?alt=sse`` sends one word per chunk, each with ``usageMetadata`` running
  totals; the last chunk has ``finishReason`` and the final counts;
* ``GET /v1beta/models`` pages with ``pageSize``/``pageToken`` (``server.page_size`` caps the
  page) and lists some non-chat models (``embedContent`` only) too.

Structured output: ``generationConfig.responseJsonSchema`` is checked as Gemini documents it
(only ``JSON_SCHEMA_KEYWORDS``, nothing beside a ``$ref`` but ``$`` keys, ``enum`` of strings and
numbers, cycles of references only through non-required properties; it needs ``responseMimeType``
``application/json`` and no ``responseSchema``; Gemini 1.x/2.x refuse a JSON mime type together
with function declarations), each refusal a 400 naming the path; the answer is JSON made for the
schema (``schema_answers.sample``), as it is for a system instruction holding modelwire's
prompted-mode instructions.

Tools, as Gemini does them:

* a request that declares ``functionDeclarations`` and ends with a user prompt (not function
  responses) gets a call of the first declared function (the first of ``allowedFunctionNames``
  with mode ``ANY``; none with mode ``NONE``), its required arguments filled by type (strings get
  the prompt); ``finishReason`` is ``STOP`` and the call has no ``id``, like Gemini's; a call
  forced by ``ANY`` to the request's only function (how structured output asks for a call) gets
  arguments made for its schema (``schema_answers.sample``);
* a request ending with function responses is answered in text: ``fake_reply`` of the responses
  (``name -> {response JSON}``), as with any other prompt;
* ``server.script("gemini", answer, ...)`` queues answers for the next requests: ``answer`` is
  ``{"parts": [...], "finishReason": ..., "finishMessage": ..., "chunks": [[part, ...], ...]}``
  in Gemini's JSON (``function_call`` and ``text_part`` build parts); a stream sends one part per
  chunk unless ``chunks`` groups them, the finish reason on the last chunk;
* thought signatures: models other than Gemini 1.x/2.x put ``signature(n)`` on the first call of
  each answer, and refuse (400, Gemini's message) a request whose current turn has a model step
  whose first function call has no signature; any signature that is not one of ``signature(n)``
  or Google's documented skip values is refused as corrupted;
* the checks Gemini makes on a history: ``id`` in ``functionCall``/``functionResponse`` is an
  unknown field (400), a ``functionResponse`` needs its ``name``, the user turn after a function
  call turn holds exactly one response per call, ``inlineData`` needs a ``mimeType`` and base64
  ``data``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from tools.fake_provider.schema_answers import prompted_schema, sample
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

NAME = "gemini"
REQUEST_ID_HEADER = "x-request-id"
THOUGHTS_TOKENS = 9
CONTEXT_TOKENS = 1_048_576
TINY_CONTEXT_TOKENS = 16
DEFAULT_MODELS: tuple[str, ...] = (
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.0-flash",
    "text-embedding-004",
    "gemini-embedding-001",
    "gemini-2.5-flash-lite",
)

SIGNATURE_PREFIX = b"fake-thought-signature:"
#: The signatures Google documents for function calls from another model's history.
SKIP_SIGNATURES = frozenset(
    ("skip_thought_signature_validator", "context_engineering_is_the_way_to_go")
)
_LEGACY = re.compile(r"^gemini-[12](?:[.\-]|$)")

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error_body(status: int, message: str, code: str | None) -> dict[str, Any]:
    """Google's error envelope ``{"error": {"code", "message", "status"}}``."""
    name = code or _STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")
    return {"error": {"code": status, "message": message, "status": name}}


def signature(n: int | str) -> str:
    """A thought signature this fake accepts back (base64 text, as on the wire)."""
    return base64.b64encode(SIGNATURE_PREFIX + str(n).encode()).decode()


def function_call(
    name: str,
    args: dict[str, Any] | None = None,
    *,
    id: str | None = None,
    thought_signature: str | None = None,
) -> dict[str, Any]:
    """A ``functionCall`` part for a scripted answer (``args`` left out when ``None``)."""
    call: dict[str, Any] = {"name": name}
    if args is not None:
        call["args"] = args
    if id is not None:
        call["id"] = id
    part: dict[str, Any] = {"functionCall": call}
    if thought_signature is not None:
        part["thoughtSignature"] = thought_signature
    return part


def text_part(
    text: str, *, thought: bool = False, thought_signature: str | None = None
) -> dict[str, Any]:
    """A text (or ``thought``) part for a scripted answer."""
    part: dict[str, Any] = {"text": text}
    if thought:
        part["thought"] = True
    if thought_signature is not None:
        part["thoughtSignature"] = thought_signature
    return part


def _legacy(model: str) -> bool:
    return _LEGACY.match(model) is not None


def _check(request: FakeRequest, server: FakeProviderServer) -> Reply | None:
    key = request.headers.get("x-goog-api-key") or request.query.get("key")
    if server.key_accepted(key):
        return None
    body = error_body(400, "API key not valid. Please pass a valid API key.", None)
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
        }
    ]
    return Reply(status=400, body=body)


def _f(obj: Any, camel: str) -> Any:
    """A field of a JSON object by its camelCase name or its proto (snake_case) name: Gemini
    takes both, and google-genai sends both (``inlineData`` holding ``mime_type``)."""
    if not isinstance(obj, dict):
        return None
    found = obj.get(camel)
    if found is None:
        found = obj.get(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel))
    return found


def _part_text(part: Any) -> str:
    if not isinstance(part, dict):
        return ""
    response = _f(part, "functionResponse")
    if isinstance(response, dict):
        return f"{response.get('name')} -> {json.dumps(response.get('response'), sort_keys=True)}"
    return str(part.get("text") or "")


def _parts_text(content: Any) -> str:
    if not isinstance(content, dict):
        return ""
    return " ".join(_part_text(p) for p in content.get("parts") or ())


def _bad_request(message: str) -> Reply:
    return Reply(400, error_body(400, message, None))


def _valid_signature(value: Any) -> bool:
    if value in SKIP_SIGNATURES:
        return True
    try:
        return isinstance(value, str) and base64.b64decode(value, validate=True).startswith(
            SIGNATURE_PREFIX
        )
    except (binascii.Error, ValueError):
        return False


def _check_blob(blob: Any, where: str) -> Reply | None:
    data = _f(blob, "data")
    try:
        valid = isinstance(data, str) and bool(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        valid = False
    if not valid or not _f(blob, "mimeType"):
        return _bad_request(
            f"* GenerateContentRequest.{where}: inline data needs mime_type and data"
        )
    return None


def _check_part(part: dict[str, Any], where: str) -> Reply | None:
    for camel, field in (
        ("functionCall", "function_call"),
        ("functionResponse", "function_response"),
    ):
        item = _f(part, camel)
        if isinstance(item, dict) and "id" in item:
            return _bad_request(
                f"Invalid JSON payload received. Unknown name \"id\" at '{where}.{field}': "
                "Cannot find field."
            )
    response = _f(part, "functionResponse")
    if isinstance(response, dict):
        if not response.get("name"):
            return _bad_request(
                f"* GenerateContentRequest.{where}.function_response.name: Name cannot be empty.\n"
            )
        for k, item in enumerate(response.get("parts") or ()):
            inline = _f(item, "inlineData")
            if inline is not None:
                problem = _check_blob(inline, f"{where}.function_response.parts[{k}].inline_data")
                if problem is not None:
                    return problem
    inline = _f(part, "inlineData")
    if inline is not None:
        problem = _check_blob(inline, f"{where}.inline_data")
        if problem is not None:
            return problem
    signature = _f(part, "thoughtSignature")
    if signature is not None and not _valid_signature(signature):
        return _bad_request(f"Corrupted thought signature at '{where}'.")
    return None


def _count(content: Any, key: str) -> int:
    if not isinstance(content, dict):
        return 0
    return sum(1 for p in content.get("parts") or () if _f(p, key) is not None)


def _prompt_turn(content: Any) -> bool:
    """A user turn that is a prompt (no function responses)."""
    return (
        isinstance(content, dict)
        and content.get("role") == "user"
        and _count(content, "functionResponse") == 0
    )


def _check_history(contents: list[Any], model: str) -> Reply | None:
    """The checks Gemini makes on a conversation before it answers (see the module docstring)."""
    for i, content in enumerate(contents):
        if not isinstance(content, dict):
            continue
        for j, part in enumerate(content.get("parts") or ()):
            if isinstance(part, dict):
                problem = _check_part(part, f"contents[{i}].parts[{j}]")
                if problem is not None:
                    return problem
        calls = _count(content, "functionCall")
        if content.get("role") != "model" or not calls:
            continue
        previous = contents[i - 1] if i else None
        if not isinstance(previous, dict) or previous.get("role") != "user":
            return _bad_request(
                "Please ensure that function call turn comes immediately after a user turn or "
                "after a function response turn."
            )
        if i + 1 < len(contents) and _count(contents[i + 1], "functionResponse") != calls:
            return _bad_request(
                "Please ensure that the number of function response parts is equal to the number "
                "of function call parts of the function call turn."
            )
    if _legacy(model):
        return None
    start = max((i + 1 for i, c in enumerate(contents) if _prompt_turn(c)), default=0)
    for i in range(start, len(contents)):
        content = contents[i]
        if not isinstance(content, dict) or content.get("role") != "model":
            continue
        first = next(
            (p for p in content.get("parts") or () if _f(p, "functionCall") is not None), None
        )
        if first is not None and not _f(first, "thoughtSignature"):
            name = _f(first, "functionCall").get("name")
            return _bad_request(
                "Function call is missing a thought_signature in functionCall parts. This is "
                "required for tools to work correctly, and missing thought_signature may lead to "
                f"degraded model performance. Additional data, function call `default_api:{name}` "
                f", position {i + 1}. Please refer to "
                "https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
            )
    return None


def _declarations(body: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for tool in body.get("tools") or ():
        found.extend(d for d in _f(tool, "functionDeclarations") or () if isinstance(d, dict))
    return found


_BY_TYPE: dict[str, Any] = {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}


def _default_calls(body: dict[str, Any], model: str, n: int) -> list[dict[str, Any]] | None:
    """The call the fake model makes for a prompt with tools (see the module docstring)."""
    declarations = _declarations(body)
    contents = body.get("contents") or []
    if not declarations or not _prompt_turn(contents[-1]):
        return None
    calling = _f(_f(body, "toolConfig"), "functionCallingConfig") or {}
    mode = _f(calling, "mode") or "AUTO"
    if mode == "NONE":
        return None
    allowed = _f(calling, "allowedFunctionNames") if mode == "ANY" else None
    chosen = next((d for d in declarations if not allowed or d.get("name") in allowed), None)
    if chosen is None:
        return None
    schema = _f(chosen, "parametersJsonSchema") or chosen.get("parameters") or {}
    signed = None if _legacy(model) else signature(n)
    if mode == "ANY" and len(declarations) == 1 and allowed:  # structured output as a call
        return [function_call(str(chosen.get("name")), sample(schema), thought_signature=signed)]
    properties = schema.get("properties") or {}
    prompt = " ".join(_parts_text(contents[-1]).split())
    args = {}
    for key in schema.get("required") or ():
        kind = str((properties.get(key) or {}).get("type", "string")).lower()
        args[key] = _BY_TYPE.get(kind, prompt)
    return [function_call(str(chosen.get("name")), args, thought_signature=signed)]


# -- structured output: responseJsonSchema as Gemini documents it ------------------------------

#: The keywords ``responseJsonSchema`` takes.
JSON_SCHEMA_KEYWORDS = frozenset(
    (
        "$id",
        "$defs",
        "$ref",
        "$anchor",
        "type",
        "format",
        "title",
        "description",
        "enum",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "anyOf",
        "oneOf",
        "properties",
        "additionalProperties",
        "required",
        "propertyOrdering",
    )
)


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.add(ref[len("#/$defs/") :])
        for key, value in node.items():
            if key != "$defs":
                found |= _refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= _refs(item)
    return found


def _reaches(defs: dict[str, Any], start: set[str], target: str) -> bool:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name == target:
            return True
        if name not in seen:
            seen.add(name)
            todo.extend(_refs(defs.get(name)))
    return False


def _json_schema_problem(
    node: Any, path: str, defs: dict[str, Any], owner: str | None
) -> str | None:
    if not isinstance(node, dict):
        return f"{path}: a schema must be an object"
    for key in node:
        if key not in JSON_SCHEMA_KEYWORDS:
            return f"{path}: unsupported keyword {key!r}"
    if "$ref" in node:
        others = [k for k in node if not k.startswith("$")]
        if others:
            return f"{path}: no other properties may be set beside $ref: {', '.join(others)}"
        ref = node["$ref"]
        if not isinstance(ref, str) or ref[len("#/$defs/") :] not in defs:
            return f"{path}.$ref: unresolvable reference {ref!r}"
    enum = node.get("enum")
    if enum is not None and not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in enum
    ):
        return f"{path}.enum: only strings and numbers are supported"
    props = node.get("properties") or {}
    if owner is not None:
        for name in node.get("required") or ():
            if _reaches(defs, _refs(props.get(name)), owner):
                return (
                    f"{path}.required: {name}: cyclic references may only be used within "
                    "non-required properties"
                )
    subs: list[tuple[str, Any]] = [(f"properties.{k}", v) for k, v in props.items()]
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            subs.append((key, node[key]))
    for key in ("anyOf", "oneOf", "prefixItems"):
        subs += [(f"{key}.{i}", v) for i, v in enumerate(node.get(key) or ())]
    for where, sub in subs:
        problem = _json_schema_problem(sub, f"{path}.{where}", defs, owner)
        if problem:
            return problem
    return None


def _output_problem(body: dict[str, Any], model: str) -> str | None:
    config = body.get("generationConfig") or {}
    schema = config.get("responseJsonSchema")
    json_mime = config.get("responseMimeType") == "application/json"
    if schema is not None and config.get("responseSchema") is not None:
        return "responseSchema and responseJsonSchema cannot both be set"
    if schema is not None and not json_mime:
        return "responseJsonSchema requires responseMimeType 'application/json'"
    if json_mime and _declarations(body) and _legacy(model):
        return "Function calling with a response mime type: 'application/json' is unsupported"
    if schema is None:
        return None
    if not isinstance(schema, dict):
        return "generationConfig.responseJsonSchema: a schema must be an object"
    problem = json_schema_problem(schema)
    return f"generationConfig.responseJsonSchema: {problem}" if problem else None


def json_schema_problem(schema: dict[str, Any]) -> str | None:
    """What Gemini refuses in a ``responseJsonSchema`` (``None``: nothing)."""
    defs = schema.get("$defs") or {}
    for name, sub in defs.items():
        problem = _json_schema_problem(sub, f"$defs.{name}", defs, name)
        if problem:
            return problem
    top = {k: v for k, v in schema.items() if k != "$defs"}
    return _json_schema_problem(top, "schema", defs, None)


def _structured_text(body: dict[str, Any]) -> str | None:
    """The JSON answer of a structured request (response schema, or prompted instructions)."""
    schema = (body.get("generationConfig") or {}).get("responseJsonSchema")
    if schema is None:
        schema = prompted_schema(_parts_text(body.get("systemInstruction")))
    return None if schema is None else json.dumps(sample(schema))


def _thinking(config: dict[str, Any], model: str) -> tuple[bool, bool]:
    thinking = config.get("thinkingConfig") or config.get("thinking_config")
    if isinstance(thinking, dict):  # proto JSON: camelCase or the original snake_case names
        budget = thinking.get("thinkingBudget", thinking.get("thinking_budget"))
        include = thinking.get("includeThoughts", thinking.get("include_thoughts"))
        enabled = budget != 0 if budget is not None else ("pro" in model or "think" in model)
        return enabled, bool(include)
    return "pro" in model or "think" in model, False


def _plan(model: str, body: dict[str, Any]) -> tuple[str, str, dict[str, Any], bool] | Reply:
    """``(text, finish_reason, usage_metadata, include_thought_part)`` or an error reply."""
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return Reply(
            400,
            error_body(400, "* GenerateContentRequest.contents: contents is not specified", None),
        )
    config = body.get("generationConfig") or {}
    prompt = count_tokens(_parts_text(body.get("systemInstruction"))) + sum(
        count_tokens(_parts_text(c)) for c in contents
    )
    limit = TINY_CONTEXT_TOKENS if "tiny" in model else CONTEXT_TOKENS
    if prompt > limit:
        message = (
            f"The input token count ({prompt}) exceeds the maximum number of tokens allowed "
            f"({limit})."
        )
        return Reply(400, error_body(400, message, None))
    last_user = next(
        (
            _parts_text(c)
            for c in reversed(contents)
            if isinstance(c, dict) and c.get("role") == "user"
        ),
        "",
    )
    max_tokens = config.get("maxOutputTokens")
    text, truncated = fake_reply(last_user, int(max_tokens) if max_tokens else None)
    finish = "MAX_TOKENS" if truncated else "STOP"
    for stop in config.get("stopSequences") or ():
        cut = text.find(stop)
        if cut >= 0:
            text, finish = text[:cut], "STOP"
            break
    thinking, include = _thinking(config, model)
    candidates = count_tokens(text)
    thoughts = THOUGHTS_TOKENS if thinking else 0
    usage: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    if "cache" in model:
        usage["cachedContentTokenCount"] = prompt // 2
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt // 2}]
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return text, finish, usage, include and thinking


def _response(
    model: str,
    rid: str,
    parts: list[dict[str, Any]],
    finish: str | None,
    usage: dict[str, Any],
    finish_message: str | None = None,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"index": 0}
    if parts:
        candidate["content"] = {"parts": parts, "role": "model"}
    if finish is not None:
        candidate["finishReason"] = finish
    if finish_message is not None:
        candidate["finishMessage"] = finish_message
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": rid,
    }


def generate_content(request: FakeRequest, server: FakeProviderServer) -> Reply:
    """``POST /v1beta/models/{model}:generateContent`` and ``:streamGenerateContent``."""
    denied = _check(request, server)
    if denied is not None:
        return denied
    model = request.params["model"]
    body = request.body if isinstance(request.body, dict) else {}
    plan = _plan(model, body)
    if isinstance(plan, Reply):
        return plan
    problem = _check_history(body["contents"], model)
    if problem is not None:
        return problem
    text, finish, usage, thought_part = plan
    output_problem = _output_problem(body, model)
    if output_problem is not None:
        return _bad_request(output_problem)
    structured = _structured_text(body)
    if structured is not None:
        text, finish = structured, "STOP"
        extra = count_tokens(text) - usage["candidatesTokenCount"]
        usage["candidatesTokenCount"] += extra
        usage["totalTokenCount"] += extra
    rid = f"fake-resp-{len(server.requests)}"
    streamed = request.params["method"] == "streamGenerateContent"
    script = server.next_scripted(NAME)
    if script is None:
        calls = _default_calls(body, model, len(server.requests))
        script = None if calls is None else {"parts": calls}
    if script is not None:
        return _scripted(model, rid, script, usage["promptTokenCount"], streamed)
    if streamed:
        return Reply(events=_stream(model, rid, text, finish, usage, thought_part))
    parts: list[dict[str, Any]] = []
    if thought_part:
        parts.append({"text": "Thinking it over.", "thought": True})
    parts.append({"text": text})
    return Reply(body=_response(model, rid, parts, finish, usage))


def _stream(
    model: str, rid: str, text: str, finish: str, usage: dict[str, Any], thought_part: bool
) -> list[SseEvent]:
    pieces = split_stream(text) or [""]
    events: list[SseEvent] = []
    prompt = usage["promptTokenCount"]
    if thought_part:
        running = {"promptTokenCount": prompt, "totalTokenCount": prompt}
        parts = [{"text": "Thinking it over.", "thought": True}]
        events.append(SseEvent(json.dumps(_response(model, rid, parts, None, running))))
    so_far = ""
    for index, piece in enumerate(pieces):
        so_far += piece
        last = index == len(pieces) - 1
        if last:
            chunk_usage = usage
        else:
            done = count_tokens(so_far)
            chunk_usage = {
                "promptTokenCount": prompt,
                "candidatesTokenCount": done,
                "totalTokenCount": prompt + done,
            }
        parts = [{"text": piece}]
        events.append(
            SseEvent(
                json.dumps(_response(model, rid, parts, finish if last else None, chunk_usage))
            )
        )
    return events


def _scripted(model: str, rid: str, script: dict[str, Any], prompt: int, streamed: bool) -> Reply:
    """The reply to a scripted answer (or the fake model's own tool call)."""
    parts = list(script.get("parts") or [])
    finish = script.get("finishReason", "STOP")
    message = script.get("finishMessage")
    said = " ".join(
        str(p.get("text") or "") + json.dumps(_f(p, "functionCall") or "") for p in parts
    )
    candidates = count_tokens(said)
    usage = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates,
    }
    if not streamed:
        return Reply(body=_response(model, rid, parts, finish, usage, message))
    chunks = script.get("chunks") or [[p] for p in parts] or [[]]
    events = []
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        running = usage if last else {"promptTokenCount": prompt, "totalTokenCount": prompt}
        events.append(
            SseEvent(
                json.dumps(
                    _response(
                        model,
                        rid,
                        list(chunk),
                        finish if last else None,
                        running,
                        message if last else None,
                    )
                )
            )
        )
    return Reply(events=events)


def _model_entry(model: str) -> dict[str, Any]:
    embedding = "embedding" in model
    return {
        "name": f"models/{model}",
        "version": "001",
        "displayName": model.replace("-", " ").title(),
        "description": f"fake {model}",
        "inputTokenLimit": 2048
        if embedding
        else (TINY_CONTEXT_TOKENS if "tiny" in model else CONTEXT_TOKENS),
        "outputTokenLimit": 1 if embedding else 65_536,
        "supportedGenerationMethods": (
            ["embedContent", "countTextTokens"]
            if embedding
            else ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]
        ),
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "thinking": "pro" in model or "think" in model,
    }


def list_models(request: FakeRequest, server: FakeProviderServer) -> Reply:
    """``GET /v1beta/models`` with ``pageSize``/``pageToken`` paging (the token is the last id)."""
    denied = _check(request, server)
    if denied is not None:
        return denied
    ids = server.models.get(NAME, [])
    raw = request.query.get("pageSize")
    limit = int(raw) if raw else 50
    if server.page_size is not None:
        limit = min(limit, server.page_size)
    page, has_more = iter_pages(ids, request.query.get("pageToken") or None, limit)
    body: dict[str, Any] = {"models": [_model_entry(m) for m in page]}
    if has_more and page:
        body["nextPageToken"] = page[-1]
    return Reply(body=body)


ROUTES = [
    Route(
        "POST",
        r"/v1(?:beta|alpha)?/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)",
        generate_content,
    ),
    Route("GET", r"/v1(?:beta|alpha)/models", list_models),
]
