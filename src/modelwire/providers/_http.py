"""HTTP helpers shared by every provider: Retry-After, request ids, status → error mapping.

Providers translate their SDK's exceptions into ``modelwire.errors`` through these functions so
that one status code means the same modelwire error whichever vendor returned it:

======================  ==========================================================
HTTP status             modelwire error
======================  ==========================================================
400 (context codes)     ``ContextWindowError`` (``context_length_exceeded`` & co.)
400, 404, 422, other    ``InvalidRequestError`` (404 says the model was not found)
401, 403                ``AuthenticationError``
408                     ``TimeoutError``
409                     ``ProviderUnavailableError`` (a transient conflict)
413                     ``ContextWindowError`` (the request is too large)
429                     ``RateLimitError(retry_after)``; not retryable for quota codes
5xx, 529, "overloaded"  ``ProviderUnavailableError``
======================  ==========================================================

Nothing here imports a vendor SDK. Every message is passed through ``scrub_secrets`` so an API key
a provider echoes back never reaches a log line or a usage row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from modelwire.config.secrets import scrub
from modelwire.errors import (
    AuthenticationError,
    ContextWindowError,
    InvalidRequestError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    TimeoutError,
)

__all__ = [
    "CONTEXT_WINDOW_CODES",
    "REQUEST_ID_HEADERS",
    "connection_error",
    "error_for_status",
    "error_message_from_body",
    "header_value",
    "is_context_window_error",
    "malformed_response_error",
    "parse_retry_after",
    "request_id_from_headers",
    "retry_after_from_headers",
    "scrub_secrets",
    "stream_cut_error",
    "timeout_error",
]

#: Response headers that carry the provider's request id, most specific first.
REQUEST_ID_HEADERS: tuple[str, ...] = (
    "x-request-id",
    "request-id",
    "x-goog-request-id",
    "x-amzn-requestid",
    "cf-ray",
)

#: Error codes/types that mean "the prompt does not fit the context window".
CONTEXT_WINDOW_CODES: frozenset[str] = frozenset(
    {
        "context_length_exceeded",
        "context_window_exceeded",
        "string_above_max_length",
        "request_too_large",
    }
)

_CONTEXT_WINDOW_PHRASES: tuple[str, ...] = (
    "maximum context length",
    "context length",
    "context window",
    "prompt is too long",
    "too many tokens",
    "input token count",
    "exceeds the maximum number of tokens",
)

_QUOTA_CODES: frozenset[str] = frozenset({"insufficient_quota", "billing_hard_limit_reached"})
_OVERLOADED_CODES: frozenset[str] = frozenset({"overloaded_error", "overloaded", "unavailable"})

_MAX_RETRY_AFTER_S = 24 * 3600.0


def header_value(headers: Mapping[str, str] | Any | None, name: str) -> str | None:
    """Case-insensitive header lookup on any mapping (``httpx`` headers, dicts, ``None``)."""
    if headers is None:
        return None
    getter = getattr(headers, "get", None)
    if getter is None:
        return None
    value = getter(name)
    if value is None and isinstance(headers, Mapping):
        lowered = name.lower()
        for key, val in headers.items():
            if str(key).lower() == lowered:
                value = val
                break
    return None if value is None else str(value)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date.

    Returns ``None`` when the value is missing or unreadable; a date in the past gives ``0.0``.
    Absurd values are clamped to one day.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        current = now or datetime.now(UTC)
        seconds = (when - current).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_S)


def retry_after_from_headers(headers: Mapping[str, str] | Any | None) -> float | None:
    """``retry-after-ms`` (milliseconds) when present, else ``Retry-After`` (seconds or date)."""
    millis = header_value(headers, "retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0:
            return min(value, _MAX_RETRY_AFTER_S)
    return parse_retry_after(header_value(headers, "retry-after"))


def request_id_from_headers(headers: Mapping[str, str] | Any | None) -> str | None:
    """The provider's request id from response headers (see ``REQUEST_ID_HEADERS``)."""
    for name in REQUEST_ID_HEADERS:
        value = header_value(headers, name)
        if value:
            return value
    return None


