"""Anthropic Messages on the wire: requests to modelwire calls, answers back.

Requests
    ``system`` (a string or text blocks) is the request's ``system``. User blocks: ``text``,
    ``image`` and ``document`` (base64 or URL sources) and ``tool_result`` (each run of them
    becomes a ``tool`` message of ``ToolResultPart``s, before the user's other blocks);
    assistant blocks: ``text``, ``tool_use``, ``thinking`` and ``redacted_thinking``.
    ``max_tokens`` (required), ``temperature``, ``top_p``, ``stop_sequences``, ``tools``
    (custom tools: ``name``, ``description``, ``input_schema``) and ``tool_choice`` (``auto``,
    ``any`` as ``required``, ``tool`` as the tool's name, ``none``;
    ``disable_parallel_tool_use``) map to modelwire's parameters; ``top_k`` and ``thinking``
    go to the provider untouched; ``metadata`` and ``service_tier`` are dropped; any other
    field is a 400 naming it.

Answers
    ``usage.input_tokens`` is modelwire's ``input_tokens`` less the cache reads and writes
    (Anthropic counts those apart), ``cache_read_input_tokens`` and
    ``cache_creation_input_tokens`` its cache counts, ``output_tokens`` its ``output_tokens``:
    together, the figures of the ledger's row. A stream sends ``message_start``, a
    ``content_block_start``/``_delta``/``_stop`` run per text or tool-use block, then
    ``message_delta`` with the stop reason and the whole usage, and ``message_stop``.
"""

from __future__ import annotations

import json
from typing import Any

from modelwire.content import ImagePart, Part, TextPart, ThinkingPart, ToolCall, ToolResultPart
from modelwire.errors import GatewayError
from modelwire.gateway.errors import anthropic_body, bad_request
from modelwire.gateway.wire import (
    MAX_TOKENS,
    WireCall,
    dumps,
    expect_bool,
    expect_int,
    expect_list,
    expect_number,
    expect_object,
    expect_str,
    expect_str_list,
    image_from_base64,
    tool_from_schema,
)
from modelwire.tools import Tool
from modelwire.types import ChatResponse, Message, StreamEvent, ToolCallDelta, Usage

__all__ = [
    "AnthropicStream",
    "message_body",
    "parse_request",
    "stop_reason",
    "usage_body",
]

_PASSED_THROUGH = frozenset(("top_k", "thinking"))
_IGNORED = frozenset(("metadata", "service_tier"))
_HANDLED = frozenset(
    (
        "model",
        "messages",
        "system",
        "max_tokens",
        "temperature",
        "top_p",
        "stop_sequences",
        "stream",
        "tools",
        "tool_choice",
    )
)
_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}


# -- requests ----------------------------------------------------------------------------------


def _source_image(block: dict[str, Any], where: str) -> ImagePart:
    source = expect_object(block.get("source"), f"{where}.source")
    kind = source.get("type")
    if kind == "base64":
        data = expect_str(source.get("data"), f"{where}.source.data", allow_empty=False)
        return image_from_base64(data, source.get("media_type"), f"{where}.source")
    if kind == "url":
        url = expect_str(source.get("url"), f"{where}.source.url", allow_empty=False)
        return ImagePart(url=url)
    raise bad_request(f"{where}.source.type", "expected base64 or url")


def _document(block: dict[str, Any], where: str) -> Part:
    from pydantic import ValidationError

    from modelwire.content import DocumentPart

    source = expect_object(block.get("source"), f"{where}.source")
    kind = source.get("type")
    title = block.get("title") if isinstance(block.get("title"), str) else None
    try:
        if kind == "base64":
            data = expect_str(source.get("data"), f"{where}.source.data", allow_empty=False)
            return DocumentPart(data=data, media_type=source.get("media_type"), name=title)
        if kind == "url":
            url = expect_str(source.get("url"), f"{where}.source.url", allow_empty=False)
            return DocumentPart(url=url, name=title)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]["msg"]
        raise bad_request(f"{where}.source", str(problem).removeprefix("Value error, ")) from None
    raise bad_request(f"{where}.source.type", "expected base64 or url")


