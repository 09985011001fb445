"""One async SDK client per provider entry *and event loop*.

An async HTTP client's pooled connections belong to the event loop that opened them: reusing the
client from a second loop (a second ``asyncio.run``) fails with "Event loop is closed". So the
"async" client of a provider entry is a ``LoopClients`` holder that builds one client per running
loop on first use and reuses it for every call on that loop.

A client is closed when its loop shuts down: next to each client the holder parks an async
generator in the loop, which ``asyncio.run`` (``loop.shutdown_asyncgens()``) finalises before it
closes the loop, and the generator's ``finally`` closes the client there, on its own loop. A loop
that never shuts down that way just drops the client when the loop is garbage-collected.
``close()`` closes the clients whose loops are still usable.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import ssl

    from modelwire.providers.base import ProviderContext

__all__ = ["LoopClients", "shared_ssl_context"]

T = TypeVar("T")

_PENDING: set[asyncio.Future[Any]] = set()


class _Entry(Generic[T]):
    __slots__ = ("client", "guard")

    def __init__(self, client: T) -> None:
        self.client = client
        self.guard: AsyncGenerator[None, None] | None = None


class LoopClients(Generic[T]):
    """Builds and caches one client per running event loop (thread-safe)."""

    def __init__(self, build: Callable[[], T], aclose: Callable[[T], Awaitable[Any]]) -> None:
        self._build = build
        self._aclose = aclose
        self._entries: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Entry[T]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def get(self) -> T:
        """The client of the running loop, built on first use (call from a coroutine)."""
        loop = asyncio.get_running_loop()
        entry = self._entries.get(loop)
        if entry is None:
            stale: list[_Entry[T]] = []
            with self._lock:
                entry = self._entries.get(loop)
                if entry is None:
                    # loops closed without shutting down their async generators (a bare
                    # loop.close()) would otherwise keep their entries: drop those now
                    for old_loop, old_entry in list(self._entries.items()):
                        if old_loop.is_closed():
                            del self._entries[old_loop]
                            stale.append(old_entry)
                    entry = _Entry(self._build())
                    self._entries[loop] = entry
                    self._park_guard(loop, entry)
            for old_entry in stale:
                self._finish_guard(old_entry)
        return entry.client

    def __len__(self) -> int:
        return len(self._entries)

    def _park_guard(self, loop: asyncio.AbstractEventLoop, entry: _Entry[T]) -> None:
        """Start the entry's guard generator up to its ``yield``, inside ``loop``.

        The first ``__anext__`` runs the loop's asyncgen "first iteration" hook, which registers
        the generator for ``shutdown_asyncgens``; the body reaches ``yield`` without awaiting, so
        one ``send(None)`` finishes the step synchronously.
        """
        guard = self._guard(weakref.ref(loop), entry)  # a weak ref: the entry must not keep
        # its loop alive (the loop is the entry's weak key)
        step = guard.__anext__()
        try:
            step.send(None)
        except StopIteration:
            entry.guard = guard  # parked at its yield; kept alive by the entry
        else:  # pragma: no cover - the body never awaits before its yield
            step.close()

    async def _guard(
        self, loop_ref: weakref.ref[asyncio.AbstractEventLoop], entry: _Entry[T]
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            # The loop is shutting down: close the client here, on its own loop. (When
            # ``close()`` finalises the guard, the entry is no longer current: nothing to do.)
            loop = loop_ref()
            current = False
            if loop is not None:
                with self._lock:
                    current = self._entries.get(loop) is entry
                    if current:
                        del self._entries[loop]
            if current and loop is not None and not loop.is_closed():
                with contextlib.suppress(Exception):
                    await self._aclose(entry.client)

    @staticmethod
    def _finish_guard(entry: _Entry[T]) -> None:
        """Finalise a guard whose entry was already removed (its ``finally`` does not await)."""
        guard, entry.guard = entry.guard, None
        if guard is None:
            return
        step = guard.aclose()
        try:
            step.send(None)
        except StopIteration:
            pass
        except Exception:  # pragma: no cover - best effort
            step.close()

    def close(self) -> None:
        """Close every client whose loop is still open; later ``get()`` calls build fresh ones."""
        with self._lock:
            items = list(self._entries.items())
            self._entries = weakref.WeakKeyDictionary()
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, entry in items:
            self._finish_guard(entry)
            if loop.is_closed():
                continue  # its connections died with the loop
            try:
                if loop is running:
                    task = loop.create_task(self._closer(entry.client))
                    _PENDING.add(task)
                    task.add_done_callback(_PENDING.discard)
                elif loop.is_running():
                    asyncio.run_coroutine_threadsafe(self._closer(entry.client), loop)
                else:
                    loop.run_until_complete(self._closer(entry.client))
            except Exception:  # closing is best effort
                pass

    async def _closer(self, client: T) -> None:
        with contextlib.suppress(Exception):  # closing is best effort
            await self._aclose(client)


def shared_ssl_context(provider: ProviderContext) -> ssl.SSLContext:
    """One TLS context per provider entry, shared by all its clients (sync and every loop's).

    Loading the CA bundle is what makes building an SDK client slow (20-60 ms each, twice for a
    ``genai.Client``); with the context built once, a client for a new event loop costs about a
    millisecond. It is ``httpx2.create_ssl_context()``: the trust store (certifi, or
    ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``) the SDKs would load themselves. An ``SSLContext`` may be
    shared between connections and threads.
    """

    def build() -> ssl.SSLContext:
        import httpx2

        return httpx2.create_ssl_context()

    return provider.client("ssl", build)
