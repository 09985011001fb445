"""The Anthropic wire format: Messages (JSON and SSE, tools, images, thinking) and the model
listing with paging.

Point Anthropic clients at ``<server.url>``, like the other formats: ``GET /v1/models`` is told
apart from the OpenAI listing by the ``anthropic-version`` header every Anthropic client sends.
Routes also accept an ``/anthropic`` prefix (``<server.url>/anthropic``), as before.

Deterministic behaviour the tests rely on:

* requests need ``x-api-key`` or ``Authorization: Bearer`` (checked against ``server.accepted_keys`` when set) and
  ``anthropic-version``; the body needs ``model``, ``max_tokens`` and ``messages``;
* the body is checked as the API checks it (400 ``invalid_request_error`` naming the field, e.g.
  ``messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'``): content
  blocks of the role's kinds, non-empty text blocks, image and document sources, tool names and
  object ``input_schema``s, ``tool_choice``, signed thinking blocks, and tool results that answer
  exactly the ``tool_use`` blocks of the assistant message before them, first in their message;
* the answer is ``fake_reply`` of the last user message (tool results count as its text), cut to
  ``max_tokens`` (``stop_reason="max_tokens"``) or at the first of ``stop_sequences``
  (``"stop_sequence"``);
* with ``tools`` and ``tool_choice`` ``any`` or ``tool``, unless the last user message holds tool
  results, the model calls the named (or first) tool instead, with stub arguments made from the
  schema's required properties (``stub_arguments``) and ``stop_reason="tool_use"``;
* structured outputs: ``output_config.format`` schemas are checked against the documented
  subset (``OUTPUT_KEYWORDS``: no ``minimum``, ``pattern`` or ``default``, objects with
  ``additionalProperties: false``, known string formats, ``minItems`` 0 or 1, plain enums, local
  ``$ref`` only, no recursion; 400 naming the path) and answered with a text block of JSON made
  for the schema (``schema_answers.sample``); a forced call of the request's only tool gets
  arguments made the same way; a system prompt with modelwire's prompted-mode instructions gets
  JSON for the schema in them; a forced ``tool_choice`` with thinking enabled is refused, as the
  API does;
* ``server.script("anthropic", Answer(...))`` queues answers the next requests get instead:
  content blocks built with ``text_block``, ``tool_use`` (arguments as a dict, or raw JSON text
  for a malformed call), ``thinking_block`` and ``redacted_block``, JSON or streamed;
* input tokens are ``count_tokens`` over ``system``, the tools' JSON and every message; models
  whose name contains ``cache`` read half of them from the cache and write a quarter
  (``input_tokens`` is the rest); output tokens count the text and the tool calls' JSON;
* a body with ``thinking`` enabled (or a model named ``*think*``) adds a thinking block and
  ``THINKING_TOKENS`` to ``output_tokens`` (``output_tokens_details.thinking_tokens``);
* more input tokens than ``CONTEXT_TOKENS`` (``TINY_CONTEXT_TOKENS`` for ``*tiny*`` models) give
  400 ``prompt is too long: N tokens > M maximum``;
* streams: ``message_start`` (input counts, ``output_tokens`` 1), then per content block
  ``content_block_start`` / ``_delta`` / ``_stop`` (one word per ``text_delta``, the thinking in
  a ``thinking_delta`` and a ``signature_delta``, a tool call's JSON in ``input_json_delta``
  pieces of ``JSON_PIECE`` characters), a ``ping`` after the first block starts,
  ``message_delta`` with the cumulative usage, then ``message_stop``;
* ``GET /v1/models`` pages with ``limit``/``after_id`` (``server.page_size`` caps the page) and
  says ``has_more``/``first_id``/``last_id``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
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

NAME = "anthropic"
REQUEST_ID_HEADER = "request-id"
THINKING_TOKENS = 7
#: Characters of a tool call's JSON per ``input_json_delta`` in a stream.
JSON_PIECE = 12
CONTEXT_TOKENS = 200_000
TINY_CONTEXT_TOKENS = 16
CREATED_AT = "2025-02-19T00:00:00Z"
DEFAULT_MODELS: tuple[str, ...] = (
    "claude-opus-4-1",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "claude-3-5-haiku-20241022",
)

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_body(status: int, message: str, code: str | None) -> dict[str, Any]:
    """Anthropic's error envelope: ``{"type": "error", "error": {"type", "message"}}``."""
    kind = code or _ERROR_TYPES.get(
        status, "api_error" if status >= 500 else "invalid_request_error"
    )
    return {"type": "error", "error": {"type": kind, "message": message}}


