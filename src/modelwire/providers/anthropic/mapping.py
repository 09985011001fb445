"""Anthropic Messages API wire mapping: requests out, responses and usage in.

Pure functions on plain data (and on the SDK's response objects through attribute access), so the
mapping is testable without a network and without importing the ``anthropic`` SDK. Content
blocks (parts, tools, tool choice, call ids) are mapped in ``anthropic.blocks``.

Request mapping (``build_body``):

* ``system`` (and any ``system``-role messages, in order) → the top-level ``system`` string;
* ``user`` / ``assistant`` messages → ``messages``; ``tool`` messages → ``tool_result`` blocks
  in a user message; parts → content blocks (``blocks.wire_messages``);
* ``max_tokens`` is always sent: the request's value, else ``DEFAULT_MAX_TOKENS`` (4096) or the
  model's ``max_output_tokens`` when that is smaller;
* ``temperature``, ``top_p`` → the same names; ``stop`` → ``stop_sequences``;
* ``tools`` → ``tools`` (``input_schema``); ``tool_choice`` and ``parallel_tool_calls`` →
  ``tool_choice`` (``required`` → ``any``, a name → ``tool``, no parallel calls →
  ``disable_parallel_tool_use``), sent only with tools;
* ``seed`` is ignored: the Messages API has no seed parameter (a sampling seed cannot be honoured,
  and failing the call would break groups that mix providers);
* ``provider_params`` are merged into the body last, untouched (they win over the above); the
  SDK call options ``extra_headers``, ``extra_query`` and ``extra_body`` among them are applied
  as such by the provider.

Response mapping (``response_content``, ``finish_reason``): text, tool calls and parts in the
blocks' order; ``stop_reason`` in modelwire's five words (``pause_turn``, a turn the API paused to
be continued by sending it back, is ``length``: the answer is unfinished).

Usage mapping (``usage_from``), as docs/design.md ("Usage and cost") defines the five counts:
Anthropic's ``input_tokens`` excludes the cache, so
``input = input_tokens + cache_read_input_tokens + cache_creation_input_tokens``,
``cache_read = cache_read_input_tokens``, ``cache_write = cache_creation_input_tokens``,
``output = output_tokens`` (thinking included) and
``reasoning = output_tokens_details.thinking_tokens`` when the API reports it. Beyond them:
``cache_write_1h = cache_creation.ephemeral_1h_input_tokens`` (part of ``cache_write``);
``usage.server_tool_use`` counters → ``tool_uses`` (``web_search_requests`` → ``web_search``,
``web_fetch_requests`` → ``web_fetch``, ``code_execution_requests`` → ``code_execution``);
and when ``usage.iterations`` is present (server-side tool loops, compaction) each entry is a
sampling request of its own (``Usage.iterations``) and the counts are their sums, since the
top level leaves out the compaction step that is billed all the same.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from modelwire import assemble
from modelwire.content import Part, TextPart, ThinkingPart, ToolCall
from modelwire.errors import InvalidRequestError, MalformedToolCallError
from modelwire.providers.anthropic.blocks import (
    PROVIDER,
    response_content,
    tool_call,
    wire_messages,
    wire_tool_choice,
    wire_tools,
)
from modelwire.providers.anthropic.schema import OutputPlan, apply_output, plan_output, unwrap
from modelwire.types import ChatRequest, ModelInfo, ToolCallDelta, Usage

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "StreamState",
    "build_body",
    "finish_reason",
    "max_tokens_for",
    "response_content",
    "response_text",
    "structured_content",
    "usage_from",
]

#: ``max_tokens`` sent when neither the request nor the model says otherwise.
DEFAULT_MAX_TOKENS = 4096

_FINISH_REASONS: dict[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "length",
}


def _get(obj: Any, name: str) -> Any:
    """Key access on dicts (JSON), attribute access on SDK objects (and ``None`` on ``None``)."""
    if type(obj) is dict:
        return obj.get(name)
    return getattr(obj, name, None)


def max_tokens_for(request: ChatRequest, info: ModelInfo) -> int:
    """The ``max_tokens`` to send: the request's, else the documented default capped by the model."""
    if request.max_tokens is not None:
        return request.max_tokens
    if info.max_output_tokens is not None:
        return min(DEFAULT_MAX_TOKENS, info.max_output_tokens)
    return DEFAULT_MAX_TOKENS


