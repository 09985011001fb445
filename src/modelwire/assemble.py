"""Instances of modelwire's pydantic types from values already known to be valid.

On the call path modelwire builds a request, a usage and a response for every call, from values
whose types it has just checked or computed itself. Running pydantic's validator over them again
costs several microseconds per call once caches are cold after the network wait (measured against
the loopback server: docs/performance.md). ``assemble`` does what ``BaseModel.model_construct``
does — store the fields, record which were set, no extra and no private state — for a complete
set of fields, without ``model_construct``'s per-field default handling (which makes it slower
than validating). Each builder here checks what it relies on and is compared with the validating
constructor in ``tests/test_assemble.py``; anything unusual goes through the validator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from modelwire.types import ChatRequest, ChatResponse, Message, Usage

__all__ = ["assemble", "plain_request", "response", "usage"]

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
_set = object.__setattr__

_USAGE_FIELDS = frozenset(Usage.model_fields)
_MESSAGE_FIELDS = frozenset(("role", "content"))
_RESPONSE_SET = frozenset(("text", "model_id", "usage", "finish_reason", "request_id", "raw"))


def assemble(cls: type[M], values: dict[str, Any], fields_set: Iterable[str]) -> M:
    """An instance of ``cls`` holding ``values`` (every field of ``cls``, each already of its
    field's type and within its bounds) with ``fields_set`` recorded as explicitly set."""
    obj = _new(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", set(fields_set))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


def usage(
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int,
    cache_write_tokens: int,
    reasoning_tokens: int,
    *,
    cache_write_1h_tokens: int = 0,
    input_audio_tokens: int = 0,
    input_image_tokens: int = 0,
    output_audio_tokens: int = 0,
    output_image_tokens: int = 0,
    tool_uses: Mapping[str, int] | None = None,
    iterations: tuple[Usage, ...] = (),
) -> Usage:
    """``Usage(...)`` of ``int`` counts (what the providers' normalisation computes)."""
    values = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": cache_read_tokens,
        "cache_write_tokens": cache_write_tokens,
        "reasoning_tokens": reasoning_tokens,
        "cache_write_1h_tokens": cache_write_1h_tokens,
        "input_audio_tokens": input_audio_tokens,
        "input_image_tokens": input_image_tokens,
        "output_audio_tokens": output_audio_tokens,
        "output_image_tokens": output_image_tokens,
        "tool_uses": {} if tool_uses is None else tool_uses,
        "iterations": iterations,
    }
    if (
        type(input_tokens) is int
        and type(output_tokens) is int
        and type(cache_read_tokens) is int
        and type(cache_write_tokens) is int
        and type(reasoning_tokens) is int
        and type(cache_write_1h_tokens) is int
        and type(input_audio_tokens) is int
        and type(input_image_tokens) is int
        and type(output_audio_tokens) is int
        and type(output_image_tokens) is int
        and (tool_uses is None or _counts_by_kind(tool_uses))
        and (not iterations or _usages(iterations))
    ):
        return assemble(Usage, values, _USAGE_FIELDS)
    return Usage(**values)


def _counts_by_kind(uses: Mapping[str, int]) -> bool:
    return type(uses) is dict and all(type(k) is str and type(v) is int for k, v in uses.items())


def _usages(iterations: Any) -> bool:
    return type(iterations) is tuple and all(type(u) is Usage for u in iterations)


def _text_or_none(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


def response(
    text: str,
    model_id: str,
    usage: Usage,
    finish_reason: Any,
    request_id: Any,
    raw: Any,
) -> ChatResponse:
    """``ChatResponse(...)`` of a provider's answer; a ``finish_reason`` or ``request_id`` that is
    not a string (a server sending odd JSON) is turned into one."""
    if type(text) is not str or type(model_id) is not str or type(usage) is not Usage:
        return ChatResponse(
            text=text,
            model_id=model_id,
            usage=usage,
            finish_reason=finish_reason,
            request_id=request_id,
            raw=raw,
        )
    values = {
        "text": text,
        "model_id": model_id,
        "usage": usage,
        "cost_usd": None,
        "latency_ms": 0.0,
        "finish_reason": _text_or_none(finish_reason),
        "request_id": _text_or_none(request_id),
        "attempts": 1,
        "raw": raw,
        "tool_calls": (),
        "parts": (),
        "output": None,
        "output_mode": None,
        "output_fallback": None,
        "skipped": {},
    }
    return assemble(ChatResponse, values, _RESPONSE_SET)


_PLAIN: dict[str, Any] = {  # parameter -> test that its value is within ChatRequest's bounds
    "max_tokens": lambda v: type(v) is int and 1 <= v <= 100_000_000,
    "temperature": lambda v: type(v) is float and 0 <= v <= 10,
    "top_p": lambda v: type(v) is float and 0 <= v <= 1,
    "seed": lambda v: type(v) is int and -(2**63) <= v < 2**63,
    "timeout": lambda v: type(v) is float and 0 < v <= 86_400,
    "system": lambda v: type(v) is str,
}


def plain_request(prompt: str, params: Mapping[str, Any]) -> ChatRequest | None:
    """``ChatRequest`` for a prompt string and call parameters that each are already of their
    field's type and within bounds (``max_tokens=64``, ``temperature=0.2``, …), else ``None``:
    an int temperature, a stop list, ``provider_params`` or anything else goes through the
    validator, which converts or refuses it."""
    fields: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        check = _PLAIN.get(key)
        if check is None or not check(value):
            return None
        fields[key] = value
    message = assemble(Message, {"role": "user", "content": prompt}, _MESSAGE_FIELDS)
    values: dict[str, Any] = {
        "messages": (message,),
        "system": None,
        "max_tokens": None,
        "temperature": None,
        "top_p": None,
        "stop": None,
        "seed": None,
        "timeout": None,
        "provider_params": {},
        "tools": (),
        "tool_choice": None,
        "parallel_tool_calls": None,
        "output": None,
        "output_mode": "auto",
    }
    values.update(fields)
    fields_set = ("messages", "provider_params", *fields) if params else ("messages",)
    return assemble(ChatRequest, values, fields_set)