def _fail(status: int, message: str) -> Reply:
    return Reply(status=status, body=error_body(status, message, None))


def _api_key(request: FakeRequest) -> str | None:
    key = request.headers.get("x-api-key")
    if key is None:
        header = request.headers.get("authorization", "")
        key = header[7:] if header.lower().startswith("bearer ") else None
    return key


def _check(request: FakeRequest, server: FakeProviderServer) -> Reply | None:
    if not server.key_accepted(_api_key(request)):
        return _fail(401, "invalid x-api-key")
    if not request.headers.get("anthropic-version"):
        return _fail(400, "anthropic-version: header is required")
    return None


@dataclass(frozen=True, slots=True)
class Answer:
    """A scripted answer: content blocks in the Messages shape, in order, and the stop reason
    (``tool_use`` when a block calls a tool, else ``end_turn``)."""

    content: tuple[dict[str, Any], ...]
    stop_reason: str | None = None

    def __init__(self, *content: dict[str, Any], stop_reason: str | None = None) -> None:
        object.__setattr__(self, "content", tuple(content))
        object.__setattr__(self, "stop_reason", stop_reason)


def text_block(text: str) -> dict[str, Any]:
    """A ``text`` block."""
    return {"type": "text", "text": text}


def tool_use(name: str, arguments: Any = None, *, id: str | None = None) -> dict[str, Any]:
    """A ``tool_use`` block. ``arguments``: a dict (``None``: ``{}``), or a string sent as raw
    JSON text (``input`` holds what it decodes to, or the string itself when it does not decode;
    a stream sends the text verbatim): a malformed call. Without ``id`` the server makes one."""
    block: dict[str, Any] = {"type": "tool_use", "id": id, "name": name}
    block["input"] = {} if arguments is None else arguments
    return block


def thinking_block(thinking: str, signature: str = "sig") -> dict[str, Any]:
    """A ``thinking`` block and its signature."""
    return {"type": "thinking", "thinking": thinking, "signature": signature}


def redacted_block(data: str) -> dict[str, Any]:
    """A ``redacted_thinking`` block."""
    return {"type": "redacted_thinking", "data": data}


def _block_text(block: Any) -> str:
    if not isinstance(block, dict):
        return ""
    if block.get("type") == "tool_result":
        return _text(block.get("content"))
    return str(block.get("text") or "")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(t for t in (_block_text(b) for b in content) if t)
    return ""


def _thinking(body: dict[str, Any], model: str) -> bool:
    thinking = body.get("thinking")
    enabled = isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")
    return enabled or "think" in model


# -- checks: what the API refuses ------------------------------------------------------------

_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_BLOCKS = {
    "user": ("text", "image", "document", "tool_result"),
    "assistant": ("text", "thinking", "redacted_thinking", "tool_use"),
}


def _source_problem(kind: str, source: Any) -> str | None:
    if not isinstance(source, dict):
        return "source: field required"
    stype = source.get("type")
    if stype == "url":
        return None if isinstance(source.get("url"), str) and source["url"] else "url: required"
    if stype == "base64":
        allowed = _IMAGE_TYPES if kind == "image" else ("application/pdf",)
        if source.get("media_type") not in allowed:
            return f"media_type: Input should be {' or '.join(repr(t) for t in allowed)}"
        return None if isinstance(source.get("data"), str) and source["data"] else "data: required"
    if stype == "text" and kind == "document":
        return None if source.get("media_type") == "text/plain" else "media_type: 'text/plain'"
    return f"type: unknown source type {stype!r}"