def _tool_result(block: dict[str, Any], where: str, names: dict[str, str]) -> ToolResultPart:
    call_id = expect_str(block.get("tool_use_id"), f"{where}.tool_use_id", allow_empty=False)
    raw = block.get("content", "")
    content: str | tuple[TextPart | ImagePart, ...]
    if isinstance(raw, str):
        content = raw
    else:
        parts: list[TextPart | ImagePart] = []
        for i, item in enumerate(expect_list(raw, f"{where}.content")):
            inner = f"{where}.content[{i}]"
            piece = expect_object(item, inner)
            if piece.get("type") == "text":
                parts.append(TextPart(text=expect_str(piece.get("text"), f"{inner}.text")))
            elif piece.get("type") == "image":
                parts.append(_source_image(piece, inner))
            else:
                raise bad_request(f"{inner}.type", "expected text or image")
        content = tuple(parts)
    is_error = block.get("is_error")
    return ToolResultPart(
        call_id=call_id,
        content=content,
        is_error=False if is_error is None else expect_bool(is_error, f"{where}.is_error"),
        name=names.get(call_id),
    )


def _user(content: Any, where: str, names: dict[str, str]) -> list[Message]:
    """A user turn: its tool results (as ``tool`` messages) and its other blocks."""
    if isinstance(content, str):
        return [Message(role="user", content=content)]
    out: list[Message] = []
    results: list[ToolResultPart] = []
    parts: list[Part] = []

    def flush_results() -> None:
        if results:
            out.append(Message(role="tool", content=tuple(results)))
            results.clear()

    def flush_parts() -> None:
        if parts:
            out.append(Message(role="user", content=tuple(parts)))
            parts.clear()

    for i, raw in enumerate(expect_list(content, f"{where}.content", allow_empty=False)):
        block_where = f"{where}.content[{i}]"
        block = expect_object(raw, block_where)
        kind = block.get("type")
        if kind == "tool_result":
            flush_parts()
            results.append(_tool_result(block, block_where, names))
            continue
        flush_results()
        if kind == "text":
            parts.append(TextPart(text=expect_str(block.get("text"), f"{block_where}.text")))
        elif kind == "image":
            parts.append(_source_image(block, block_where))
        elif kind == "document":
            parts.append(_document(block, block_where))
        else:
            raise bad_request(f"{block_where}.type", f"unsupported content block {kind!r}")
    flush_results()
    flush_parts()
    return out


def _assistant(content: Any, where: str, names: dict[str, str]) -> Message:
    if isinstance(content, str):
        return Message(role="assistant", content=content)
    parts: list[Part] = []
    for i, raw in enumerate(expect_list(content, f"{where}.content")):
        block_where = f"{where}.content[{i}]"
        block = expect_object(raw, block_where)
        kind = block.get("type")
        if kind == "text":
            parts.append(TextPart(text=expect_str(block.get("text"), f"{block_where}.text")))
        elif kind == "tool_use":
            call_id = expect_str(block.get("id"), f"{block_where}.id", allow_empty=False)
            name = expect_str(block.get("name"), f"{block_where}.name", allow_empty=False)
            arguments = expect_object(block.get("input", {}), f"{block_where}.input")
            names[call_id] = name
            parts.append(ToolCall(id=call_id, name=name, arguments=arguments))
        elif kind == "thinking":
            parts.append(
                ThinkingPart(
                    text=expect_str(block.get("thinking", ""), f"{block_where}.thinking"),
                    signature=block.get("signature")
                    if isinstance(block.get("signature"), str)
                    else None,
                    provider="anthropic",
                )
            )
        elif kind == "redacted_thinking":
            data = expect_str(block.get("data"), f"{block_where}.data")
            parts.append(ThinkingPart(redacted=data, provider="anthropic"))
        else:
            raise bad_request(f"{block_where}.type", f"unsupported content block {kind!r}")
    return Message(role="assistant", content=tuple(parts))


def _messages(raw: Any) -> list[Message]:
    out: list[Message] = []
    names: dict[str, str] = {}
    for i, item in enumerate(expect_list(raw, "messages", allow_empty=False)):
        where = f"messages[{i}]"
        message = expect_object(item, where)
        role = message.get("role")
        if role == "user":
            out.extend(_user(message.get("content"), where, names))
        elif role == "assistant":
            out.append(_assistant(message.get("content"), where, names))
        else:
            raise bad_request(f"{where}.role", f"expected user or assistant, got {role!r}")
    return out


