"""Anthropic errors: any failure of the ``anthropic`` SDK, as the ``ProviderError`` it stands for.

HTTP statuses map through ``modelwire.providers._http`` (401/403 authentication, 429 rate limit
with ``Retry-After``, 400 with a context-length message as a context-window error, 529 overloaded
and 5xx unavailable, …); an ``error`` event inside a successful stream maps by its error type to
the status it stands for. A timeout, a refused connection, a stream cut off and a body that is not
a message each have their own retryable error. Messages never carry the entry's key.
"""

from __future__ import annotations

from typing import Any

from modelwire.errors import ProviderError
from modelwire.providers import _http

__all__ = ["map_anthropic_error"]

# The HTTP status an in-stream ``error`` event (sent after a 200) stands for.
_STATUS_FOR_ERROR_TYPE: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def map_anthropic_error(
    exc: BaseException,
    *,
    provider: str,
    model_id: str | None,
    request_id: str | None = None,
    timeout_s: float | None = None,
    secret: str | None = None,
    secrets: tuple[str | None, ...] = (),
    received_chars: int = 0,
    in_stream: bool = False,
) -> ProviderError:
    """The ``ProviderError`` for an exception raised by the ``anthropic`` SDK (or its transport).

    ``in_stream``: the exception came while reading an open stream, so a broken connection is a
    stream cut off (newer SDKs wrap the transport error in ``APIConnectionError`` there too).
    ``secret`` and ``secrets`` (the entry's key, header values, a URL password) are scrubbed
    from every message.
    """
    if isinstance(exc, ProviderError):
        return exc
    import anthropic
    import httpx2

    where: dict[str, Any] = {"provider": provider, "model_id": model_id}
    hidden = (secret, *secrets)
    if isinstance(exc, anthropic.APIStatusError):
        headers = exc.response.headers
        rid = exc.request_id or _http.request_id_from_headers(headers) or request_id
        message, code = _http.error_message_from_body(exc.body)
        if message is None and isinstance(exc.body, str) and exc.body.strip():
            message = exc.body.strip()[:500]
        status = exc.status_code
        if status < 400:  # an error event inside a successful stream
            status = _STATUS_FOR_ERROR_TYPE.get(code or "", 500)
        return _http.error_for_status(
            status,
            message or exc.message,
            request_id=rid,
            retry_after=_http.retry_after_from_headers(headers),
            code=code,
            secrets=hidden,
            **where,
        )
    if isinstance(exc, anthropic.APIResponseValidationError):
        return _http.malformed_response_error(
            str(exc), request_id=request_id, status_code=exc.status_code, **where
        )
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        err = _http.timeout_error(timeout_s=timeout_s, **where)
        err.request_id = request_id
        return err
    if isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__ or exc
        if isinstance(cause, httpx2.TimeoutException):
            return _http.timeout_error(timeout_s=timeout_s, **where)
        if in_stream:
            return _http.stream_cut_error(
                request_id=request_id, received_chars=received_chars, **where
            )
        return _http.connection_error(
            _http.scrub_secrets(f"{type(cause).__name__}: {cause}", hidden),
            request_id=request_id,
            **where,
        )
    if isinstance(exc, httpx2.TransportError | httpx2.StreamError):
        return _http.stream_cut_error(request_id=request_id, received_chars=received_chars, **where)
    # a body that is not JSON (ValueError), or JSON of another shape than a message
    if isinstance(exc, ValueError | KeyError | TypeError | AttributeError):
        return _http.malformed_response_error(
            _http.scrub_secrets(f"{type(exc).__name__}: {exc}", hidden),
            request_id=request_id,
            **where,
        )
    return ProviderError(
        _http.scrub_secrets(f"{provider} call failed: {type(exc).__name__}: {exc}", hidden),
        request_id=request_id,
        **where,
    )