def _block_problem(role: str, block: Any, uses: set[str]) -> str | None:
    """What is wrong with one content block (``uses``: the tool_use ids it may answer)."""
    if not isinstance(block, dict):
        return "Input should be an object"
    kind = block.get("type")
    if kind not in _BLOCKS.get(role, ()):
        return f"type: {role} messages take {', '.join(_BLOCKS.get(role, ()))}, not {kind!r}"
    if kind == "text":
        if not isinstance(block.get("text"), str) or not block["text"]:
            return "text: text content blocks must be non-empty"
    elif kind in ("image", "document"):
        problem = _source_problem(kind, block.get("source"))
        return f"{kind}.source.{problem}" if problem else None
    elif kind == "tool_use":
        if not isinstance(block.get("id"), str) or not _ID.match(block["id"]):
            return "tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'"
        if not isinstance(block.get("input"), dict):
            return "tool_use.input: Input should be a valid dictionary"
    elif kind == "tool_result":
        if block.get("tool_use_id") not in uses:
            return (
                "unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{block.get('tool_use_id')}. Each `tool_result` block must have a corresponding "
                "`tool_use` block in the previous message."
            )
        content = block.get("content")
        if isinstance(content, list):
            for i, item in enumerate(content):
                if not isinstance(item, dict) or item.get("type") not in ("text", "image"):
                    return f"tool_result.content.{i}: text or image blocks only"
                inner = _block_problem("user", item, set())
                if inner:
                    return f"tool_result.content.{i}.{inner}"
        elif content is not None and not isinstance(content, str):
            return "tool_result.content: a string or a list of blocks"
    elif kind == "thinking":
        if not isinstance(block.get("signature"), str) or not block["signature"]:
            return "thinking.signature: Field required"
    elif kind == "redacted_thinking" and not isinstance(block.get("data"), str):
        return "redacted_thinking.data: Field required"
    return None


def _messages_problem(messages: list[Any]) -> str | None:
    pending: list[str] = []  # the tool_use ids of the last assistant message
    for n, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in _BLOCKS:
            return f"messages.{n}.role: Input should be 'user' or 'assistant'"
        role, content = message["role"], message.get("content")
        blocks = content if isinstance(content, list) else []
        if not isinstance(content, list | str):
            return f"messages.{n}.content: Input should be a string or a list of blocks"
        if pending:
            answered = [b.get("tool_use_id") for b in blocks if isinstance(b, dict)]
            missing = [i for i in pending if i not in answered]
            if role != "user" or missing:
                return (
                    f"messages.{n}: `tool_use` ids were found without `tool_result` blocks "
                    f"immediately after: {', '.join(missing or pending)}. Each `tool_use` block "
                    "must have a corresponding `tool_result` block in the next message."
                )
        seen_other = False
        for i, block in enumerate(blocks):
            problem = _block_problem(role, block, set(pending))
            if problem:
                return f"messages.{n}.content.{i}.{problem}"
            is_result = block.get("type") == "tool_result"
            if is_result and seen_other:
                return f"messages.{n}.content.{i}: tool_result blocks must come first"
            seen_other = seen_other or not is_result
        pending = [b["id"] for b in blocks if b.get("type") == "tool_use"]
    return None


def _tools_problem(body: dict[str, Any]) -> str | None:
    tools = body.get("tools")
    names: list[str] = []
    if tools is not None:
        if not isinstance(tools, list):
            return "tools: Input should be a valid list"
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict) or not _TOOL_NAME.match(str(tool.get("name") or "")):
                return f"tools.{i}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
            schema = tool.get("input_schema")
            if not isinstance(schema, dict) or schema.get("type") != "object":
                return f"tools.{i}.input_schema.type: Input should be 'object'"
            names.append(tool["name"])
    choice = body.get("tool_choice")
    if choice is None:
        return None
    if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
        return "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'"
    if choice["type"] == "tool" and choice.get("name") not in names:
        return f"tool_choice.name: no tool named {choice.get('name')!r}"
    return None


# -- structured outputs: what ``output_config.format`` accepts ----------------------------------

#: Keywords a structured-outputs schema may use (the documented subset).
OUTPUT_KEYWORDS = frozenset(
    (
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "allOf",
        "$ref",
        "$defs",
        "definitions",
        "description",
        "title",
        "format",
        "minItems",
    )
)
OUTPUT_FORMATS = frozenset(
    ("date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid")
)


