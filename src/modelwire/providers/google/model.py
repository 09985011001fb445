"""Google Gemini models through ``google-genai`` (``from google import genai``).

Each provider entry owns one ``genai.Client`` for sync calls and one per event loop for async
calls (``client.aio``), built on first use with ``api_key`` from the entry and
``HttpOptions(base_url, headers, timeout in ms, retry_options=attempts 1)`` — the SDK never retries,
so modelwire's retry policy is the only one. Nothing process-wide is touched (no
``genai.configure``; ``vertexai=False`` so ``GOOGLE_GENAI_USE_VERTEXAI`` cannot switch backends).
The mapping lives in ``google_mapping``; this module does the calls and the error translation.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

from modelwire.errors import AuthenticationError, InvalidRequestError, ProviderError
from modelwire.providers import _http
from modelwire.providers._async_clients import LoopClients, shared_ssl_context
from modelwire.providers.base import ChatModel, ProviderContext, discovered_model
from modelwire.providers.google.mapping import (
    StreamState,
    build_config,
    build_contents,
    response_finish_reason,
    response_text,
    retry_delay_from_body,
    usage_from,
)
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, StreamEvent

__all__ = ["DEFAULT_BASE_URL", "GeminiChatModel", "map_google_error"]

#: Sent explicitly so ``GOOGLE_GEMINI_BASE_URL`` in the environment never redirects an entry.
DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/"
#: Pinned (not ``GOOGLE_GENAI_API_VERSION``): v1beta carries every generation-config field.
API_VERSION = "v1beta"


def _build_client(provider: ProviderContext, tls: Any) -> Any:
    key = provider.api_key()
    if not key:
        raise AuthenticationError(
            f"provider {provider.name!r} has no API key: set api_key in its configuration "
            "(for example api_key: ${GOOGLE_API_KEY}) or the GOOGLE_API_KEY variable it refers to",
            provider=provider.name,
        )
    from google import genai
    from google.genai import types

    cfg = provider.config
    options = types.HttpOptions(
        base_url=cfg.base_url or DEFAULT_BASE_URL,
        api_version=API_VERSION,
        headers=dict(cfg.headers) if cfg.headers else None,
        timeout=max(1, round(cfg.timeout_s * 1000)),
        retry_options=types.HttpRetryOptions(attempts=1),
        # the entry's shared TLS context: ``verify`` for the httpx clients, ``ssl`` for the
        # SDK's websocket/aiohttp paths (it would otherwise load the CA bundle twice per client)
        client_args={"verify": tls},
        async_client_args={"verify": tls, "ssl": tls},
    )
    return genai.Client(api_key=key, vertexai=False, http_options=options)


def sync_client(provider: ProviderContext) -> Any:
    """The entry's sync ``genai.Client`` (built once, closed by ``provider.close()``)."""
    client = provider.built("sync")
    if client is not None:
        return client
    tls = shared_ssl_context(provider)  # not inside the builder: that runs under the entry's lock
    return provider.client("sync", lambda: _build_client(provider, tls), lambda c: c.close())


def async_client(provider: ProviderContext) -> Any:
    """The entry's async client (``genai.Client(...).aio``) for the running event loop."""

    def build_holder() -> LoopClients[Any]:
        if not provider.api_key():
            _build_client(provider, None)  # raises the readable missing-key error
        return LoopClients(lambda: _build_client(provider, shared_ssl_context(provider)), _aclose)

    # the holder keeps the whole genai.Client: dropping it would close its transports on GC
    return provider.client("async", build_holder, lambda h: h.close()).get().aio


