"""The provider interface every model class implements, and the per-entry client holder.

A provider *entry* (one key under ``providers:`` in configuration) owns a ``ProviderContext``: its
name, its validated settings and the SDK clients built for it. Model objects are cheap views on a
``ModelInfo`` plus that context; they never own clients themselves, so two models of one entry
share a connection pool and two entries with different keys never share anything.
"""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar, Protocol, TypeVar

from modelwire.config.schema import ProviderConfig
from modelwire.config.secrets import remember, scrub, secret_values
from modelwire.errors import ModelwireError, ProviderCause, ProviderError
from modelwire.machines import END, Close, Effect, Emit, Machine, Next, arun_stream, run_stream
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, StreamEvent, Usage, text_event

__all__ = [
    "REQUIRED_METHODS",
    "ChatModel",
    "ProviderContext",
    "StreamState",
    "StreamTotals",
    "discovered_model",
    "listed",
    "listing_failure",
    "with_cause",
]

T = TypeVar("T")

REQUIRED_METHODS: tuple[str, ...] = ("invoke", "ainvoke", "stream", "astream", "list_models")


class ProviderContext:
    """One configured provider entry and the clients it owns.

    ``client(key, build)`` builds a client at most once per key (the first caller builds, the
    others wait for it) and reuses it afterwards. Building a client must not do network I/O.
    ``close()`` runs each client's closer once.

    Calls through the service hold the entry (``acquire``/``release``) while they run, so an
    entry a reload replaced is closed by ``retire()`` as soon as its last call has finished.
    """

    def __init__(self, name: str, config: ProviderConfig) -> None:
        self.name = name
        self.config = config
        self.type: str = config.type or name
        self._clients: dict[str, Any] = {}
        self._closers: list[Callable[[], Any]] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self._retired = False
        remember(secret_values(config))

    def __repr__(self) -> str:
        return f"ProviderContext(name={self.name!r}, type={self.type!r})"

    def built(self, key: str) -> Any:
        """The client stored under ``key`` if it was built already, else ``None`` (no lock)."""
        return self._clients.get(key)

    def client(
        self, key: str, build: Callable[[], T], close: Callable[[T], Any] | None = None
    ) -> T:
        """Return the client stored under ``key``, building it on first use."""
        found = self._clients.get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                found = build()
                self._clients[key] = found
                if close is not None:
                    client = found
                    self._closers.append(lambda: close(client))
        return found

    def api_key(self) -> str | None:
        """The configured secret, unwrapped only at the moment a client needs it."""
        key = self.config.api_key
        return key.get_secret_value() if key is not None else None

    def secrets(self) -> tuple[str, ...]:
        """Every secret value of this entry (its key, its headers' values, a password in its
        ``base_url``), to scrub from any text that leaves the process."""
        return secret_values(self.config)

    def acquire(self) -> None:
        """A call starts using this entry's clients."""
        with self._lock:
            self._in_flight += 1

    def release(self) -> None:
        """A call has finished with this entry; a retired entry closes after its last call."""
        with self._lock:
            self._in_flight -= 1
            done = self._retired and self._in_flight == 0
        if done:
            self.close()

    def retire(self) -> None:
        """This entry was replaced: close its clients now, or when its last call finishes."""
        with self._lock:
            self._retired = True
            idle = self._in_flight == 0
        if idle:
            self.close()

    @property
    def in_flight(self) -> int:
        """How many calls are using this entry now."""
        return self._in_flight

    def close(self) -> None:
        """Close every client this entry built; later calls build fresh ones."""
        with self._lock:
            closers, self._closers = self._closers, []
            self._clients = {}
        for closer in closers:
            with contextlib.suppress(Exception):  # closing is best effort
                closer()


class StreamState(Protocol):
    """A provider's accumulator of one stream (pure: no I/O): it reads each chunk as it comes
    and knows, when the stream ends, whether the model finished and what it used.

    A state that streams tool calls also has ``deltas`` (a list of ``ToolCallDelta`` the base
    emits and clears after each chunk), and at the end ``tool_calls`` (complete, arguments
    decoded) and ``parts`` (the assistant's content in order, when it is more than text)."""

    @property
    def chars(self) -> int: ...

    @property
    def finished(self) -> bool: ...

    @property
    def usage(self) -> Usage | None: ...

    @property
    def finish_reason(self) -> str | None: ...

    @property
    def request_id(self) -> str | None: ...

    def feed(self, chunk: Any) -> str:
        """Take one chunk of the vendor's stream; its new text (possibly empty)."""
        ...