def _schema_problem(
    node: Any, path: str, defs: dict[str, Any], trail: tuple[str, ...]
) -> str | None:
    if not isinstance(node, dict):
        return f"{path}: a schema must be an object"
    for key in node:
        if key not in OUTPUT_KEYWORDS:
            return f"{path}: keyword {key!r} is not supported"
    ref = node.get("$ref")
    if ref is not None:
        name = str(ref).rsplit("/", 1)[-1]
        if not str(ref).startswith(("#/$defs/", "#/definitions/")) or name not in defs:
            return f"{path}.$ref: only local references to $defs are supported"
        if name in trail:
            return f"{path}.$ref: recursive schemas are not supported"
        return _schema_problem(defs[name], f"$defs.{name}", defs, (*trail, name))
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        if node.get("additionalProperties") is not False:
            return f"{path}: additionalProperties must be false for objects"
        for name, sub in (node.get("properties") or {}).items():
            problem = _schema_problem(sub, f"{path}.properties.{name}", defs, trail)
            if problem:
                return problem
    if "format" in node and node["format"] not in OUTPUT_FORMATS:
        return f"{path}.format: {node['format']!r} is not a supported string format"
    if "minItems" in node and node["minItems"] not in (0, 1):
        return f"{path}.minItems: only 0 and 1 are supported"
    enum = node.get("enum")
    if enum is not None and not all(
        v is None or isinstance(v, str | int | float | bool) for v in enum
    ):
        return f"{path}.enum: only strings, numbers, booleans and null are supported"
    for key in ("anyOf", "allOf"):
        for i, sub in enumerate(node.get(key) or ()):
            problem = _schema_problem(sub, f"{path}.{key}.{i}", defs, trail)
            if problem:
                return problem
    if "items" in node:
        return _schema_problem(node["items"], f"{path}.items", defs, trail)
    return None


def _output_problem(body: dict[str, Any]) -> str | None:
    config = body.get("output_config")
    if config is None:
        return None
    if not isinstance(config, dict):
        return "output_config: Input should be an object"
    fmt = config.get("format")
    if fmt is None:
        return None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return "output_config.format.type: Input should be 'json_schema'"
    schema = fmt.get("schema")
    if not isinstance(schema, dict):
        return "output_config.format.schema: Field required"
    problem = schema_problem(schema)
    return f"output_config.format.schema: {problem}" if problem else None


def schema_problem(schema: dict[str, Any]) -> str | None:
    """What the API refuses in an ``output_config.format`` schema (``None``: nothing)."""
    defs = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}
    for name, sub in defs.items():
        problem = _schema_problem(sub, f"$defs.{name}", defs, (name,))
        if problem:
            return problem
    top = {k: v for k, v in schema.items() if k not in ("$defs", "definitions")}
    return _schema_problem(top, "schema", defs, ())


def _structured_text(body: dict[str, Any]) -> str | None:
    """The JSON answer of a structured request (native format, or prompted instructions)."""
    fmt = (body.get("output_config") or {}).get("format")
    if isinstance(fmt, dict):
        return json.dumps(sample(fmt["schema"]))
    schema = prompted_schema(_text(body.get("system")))
    return None if schema is None else json.dumps(sample(schema))


# -- the answer ------------------------------------------------------------------------------


def stub_arguments(schema: Any, text: str) -> dict[str, Any]:
    """Arguments for a schema's required properties: its first enum value, else the prompt's
    text for strings, 1 for numbers, true, [] or {} by type."""
    out: dict[str, Any] = {}
    if not isinstance(schema, dict):
        return out
    properties = schema.get("properties") or {}
    for name in schema.get("required") or ():
        prop = properties.get(name) if isinstance(properties, dict) else None
        prop = prop if isinstance(prop, dict) else {}
        if prop.get("enum"):
            out[name] = prop["enum"][0]
            continue
        kind = prop.get("type")
        out[name] = {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}.get(
            str(kind), text
        )
    return out


def _forced_call(body: dict[str, Any], last_user: Any, text: str) -> dict[str, Any] | None:
    """The tool call ``tool_choice`` any/tool forces, unless the model is reading results."""
    choice, tools = body.get("tool_choice"), body.get("tools")
    if not tools or not isinstance(choice, dict) or choice.get("type") not in ("any", "tool"):
        return None
    if isinstance(last_user, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in last_user
    ):
        return None
    tool = next((t for t in tools if t.get("name") == choice.get("name")), tools[0])
    if len(tools) == 1 and choice.get("type") == "tool":  # structured output as a tool call
        return tool_use(tool["name"], sample(tool.get("input_schema")))
    return tool_use(tool["name"], stub_arguments(tool.get("input_schema"), text))


