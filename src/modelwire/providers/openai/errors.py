"""OpenAI errors: any failure of the ``openai`` SDK, as the ``ProviderError`` it stands for.

HTTP statuses map through ``modelwire.providers._http`` (401/403 authentication, 429 rate limit
with ``Retry-After``, 400 with a context-length code or message as a context-window error, 5xx
unavailable, …); a timeout, a refused or broken connection, a stream cut off and a body that is
not valid JSON each have their own retryable error. Messages never carry the entry's key.
"""

from __future__ import annotations

from typing import Any

from modelwire.errors import ContextWindowError, ProviderError, ProviderUnavailableError
from modelwire.providers import _http

__all__ = ["map_openai_error"]


def map_openai_error(
    exc: BaseException,
    *,
    provider: str,
    model_id: str | None,
    timeout_s: float | None = None,
    in_stream: bool = False,
    received_chars: int = 0,
    request_id: str | None = None,
    secrets: tuple[str | None, ...] = (),
) -> ProviderError:
    """The ``ProviderError`` for an exception raised by the ``openai`` SDK or its transport."""
    import openai

    if isinstance(exc, ProviderError):
        return exc
    where: dict[str, Any] = {"provider": provider, "model_id": model_id}
    if isinstance(exc, openai.APIStatusError):
        message, code = _http.error_message_from_body(exc.body)
        headers = exc.response.headers
        return _http.error_for_status(
            exc.status_code,
            message or exc.message,
            request_id=exc.request_id or _http.request_id_from_headers(headers) or request_id,
            retry_after=_http.retry_after_from_headers(headers),
            code=code or exc.code,
            secrets=secrets,
            **where,
        )
    if isinstance(exc, openai.APITimeoutError):
        return _http.timeout_error(timeout_s=timeout_s, **where)
    if isinstance(exc, openai.APIConnectionError):
        if in_stream:
            return _http.stream_cut_error(
                request_id=request_id, received_chars=received_chars, **where
            )
        reason = str(exc.__cause__ or exc.message) or type(exc.__cause__).__name__
        return _http.connection_error(_http.scrub_secrets(reason, secrets), **where)
    if isinstance(exc, openai.APIResponseValidationError):
        return _http.malformed_response_error(
            exc.message, request_id=request_id, status_code=exc.status_code, **where
        )
    if isinstance(exc, openai.APIError):  # an error event inside a stream
        message, code = _http.error_message_from_body(exc.body)
        text = _http.scrub_secrets(message or exc.message, secrets)
        cls = ContextWindowError if _http.is_context_window_error(code, text) else None
        if cls is not None:
            return cls(f"request does not fit the context window: {text}", **where)
        return ProviderUnavailableError(
            f"{provider} reported an error: {text}", request_id=request_id, **where
        )
    if isinstance(exc, ValueError):  # json.JSONDecodeError from a body or an SSE event
        return _http.malformed_response_error(
            f"not valid JSON ({exc})", request_id=request_id, **where
        )
    return ProviderError(
        _http.scrub_secrets(f"{provider} call failed: {type(exc).__name__}: {exc}", secrets),
        request_id=request_id,
        **where,
    )