def _system(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    pieces: list[str] = []
    for i, item in enumerate(expect_list(raw, "system")):
        block = expect_object(item, f"system[{i}]")
        if block.get("type") != "text":
            raise bad_request(f"system[{i}].type", "expected text")
        pieces.append(expect_str(block.get("text"), f"system[{i}].text"))
    return "\n\n".join(pieces)


def _tools(raw: Any) -> tuple[Tool, ...]:
    tools: list[Tool] = []
    for i, item in enumerate(expect_list(raw, "tools")):
        where = f"tools[{i}]"
        tool = expect_object(item, where)
        if tool.get("type", "custom") != "custom":
            raise bad_request(f"{where}.type", "server tools are not supported by the gateway")
        tools.append(
            tool_from_schema(
                tool.get("name"), tool.get("description"), tool.get("input_schema"), where
            )
        )
    if len({t.name for t in tools}) != len(tools):
        raise bad_request("tools", "two tools have the same name")
    return tuple(tools)


def _tool_choice(raw: Any, params: dict[str, Any]) -> None:
    choice = expect_object(raw, "tool_choice")
    kind = choice.get("type")
    names = {t.name for t in params.get("tools", ())}
    if kind == "auto":
        value = "auto"
    elif kind == "any":
        value = "required"
    elif kind == "none":
        value = "none"
    elif kind == "tool":
        value = expect_str(choice.get("name"), "tool_choice.name", allow_empty=False)
        if value not in names:
            raise bad_request("tool_choice.name", f"names no tool of the request: {value!r}")
    else:
        raise bad_request("tool_choice.type", "expected auto, any, tool or none")
    if value == "required" and not names:
        raise bad_request("tool_choice", "any needs tools")
    if names:
        params["tool_choice"] = value
    disable = choice.get("disable_parallel_tool_use")
    if disable is not None and expect_bool(disable, "tool_choice.disable_parallel_tool_use"):
        params["parallel_tool_calls"] = False


def parse_request(body: dict[str, Any]) -> WireCall:
    """The call a Messages request body asks for (400 naming the field otherwise)."""
    for name in body:
        if name not in _HANDLED and name not in _PASSED_THROUGH and name not in _IGNORED:
            raise bad_request(name, "Extra inputs are not permitted")
    model = expect_str(body.get("model"), "model", allow_empty=False)
    if body.get("max_tokens") is None:
        raise bad_request("max_tokens", "Field required")
    params: dict[str, Any] = {
        "max_tokens": expect_int(body["max_tokens"], "max_tokens", 1, MAX_TOKENS)
    }
    messages = _messages(body.get("messages"))
    if body.get("system") is not None:
        system = _system(body["system"])
        if system:
            params["system"] = system
    if body.get("temperature") is not None:
        params["temperature"] = expect_number(body["temperature"], "temperature", 0, 1)
    if body.get("top_p") is not None:
        params["top_p"] = expect_number(body["top_p"], "top_p", 0, 1)
    if body.get("stop_sequences"):
        params["stop"] = expect_str_list(body["stop_sequences"], "stop_sequences")
    if body.get("tools"):
        params["tools"] = _tools(body["tools"])
    if body.get("tool_choice") is not None:
        _tool_choice(body["tool_choice"], params)
    passed = {k: body[k] for k in _PASSED_THROUGH if body.get(k) is not None}
    if passed:
        params["provider_params"] = passed
    stream = body.get("stream") is not None and expect_bool(body["stream"], "stream")
    prompt: str | tuple[Message, ...] = tuple(messages)
    if len(messages) == 1 and messages[0].role == "user" and type(messages[0].content) is str:
        prompt = messages[0].content
    return WireCall(model, prompt, params, stream)


# -- answers -----------------------------------------------------------------------------------


def stop_reason(reason: str | None) -> str:
    """modelwire's finish reason as Anthropic's stop reason (``end_turn`` when none)."""
    return _STOP.get(reason or "stop", "end_turn")


def usage_body(usage: Usage) -> dict[str, Any]:
    """Anthropic's usage object: input without the cache reads and writes, which come apart."""
    cached = usage.cache_read_tokens + usage.cache_write_tokens
    return {
        "input_tokens": max(usage.input_tokens - cached, 0),
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
    }


def _block(part: Part) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ToolCall):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": dict(part.arguments)}
    if isinstance(part, ThinkingPart):
        if part.redacted is not None:
            return {"type": "redacted_thinking", "data": part.redacted}
        return {"type": "thinking", "thinking": part.text, "signature": part.signature or ""}
    return None


