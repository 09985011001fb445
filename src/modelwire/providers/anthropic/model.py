"""Anthropic Claude models through the ``anthropic`` SDK (Messages API).

Each provider entry owns one sync client and one async client per event loop, built on first use
from the entry's settings (``api_key``, ``base_url``, ``timeout_s``, ``headers``) and closed with
the entry. The SDK's own retries are off (``max_retries=0``): modelwire's retry policy is the only
one. This module does the I/O (the ``ChatModel`` hooks); the request/usage mapping lives in
``anthropic.mapping`` and the translation of SDK exceptions in ``anthropic.errors``.
"""

from __future__ import annotations

import contextlib
import functools
from typing import TYPE_CHECKING, Any, ClassVar

import pydantic_core

from modelwire import assemble
from modelwire.errors import AuthenticationError, ProviderError
from modelwire.providers import _http
from modelwire.providers._async_clients import LoopClients, shared_ssl_context
from modelwire.providers.anthropic.errors import map_anthropic_error
from modelwire.providers.anthropic.mapping import (
    StreamState,
    build_body,
    finish_reason,
    response_content,
    structured_content,
    usage_from,
)
from modelwire.providers.anthropic.schema import plan_output
from modelwire.providers.base import (
    ChatModel,
    ProviderContext,
    discovered_model,
    listed,
    with_cause,
)
from modelwire.types import ChatRequest, ChatResponse, ModelInfo

if TYPE_CHECKING:
    import anthropic

__all__ = ["DEFAULT_BASE_URL", "AnthropicChatModel", "map_anthropic_error"]

#: Sent explicitly so an ``ANTHROPIC_BASE_URL`` in the environment never redirects an entry.
DEFAULT_BASE_URL = "https://api.anthropic.com"

#: ``provider_params`` keys that are options of the SDK call rather than fields of the body.
_SDK_OPTIONS: tuple[str, ...] = ("extra_headers", "extra_query", "extra_body")


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


@functools.cache
def _message_class() -> type[anthropic.types.Message]:
    from anthropic.types import Message

    return Message


@functools.cache
def _content_validator() -> Any:
    """A validator of a message's ``content`` that picks each block's class by its ``type``.

    The SDK marks its ``ContentBlock`` union with its own discriminator annotation, which
    pydantic does not read: validating a ``Message`` in one go tries the union's members one
    after the other (about 45 µs more for a ``tool_use`` block than for a text block). The same
    members under pydantic's ``discriminator="type"`` go straight to the block's class. ``None``
    when the installed SDK's ``ContentBlock`` has another shape (the message is then validated
    in one go)."""
    import typing

    from anthropic.types import ContentBlock
    from pydantic import Field, TypeAdapter

    union = typing.get_args(ContentBlock)  # (Union[...], the SDK's discriminator)
    members = typing.get_args(union[0]) if union else ()
    if len(members) < 2:
        return None
    try:
        block: Any = typing.Annotated[
            typing.Union[members],  # noqa: UP007
            Field(discriminator="type"),
        ]
        return TypeAdapter(list[block])
    except Exception:  # a member without a literal ``type``: not discriminable
        return None


@functools.cache
def _ready_validators() -> None:
    """Build what ``_validated_message`` uses (pydantic builds a validator on its first use:
    some 30 ms each), so that a first call's latency is the call's. Best effort: a message
    another SDK version refuses only leaves the work to the first call."""
    _content_validator()
    with contextlib.suppress(ValueError):
        _message_class().model_validate(
            {
                "id": "msg_warm",
                "type": "message",
                "role": "assistant",
                "model": "warm",
                "content": [],
                "usage": {"input_tokens": 0, "output_tokens": 0},
            }
        )


