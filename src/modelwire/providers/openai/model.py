"""OpenAI Chat Completions, and any server that speaks it (``openai_compatible``).

Clients: each provider entry owns one ``openai.OpenAI`` and one ``openai.AsyncOpenAI`` per event
loop, built on first use from the entry's ``api_key``, ``base_url``, ``timeout_s`` and ``headers``
and closed by ``ProviderContext.close()``. The SDK's own retries are off (``max_retries=0``):
modelwire's retry policy (the entry's ``max_retries``) is the only one, so every attempt is seen,
timed and recorded. The API key is always passed explicitly, so the SDK never falls back to
``OPENAI_API_KEY`` behind modelwire's back (an ``openai_compatible`` entry never sends an OpenAI
key to a third party).

Errors are mapped by ``openai.errors``; a stream that breaks or ends before the model finished
raises ``ProviderUnavailableError`` (retryable), and a success status with a body that is not
valid JSON raises ``ProviderUnavailableError`` too (a transient server or proxy fault, not a bad
request).
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from modelwire.config.schema import OpenAICompatibleConfig, ProviderConfig
from modelwire.errors import AuthenticationError, ConfigError, ProviderError
from modelwire.providers import _http
from modelwire.providers._async_clients import LoopClients
from modelwire.providers.base import ChatModel, ProviderContext, listed
from modelwire.providers.openai.errors import map_openai_error
from modelwire.providers.openai.mapping import (
    OPENAI_LIMITS,
    REASONING_PATTERN,
    ContentLimits,
    StreamState,
    build_params,
    is_chat_model,
    response_from_completion,
    structured_from_completion,
)
from modelwire.providers.openai.structured import CompatibleMode, OutputPlan, output_plan
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, StreamEvent

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

__all__ = ["OpenAIChatModel", "OpenAICompatibleChatModel", "map_openai_error"]

_MAX_MODEL_PAGES = 100


class _Wire(NamedTuple):
    """What ``client.post`` needs from the installed SDK, looked up once."""

    completion: type[Any]
    stream: type[Any]
    async_stream: type[Any]
    options: dict[str, Any]


@functools.cache
def _wire() -> _Wire:
    import openai
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    options: dict[str, Any] = {}
    declared = getattr(getattr(openai, "RequestOptions", None), "__annotations__", {})
    if "security" in declared:  # what create() sends: the API key only, never an admin key
        options["security"] = {"bearer_auth": True}
    return _Wire(
        ChatCompletion,
        openai.Stream[ChatCompletionChunk],
        openai.AsyncStream[ChatCompletionChunk],
        options,
    )


def _post_args(
    params: dict[str, Any], request: ChatRequest, stream: bool, is_async: bool
) -> dict[str, Any]:
    """Arguments of ``client.post("/chat/completions", ...)`` for a body modelwire built itself.

    ``client.post`` is the SDK's documented call for raw requests: same client, headers,
    authentication, error types and response parsing as ``chat.completions.create``, without
    the per-call argument transformation that ``create`` runs over its forty keyword arguments
    (about 190 µs per call on the benchmark machine, more with tools). That transformation is
    the identity for this body — plain JSON: dicts, lists, strings, numbers, booleans and
    ``null`` — so the request is the same (``tests/providers/openai/
    test_provider_openai_fastpath.py`` compares the two, with and without tools). Requests with
    ``provider_params``, or tools whose schema holds anything else, still go through ``create``,
    which knows every argument's wire form.
    """
    wire = _wire()
    options = dict(wire.options)
    if request.timeout is not None:
        options["timeout"] = request.timeout
    return {
        "body": params,
        "cast_to": wire.completion,
        "options": options,
        "stream": stream,
        "stream_cls": wire.async_stream if is_async else wire.stream,
    }


_JSON_SCALARS = (str, int, float, bool, type(None))


def is_plain_json(value: Any) -> bool:
    """Whether ``value`` is made of dicts with string keys, lists, strings, numbers, booleans
    and ``None`` only (what the SDK's argument transformation leaves as it is)."""
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and is_plain_json(v) for k, v in value.items())
    if kind is list:
        return all(is_plain_json(v) for v in value)
    return kind in _JSON_SCALARS


def _direct(request: ChatRequest, params: dict[str, Any]) -> bool:
    """Whether ``params`` may be sent with ``client.post`` (see ``_post_args``)."""
    if request.provider_params:
        return False
    return not request.tools or is_plain_json(params["tools"])


class _StructuredStream:
    """An SDK stream of a structured request, with the request's output plan (what the stream's
    state needs to turn the answer into the requested JSON)."""

    __slots__ = ("plan", "response", "stream")

    def __init__(self, stream: Any, plan: OutputPlan) -> None:
        self.stream = stream
        self.plan = plan
        self.response = stream.response

    def __iter__(self) -> _StructuredStream:
        return self

    def __next__(self) -> Any:
        return next(self.stream)

    def __aiter__(self) -> _StructuredStream:
        return self

    async def __anext__(self) -> Any:
        return await self.stream.__anext__()

    def close(self) -> Any:
        """Close the SDK stream (a coroutine for an async one)."""
        return self.stream.close()


