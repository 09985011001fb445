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
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, StreamEvent, Usage

__all__ = [
    "REQUIRED_METHODS",
    "ChatModel",
    "ProviderContext",
    "StreamTotals",
    "discovered_model",
]

T = TypeVar("T")

REQUIRED_METHODS: tuple[str, ...] = ("invoke", "ainvoke", "stream", "astream", "list_models")


class ProviderContext:
    """One configured provider entry and the clients it owns.

    ``client(key, build)`` builds a client at most once per key (the first caller builds, the
    others wait for it) and reuses it afterwards. Building a client must not do network I/O.
    ``close()`` runs each client's closer once.
    """

    def __init__(self, name: str, config: ProviderConfig) -> None:
        self.name = name
        self.config = config
        self.type: str = config.type or name
        self._clients: dict[str, Any] = {}
        self._closers: list[Callable[[], Any]] = []
        self._lock = threading.Lock()

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

    def close(self) -> None:
        """Close every client this entry built; later calls build fresh ones."""
        with self._lock:
            closers, self._closers = self._closers, []
            self._clients = {}
        for closer in closers:
            with contextlib.suppress(Exception):  # closing is best effort
                closer()


class StreamTotals(Protocol):
    """What a provider's stream accumulator knows when the stream ends."""

    @property
    def chars(self) -> int: ...

    @property
    def finished(self) -> bool: ...

    @property
    def usage(self) -> Usage | None: ...

    @property
    def finish_reason(self) -> str | None: ...


class ChatModel(ABC):
    """Base class of provider model implementations.

    Subclasses implement the four call styles and ``list_models``. They fill ``text``,
    ``model_id``, ``usage``, ``finish_reason`` and ``request_id`` of the response; the service adds
    cost, latency and the usage event. Errors must be raised as ``modelwire.errors`` classes.
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

    def stream_end(self, totals: StreamTotals, request_id: str | None) -> StreamEvent:
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
        )

    def prepare(self) -> None:
        """Make the model ready for a blocking call (its client built: no network I/O).

        The service runs it before an attempt's clock starts, so a first call's latency is the
        call's, not the SDK import's. The default does nothing."""
        return None

    def aprepare(self) -> None:
        """The same as ``prepare``, for a call on the running event loop."""
        return None

    @abstractmethod
    def invoke(self, request: ChatRequest) -> ChatResponse:
        """Send one request and wait for the whole answer."""

    @abstractmethod
    async def ainvoke(self, request: ChatRequest) -> ChatResponse:
        """The same as ``invoke``, for asyncio."""

    @abstractmethod
    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        """Yield text as it arrives; the last event has ``done=True`` and the usage."""

    @abstractmethod
    def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """The same as ``stream``, for asyncio (an async generator)."""

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
