"""Anthropic Claude models through the ``anthropic`` SDK (Messages API).

Each provider entry owns one sync client and one async client per event loop, built on first use
from the entry's settings (``api_key``, ``base_url``, ``timeout_s``, ``headers``) and closed with
the entry. The SDK's own retries are off (``max_retries=0``): modelwire's retry policy is the only
one. The request/usage mapping lives in ``anthropic_mapping``; this module does the calls and turns
SDK exceptions into ``modelwire.errors``.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from modelwire import assemble
from modelwire.errors import AuthenticationError, ProviderError
from modelwire.providers import _http
from modelwire.providers._async_clients import LoopClients, shared_ssl_context
from modelwire.providers.anthropic.mapping import (
    StreamState,
    build_body,
    finish_reason,
    response_text,
    usage_from,
)
from modelwire.providers.base import ChatModel, ProviderContext, discovered_model
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, StreamEvent

if TYPE_CHECKING:
    import anthropic

__all__ = ["DEFAULT_BASE_URL", "AnthropicChatModel", "map_anthropic_error"]

#: Sent explicitly so an ``ANTHROPIC_BASE_URL`` in the environment never redirects an entry.
DEFAULT_BASE_URL = "https://api.anthropic.com"

#: ``provider_params`` keys that are options of the SDK call rather than fields of the body.
_SDK_OPTIONS: tuple[str, ...] = ("extra_headers", "extra_query", "extra_body")

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


def _client_kwargs(provider: ProviderContext) -> dict[str, Any]:
    key = provider.api_key()
    if not key:
        raise AuthenticationError(
            f"provider {provider.name!r} has no API key: set api_key in its configuration "
            "(for example api_key: ${ANTHROPIC_API_KEY}) or the ANTHROPIC_API_KEY variable it "
            "refers to",
            provider=provider.name,
        )
    cfg = provider.config
    return {
        "api_key": key,
        "base_url": cfg.base_url or DEFAULT_BASE_URL,
        "timeout": cfg.timeout_s,
        "max_retries": 0,
        "default_headers": dict(cfg.headers) if cfg.headers else None,
    }


def sync_client(provider: ProviderContext) -> anthropic.Anthropic:
    """The entry's sync client (built once, closed by ``provider.close()``)."""
    client: anthropic.Anthropic | None = provider.built("sync")
    if client is not None:
        return client
    tls = shared_ssl_context(provider)  # not inside build(): that runs under the entry's lock

    def build() -> anthropic.Anthropic:
        kwargs = _client_kwargs(provider)
        import anthropic

        http = anthropic.DefaultHttpxClient(verify=tls)
        return anthropic.Anthropic(**kwargs, http_client=http)

    return provider.client("sync", build, lambda c: c.close())


def async_client(provider: ProviderContext) -> anthropic.AsyncAnthropic:
    """The entry's async client for the running event loop."""

    def build_holder() -> LoopClients[anthropic.AsyncAnthropic]:
        _client_kwargs(provider)  # fail early on a missing key

        def build() -> anthropic.AsyncAnthropic:
            kwargs = _client_kwargs(provider)
            import anthropic

            # the SDK's default transport settings, with the entry's shared TLS context
            http = anthropic.DefaultAsyncHttpxClient(verify=shared_ssl_context(provider))
            return anthropic.AsyncAnthropic(**kwargs, http_client=http)

        return LoopClients(build, lambda c: c.close())

    return provider.client("async", build_holder, lambda h: h.close()).get()


def map_anthropic_error(
    exc: BaseException,
    *,
    provider: str,
    model_id: str | None,
    request_id: str | None = None,
    timeout_s: float | None = None,
    secret: str | None = None,
    received_chars: int = 0,
    in_stream: bool = False,
) -> ProviderError:
    """The modelwire error for an exception raised by the ``anthropic`` SDK (or its transport).

    ``in_stream``: the exception came while reading an open stream, so a broken connection is a
    stream cut off (newer SDKs wrap the transport error in ``APIConnectionError`` there too).
    """
    if isinstance(exc, ProviderError):
        return exc
    import anthropic
    import httpx2

    where: dict[str, Any] = {"provider": provider, "model_id": model_id}
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
            secrets=(secret,),
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
            _http.scrub_secrets(f"{type(cause).__name__}: {cause}", (secret,)),
            request_id=request_id,
            **where,
        )
    if isinstance(exc, httpx2.TransportError | httpx2.StreamError):
        return _http.stream_cut_error(request_id=request_id, received_chars=received_chars, **where)
    # a body that is not JSON (ValueError), or JSON of another shape than a message
    if isinstance(exc, ValueError | KeyError | TypeError | AttributeError):
        return _http.malformed_response_error(
            _http.scrub_secrets(f"{type(exc).__name__}: {exc}", (secret,)),
            request_id=request_id,
            **where,
        )
    return ProviderError(
        _http.scrub_secrets(f"{provider} call failed: {type(exc).__name__}: {exc}", (secret,)),
        request_id=request_id,
        **where,
    )


@functools.cache
def _message_class() -> type[anthropic.types.Message]:
    from anthropic.types import Message

    return Message


def _validated_message(response: Any) -> Any | None:
    """The ``anthropic.types.Message`` in a raw response, through pydantic's validator.

    ``response`` is what ``messages.with_raw_response.create`` returns: the very request and
    HTTP handling of ``messages.create`` (headers, errors, OpenTelemetry spans), with the body
    left unparsed. The SDK's ``parse()`` builds the same ``Message`` field by field in Python
    (about 170 µs for a short answer, a fifth of the call's CPU on the loopback benchmark);
    the model class's own pydantic validator does it in about 20 µs. A body that does not
    validate (a content block newer than the installed SDK, say) gives None, and the caller
    falls back to ``parse()``, which accepts anything.
    """
    try:
        message = _message_class().model_validate_json(response.http_response.content)
    except ValueError:  # pydantic's ValidationError, also for a body that is not JSON
        return None
    message._request_id = response.request_id  # what parse() sets; public despite the _
    message._workspace_id = response.workspace_id
    return message