StreamTotals = StreamState  # the earlier name


class _OpenOwnStream(Effect):
    """Start the stream of a provider that writes ``stream``/``astream`` itself."""

    __slots__ = ("model", "request")

    def __init__(self, model: ChatModel, request: ChatRequest) -> None:
        self.model = model
        self.request = request

    def run(self) -> Any:
        return iter(self.model.stream(self.request))

    async def arun(self) -> Any:
        return aiter(self.model.astream(self.request))


def _read_own_stream(model: ChatModel, request: ChatRequest) -> Machine[None]:
    events: Any = None
    try:
        events = yield _OpenOwnStream(model, request)
        next_event = Next(events)
        while (event := (yield next_event)) is not END:
            yield Emit(event)
    finally:
        if events is not None:
            yield Close(events)


class _OpenChunks(Effect):
    """Open the vendor's stream of chunks for a request."""

    __slots__ = ("model", "request")

    def __init__(self, model: ChatModel, request: ChatRequest) -> None:
        self.model = model
        self.request = request

    def run(self) -> Any:
        return self.model.open_stream(self.request)

    async def arun(self) -> Any:
        return await self.model.aopen_stream(self.request)


class _ReadChunks(Effect):
    """Read the vendor's chunks into the stream's state until one brings something to emit:
    its text (maybe empty when it brought tool-call deltas), or ``END``. The state is pure, so
    the chunks that only update it (usage, block starts, pings) cost the machine no step."""

    __slots__ = ("deltas", "feed", "stream")

    def __init__(self, stream: Any, state: StreamState) -> None:
        self.stream = stream
        self.feed = state.feed
        self.deltas = getattr(state, "deltas", None)

    def run(self) -> Any:
        stream, feed, deltas = self.stream, self.feed, self.deltas
        while (chunk := next(stream, END)) is not END:
            if (text := feed(chunk)) or deltas:
                return text
        return END

    async def arun(self) -> Any:
        stream, feed, deltas = self.stream, self.feed, self.deltas
        while (chunk := await anext(stream, END)) is not END:
            if (text := feed(chunk)) or deltas:
                return text
        return END