def build_body(request: ChatRequest, info: ModelInfo) -> dict[str, Any]:
    """The JSON body of ``POST /v1/messages`` for ``request`` (without ``stream``)."""
    system_parts: list[str] = [request.system] if request.system else []
    messages: list[dict[str, Any]] = []
    if all(type(m.content) is str and m.role != "tool" for m in request.messages):
        for message in request.messages:  # plain text: the common case, kept short
            if message.role == "system":
                system_parts.append(message.content)  # type: ignore[arg-type]
            else:
                messages.append({"role": message.role, "content": message.content})
    else:
        system, messages = wire_messages(request.messages, info.provider, info.id)
        system_parts += system
    if not messages:
        raise InvalidRequestError(
            "an Anthropic request needs at least one user or assistant message",
            provider=info.provider,
            model_id=info.id,
        )
    body: dict[str, Any] = {
        "model": info.name,
        "max_tokens": max_tokens_for(request, info),
        "messages": messages,
    }
    if system_parts:
        body["system"] = "\n\n".join(system_parts)
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.tools:
        body["tools"] = wire_tools(request.tools)
        choice = wire_tool_choice(request.tool_choice, request.parallel_tool_calls)
        if choice is not None:
            body["tool_choice"] = choice
    body.update(request.provider_params)
    if request.output is not None:
        plan = plan_output(request, info)
        if plan is not None:
            apply_output(body, plan)
    return body


def structured_content(
    content: Any, plan: OutputPlan, where: dict[str, Any]
) -> tuple[str, tuple[ToolCall, ...], tuple[Part, ...], bool]:
    """The text (the output's JSON), other tool calls and parts of a structured answer, and
    whether the forced output tool was called. In ``tool`` mode the output tool's input is the
    text (its call is not a tool call of the answer); a wrapped output is unwrapped."""
    called = False
    if plan.mode == "tool":
        rest: list[Any] = []
        text = ""
        for block in content or ():
            if (
                not called
                and _get(block, "type") == "tool_use"
                and _get(block, "name") == plan.tool_name
            ):
                arguments = _get(block, "input")
                text = arguments if isinstance(arguments, str) else json.dumps(arguments)
                called = True
            else:
                rest.append(block)
        if not called:
            text = response_text(content)
        other, calls, parts = response_content(rest, where)
        if called and parts:
            parts = (*parts, TextPart(text=text))
        elif not called:
            text = other
    else:
        text, calls, parts = response_content(content, where)
    if plan.wrapped:
        text = unwrap(text)
    return text, calls, parts, called


def _int(value: Any) -> int:
    if type(value) is int:
        return value
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


#: ``usage.server_tool_use`` counters -> modelwire's tool-use kinds (the catalog's fee kinds).
_SERVER_TOOLS = (
    ("web_search_requests", "web_search"),
    ("web_fetch_requests", "web_fetch"),
    ("code_execution_requests", "code_execution"),
)


def _extra(obj: Any, name: str) -> Any:
    """A field the SDK's model may not declare (``usage.iterations`` outside the beta types),
    read without the cost of a failed attribute lookup."""
    if type(obj) is dict:
        return obj.get(name)
    extra = getattr(obj, "__pydantic_extra__", None)
    found = extra.get(name) if extra else None
    if found is None:
        fields = getattr(obj, "__dict__", None)
        found = fields.get(name) if fields else None
    return found


#: The ``usage`` fields a stream's events carry (the latest non-null value of each wins).
_USAGE_FIELDS = (
    "input_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "output_tokens",
    "output_tokens_details",
    "cache_creation",
    "server_tool_use",
)


def _tool_uses(server: Any) -> dict[str, int]:
    uses: dict[str, int] = {}
    for field, kind in _SERVER_TOOLS:
        n = _int(_get(server, field))
        if n:
            uses[kind] = n
    return uses


def _one_request(part: Any) -> Usage:
    """One entry of ``usage.iterations`` (a sampling request) as a ``Usage``."""
    plain = _int(_get(part, "input_tokens"))
    cache_read = _int(_get(part, "cache_read_input_tokens"))
    cache_write = _int(_get(part, "cache_creation_input_tokens"))
    creation = _get(part, "cache_creation")
    return assemble.usage(
        plain + cache_read + cache_write,
        _int(_get(part, "output_tokens")),
        cache_read,
        cache_write,
        0,
        cache_write_1h_tokens=_int(_get(creation, "ephemeral_1h_input_tokens"))
        if creation is not None
        else 0,
    )