def _content(response: ChatResponse) -> list[dict[str, Any]]:
    if response.parts:
        blocks = [_block(p) for p in response.parts]
        return [b for b in blocks if b is not None]
    content = [{"type": "text", "text": response.text}] if response.text else []
    content += [_block(c) for c in response.tool_calls]  # type: ignore[misc]
    return content or [{"type": "text", "text": ""}]


def message_body(response: ChatResponse, message_id: str) -> dict[str, Any]:
    """A ``message`` object for a modelwire answer."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": response.model_id,
        "content": _content(response),
        "stop_reason": stop_reason(response.finish_reason),
        "stop_sequence": None,
        "usage": usage_body(response.usage),
    }


def _event(kind: str, body: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + dumps({"type": kind, **body}) + b"\n\n"


class AnthropicStream:
    """Renders one answer's stream events as Messages server-sent events."""

    __slots__ = ("_id", "_index", "_model", "_open", "_tools")

    def __init__(self, message_id: str, model: str) -> None:
        self._id = message_id
        self._model = model
        self._index = -1  # the current content block
        self._open: str | None = None  # "text", or "tool:<n>" for modelwire's tool index n
        self._tools: set[int] = set()

    def start(self) -> bytes:
        """``message_start`` (its usage is told in full by ``message_delta``)."""
        message: dict[str, Any] = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return _event("message_start", {"message": message})

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        return _event("content_block_stop", {"index": self._index})

    def _begin(self, kind: str, block: dict[str, Any]) -> bytes:
        out = self._close()
        self._index += 1
        self._open = kind
        return out + _event("content_block_start", {"index": self._index, "content_block": block})

    def _text(self, text: str) -> bytes:
        out = b""
        if self._open != "text":
            out += self._begin("text", {"type": "text", "text": ""})
        delta = {"type": "text_delta", "text": text}
        return out + _event("content_block_delta", {"index": self._index, "delta": delta})

    def _tool(self, delta: ToolCallDelta) -> bytes:
        out = b""
        kind = f"tool:{delta.index}"
        if self._open != kind:
            self._tools.add(delta.index)
            block = {
                "type": "tool_use",
                "id": delta.id or f"toolu_{self._id}_{delta.index}",
                "name": delta.name or "",
                "input": {},
            }
            out += self._begin(kind, block)
        if delta.arguments_delta:
            piece = {"type": "input_json_delta", "partial_json": delta.arguments_delta}
            out += _event("content_block_delta", {"index": self._index, "delta": piece})
        return out

    def event(self, event: StreamEvent) -> bytes:
        """The events of one stream event (the last one ends the message)."""
        if event.done:
            return self._end(event)
        out = b""
        if event.text:
            out += self._text(event.text)
        if event.tool_call_delta is not None:
            out += self._tool(event.tool_call_delta)
        return out

    def _end(self, final: StreamEvent) -> bytes:
        out = b""
        for index, call in enumerate(final.tool_calls):  # calls the provider did not stream
            if index not in self._tools:
                out += self._tool(
                    ToolCallDelta(
                        index=index,
                        id=call.id,
                        name=call.name,
                        arguments_delta=json.dumps(dict(call.arguments)),
                    )
                )
        out += self._close()
        delta = {"stop_reason": stop_reason(final.finish_reason), "stop_sequence": None}
        usage = usage_body(final.usage or Usage())
        out += _event("message_delta", {"delta": delta, "usage": usage})
        return out + _event("message_stop", {})

    @staticmethod
    def error(error: GatewayError) -> bytes:
        """A failure after the stream started, as Anthropic's ``error`` event."""
        body = anthropic_body(error)
        return b"event: error\ndata: " + dumps(body) + b"\n\n"