class ChatModel(ABC):
    """Base class of provider model implementations.

    A provider implements the I/O — ``send``/``asend`` (one request, the vendor's answer) and
    ``open_stream``/``aopen_stream`` (the vendor's stream of chunks) — and the pure parts:
    ``parse_response`` (answer → ``ChatResponse``), ``stream_state`` (its chunk accumulator) and
    ``map_error`` (any failure → a ``ProviderError``). The four call styles (``invoke``,
    ``ainvoke``, ``stream``, ``astream``) are built on them here, written once for sync and
    async; a provider may still override them instead (the interface the factory checks).
    Responses carry ``text``, ``model_id``, ``usage``, ``finish_reason`` and ``request_id``; the
    service adds cost, latency and the usage event.
    """

    provider_type: ClassVar[str] = ""
    #: The settings class of this provider's configuration entries.
    config_model: ClassVar[type[ProviderConfig]] = ProviderConfig
    #: When true, any ``<provider>:<name>`` id is accepted without a ``models:`` entry.
    open_model_set: ClassVar[bool] = False
    #: Modules that must be importable to build a model; with the extra that installs them.
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None

    def __init__(self, info: ModelInfo, provider: ProviderContext) -> None:
        self.info = info
        self.provider = provider

    @property
    def model_id(self) -> str:
        """The canonical id, ``<provider>:<model>``."""
        return self.info.id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.info.id!r})"

    # -- what a provider implements ------------------------------------------------------------

    def prepare(self) -> None:
        """Make the model ready for a blocking call (its client built: no network I/O).

        The service runs it before an attempt's clock starts, so a first call's latency is the
        call's, not the SDK import's. The default does nothing."""
        return None

    def aprepare(self) -> None:
        """The same as ``prepare``, for a call on the running event loop."""
        return None

    def send(self, request: ChatRequest) -> Any:
        """Send one request and wait for the vendor's answer (for ``parse_response``)."""
        raise NotImplementedError(f"{type(self).__name__} implements neither send() nor invoke()")

    async def asend(self, request: ChatRequest) -> Any:
        """The same as ``send``, on the running event loop."""
        raise NotImplementedError(f"{type(self).__name__} implements neither asend() nor ainvoke()")

    def open_stream(self, request: ChatRequest) -> Any:
        """Start streaming a request: the vendor's iterator of chunks (closed with ``close()``)."""
        raise NotImplementedError(
            f"{type(self).__name__} implements neither open_stream() nor stream()"
        )

    async def aopen_stream(self, request: ChatRequest) -> Any:
        """The same as ``open_stream``: an async iterator of chunks (closed with ``aclose()``)."""
        raise NotImplementedError(
            f"{type(self).__name__} implements neither aopen_stream() nor astream()"
        )

    def parse_response(self, answer: Any, request: ChatRequest) -> ChatResponse:
        """The ``ChatResponse`` of a vendor's answer (the default: ``send`` built it already)."""
        return answer  # type: ignore[no-any-return]

    def stream_state(self, chunks: Any) -> StreamState:
        """A fresh accumulator for a stream ``open_stream`` started (``chunks``)."""
        raise NotImplementedError(f"{type(self).__name__} has no stream_state()")

    def map_error(
        self, error: Exception, request: ChatRequest, stream: StreamState | None = None
    ) -> ProviderError:
        """The ``ProviderError`` for a failure that is not one already (``stream``: the state of
        the stream it broke, if any). The default wraps it without a classification."""
        return ProviderError(
            f"{self.provider.name} call failed: {type(error).__name__}",
            provider=self.provider.name,
            model_id=self.info.id,
        )

    # -- the four call styles, built on the above ----------------------------------------------

    def invoke(self, request: ChatRequest) -> ChatResponse:
        """Send one request and wait for the whole answer."""
        try:
            return self.parse_response(self.send(request), request)
        except (ModelwireError, NotImplementedError):  # already modelwire's, or a missing hook
            raise
        except Exception as exc:
            failure = self.failure(exc, request)
        raise failure  # outside the handler: the SDK's exception is not kept as the context

    async def ainvoke(self, request: ChatRequest) -> ChatResponse:
        """The same as ``invoke``, for asyncio."""
        try:
            return self.parse_response(await self.asend(request), request)
        except (ModelwireError, NotImplementedError):  # already modelwire's, or a missing hook
            raise
        except Exception as exc:
            failure = self.failure(exc, request)
        raise failure  # outside the handler: the SDK's exception is not kept as the context

    def failure(
        self, error: Exception, request: ChatRequest, stream: StreamState | None = None
    ) -> ProviderError:
        """``map_error``'s answer, with the SDK's exception replaced by a ``ProviderCause`` that
        keeps its type and its message scrubbed of this entry's secrets. Raise it outside the
        ``except`` block so that the original is not kept as the context either."""
        mapped = self.map_error(error, request, stream)
        return with_cause(mapped, error, self.provider.secrets())

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        """Yield text as it arrives; the last event has ``done=True`` and the usage."""
        return run_stream(self._chunks_machine(request))

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """The same as ``stream``, for asyncio."""
        return arun_stream(self._chunks_machine(request))

    def stream_machine(self, request: ChatRequest) -> Machine[None]:
        """The machine of one stream (``modelwire.machines``): it yields the I/O to do and
        ``Emit``s each event. The service runs it inside its own call machine; ``stream`` and
        ``astream`` run it alone. A provider that writes ``stream``/``astream`` itself gets a
        machine that reads them."""
        cls = type(self)
        if cls.stream is not ChatModel.stream or cls.astream is not ChatModel.astream:
            return _read_own_stream(self, request)
        return self._chunks_machine(request)

    def _chunks_machine(self, request: ChatRequest) -> Machine[None]:
        chunks: Any = None
        state: StreamState | None = None
        try:
            chunks = yield _OpenChunks(self, request)
            state = self.stream_state(chunks)
            if request.output is not None:
                state = self.output_state(state, request)
            read = _ReadChunks(chunks, state)
            emit = Emit(None, read)  # an event and the read after it (reused)
            deltas = read.deltas
            text = yield read
            while text is not END:
                if deltas:  # tool calls being streamed
                    events = [StreamEvent(tool_call_delta=delta) for delta in deltas]
                    deltas.clear()
                    if text:
                        yield Emit(text_event(text))
                    for event in events[:-1]:
                        yield Emit(event)
                    text = yield Emit(events[-1], read)  # and the next read
                else:
                    emit.event = text_event(text)
                    text = yield emit
        except (ModelwireError, NotImplementedError):  # already modelwire's, or a missing hook
            raise
        except Exception as exc:
            failure: ProviderError | None = self.failure(exc, request, state)
        else:
            failure = None
        finally:
            if chunks is not None:
                yield Close(chunks)
        if failure is not None:
            raise failure
        assert state is not None  # set before a loop that ended without a failure
        yield Emit(self.stream_end(state, state.request_id))

    def output_state(self, state: StreamState, request: ChatRequest) -> StreamState:
        """The stream's state for a request with ``output=`` (a provider that asks for
        structured output in its own way tells its state how; by default unchanged)."""
        return state

    def stream_end(self, totals: StreamState, request_id: str | None) -> StreamEvent:
        """The closing ``done`` event of a stream, or the retryable error for a stream that
        ended before the model finished (a cut connection, a proxy timeout)."""
        if not totals.finished:
            from modelwire.providers._http import stream_cut_error

            raise stream_cut_error(
                provider=self.provider.name,
                model_id=self.info.id,
                request_id=request_id,
                received_chars=totals.chars,
            )
        return StreamEvent(
            done=True,
            model_id=self.info.id,
            usage=totals.usage,
            finish_reason=totals.finish_reason,
            request_id=request_id,
            tool_calls=getattr(totals, "tool_calls", ()),
            parts=getattr(totals, "parts", ()),
            output_mode=getattr(totals, "output_mode", None),
        )

    # -- discovery -----------------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        """Ask the provider which chat models it serves (used by discovery)."""

    @classmethod
    def prepare_client(cls, provider: ProviderContext) -> None:
        """Build what ``list_models`` needs for ``provider`` now (the SDK import and the client,
        no network I/O), so that a listing's timeout measures the provider, not the set-up.
        The default does nothing."""
        return None