def usage_from(usage: Any) -> Usage:
    """Normalise an Anthropic ``usage`` object (or dict): the five counts, 1-hour cache writes,
    server-side tool uses and, with ``iterations``, each sampling request (module docstring)."""
    if usage is None:
        return Usage()
    if isinstance(usage, dict):
        get = usage.get
        plain, cache_read, cache_write = (
            get("input_tokens"),
            get("cache_read_input_tokens"),
            get("cache_creation_input_tokens"),
        )
        output, details = get("output_tokens"), get("output_tokens_details")
        creation, server = get("cache_creation"), get("server_tool_use")
    else:  # an SDK object: plain attribute reads, this runs on every call
        plain = getattr(usage, "input_tokens", None)
        cache_read = getattr(usage, "cache_read_input_tokens", None)
        cache_write = getattr(usage, "cache_creation_input_tokens", None)
        output = getattr(usage, "output_tokens", None)
        details = getattr(usage, "output_tokens_details", None)
        creation = getattr(usage, "cache_creation", None)
        server = getattr(usage, "server_tool_use", None)
    reasoning = _int(_get(details, "thinking_tokens")) if details is not None else 0
    uses = _tool_uses(server) if server is not None else None
    iterations = _extra(usage, "iterations")
    if iterations and type(iterations) is list:
        # The bill is the sum over the requests; the top level leaves out compaction steps.
        parts = tuple(_one_request(part) for part in iterations)
        return assemble.usage(
            sum(p.input_tokens for p in parts),
            max(sum(p.output_tokens for p in parts), reasoning),
            sum(p.cache_read_tokens for p in parts),
            sum(p.cache_write_tokens for p in parts),
            reasoning,
            cache_write_1h_tokens=sum(p.cache_write_1h_tokens for p in parts),
            tool_uses=uses,
            iterations=parts,
        )
    plain, cache_read, cache_write = _int(plain), _int(cache_read), _int(cache_write)
    one_hour = _get(creation, "ephemeral_1h_input_tokens") if creation is not None else 0
    if not one_hour and not uses:
        return assemble.usage(
            plain + cache_read + cache_write, _int(output), cache_read, cache_write, reasoning
        )
    return assemble.usage(
        plain + cache_read + cache_write,
        _int(output),
        cache_read,
        cache_write,
        reasoning,
        cache_write_1h_tokens=_int(one_hour),
        tool_uses=uses or None,
    )


def finish_reason(stop_reason: str | None, has_tool_calls: bool = False) -> str | None:
    """Anthropic's ``stop_reason`` as one of ``stop``, ``length``, ``tool_calls``,
    ``content_filter``; a reason newer than this mapping is ``tool_calls`` when the answer
    holds tool calls, else ``stop`` (the vendor's word stays in ``raw``)."""
    if stop_reason is None:
        return None
    found = _FINISH_REASONS.get(stop_reason)
    if found is None:
        return "tool_calls" if has_tool_calls else "stop"
    return found


def response_text(content: Any) -> str:
    """The text of a message's content blocks (thinking and tool blocks are not text)."""
    if type(content) is list and len(content) == 1:  # the usual answer: one text block
        block = content[0]
        if not isinstance(block, dict) and getattr(block, "type", None) == "text":
            text = getattr(block, "text", None)
            return text if type(text) is str else ""
    parts: list[str] = []
    for block in content or ():
        if _get(block, "type") == "text":
            parts.append(_get(block, "text") or "")
    return "".join(parts)


class _Block:
    """One content block of a stream, as it builds up."""

    __slots__ = ("call", "data", "id", "input", "kind", "name", "ordinal", "pieces", "signature")

    def __init__(self, kind: str, block: Any) -> None:
        self.kind = kind
        self.pieces: list[str] = []
        self.id = self.name = self.input = self.signature = self.data = None
        if kind == "tool_use":  # read only the fields of the block's kind: a missing attribute
            self.id = _get(block, "id")  # of an SDK object costs an exception
            self.name = _get(block, "name")
            self.input = _get(block, "input")
        elif kind == "thinking":
            self.signature = _get(block, "signature") or None
        elif kind == "redacted_thinking":
            self.data = _get(block, "data")
        self.ordinal = -1
        self.call: ToolCall | None = None


