"""Every failure a gateway request can meet, as one status and one message, in either API's shape.

``modelwire.errors.GatewayError`` is what a handler raises or what ``classify`` makes of any
exception:

======  ==========================================================================
status  when
======  ==========================================================================
400     a bad request, naming the field (``param``); a request the provider refused
        as malformed, too long for the model, or needing a feature it lacks
401     no key, or a key that is not one of the gateway's
403     the key may not call that model
404     no model, alias or group of that name
413     the body is larger than the gateway accepts
429     a key's budget or request rate (``Retry-After``)
502     the provider failed after routing (an error answer, rejected credentials), or
        its answer is not valid output of the requested ``response_format``
        (``code: invalid_output``)
503     the provider is unavailable, overloaded or rate-limiting (``Retry-After``)
504     the provider did not answer in time
======  ==========================================================================

``openai_body`` and ``anthropic_body`` render one in the shape each API's clients parse. Every
message goes through ``clean`` first: configured provider secrets, URL passwords, anything
shaped like a vendor key and anything shaped like a virtual key become ``***``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from modelwire.config.secrets import mask_url, scrub
from modelwire.errors import (
    AllModelsFailedError,
    AuthenticationError,
    ContextWindowError,
    GatewayError,
    GatewayErrorKind,
    InvalidRequestError,
    LimitExceededError,
    LimitsUnavailableError,
    ModelNotFoundError,
    ModelwireError,
    OutputValidationError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    TimeoutError,
    ToolDefinitionError,
    UnsupportedFeatureError,
)
from modelwire.gateway.keys import KEY_PATTERN

__all__ = [
    "anthropic_body",
    "bad_request",
    "classify",
    "clean",
    "cleaned",
    "openai_body",
]

_OPENAI_TYPE: dict[GatewayErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "authentication": "invalid_request_error",
    "permission": "permission_error",
    "not_found": "invalid_request_error",
    "too_large": "invalid_request_error",
    "rate_limit": "rate_limit_error",
    "upstream": "api_error",
    "unavailable": "api_error",
    "timeout": "api_error",
    "internal": "server_error",
}

_ANTHROPIC_TYPE: dict[GatewayErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "permission": "permission_error",
    "not_found": "not_found_error",
    "too_large": "request_too_large",
    "rate_limit": "rate_limit_error",
    "upstream": "api_error",
    "unavailable": "overloaded_error",
    "timeout": "timeout_error",
    "internal": "api_error",
}


def cleaned(error: GatewayError, secrets: Iterable[str | None]) -> GatewayError:
    """``error`` with ``secrets`` (and key shapes, URL passwords) cleaned from its message."""
    message = clean(error.message, secrets)
    if message == error.message:
        return error
    return GatewayError(
        error.kind, message, param=error.param, code=error.code, retry_after=error.retry_after
    )


def bad_request(param: str | None, message: str, code: str | None = None) -> GatewayError:
    """A 400 about ``param`` (its wire name, e.g. ``messages[2].content``)."""
    text = f"{param}: {message}" if param else message
    return GatewayError("invalid_request", text, param=param, code=code)


def clean(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without secrets: the given values, URL passwords, vendor-key shapes and
    virtual-key shapes."""
    return KEY_PATTERN.sub("***", mask_url(scrub(text, secrets)))


def openai_body(error: GatewayError) -> dict[str, Any]:
    """OpenAI's error shape: ``{"error": {"message", "type", "param", "code"}}``."""
    return {
        "error": {
            "message": error.message,
            "type": _OPENAI_TYPE[error.kind],
            "param": error.param,
            "code": error.code,
        }
    }


def anthropic_body(error: GatewayError) -> dict[str, Any]:
    """Anthropic's error shape: ``{"type": "error", "error": {"type", "message"}}``."""
    return {
        "type": "error",
        "error": {"type": _ANTHROPIC_TYPE[error.kind], "message": error.message},
    }


def _validation(exc: ValidationError) -> GatewayError:
    problems = exc.errors(include_url=False)
    if not problems:
        return bad_request(None, str(exc).splitlines()[0])
    first = problems[0]
    loc = [str(p) for p in first["loc"]]
    param = ".".join(loc) or None
    message = str(first["msg"]).removeprefix("Value error, ")
    if param is None and "tool_choice" in message:
        param = "tool_choice"
    return bad_request(param, message)


def _provider(exc: ProviderError) -> GatewayError:
    if isinstance(exc, AllModelsFailedError):
        last = exc.attempts[-1] if exc.attempts else None
        if isinstance(last, ProviderError) and not isinstance(last, AllModelsFailedError):
            inner = _provider(last)
            return GatewayError(
                inner.kind,
                str(exc),
                param=inner.param,
                code=inner.code,
                retry_after=inner.retry_after,
            )
        return GatewayError("upstream", str(exc), code="upstream_error")
    if isinstance(exc, ContextWindowError):
        return bad_request("messages", str(exc), code="context_length_exceeded")
    if isinstance(exc, UnsupportedFeatureError):
        return bad_request(None, str(exc), code="unsupported_feature")
    if isinstance(exc, InvalidRequestError):
        return bad_request(None, str(exc), code="invalid_request")
    if isinstance(exc, RateLimitError):
        retry = exc.retry_after if exc.retry_after is not None else 1.0
        return GatewayError(
            "unavailable", str(exc), code="upstream_rate_limited", retry_after=retry
        )
    if isinstance(exc, ProviderUnavailableError):
        return GatewayError("unavailable", str(exc), code="upstream_unavailable", retry_after=1.0)
    if isinstance(exc, TimeoutError):
        return GatewayError("timeout", str(exc), code="upstream_timeout")
    if isinstance(exc, AuthenticationError):
        return GatewayError(
            "upstream",
            f"the provider refused the gateway's credentials: {exc}",
            code="upstream_authentication",
        )
    return GatewayError("upstream", str(exc), code="upstream_error")


def classify(exc: BaseException) -> GatewayError:
    """The ``GatewayError`` for any exception a request raised (unscrubbed: see ``cleaned``)."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, LimitsUnavailableError):
        return GatewayError("unavailable", str(exc), code="limits_unavailable", retry_after=5)
    if isinstance(exc, LimitExceededError):
        code = "budget_exceeded" if exc.kind == "budget" else "rate_limit_exceeded"
        return GatewayError("rate_limit", exc.message, code=code, retry_after=exc.retry_after)
    if isinstance(exc, ModelNotFoundError):
        return GatewayError("not_found", str(exc), param="model", code="model_not_found")
    if isinstance(exc, ProviderError):
        return _provider(exc)
    if isinstance(exc, ToolDefinitionError):
        return bad_request("tools", str(exc))
    if isinstance(exc, OutputValidationError):  # a good request, a bad answer
        return GatewayError("upstream", f"the model's answer: {exc}", code="invalid_output")
    if isinstance(exc, ValidationError):
        return _validation(exc)
    if isinstance(exc, ModelwireError | ValueError):
        return bad_request(None, str(exc))
    return GatewayError("internal", f"internal error ({type(exc).__name__})", code="internal")