def _plan(body: dict[str, Any]) -> tuple[str, str, str | None, int, bool, Any] | Reply:
    """``(text, stop_reason, stop_sequence, prompt_tokens, thinking, last_user)`` or an error."""
    model = str(body.get("model") or "")
    messages = body.get("messages")
    max_tokens = body.get("max_tokens")
    if not model or not isinstance(messages, list) or not messages:
        return _fail(400, "model: field required; messages: field required")
    if not isinstance(max_tokens, int) or max_tokens < 1:
        return _fail(400, "max_tokens: field required")
    problem = _tools_problem(body) or _messages_problem(messages) or _output_problem(body)
    forced = (body.get("tool_choice") or {}).get("type") in ("any", "tool")
    if not problem and forced and _thinking(body, ""):
        problem = "Thinking may not be enabled when tool_choice forces tool use."
    if problem:
        return _fail(400, problem)
    prompt_tokens = count_tokens(_text(body.get("system"))) + sum(
        count_tokens(_text(m.get("content"))) for m in messages if isinstance(m, dict)
    )
    if body.get("tools"):
        prompt_tokens += count_tokens(json.dumps(body["tools"]))
    limit = TINY_CONTEXT_TOKENS if "tiny" in model else CONTEXT_TOKENS
    if prompt_tokens > limit:
        return _fail(400, f"prompt is too long: {prompt_tokens} tokens > {limit} maximum")
    last_user = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), "")
    text, truncated = fake_reply(_text(last_user), max_tokens)
    stop_reason, stop_sequence = ("max_tokens" if truncated else "end_turn"), None
    for stop in body.get("stop_sequences") or ():
        cut = text.find(stop)
        if cut >= 0:
            text, stop_reason, stop_sequence = text[:cut], "stop_sequence", stop
            break
    return text, stop_reason, stop_sequence, prompt_tokens, _thinking(body, model), last_user


def _usage(
    model: str, prompt_tokens: int, content: list[dict[str, Any]], thinking: bool
) -> dict[str, Any]:
    cache_read = prompt_tokens // 2 if "cache" in model else 0
    cache_write = prompt_tokens // 4 if "cache" in model else 0
    reasoning = THINKING_TOKENS if thinking else 0
    output = reasoning
    for block in content:
        if block["type"] == "text":
            output += count_tokens(block["text"])
        elif block["type"] == "tool_use":
            output += count_tokens(_input_json(block["input"]))
    usage: dict[str, Any] = {
        "input_tokens": prompt_tokens - cache_read - cache_write,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": output,
        "service_tier": "standard",
    }
    if thinking:
        usage["output_tokens_details"] = {"thinking_tokens": reasoning}
    return usage


def _input_json(arguments: Any) -> str:
    """A tool call's arguments as the JSON text a stream sends (raw text as it is)."""
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _input_value(arguments: Any) -> Any:
    """A tool call's ``input`` in a JSON answer: raw text decoded when it decodes."""
    if not isinstance(arguments, str):
        return arguments
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def messages(request: FakeRequest, server: FakeProviderServer) -> Reply:
    """``POST /v1/messages``."""
    denied = _check(request, server)
    if denied is not None:
        return denied
    body = request.body if isinstance(request.body, dict) else {}
    plan = _plan(body)
    if isinstance(plan, Reply):
        return plan
    text, stop_reason, stop_sequence, prompt_tokens, thinking, last_user = plan
    number = len(server.requests)
    mid = f"msg_fake{number}"
    model = str(body["model"])
    scripted = server.next_scripted(NAME)
    content: list[dict[str, Any]]
    if isinstance(scripted, Answer):
        content = [dict(b) for b in scripted.content]
        thinking = any(b["type"] in ("thinking", "redacted_thinking") for b in content)
        calls = any(b["type"] == "tool_use" for b in content)
        stop_reason = scripted.stop_reason or ("tool_use" if calls else "end_turn")
        stop_sequence = None
    else:
        content = [thinking_block("Let me think.")] if thinking else []
        call = _forced_call(body, last_user, _text(last_user))
        structured = None if call is not None else _structured_text(body)
        if call is not None:
            content.append(call)
            stop_reason, stop_sequence = "tool_use", None
        elif structured is not None:
            content.append(text_block(structured))
            stop_reason, stop_sequence = "end_turn", None
        else:
            content.append(text_block(text))
    for i, block in enumerate(content):
        if block["type"] == "tool_use" and not block.get("id"):
            block["id"] = f"toolu_fake{number}_{i}"
    usage = _usage(model, prompt_tokens, content, thinking)
    if body.get("stream"):
        return Reply(events=_stream(mid, model, content, stop_reason, stop_sequence, usage))
    wire: list[dict[str, Any]] = []
    for block in content:
        if block["type"] == "text":
            wire.append({**block, "citations": None})
        elif block["type"] == "tool_use":
            wire.append({**block, "input": _input_value(block["input"])})
        else:
            wire.append(block)
    return Reply(
        body={
            "id": mid,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": wire,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": usage,
        }
    )