def _validated_message(response: Any) -> Any | None:
    """The ``anthropic.types.Message`` in a raw response, through pydantic's validators.

    ``response`` is what ``messages.with_raw_response.create`` returns: the very request and
    HTTP handling of ``messages.create`` (headers, errors, OpenTelemetry spans), with the body
    left unparsed. The SDK's ``parse()`` builds the same ``Message`` field by field in Python
    (about 170 µs for a short answer, 330 µs for a tool call); the model class's own pydantic
    validator, with the content blocks validated by their ``type`` (``_content_validator``),
    does it in about 20 µs. A body that does not validate (a content block newer than the
    installed SDK, say) gives None, and the caller falls back to ``parse()``, which accepts
    anything.
    """
    body = response.http_response.content
    blocks = _content_validator()
    try:
        if blocks is None:
            message = _message_class().model_validate_json(body)
        else:
            data = pydantic_core.from_json(body)
            content = data["content"]  # TypeError for JSON that is not an object
            data["content"] = []
            message = _message_class().model_validate(data)
            message.content = blocks.validate_python(content)
    except (ValueError, TypeError, KeyError):  # ValidationError, a body that is not JSON
        return None
    message._request_id = response.request_id  # what parse() sets; public despite the _
    message._workspace_id = response.workspace_id
    return message


