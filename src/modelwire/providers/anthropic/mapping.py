"""Anthropic Messages API wire mapping: requests out, responses and usage in.

Pure functions on plain data (and on the SDK's response objects through attribute access), so the
mapping is testable without a network and without importing the ``anthropic`` SDK.

Request mapping (``build_body``):

* ``system`` (and any ``system``-role messages, in order) → the top-level ``system`` string;
* ``user`` / ``assistant`` messages → ``messages``; ``tool`` messages are rejected;
* ``max_tokens`` is always sent: the request's value, else ``DEFAULT_MAX_TOKENS`` (4096) or the
  model's ``max_output_tokens`` when that is smaller;
* ``temperature``, ``top_p`` → the same names; ``stop`` → ``stop_sequences``;
* ``seed`` is ignored: the Messages API has no seed parameter (a sampling seed cannot be honoured,
  and failing the call would break groups that mix providers);
* ``provider_params`` are merged into the body last, untouched (they win over the above); the
  SDK call options ``extra_headers``, ``extra_query`` and ``extra_body`` among them are applied
  as such by the provider.

Usage mapping (``usage_from``), DESIGN.md §4: Anthropic's ``input_tokens`` excludes the cache, so
``input = input_tokens + cache_read_input_tokens + cache_creation_input_tokens``,
``cache_read = cache_read_input_tokens``, ``cache_write = cache_creation_input_tokens``,
``output = output_tokens`` (thinking included) and
``reasoning = output_tokens_details.thinking_tokens`` when the API reports it.
"""

from __future__ import annotations

from typing import Any

from modelwire import assemble
from modelwire.errors import InvalidRequestError
from modelwire.types import ChatRequest, ModelInfo, Usage

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "StreamState",
    "build_body",
    "finish_reason",
    "max_tokens_for",
    "response_text",
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
}


def _get(obj: Any, name: str) -> Any:
    """Key access on dicts (JSON), attribute access on SDK objects."""
    if obj is None:
        return None
    if isinstance(obj, dict):
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
    for message in request.messages:
        if message.role == "system":
            system_parts.append(message.text)
        elif message.role in ("user", "assistant"):
            messages.append({"role": message.role, "content": message.content})
        else:
            raise InvalidRequestError(
                f"the anthropic provider does not accept {message.role!r} messages",
                provider=info.provider,
                model_id=info.id,
            )
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
    body.update(request.provider_params)
    return body


def _int(value: Any) -> int:
    if type(value) is int:
        return value
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_from(usage: Any) -> Usage:
    """Normalise an Anthropic ``usage`` object (or dict) into the five counts."""
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
    else:  # an SDK object: plain attribute reads, this runs on every call
        plain = getattr(usage, "input_tokens", None)
        cache_read = getattr(usage, "cache_read_input_tokens", None)
        cache_write = getattr(usage, "cache_creation_input_tokens", None)
        output = getattr(usage, "output_tokens", None)
        details = getattr(usage, "output_tokens_details", None)
    plain, cache_read, cache_write = _int(plain), _int(cache_read), _int(cache_write)
    return assemble.usage(
        plain + cache_read + cache_write,
        _int(output),
        cache_read,
        cache_write,
        _int(_get(details, "thinking_tokens")) if details is not None else 0,
    )


def finish_reason(stop_reason: str | None) -> str | None:
    """Anthropic's ``stop_reason`` in modelwire's (OpenAI-style) vocabulary; unknown ones kept."""
    if stop_reason is None:
        return None
    return _FINISH_REASONS.get(stop_reason, stop_reason)


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


class StreamState:
    """Folds raw Messages stream events into text deltas, usage and the stop reason.

    ``message_start`` carries the input and cache counts; each ``message_delta`` carries the
    cumulative output count (and, on newer API versions, updated input counts), so the latest
    non-null value of each field wins. ``finished`` turns true on ``message_stop``.
    ``request_id`` is the one of the stream's HTTP response (its ``request-id`` header).
    """

    __slots__ = ("_usage", "chars", "finished", "message_id", "request_id", "stop_reason")

    def __init__(self, request_id: str | None = None) -> None:
        self.request_id = request_id
        self._usage: dict[str, Any] = {}
        self.stop_reason: str | None = None
        self.message_id: str | None = None
        self.finished = False
        self.chars = 0

    def _merge_usage(self, usage: Any) -> None:
        if usage is None:
            return
        for field in (
            "input_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
            "output_tokens",
            "output_tokens_details",
        ):
            value = _get(usage, field)
            if value is not None:
                self._usage[field] = value

    def feed(self, event: Any) -> str:
        """Take one event; return the new text it carries (often empty)."""
        kind = _get(event, "type")
        if kind == "content_block_delta":
            delta = _get(event, "delta")
            if _get(delta, "type") == "text_delta":
                text: str = _get(delta, "text") or ""
                self.chars += len(text)
                return text
        elif kind == "content_block_start":
            block = _get(event, "content_block")
            if _get(block, "type") == "text":
                initial: str = _get(block, "text") or ""
                self.chars += len(initial)
                return initial
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
            self.finished = True
        return ""

    @property
    def usage(self) -> Usage:
        """The normalised usage seen so far."""
        return usage_from(self._usage)

    @property
    def finish_reason(self) -> str | None:
        """The normalised stop reason, once the model has said it."""
        return finish_reason(self.stop_reason)
