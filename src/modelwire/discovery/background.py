"""A daemon thread that runs a refresh every ``interval_s`` seconds until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["BackgroundRefresher"]

log = logging.getLogger("modelwire.discovery")


class BackgroundRefresher:
    """Calls ``refresh()`` every ``interval_s`` seconds on a daemon thread.

    The first call comes one interval after ``start()``. An exception is logged and the loop goes
    on. ``stop()`` wakes the thread at once and waits (at most ``join_timeout_s``) for a refresh
    in progress to finish; a refresh is itself bounded by the discovery timeouts.
    """

    def __init__(
        self,
        refresh: Callable[[], object],
        interval_s: float,
        *,
        name: str = "modelwire-discovery-refresh",
    ) -> None:
        if interval_s <= 0:
            raise ValueError("the refresh interval must be positive")
        self._refresh = refresh
        self.interval_s = interval_s
        self._name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.runs = 0
        self.failures = 0

    @property
    def running(self) -> bool:
        """True while the thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        """Start the thread (a no-op when it already runs)."""
        with self._lock:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self._refresh()
            except Exception:
                self.failures += 1
                log.warning("background model discovery failed", exc_info=True)
            finally:
                self.runs += 1

    def stop(self, join_timeout_s: float | None = 30.0) -> None:
        """Stop the thread and wait for it (bounded by ``join_timeout_s``)."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(join_timeout_s)