class AnthropicChatModel(ChatModel):
    """A Claude model served by the Anthropic Messages API."""

    provider_type: ClassVar[str] = "anthropic"
    requires: ClassVar[tuple[str, ...]] = ("anthropic",)
    extra: ClassVar[str | None] = "anthropic"

    def _kwargs(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        """The keyword arguments of ``messages.create`` for ``request``."""
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

    # -- I/O ---------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Build the entry's sync client (and, once, the answer's validators) before the clock
        starts."""
        sync_client(self.provider)
        _ready_validators()

    def aprepare(self) -> None:
        """Build the entry's async client for this event loop before the clock starts."""
        async_client(self.provider)
        _ready_validators()

    def send(self, request: ChatRequest) -> Any:
        """One Messages request: the answer as the SDK's ``Message`` (see ``_validated_message``)."""
        kwargs = self._kwargs(request, stream=False)
        response = sync_client(self.provider).messages.with_raw_response.create(**kwargs)
        message = _validated_message(response)
        return message if message is not None else response.parse()

    async def asend(self, request: ChatRequest) -> Any:
        """The same as ``send``, on the async client."""
        kwargs = self._kwargs(request, stream=False)
        response = await async_client(self.provider).messages.with_raw_response.create(**kwargs)
        message = _validated_message(response)
        return message if message is not None else await response.parse()

    def open_stream(self, request: ChatRequest) -> Any:
        """The SDK's stream of raw Messages events for ``request``."""
        kwargs = self._kwargs(request, stream=True)
        return sync_client(self.provider).messages.create(**kwargs)

    async def aopen_stream(self, request: ChatRequest) -> Any:
        """The same as ``open_stream``, on the async client."""
        kwargs = self._kwargs(request, stream=True)
        return await async_client(self.provider).messages.create(**kwargs)

    # -- the pure parts ------------------------------------------------------------------------

    def parse_response(self, answer: Any, request: ChatRequest) -> ChatResponse:
        """A ``Message`` as a ``ChatResponse``: text, and for an answer of more than one text
        block its tool calls and parts (thinking kept with its signature)."""
        request_id = getattr(answer, "_request_id", None)
        if request.output is not None:
            return self._structured(answer, request, request_id)
        try:
            content = answer.content
            first = content[0] if type(content) is list and len(content) == 1 else None
            if first is not None and getattr(first, "type", None) == "text":
                text = getattr(first, "text", None)  # the usual answer: one text block
                if type(text) is not str:
                    text = ""
                return assemble.response(
                    text,
                    self.info.id,
                    usage_from(answer.usage),
                    finish_reason(answer.stop_reason),
                    request_id,
                    answer,
                )
            where = {"provider": self.provider.name, "model_id": self.info.id}
            text, calls, parts = response_content(content, {**where, "request_id": request_id})
            response = assemble.response(
                text,
                self.info.id,
                usage_from(answer.usage),
                finish_reason(answer.stop_reason, bool(calls)),
                request_id,
                answer,
            )
            if parts:
                response.tool_calls = calls
                response.parts = parts
            return response
        except Exception as exc:  # a body that parsed but is not a message
            failure = self._parse_failure(exc, request, request_id)
        raise failure  # outside the handler: the original is not kept as the context

    def _structured(
        self, answer: Any, request: ChatRequest, request_id: str | None
    ) -> ChatResponse:
        """A structured answer: its text is the output's JSON (see ``structured_content``)."""
        plan = plan_output(request, self.info)
        assert plan is not None
        try:
            where = {"provider": self.provider.name, "model_id": self.info.id}
            text, calls, parts, called = structured_content(
                answer.content, plan, {**where, "request_id": request_id}
            )
            reason = finish_reason(answer.stop_reason, bool(calls))
            if called and answer.stop_reason == "tool_use" and not calls:
                reason = "stop"  # the forced output tool: the answer is complete
            response = assemble.response(
                text, self.info.id, usage_from(answer.usage), reason, request_id, answer
            )
        except Exception as exc:  # a body that parsed but is not a message
            failure: ProviderError | None = self._parse_failure(exc, request, request_id)
        else:
            failure = None
        if failure is not None:
            raise failure  # outside the handler: the original is not kept as the context
        if parts:
            response.tool_calls = calls
            response.parts = parts
        response.output_mode = plan.mode
        response.output_fallback = plan.fallback
        return response

    def output_state(self, state: Any, request: ChatRequest) -> Any:
        """The stream's state told how the request asks for its output."""
        if isinstance(state, StreamState):
            state.output = plan_output(request, self.info)
        return state

    def stream_state(self, chunks: Any) -> StreamState:
        """An accumulator for the events; usage comes from ``message_start`` and
        ``message_delta``, the request id from the stream's response."""
        return StreamState(
            _http.header_value(chunks.response.headers, "request-id"),
            provider=self.provider.name,
            model_id=self.info.id,
        )

    def map_error(
        self, error: Exception, request: ChatRequest, stream: Any | None = None
    ) -> ProviderError:
        """The ``ProviderError`` for an SDK failure (``stream``: the broken stream's state)."""
        if stream is None:
            return self._mapped(error, request)
        return self._mapped(error, request, stream.request_id, stream.chars, in_stream=True)

    def _parse_failure(
        self, error: Exception, request: ChatRequest, request_id: str | None
    ) -> ProviderError:
        """The error for an answer that is not a message, its cause scrubbed of secrets."""
        return with_cause(self._mapped(error, request, request_id), error, self.provider.secrets())

    def _mapped(
        self,
        error: BaseException,
        request: ChatRequest,
        request_id: str | None = None,
        received_chars: int = 0,
        in_stream: bool = False,
    ) -> ProviderError:
        return map_anthropic_error(
            error,
            provider=self.provider.name,
            model_id=self.info.id,
            request_id=request_id,
            timeout_s=request.timeout or self.provider.config.timeout_s,
            secrets=self.provider.secrets(),
            received_chars=received_chars,
            in_stream=in_stream,
        )

    # -- discovery -------------------------------------------------------------------------

    @classmethod
    def prepare_client(cls, provider: ProviderContext) -> None:
        """Build the entry's sync client (what ``list_models`` uses) ahead of a listing."""
        sync_client(provider)

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        """Every model ``GET /v1/models`` lists, following ``has_more`` / ``last_id`` paging."""
        client = sync_client(provider)

        def fetch() -> list[ModelInfo]:
            found: dict[str, ModelInfo] = {}
            for item in client.models.list(limit=100):
                if item.id not in found:
                    found[item.id] = discovered_model(
                        provider,
                        item.id,
                        context_window=getattr(item, "max_input_tokens", None),
                        max_output_tokens=getattr(item, "max_tokens", None),
                    )
            return list(found.values())

        return listed(provider, fetch, map_anthropic_error)