class StreamState:
    """Folds raw Messages stream events into text deltas, tool calls, thinking, usage and the
    stop reason.

    ``message_start`` carries the input and cache counts; each ``message_delta`` carries the
    cumulative output count (and, on newer API versions, updated input counts), so the latest
    non-null value of each field wins. ``finished`` turns true on ``message_stop``.
    ``request_id`` is the one of the stream's HTTP response (its ``request-id`` header).

    Content blocks are kept per ``index``: a ``tool_use`` block's ``input_json_delta`` pieces
    are joined and decoded when the message stops (``MalformedToolCallError`` for arguments that
    are not a JSON object: cut by ``max_tokens``, or broken); ``thinking_delta`` and
    ``signature_delta`` build ``thinking`` blocks. ``deltas`` holds a ``ToolCallDelta`` for a
    tool call's start (its id and name) and for each piece of its arguments; ``index`` counts
    the answer's tool calls from 0.
    """

    __slots__ = (
        "_blocks",
        "_calls",
        "_held",
        "_rich",
        "_usage",
        "_where",
        "chars",
        "deltas",
        "finished",
        "message_id",
        "output",
        "output_called",
        "request_id",
        "stop_reason",
    )

    def __init__(
        self,
        request_id: str | None = None,
        *,
        provider: str | None = None,
        model_id: str | None = None,
    ) -> None:
        self.request_id = request_id
        self._usage: dict[str, Any] = {}
        self.stop_reason: str | None = None
        self.message_id: str | None = None
        self.finished = False
        self.chars = 0
        self.deltas: list[ToolCallDelta] = []
        self._blocks: dict[int, _Block] = {}
        self._calls = 0
        self._rich = False
        self._where: dict[str, Any] = {"provider": provider, "model_id": model_id}
        #: How the request asks for structured output (set by the model for such a request).
        self.output: OutputPlan | None = None
        self.output_called = False
        self._held: list[str] = []

    def _merge_usage(self, usage: Any) -> None:
        if usage is None:
            return
        get = usage.get if type(usage) is dict else partial(getattr, usage)
        for field in _USAGE_FIELDS:
            value = get(field, None)
            if value is not None:
                self._usage[field] = value
        iterations = _extra(usage, "iterations")
        if iterations is not None:
            self._usage["iterations"] = iterations

    def feed(self, event: Any) -> str:
        """Take one event; return the new text it carries (often empty)."""
        # The fields are read inline, not through ``_get``: this runs for every event.
        plain = type(event) is dict
        kind = event.get("type") if plain else getattr(event, "type", None)
        if kind == "content_block_delta":
            if plain:
                delta, index = event.get("delta"), event.get("index")
            else:
                delta, index = getattr(event, "delta", None), getattr(event, "index", None)
            delta_kind = delta.get("type") if type(delta) is dict else getattr(delta, "type", None)
            if delta_kind == "text_delta":
                text: str = (
                    delta.get("text") if type(delta) is dict else getattr(delta, "text", None)
                ) or ""
                self.chars += len(text)
                block = self._blocks.get(index)
                if block is not None:
                    block.pieces.append(text)
                return self._hold(text) if self.output is not None else text
            return self._block_delta(index, delta_kind, delta)
        elif kind == "content_block_start":
            return self._block_start(_get(event, "index"), _get(event, "content_block"))
        elif kind == "message_start":
            message = _get(event, "message")
            self.message_id = _get(message, "id")
            self._merge_usage(_get(message, "usage"))
        elif kind == "message_delta":
            self._merge_usage(_get(event, "usage"))
            reason = _get(_get(event, "delta"), "stop_reason")
            if reason is not None:
                self.stop_reason = reason
        elif kind == "message_stop":
            self._finish_calls()
            self.finished = True
            if self.output is not None and self.output.wrapped:
                return unwrap("".join(self._held))
        return ""

    def _hold(self, text: str) -> str:
        """Output text as it may go on: a wrapped output is held until the end (unwrapped)."""
        if self.output is not None and self.output.wrapped:
            self._held.append(text)
            return ""
        return text

    def _block_start(self, index: Any, content_block: Any) -> str:
        kind = _get(content_block, "type")
        block = _Block(kind, content_block)
        self._blocks[index if type(index) is int else len(self._blocks)] = block
        if kind == "text":
            initial: str = _get(content_block, "text") or ""
            self.chars += len(initial)
            block.pieces.append(initial)
            return initial
        if kind == "tool_use" and self._is_output_tool(block):
            block.kind = "output"  # the forced output tool: its input is the answer's text
            self.output_called = True
        elif kind == "tool_use":
            self._rich = True
            block.ordinal = self._calls
            self._calls += 1
            self.deltas.append(ToolCallDelta(index=block.ordinal, id=block.id, name=block.name))
        elif kind == "thinking":
            self._rich = True
            block.pieces.append(_get(content_block, "thinking") or "")
        elif kind == "redacted_thinking":
            self._rich = True
        return ""

    def _is_output_tool(self, block: _Block) -> bool:
        plan = self.output
        return (
            plan is not None
            and plan.mode == "tool"
            and not self.output_called
            and block.name == plan.tool_name
        )

    def _block_delta(self, index: Any, kind: Any, delta: Any) -> str:
        block = self._blocks.get(index)
        if block is None:
            return ""
        if kind == "input_json_delta" and block.kind == "output":
            piece: str = _get(delta, "partial_json") or ""
            block.pieces.append(piece)
            self.chars += len(piece)
            return self._hold(piece)
        if kind == "input_json_delta":
            piece = _get(delta, "partial_json") or ""
            if piece:
                block.pieces.append(piece)
                self.deltas.append(ToolCallDelta(index=block.ordinal, arguments_delta=piece))
        elif kind == "thinking_delta":
            block.pieces.append(_get(delta, "thinking") or "")
        elif kind == "signature_delta":
            block.signature = (block.signature or "") + (_get(delta, "signature") or "")
        return ""

    def _finish_calls(self) -> None:
        """Decode each tool call's arguments (once the model has said why it stopped)."""
        for block in self._blocks.values():
            if block.kind != "tool_use" or block.call is not None:
                continue
            raw = "".join(block.pieces)
            if raw.strip():
                try:
                    arguments = json.loads(raw)
                except ValueError:
                    cut = self.stop_reason == "max_tokens"
                    raise MalformedToolCallError(
                        f"the arguments of tool call {block.name!r} are not valid JSON"
                        + (" (cut off by max_tokens)" if cut else "")
                        + f": {raw[:200]!r}",
                        raw_text=raw,
                        request_id=self.request_id,
                        **self._where,
                    ) from None
            else:
                arguments = block.input if isinstance(block.input, dict) else {}
                raw = json.dumps(arguments)
            where = {**self._where, "request_id": self.request_id}
            block.call = tool_call(block.id, block.name, arguments, raw, where)

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The complete tool calls, in order (after ``message_stop``)."""
        if not self._calls:
            return ()
        self._finish_calls()
        return tuple(b.call for b in self._blocks.values() if b.call is not None)

    @property
    def parts(self) -> tuple[Part, ...]:
        """The answer's text, thinking and tool calls in the blocks' order, when it holds more
        than text (else empty)."""
        if not self._rich:
            return ()
        self._finish_calls()
        out: list[Part] = []
        for _, block in sorted(self._blocks.items(), key=lambda item: item[0]):
            if block.kind == "text":
                text = "".join(block.pieces)
                if text:
                    out.append(TextPart(text=text))
            elif block.kind == "thinking":
                out.append(
                    ThinkingPart(
                        text="".join(block.pieces), signature=block.signature, provider=PROVIDER
                    )
                )
            elif block.kind == "redacted_thinking":
                out.append(ThinkingPart(redacted=block.data or "", provider=PROVIDER))
            elif block.kind == "output":
                raw = "".join(block.pieces)
                out.append(
                    TextPart(text=unwrap(raw) if self.output and self.output.wrapped else raw)
                )
            elif block.call is not None:
                out.append(block.call)
        return tuple(out)

    @property
    def usage(self) -> Usage:
        """The normalised usage seen so far."""
        return usage_from(self._usage)

    @property
    def finish_reason(self) -> str | None:
        """The normalised stop reason, once the model has said it (``stop`` when the forced
        output tool was the only call)."""
        if self.output_called and not self._calls and self.stop_reason == "tool_use":
            return "stop"
        return finish_reason(self.stop_reason, self._calls > 0)

    @property
    def output_mode(self) -> str | None:
        """How the output was asked for, for the stream's last event."""
        return self.output.mode if self.output is not None else None
