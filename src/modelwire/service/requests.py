"""A ``ChatRequest`` from what a caller passed: a prompt and call parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from modelwire.assemble import plain_request
from modelwire.errors import UnsupportedFeatureError
from modelwire.output import OutputSpec
from modelwire.tools import as_tools
from modelwire.types import ChatRequest, Message, ModelInfo, normalise_messages

__all__ = ["ACCEPTED_PARAMS", "REQUEST_FIELDS", "Prompt", "build_request", "check_features"]

Prompt = str | Message | Mapping[str, Any] | Sequence[Message | Mapping[str, Any]]
"""A prompt string, one message, or a list of messages (``mw.Message`` or role/content dicts)."""

#: Call parameters that are fields of ``ChatRequest``.
REQUEST_FIELDS = frozenset(
    (
        "system",
        "max_tokens",
        "temperature",
        "top_p",
        "stop",
        "seed",
        "timeout",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "output",
        "output_mode",
    )
)
#: Every call parameter a model id accepts (groups also take routing hints).
ACCEPTED_PARAMS = REQUEST_FIELDS | {"provider_params"}


def build_request(
    prompt: Prompt, params: Mapping[str, Any], defaults: Mapping[str, Any] | None = None
) -> ChatRequest:
    """A ``ChatRequest`` from a prompt and call parameters; ``defaults`` fill unset fields.

    A bad parameter is a one-line ``ValueError`` naming it (``max_tokens: ...``), a prompt of
    the wrong type a one-line ``TypeError``."""
    try:
        return _build(prompt, params, defaults)
    except ValidationError as exc:
        raise ValueError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "request"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def _build(
    prompt: Prompt, params: Mapping[str, Any], defaults: Mapping[str, Any] | None
) -> ChatRequest:
    if type(prompt) is str and not defaults:  # the common call: a prompt, plain parameters
        request = plain_request(prompt, params)
        if request is not None:
            return request
    if not params and not defaults:
        return ChatRequest(messages=normalise_messages(prompt))
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if defaults:
        for key, value in defaults.items():
            (fields if key in REQUEST_FIELDS else extra)[key] = value
    for key, value in params.items():
        if key in REQUEST_FIELDS:
            if value is not None:
                fields[key] = value
        elif key != "provider_params":
            unknown = sorted(set(params) - ACCEPTED_PARAMS)
            raise TypeError(f"unexpected parameter(s): {', '.join(unknown)}")
    stop = fields.get("stop")
    if isinstance(stop, str):
        fields["stop"] = (stop,)
    elif stop is not None:
        if not isinstance(stop, Sequence):
            raise ValueError(
                f"stop: expected a string or a list of strings; got {type(stop).__name__}"
            )
        fields["stop"] = tuple(stop)
    tools = fields.get("tools")
    if tools is not None:
        fields["tools"] = as_tools(tools)
    output = fields.get("output")
    if output is not None:
        fields["output"] = OutputSpec.of(output)
    passthrough = params.get("provider_params")
    if passthrough:
        extra.update(passthrough)
    return ChatRequest(messages=normalise_messages(prompt), provider_params=extra, **fields)


def check_features(info: ModelInfo, request: ChatRequest) -> None:
    """Raise ``UnsupportedFeatureError`` when the model lacks something the request needs."""
    lacking = sorted(f for f in request.needs() if not info.supports(f))
    if lacking:
        raise UnsupportedFeatureError(
            f"{info.id} does not take {', '.join(lacking)}",
            provider=info.provider,
            model_id=info.id,
        )
