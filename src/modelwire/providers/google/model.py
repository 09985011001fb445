"""Google Gemini models through ``google-genai`` (``from google import genai``).

Each provider entry owns one ``genai.Client`` for sync calls and one per event loop for async
calls (``client.aio``), built on first use with ``api_key`` from the entry and
``HttpOptions(base_url, headers, timeout in ms, retry_options=attempts 1)`` — the SDK never retries,
so modelwire's retry policy is the only one. Nothing process-wide is touched (no
``genai.configure``; ``vertexai=False`` so ``GOOGLE_GENAI_USE_VERTEXAI`` cannot switch backends).
This module does the I/O (the ``ChatModel`` hooks); the mapping lives in ``google.mapping`` and
the translation of SDK exceptions in ``google.errors``.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from modelwire.errors import AuthenticationError, InvalidRequestError, ProviderError
from modelwire.providers._async_clients import LoopClients, shared_ssl_context
from modelwire.providers.base import (
    ChatModel,
    ProviderContext,
    discovered_model,
    listed,
)
from modelwire.providers.google.errors import map_google_error
from modelwire.providers.google.mapping import (
    StreamState,
    build_config,
    build_contents,
    read_response,
    request_id_of,
    response_usage,
)
from modelwire.providers.google.schema import plan_output
from modelwire.types import ChatRequest, ChatResponse, ModelInfo

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


@functools.cache
def _config_fields() -> frozenset[str]:
    """The installed SDK's ``GenerateContentConfig`` field names."""
    from google.genai import types

    return frozenset(types.GenerateContentConfig.model_fields) - {"http_options"}


class GeminiChatModel(ChatModel):
    """A Gemini model served by the Gemini API (``generateContent``)."""

    provider_type: ClassVar[str] = "google"
    requires: ClassVar[tuple[str, ...]] = ("google.genai",)
    extra: ClassVar[str | None] = "google"

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        """The keyword arguments of ``models.generate_content`` for ``request``."""
        contents, system = build_contents(request, self.info)
        kwargs: dict[str, Any] = {"model": self.info.name, "contents": contents}
        config = build_config(request, system, _config_fields(), self.info)
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

    # -- I/O ---------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Build the entry's sync client before the clock starts."""
        sync_client(self.provider)

    def aprepare(self) -> None:
        """Build the entry's async client for this event loop before the clock starts."""
        async_client(self.provider)

    def send(self, request: ChatRequest, *, stream: bool = False) -> Any:
        """``models.generate_content``: the SDK's ``GenerateContentResponse`` (with ``stream``,
        ``generate_content_stream``: a generator of chunks that sends on its first read)."""
        kwargs = self._kwargs(request)
        models = sync_client(self.provider).models
        return (models.generate_content_stream if stream else models.generate_content)(**kwargs)

    async def asend(self, request: ChatRequest, *, stream: bool = False) -> Any:
        """The same as ``send``, on ``client.aio``."""
        kwargs = self._kwargs(request)
        models = async_client(self.provider).models
        call = models.generate_content_stream if stream else models.generate_content
        return await call(**kwargs)

    def open_stream(self, request: ChatRequest) -> Any:
        """The chunks of ``models.generate_content_stream``."""
        return self.send(request, stream=True)

    async def aopen_stream(self, request: ChatRequest) -> Any:
        """The same as ``open_stream``, on ``client.aio``."""
        return await self.asend(request, stream=True)

    # -- the pure parts ------------------------------------------------------------------------

    def parse_response(self, answer: Any, request: ChatRequest) -> ChatResponse:
        """A ``GenerateContentResponse`` as a ``ChatResponse``."""
        request_id = request_id_of(answer)
        plan = plan_output(request, self.info) if request.output is not None else None
        output_tool = plan.output_tool if plan is not None else None
        text, reason, tool_calls, parts = read_response(answer, self.info, request_id, output_tool)
        response = ChatResponse(
            text=text,
            model_id=self.info.id,
            usage=response_usage(answer),
            finish_reason=reason,
            request_id=request_id,
            raw=answer,
        )
        if tool_calls or parts:  # validated once already: set, not validated again
            response.tool_calls = tool_calls
            response.parts = parts
        if plan is not None:
            response.output_mode = plan.mode
            response.output_fallback = plan.fallback
        return response

    def output_state(self, state: Any, request: ChatRequest) -> Any:
        """The stream's state told which output mode the request uses."""
        plan = plan_output(request, self.info)
        if isinstance(state, StreamState) and plan is not None:
            state.output_mode = plan.mode
            state.output_tool = plan.output_tool
        return state

    def stream_state(self, chunks: Any) -> StreamState:
        """An accumulator for the chunks; the usage is the last chunk's, the request id the
        first chunk's."""
        return StreamState(self.info)

    def map_error(
        self, error: Exception, request: ChatRequest, stream: Any | None = None
    ) -> ProviderError:
        """The ``ProviderError`` for an SDK failure (``stream``: the broken stream's state)."""
        return map_google_error(
            error,
            provider=self.provider.name,
            model_id=self.info.id,
            request_id=stream.request_id if stream is not None else None,
            timeout_s=request.timeout or self.provider.config.timeout_s,
            secrets=self.provider.secrets(),
            received_chars=stream.chars if stream is not None else 0,
            stream_started=stream is not None and stream.started,
        )

    # -- discovery -------------------------------------------------------------------------

    @classmethod
    def prepare_client(cls, provider: ProviderContext) -> None:
        """Build the entry's sync client (what ``list_models`` uses) ahead of a listing."""
        sync_client(provider)

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        """Models that support ``generateContent``, following page tokens; ``models/`` stripped."""
        client = sync_client(provider)

        def fetch() -> list[ModelInfo]:
            found: dict[str, ModelInfo] = {}
            for item in client.models.list(config={"page_size": 100}):
                actions = getattr(item, "supported_actions", None) or ()
                name = str(getattr(item, "name", "") or "").removeprefix("models/")
                if "generateContent" not in actions or not name or name in found:
                    continue
                found[name] = discovered_model(
                    provider,
                    name,
                    context_window=getattr(item, "input_token_limit", None),
                    max_output_tokens=getattr(item, "output_token_limit", None),
                )
            return list(found.values())

        return listed(provider, fetch, map_google_error)