async def _aclose(client: Any) -> None:
    await client.aio.aclose()
    client.close()


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
    received_chars: int = 0,
    stream_started: bool = False,
) -> ProviderError:
    """The modelwire error for an exception raised by ``google-genai`` (or its transport).

    ``stream_started`` says a stream already delivered a chunk: a broken connection then means a
    cut stream rather than an unreachable server.
    """
    if isinstance(exc, ProviderError):
        return exc
    from google.genai import errors as genai_errors

    where: dict[str, Any] = {"provider": provider, "model_id": model_id}
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
            secrets=(secret,),
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
            _http.scrub_secrets(f"{type(exc).__name__}: {exc}", (secret,)),
            request_id=request_id,
            **where,
        )
    if isinstance(exc, ValueError | KeyError | TypeError):
        return _http.malformed_response_error(
            _http.scrub_secrets(f"{type(exc).__name__}: {exc}", (secret,))[:500],
            request_id=request_id,
            **where,
        )
    return ProviderError(
        _http.scrub_secrets(f"{provider} call failed: {type(exc).__name__}: {exc}", (secret,)),
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


@functools.cache
def _config_fields() -> frozenset[str]:
    """The installed SDK's ``GenerateContentConfig`` field names."""
    from google.genai import types

    return frozenset(types.GenerateContentConfig.model_fields) - {"http_options"}


def _request_id(response: Any) -> str | None:
    headers = getattr(getattr(response, "sdk_http_response", None), "headers", None)
    return _http.request_id_from_headers(headers) or getattr(response, "response_id", None)


class GeminiChatModel(ChatModel):
    """A Gemini model served by the Gemini API (``generateContent``)."""

    provider_type: ClassVar[str] = "google"
    requires: ClassVar[tuple[str, ...]] = ("google.genai",)
    extra: ClassVar[str | None] = "google"

    # -- helpers ---------------------------------------------------------------------------

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        contents, system = build_contents(request, self.info)
        kwargs: dict[str, Any] = {"model": self.info.name, "contents": contents}
        config = build_config(request, system, _config_fields())
        if config:
            from google.genai import types
            from pydantic import ValidationError

            try:
                kwargs["config"] = types.GenerateContentConfig(**config)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise InvalidRequestError(
                    f"invalid Gemini generation config {where}: {first['msg']}",
                    provider=self.provider.name,
                    model_id=self.info.id,
                ) from None
        return kwargs

    def _error(
        self,
        exc: BaseException,
        request: ChatRequest,
        request_id: str | None = None,
        received_chars: int = 0,
        stream_started: bool = False,
    ) -> ProviderError:
        return map_google_error(
            exc,
            provider=self.provider.name,
            model_id=self.info.id,
            request_id=request_id,
            timeout_s=request.timeout or self.provider.config.timeout_s,
            secret=self.provider.api_key(),
            received_chars=received_chars,
            stream_started=stream_started,
        )

    def _response(self, response: Any, request: ChatRequest) -> ChatResponse:
        try:
            return ChatResponse(
                text=response_text(response),
                model_id=self.info.id,
                usage=usage_from(getattr(response, "usage_metadata", None)),
                finish_reason=response_finish_reason(response),
                request_id=_request_id(response),
                raw=response,
            )
        except Exception as exc:
            raise self._error(exc, request) from exc

    # -- the four call styles --------------------------------------------------------------

    def invoke(self, request: ChatRequest) -> ChatResponse:
        """``models.generate_content`` and wait for the whole answer."""
        kwargs = self._kwargs(request)
        client = sync_client(self.provider)
        try:
            response = client.models.generate_content(**kwargs)
        except Exception as exc:
            raise self._error(exc, request) from exc
        return self._response(response, request)

    async def ainvoke(self, request: ChatRequest) -> ChatResponse:
        """The same as ``invoke``, on ``client.aio``."""
        kwargs = self._kwargs(request)
        client = async_client(self.provider)
        try:
            response = await client.models.generate_content(**kwargs)
        except Exception as exc:
            raise self._error(exc, request) from exc
        return self._response(response, request)

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        """``models.generate_content_stream``; the usage is the last chunk's."""
        kwargs = self._kwargs(request)
        client = sync_client(self.provider)
        state = StreamState()
        request_id: str | None = None
        chunks = None
        started = False
        try:
            chunks = client.models.generate_content_stream(**kwargs)
            for chunk in chunks:
                started = True
                request_id = request_id or _request_id(chunk)
                text = state.feed(chunk)
                if text:
                    yield StreamEvent(text=text)
        except Exception as exc:
            raise self._error(exc, request, request_id, state.chars, started) from exc
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        yield self.stream_end(state, request_id or state.response_id)

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """The same as ``stream``, on ``client.aio``."""
        kwargs = self._kwargs(request)
        client = async_client(self.provider)
        state = StreamState()
        request_id: str | None = None
        chunks = None
        started = False
        try:
            chunks = await client.models.generate_content_stream(**kwargs)
            async for chunk in chunks:
                started = True
                request_id = request_id or _request_id(chunk)
                text = state.feed(chunk)
                if text:
                    yield StreamEvent(text=text)
        except Exception as exc:
            raise self._error(exc, request, request_id, state.chars, started) from exc
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        yield self.stream_end(state, request_id or state.response_id)

    # -- discovery -------------------------------------------------------------------------

    @classmethod
    def prepare_client(cls, provider: ProviderContext) -> None:
        """Build the entry's sync client (what ``list_models`` uses) ahead of a listing."""
        sync_client(provider)

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        """Models that support ``generateContent``, following page tokens; ``models/`` stripped."""
        client = sync_client(provider)
        found: list[ModelInfo] = []
        seen: set[str] = set()
        try:
            for item in client.models.list(config={"page_size": 100}):
                actions = getattr(item, "supported_actions", None) or ()
                name = str(getattr(item, "name", "") or "").removeprefix("models/")
                if "generateContent" not in actions or not name or name in seen:
                    continue
                seen.add(name)
                found.append(
                    discovered_model(
                        provider,
                        name,
                        context_window=getattr(item, "input_token_limit", None),
                        max_output_tokens=getattr(item, "output_token_limit", None),
                    )
                )
        except Exception as exc:
            raise map_google_error(
                exc,
                provider=provider.name,
                model_id=None,
                timeout_s=provider.config.timeout_s,
                secret=provider.api_key(),
            ) from exc
        return found
