"""One async SDK client per provider entry *and event loop*.

An async HTTP client's pooled connections belong to the event loop that opened them: reusing the
client from a second loop (a second ``asyncio.run``) fails with "Event loop is closed". So the
"async" client of a provider entry is a ``LoopClients`` holder that builds one client per running
loop on first use, reuses it for every call on that loop, and forgets it when the loop is
garbage-collected. ``close()`` closes the clients whose loops are still usable.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

__all__ = ["LoopClients"]

T = TypeVar("T")

_PENDING: set[asyncio.Future[Any]] = set()


class LoopClients(Generic[T]):
    """Builds and caches one client per running event loop (thread-safe)."""

    def __init__(self, build: Callable[[], T], aclose: Callable[[T], Awaitable[Any]]) -> None:
        self._build = build
        self._aclose = aclose
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def get(self) -> T:
        """The client of the running loop, built on first use (call from a coroutine)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            with self._lock:
                client = self._clients.get(loop)
                if client is None:
                    client = self._build()
                    self._clients[loop] = client
        return client

    def __len__(self) -> int:
        return len(self._clients)

    def close(self) -> None:
        """Close every client whose loop is still open; later ``get()`` calls build fresh ones."""
        with self._lock:
            items = list(self._clients.items())
            self._clients = weakref.WeakKeyDictionary()
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, client in items:
            if loop.is_closed():
                continue  # its connections died with the loop
            try:
                if loop is running:
                    task = loop.create_task(self._closer(client))
                    _PENDING.add(task)
                    task.add_done_callback(_PENDING.discard)
                elif loop.is_running():
                    asyncio.run_coroutine_threadsafe(self._closer(client), loop)
                else:
                    loop.run_until_complete(self._closer(client))
            except Exception:  # closing is best effort
                pass

    async def _closer(self, client: T) -> None:
        with contextlib.suppress(Exception):  # closing is best effort
            await self._aclose(client)