def with_cause(
    mapped: ProviderError, error: BaseException, secrets: tuple[str | None, ...]
) -> ProviderError:
    """``mapped`` with ``error`` as a ``ProviderCause``: its type and scrubbed message only."""
    if mapped is error:
        return mapped
    message = scrub(str(error), secrets)
    cause = ProviderCause(f"{type(error).__module__}.{type(error).__qualname__}", message)
    mapped.__cause__ = cause
    mapped.__suppress_context__ = True
    return mapped


def listing_failure(
    provider: ProviderContext, error: BaseException, mapped: ProviderError
) -> ProviderError:
    """A model listing's failure as ``mapped``, with ``error`` kept only as a ``ProviderCause``
    scrubbed of every secret of ``provider`` (its key, header values, a URL password). Raise it
    outside the ``except`` block so that ``error`` is not kept as the context either."""
    return with_cause(mapped, error, provider.secrets())


def listed(
    provider: ProviderContext, fetch: Callable[[], T], mapper: Callable[..., ProviderError]
) -> T:
    """``fetch()``, a model listing of ``provider``. A failure is raised as ``mapper``'s error
    (a provider's ``map_*_error``) through ``listing_failure``: the SDK's exception is kept only
    as a scrubbed ``ProviderCause``, neither as the cause nor as the context."""
    try:
        return fetch()
    except Exception as exc:
        mapped = mapper(
            exc,
            provider=provider.name,
            model_id=None,
            timeout_s=provider.config.timeout_s,
            secrets=provider.secrets(),
        )
        failure = listing_failure(provider, exc, mapped)
    raise failure  # outside the handler, so that the SDK's exception is not the context


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def discovered_model(
    provider: ProviderContext,
    name: str,
    *,
    context_window: Any = None,
    max_output_tokens: Any = None,
) -> ModelInfo:
    """A model a provider listed: unknown cost, limits kept only when they are positive ints."""
    return ModelInfo(
        id=f"{provider.name}:{name}",
        provider=provider.name,
        name=name,
        provider_type=provider.type,
        context_window=_positive(context_window),
        max_output_tokens=_positive(max_output_tokens),
        source="discovered",
        cost=None,
    )