def scrub_secrets(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Replace API keys (given literally, or anything key-shaped) with ``***``."""
    return scrub(text, secrets)


def error_message_from_body(body: Any) -> tuple[str | None, str | None]:
    """``(message, code)`` from a JSON error body of any of the supported wire formats.

    Understands ``{"error": {"message", "code"|"type"|"status"}}`` (OpenAI, Gemini, Anthropic's
    inner object) and ``{"message": ...}``; returns ``(None, None)`` for anything else.
    """
    if not isinstance(body, Mapping):
        return None, None
    inner = body.get("error", body)
    if isinstance(inner, str):
        return inner, None
    if not isinstance(inner, Mapping):
        return None, None
    message = inner.get("message")
    code: Any = None
    for key in ("code", "type", "status"):
        candidate = inner.get(key)
        if isinstance(candidate, str) and candidate:
            code = candidate
            break
    return (str(message) if message else None), code


def is_context_window_error(code: str | None, message: str | None) -> bool:
    """Whether an error code or message says the request overflows the context window."""
    if code and code.lower() in CONTEXT_WINDOW_CODES:
        return True
    lowered = (message or "").lower()
    return any(phrase in lowered for phrase in _CONTEXT_WINDOW_PHRASES)


def error_for_status(
    status: int,
    message: str | None,
    *,
    provider: str | None,
    model_id: str | None,
    request_id: str | None = None,
    retry_after: float | None = None,
    code: str | None = None,
    secrets: Iterable[str | None] = (),
) -> ProviderError:
    """The modelwire error for an HTTP error response (see the module table)."""
    detail = scrub_secrets((message or "").strip() or f"HTTP {status}", secrets)
    kw: dict[str, Any] = {
        "provider": provider,
        "model_id": model_id,
        "request_id": request_id,
        "status_code": status,
    }
    lowered_code = (code or "").lower()
    who = provider or "the provider"
    if status in (401, 403):
        hint = "rejected the credentials" if status == 401 else "denied access"
        return AuthenticationError(f"{who} {hint}: {detail}", **kw)
    if status == 429:
        if lowered_code in _QUOTA_CODES:
            return RateLimitError(
                f"{who} quota exhausted: {detail}", retry_after=retry_after, retryable=False, **kw
            )
        return RateLimitError(f"{who} rate limit: {detail}", retry_after=retry_after, **kw)
    if status == 408:
        return TimeoutError(f"{who} timed out the request: {detail}", **kw)
    if status == 413 or (status in (400, 422) and is_context_window_error(code, message)):
        return ContextWindowError(f"request does not fit the context window: {detail}", **kw)
    if status == 404:
        if model_id:
            name = model_id.partition(":")[2] or model_id
            return InvalidRequestError(f"model {name!r} was not found at {who}: {detail}", **kw)
        return InvalidRequestError(f"{who} has no such resource: {detail}", **kw)
    if status >= 500 or status == 409 or lowered_code in _OVERLOADED_CODES:
        return ProviderUnavailableError(f"{who} is unavailable: {detail}", **kw)
    return InvalidRequestError(f"{who} rejected the request: {detail}", **kw)


def timeout_error(
    *, provider: str | None, model_id: str | None, timeout_s: float | None = None
) -> TimeoutError:
    """The error for a request that got no (complete) answer in time."""
    after = f" after {timeout_s:g}s" if timeout_s else ""
    return TimeoutError(
        f"{provider or 'the provider'} did not answer{after}", provider=provider, model_id=model_id
    )


def connection_error(
    reason: str, *, provider: str | None, model_id: str | None, request_id: str | None = None
) -> ProviderUnavailableError:
    """The error for a refused, reset or otherwise broken connection (retryable, and the
    provider's as a whole: the same host serves every model of the entry)."""
    return ProviderUnavailableError(
        f"could not reach {provider or 'the provider'}: {reason}",
        provider=provider,
        model_id=model_id,
        request_id=request_id,
        provider_wide=True,
    )


def stream_cut_error(
    *,
    provider: str | None,
    model_id: str | None,
    request_id: str | None = None,
    received_chars: int = 0,
) -> ProviderUnavailableError:
    """The error for a stream that ended before the model finished (retryable)."""
    return ProviderUnavailableError(
        f"the stream from {provider or 'the provider'} was cut off before the model finished "
        f"({received_chars} characters received)",
        provider=provider,
        model_id=model_id,
        request_id=request_id,
    )


def malformed_response_error(
    reason: str,
    *,
    provider: str | None,
    model_id: str | None,
    request_id: str | None = None,
    status_code: int | None = None,
) -> ProviderUnavailableError:
    """The error for a success status whose body is not the expected JSON.

    Treated as a transient server fault (retryable): a truncated or garbled body almost always
    comes from a proxy or an overloaded server, not from the request.
    """
    return ProviderUnavailableError(
        f"{provider or 'the provider'} returned a malformed response body: {reason}",
        provider=provider,
        model_id=model_id,
        request_id=request_id,
        status_code=status_code,
    )