class AnthropicChatModel(ChatModel):
    """A Claude model served by the Anthropic Messages API."""

    provider_type: ClassVar[str] = "anthropic"
    requires: ClassVar[tuple[str, ...]] = ("anthropic",)
    extra: ClassVar[str | None] = "anthropic"

    # -- helpers ---------------------------------------------------------------------------

    def _kwargs(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body = build_body(request, self.info)
        kwargs: dict[str, Any] = {
            "model": body.pop("model"),
            "max_tokens": body.pop("max_tokens"),
            "messages": body.pop("messages"),
        }
        for option in _SDK_OPTIONS:  # request options of the SDK, not body fields
            if option in body:
                kwargs[option] = body.pop(option)
        extra = kwargs.pop("extra_body", None)
        if isinstance(extra, dict):
            body.update(extra)
        if body:
            kwargs["extra_body"] = body
        if stream:
            kwargs["stream"] = True
        if request.timeout is not None:
            kwargs["timeout"] = request.timeout
        return kwargs

    def _error(
        self,
        exc: BaseException,
        request: ChatRequest,
        request_id: str | None = None,
        received_chars: int = 0,
        in_stream: bool = False,
    ) -> ProviderError:
        return map_anthropic_error(
            exc,
            provider=self.provider.name,
            model_id=self.info.id,
            request_id=request_id,
            timeout_s=request.timeout or self.provider.config.timeout_s,
            secret=self.provider.api_key(),
            received_chars=received_chars,
            in_stream=in_stream,
        )

    def _response(self, message: Any, request: ChatRequest) -> ChatResponse:
        try:
            return assemble.response(
                response_text(message.content),
                self.info.id,
                usage_from(message.usage),
                finish_reason(message.stop_reason),
                getattr(message, "_request_id", None),
                message,
            )
        except Exception as exc:  # a body that parsed but is not a message
            raise self._error(exc, request, getattr(message, "_request_id", None)) from exc

    # -- the four call styles --------------------------------------------------------------

    def invoke(self, request: ChatRequest) -> ChatResponse:
        """Send one Messages request and wait for the whole answer."""
        kwargs = self._kwargs(request, stream=False)
        client = sync_client(self.provider)
        try:
            response = client.messages.with_raw_response.create(**kwargs)
            message = _validated_message(response)
            if message is None:
                message = response.parse()
        except Exception as exc:
            raise self._error(exc, request) from exc
        return self._response(message, request)

    async def ainvoke(self, request: ChatRequest) -> ChatResponse:
        """The same as ``invoke``, on the async client."""
        kwargs = self._kwargs(request, stream=False)
        client = async_client(self.provider)
        try:
            response = await client.messages.with_raw_response.create(**kwargs)
            message = _validated_message(response)
            if message is None:
                message = await response.parse()
        except Exception as exc:
            raise self._error(exc, request) from exc
        return self._response(message, request)

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        """Stream the answer; usage comes from ``message_start`` and ``message_delta``."""
        kwargs = self._kwargs(request, stream=True)
        client = sync_client(self.provider)
        try:
            events = client.messages.create(**kwargs)
        except Exception as exc:
            raise self._error(exc, request) from exc
        request_id = _http.header_value(events.response.headers, "request-id")
        state = StreamState()
        with events:
            try:
                for event in events:
                    text = state.feed(event)
                    if text:
                        yield StreamEvent(text=text)
            except Exception as exc:
                raise self._error(exc, request, request_id, state.chars, in_stream=True) from exc
        yield self.stream_end(state, request_id)

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """The same as ``stream``, on the async client."""
        kwargs = self._kwargs(request, stream=True)
        client = async_client(self.provider)
        try:
            events = await client.messages.create(**kwargs)
        except Exception as exc:
            raise self._error(exc, request) from exc
        request_id = _http.header_value(events.response.headers, "request-id")
        state = StreamState()
        async with events:
            try:
                async for event in events:
                    text = state.feed(event)
                    if text:
                        yield StreamEvent(text=text)
            except Exception as exc:
                raise self._error(exc, request, request_id, state.chars, in_stream=True) from exc
        yield self.stream_end(state, request_id)

    # -- discovery -------------------------------------------------------------------------

    @classmethod
    def prepare_client(cls, provider: ProviderContext) -> None:
        """Build the entry's sync client (what ``list_models`` uses) ahead of a listing."""
        sync_client(provider)

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        """Every model ``GET /v1/models`` lists, following ``has_more`` / ``last_id`` paging."""
        client = sync_client(provider)
        found: list[ModelInfo] = []
        seen: set[str] = set()
        try:
            for item in client.models.list(limit=100):
                if item.id in seen:
                    continue
                seen.add(item.id)
                found.append(
                    discovered_model(
                        provider,
                        item.id,
                        context_window=getattr(item, "max_input_tokens", None),
                        max_output_tokens=getattr(item, "max_tokens", None),
                    )
                )
        except Exception as exc:
            raise map_anthropic_error(
                exc,
                provider=provider.name,
                model_id=None,
                timeout_s=provider.config.timeout_s,
                secret=provider.api_key(),
            ) from exc
        return found