def _event(name: str, data: dict[str, Any]) -> SseEvent:
    return SseEvent(json.dumps({"type": name, **data}), name)


def _delta(index: int, delta: dict[str, Any]) -> SseEvent:
    return _event("content_block_delta", {"index": index, "delta": delta})


def _block_events(index: int, block: dict[str, Any]) -> list[SseEvent]:
    """``content_block_start``, its deltas and ``content_block_stop`` for one block."""
    kind = block["type"]
    deltas: list[SseEvent] = []
    if kind == "text":
        start: dict[str, Any] = {"type": "text", "text": ""}
        for piece in split_stream(block["text"]):
            deltas.append(_delta(index, {"type": "text_delta", "text": piece}))
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas.append(_delta(index, {"type": "thinking_delta", "thinking": block["thinking"]}))
        deltas.append(_delta(index, {"type": "signature_delta", "signature": block["signature"]}))
    elif kind == "tool_use":
        start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        raw = _input_json(block["input"])
        for at in range(0, len(raw), JSON_PIECE):
            piece = raw[at : at + JSON_PIECE]
            deltas.append(_delta(index, {"type": "input_json_delta", "partial_json": piece}))
    else:
        start = dict(block)
    begin = _event("content_block_start", {"index": index, "content_block": start})
    return [begin, *deltas, _event("content_block_stop", {"index": index})]


def _stream(
    mid: str,
    model: str,
    content: list[dict[str, Any]],
    stop_reason: str,
    stop_sequence: str | None,
    usage: dict[str, Any],
) -> list[SseEvent]:
    start_usage = {**usage, "output_tokens": 1}
    start_usage.pop("output_tokens_details", None)
    message = {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    events = [_event("message_start", {"message": message})]
    ping_after = next((i for i, b in enumerate(content) if b["type"] == "text"), 0)
    for index, block in enumerate(content):
        block_events = _block_events(index, block)
        if index == ping_after:
            block_events.insert(1, SseEvent(json.dumps({"type": "ping"}), "ping"))
        events += block_events
    final_usage = {k: v for k, v in usage.items() if k != "service_tier"}
    events.append(
        _event(
            "message_delta",
            {
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                "usage": final_usage,
            },
        )
    )
    events.append(_event("message_stop", {}))
    return events


def list_models(request: FakeRequest, server: FakeProviderServer) -> Reply:
    """``GET /v1/models`` with ``limit``/``after_id`` paging."""
    denied = _check(request, server)
    if denied is not None:
        return denied
    ids = server.models.get(NAME, [])
    raw_limit = request.query.get("limit")
    limit = int(raw_limit) if raw_limit else 20
    if server.page_size is not None:
        limit = min(limit, server.page_size)
    page, has_more = iter_pages(ids, request.query.get("after_id"), limit)
    data = [
        {
            "type": "model",
            "id": i,
            "display_name": i.replace("-", " ").title(),
            "created_at": CREATED_AT,
            "max_input_tokens": TINY_CONTEXT_TOKENS if "tiny" in i else CONTEXT_TOKENS,
            "max_tokens": 64_000,
        }
        for i in page
    ]
    return Reply(
        body={
            "data": data,
            "has_more": has_more,
            "first_id": page[0] if page else None,
            "last_id": page[-1] if page else None,
        }
    )


ROUTES = [
    Route("POST", r"(?:/anthropic)?/v1/messages", messages),
    Route("GET", r"(?:/anthropic)?/v1/models", list_models, header="anthropic-version"),
]
