"""Gemini errors: any failure of ``google-genai``, as the ``ProviderError`` it stands for.

HTTP statuses map through ``modelwire.providers._http`` (a bad key, which Gemini answers with
400 ``API_KEY_INVALID``, as an authentication error; 429 with ``Retry-After`` or the body's
``RetryInfo`` delay; 5xx unavailable, …). Transport errors are recognised on both of the SDK's
backends (``httpx2``/``httpx``, and ``aiohttp`` for async calls): a timeout, an unreachable
server and a stream cut off after its first chunk each have their own retryable error, and a
body that is not valid JSON is a malformed response. Messages never carry the entry's key.
"""

from __future__ import annotations

import sys
from typing import Any

from modelwire.errors import ProviderError
from modelwire.providers import _http
from modelwire.providers.google.mapping import retry_delay_from_body

__all__ = ["map_google_error"]


def _transport(*names: str) -> tuple[type[BaseException], ...]:
    """Those exception classes of ``httpx2`` and ``httpx`` (google-genai can use either,
    ``GOOGLE_GENAI_HTTP_CLIENT`` decides), from the modules already loaded."""
    found: list[type[BaseException]] = []
    for module_name in ("httpx2", "httpx"):
        module = sys.modules.get(module_name)
        if module is not None:
            found.extend(getattr(module, name) for name in names)
    return tuple(found)


def _aiohttp_errors() -> tuple[type[BaseException], ...]:
    """``aiohttp.ClientError`` when aiohttp is loaded: google-genai sends async requests through
    aiohttp whenever it is installed (and through httpx otherwise)."""
    module = sys.modules.get("aiohttp")
    return (module.ClientError,) if module is not None else ()


def _status_of(exc: Any) -> int:
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) and not isinstance(code, bool) else 500


def map_google_error(
    exc: BaseException,
    *,
    provider: str,
    model_id: str | None,
    request_id: str | None = None,
    timeout_s: float | None = None,
    secret: str | None = None,
    secrets: tuple[str | None, ...] = (),
    received_chars: int = 0,
    stream_started: bool = False,
) -> ProviderError:
    """The modelwire error for an exception raised by ``google-genai`` (or its transport).

    ``stream_started`` says a stream already delivered a chunk: a broken connection then means a
    cut stream rather than an unreachable server. ``secret`` and ``secrets`` (the entry's key,
    header values, a URL password) are scrubbed from every message.
    """
    if isinstance(exc, ProviderError):
        return exc
    from google.genai import errors as genai_errors

    where: dict[str, Any] = {"provider": provider, "model_id": model_id}
    hidden = (secret, *secrets)
    if isinstance(exc, genai_errors.APIError):
        headers = getattr(getattr(exc, "response", None), "headers", None)
        body = exc.details
        message, code = _http.error_message_from_body(body)
        retry_after = _http.retry_after_from_headers(headers)
        if retry_after is None:
            retry_after = retry_delay_from_body(body)
        status = _status_of(exc)
        if status == 400 and _invalid_key(body, message):
            status = 401  # Gemini answers a bad key with 400 INVALID_ARGUMENT / API_KEY_INVALID
        return _http.error_for_status(
            status,
            message or exc.message or str(exc),
            request_id=_http.request_id_from_headers(headers) or request_id,
            retry_after=retry_after,
            code=code or exc.status,
            secrets=hidden,
            **where,
        )
    # TimeoutError: asyncio's (aiohttp's total timeout) and aiohttp.ServerTimeoutError
    if isinstance(exc, (*_transport("TimeoutException"), TimeoutError)):
        err = _http.timeout_error(timeout_s=timeout_s, **where)
        err.request_id = request_id
        return err
    aiohttp_errors = _aiohttp_errors()
    broken = (*_transport("TransportError", "StreamError"), *aiohttp_errors)
    if stream_started and isinstance(exc, broken):
        return _http.stream_cut_error(request_id=request_id, received_chars=received_chars, **where)
    if isinstance(exc, (*_transport("TransportError"), *aiohttp_errors)):
        return _http.connection_error(
            _http.scrub_secrets(f"{type(exc).__name__}: {exc}", hidden),
            request_id=request_id,
            **where,
        )
    if isinstance(exc, ValueError | KeyError | TypeError):
        return _http.malformed_response_error(
            _http.scrub_secrets(f"{type(exc).__name__}: {exc}", hidden)[:500],
            request_id=request_id,
            **where,
        )
    return ProviderError(
        _http.scrub_secrets(f"{provider} call failed: {type(exc).__name__}: {exc}", hidden),
        request_id=request_id,
        **where,
    )


def _invalid_key(body: Any, message: str | None) -> bool:
    if message and "api key not valid" in message.lower():
        return True
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    return isinstance(details, list) and any(
        isinstance(d, dict) and d.get("reason") == "API_KEY_INVALID" for d in details
    )