def _close_sync(client: OpenAI) -> None:
    client.close()


async def _close_async(client: AsyncOpenAI) -> None:
    await client.close()


class OpenAIChatModel(ChatModel):
    """A model served through OpenAI's Chat Completions API."""

    provider_type: ClassVar[str] = "openai"
    config_model: ClassVar[type[ProviderConfig]] = ProviderConfig
    requires: ClassVar[tuple[str, ...]] = ("openai",)
    extra: ClassVar[str | None] = "openai"
    #: Environment variable read when the entry has no ``api_key`` (``None``: never).
    key_env: ClassVar[str | None] = "OPENAI_API_KEY"
    #: Key sent when none is configured (``None``: a missing key is an error).
    placeholder_key: ClassVar[str | None] = None
    #: Whether the entry must set ``base_url``.
    needs_base_url: ClassVar[bool] = False
    #: The most images and documents one request may carry (``None``: the server decides).
    content_limits: ClassVar[ContentLimits | None] = OPENAI_LIMITS

    # -- clients -------------------------------------------------------------------------------

    @classmethod
    def _client_kwargs(cls, provider: ProviderContext) -> dict[str, Any]:
        config = provider.config
        if cls.needs_base_url and not config.base_url:
            raise ConfigError(
                [(f"providers.{provider.name}.base_url", f"a {cls.provider_type} entry needs one")]
            )
        key = provider.api_key()
        if not key and cls.key_env:
            key = os.environ.get(cls.key_env) or None
        if not key:
            key = cls.placeholder_key
        if not key:
            raise AuthenticationError(
                f"no API key for provider {provider.name!r}: set providers.{provider.name}.api_key"
                + (f" or the {cls.key_env} environment variable" if cls.key_env else ""),
                provider=provider.name,
            )
        return {
            "api_key": key,
            "base_url": config.base_url,
            "timeout": config.timeout_s,
            "max_retries": 0,
            "default_headers": dict(config.headers) or None,
        }

    @classmethod
    def sync_client(cls, provider: ProviderContext) -> OpenAI:
        """The entry's ``openai.OpenAI`` client, built on first use."""

        def build() -> OpenAI:
            kwargs = cls._client_kwargs(provider)
            import openai

            return openai.OpenAI(**kwargs)

        return provider.client("sync", build, _close_sync)

    @classmethod
    def async_client(cls, provider: ProviderContext) -> AsyncOpenAI:
        """The entry's ``openai.AsyncOpenAI`` client for the running event loop."""

        def build() -> AsyncOpenAI:
            kwargs = cls._client_kwargs(provider)
            import openai

            return openai.AsyncOpenAI(**kwargs)

        def holder() -> LoopClients[AsyncOpenAI]:
            return LoopClients(build, _close_async)

        return provider.client("async", holder, LoopClients.close).get()

    # -- I/O -----------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Build the entry's sync client before the clock starts."""
        self.sync_client(self.provider)

    def aprepare(self) -> None:
        """Build the entry's async client for this event loop before the clock starts."""
        self.async_client(self.provider)

    def _call_options(self, request: ChatRequest) -> dict[str, Any]:
        return {"timeout": request.timeout} if request.timeout is not None else {}

    @property
    def structured_setting(self) -> CompatibleMode | None:
        """How the server is asked for structured output (``None``: OpenAI's own modes)."""
        return None

    def _structured_params(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        return build_params(
            self.info,
            request,
            stream=stream,
            limits=self.content_limits,
            structured=self.structured_setting,
        )

    def output_plan(self, request: ChatRequest) -> OutputPlan:
        """How a request with ``output`` asks for it (``openai.structured``)."""
        return output_plan(self.info, request, self.structured_setting)

    def send(self, request: ChatRequest, *, stream: bool = False) -> Any:
        """Start the Chat Completions call for ``request`` (see ``_post_args``)."""
        client = self.sync_client(self.provider)
        params = (
            build_params(self.info, request, stream=stream, limits=self.content_limits)
            if request.output is None
            else self._structured_params(request, stream)
        )
        if not _direct(request, params):
            return client.chat.completions.create(**params, **self._call_options(request))
        return client.post("/chat/completions", **_post_args(params, request, stream, False))

    async def asend(self, request: ChatRequest, *, stream: bool = False) -> Any:
        """The same as ``send``, for asyncio."""
        client = self.async_client(self.provider)
        params = (
            build_params(self.info, request, stream=stream, limits=self.content_limits)
            if request.output is None
            else self._structured_params(request, stream)
        )
        if not _direct(request, params):
            return await client.chat.completions.create(**params, **self._call_options(request))
        return await client.post("/chat/completions", **_post_args(params, request, stream, True))

    def open_stream(self, request: ChatRequest) -> Any:
        """The SDK's stream of chunks for ``request``."""
        chunks = self.send(request, stream=True)
        if request.output is None:
            return chunks
        return _StructuredStream(chunks, self.output_plan(request))

    async def aopen_stream(self, request: ChatRequest) -> Any:
        """The same as ``open_stream``, for asyncio."""
        chunks = await self.asend(request, stream=True)
        if request.output is None:
            return chunks
        return _StructuredStream(chunks, self.output_plan(request))

    # -- the pure parts --------------------------------------------------------------------------

    def parse_response(self, answer: Any, request: ChatRequest) -> ChatResponse:
        """A ``ChatCompletion`` as a ``ChatResponse`` (for ``output``: its JSON as the
        requested type, see ``openai.structured``)."""
        if request.output is None:
            return response_from_completion(answer, self.info)
        return structured_from_completion(answer, self.info, self.output_plan(request))

    def stream_state(self, chunks: Any) -> StreamState:
        """An accumulator for the chunks, with the request id of the stream's response."""
        request_id = _http.request_id_from_headers(chunks.response.headers)
        if type(chunks) is _StructuredStream:
            return StreamState(request_id, self.info, chunks.plan)
        return StreamState(request_id, self.info)

    def stream_end(self, totals: Any, request_id: str | None) -> StreamEvent:
        """The closing event; for ``output`` its ``full_text`` is the answer's JSON as the
        requested type and ``output_mode`` the mode that ran."""
        event = super().stream_end(totals, request_id)
        answer = totals.answer() if isinstance(totals, StreamState) else None
        if answer is not None:
            event.full_text, event.output_mode = answer
        return event

    def map_error(
        self, error: Exception, request: ChatRequest, stream: Any | None = None
    ) -> ProviderError:
        """The ``ProviderError`` for an SDK failure (``stream``: the broken stream's state)."""
        return map_openai_error(
            error,
            provider=self.provider.name,
            model_id=self.info.id,
            timeout_s=request.timeout or self.provider.config.timeout_s,
            in_stream=stream is not None,
            received_chars=stream.chars if stream is not None else 0,
            request_id=stream.request_id if stream is not None else None,
            secrets=self.provider.secrets(),
        )

    # -- discovery -----------------------------------------------------------------------------

    @classmethod
    def prepare_client(cls, provider: ProviderContext) -> None:
        """Build the entry's sync client (what ``list_models`` uses) ahead of a listing."""
        cls.sync_client(provider)

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        """``GET /models`` (following ``has_more``/``last_id`` paging), chat models only.

        Ids matching ``openai_mapping.NON_CHAT_PATTERN`` (embeddings, audio, speech,
        transcription, images, moderation, legacy completion models) are left out.
        """
        client = cls.sync_client(provider)

        def fetch() -> list[str]:
            ids: list[str] = []
            after: str | None = None
            for _ in range(_MAX_MODEL_PAGES):
                page = client.models.list(extra_query={"after": after} if after else None)
                data = list(page.data)
                ids.extend(m.id for m in data)
                extra = page.model_extra or {}
                if not extra.get("has_more") or not data:
                    break
                following = str(extra.get("last_id") or data[-1].id)
                if following == after:
                    break
                after = following
            return ids

        ids = listed(provider, fetch, map_openai_error)
        return [
            ModelInfo(
                id=f"{provider.name}:{model}",
                provider=provider.name,
                provider_type=provider.type,
                reasoning=bool(REASONING_PATTERN.search(model.rsplit("/", 1)[-1].lower())),
                source="discovered",
                cost=None,
            )
            for model in dict.fromkeys(ids)
            if is_chat_model(model)
        ]


class OpenAICompatibleChatModel(OpenAIChatModel):
    """Any server speaking Chat Completions at ``base_url`` (Ollama, vLLM, Groq, OpenRouter, …).

    The key is optional (a placeholder is sent when none is configured) and any model name is
    accepted (``open_model_set``).
    """

    provider_type: ClassVar[str] = "openai_compatible"
    open_model_set: ClassVar[bool] = True
    key_env: ClassVar[str | None] = None
    placeholder_key: ClassVar[str | None] = "not-needed"
    needs_base_url: ClassVar[bool] = True
    content_limits: ClassVar[ContentLimits | None] = None
    config_model: ClassVar[type[ProviderConfig]] = OpenAICompatibleConfig

    @property
    def structured_setting(self) -> CompatibleMode | None:
        """The entry's ``structured_output`` setting (``json_schema`` when it has none)."""
        config = self.provider.config
        if isinstance(config, OpenAICompatibleConfig):
            return config.structured_output
        return "json_schema"
