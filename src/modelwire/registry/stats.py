"""Call statistics: one ``MemberStats`` per model the registry has seen called.

The service reports every finished attempt to ``ModelRegistry.observe``; routing keeps its own
``MemberStats`` per group member beside each circuit breaker (``routing.health.MemberHealth``).
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["DEFAULT_LATENCY_ALPHA", "MemberStats"]

DEFAULT_LATENCY_ALPHA = 0.3
"""Weight of the newest observation in the latency moving average."""


class MemberStats:
    """Latency moving average and counters of one member (thread-safe)."""

    def __init__(self, alpha: float = DEFAULT_LATENCY_ALPHA) -> None:
        if not 0 < alpha <= 1:
            raise ValueError("alpha must be in (0, 1]")
        self.alpha = alpha
        self._lock = threading.Lock()
        self._ewma_ms: float | None = None
        self._last_ms: float | None = None
        self._calls = 0
        self._errors = 0
        self._last_error: str | None = None

    def observe_success(self, latency_ms: float) -> None:
        """Fold one successful call's latency into the average."""
        with self._lock:
            self._calls += 1
            self._last_ms = latency_ms
            if self._ewma_ms is None:
                self._ewma_ms = latency_ms
            else:
                self._ewma_ms += self.alpha * (latency_ms - self._ewma_ms)

    def observe_failure(self, error: BaseException | None = None) -> None:
        """Count a failed call (its latency is not averaged: a fast failure is not speed)."""
        with self._lock:
            self._calls += 1
            self._errors += 1
            if error is not None:
                self._last_error = type(error).__name__

    @property
    def ewma_latency_ms(self) -> float | None:
        """The moving average of successful calls' latency; ``None`` before the first one."""
        return self._ewma_ms

    @property
    def calls(self) -> int:
        """Calls observed, failed ones included."""
        return self._calls

    @property
    def errors(self) -> int:
        """Failed calls observed."""
        return self._errors

    def snapshot(self) -> dict[str, Any]:
        """A plain dict for health reports."""
        with self._lock:
            return {
                "calls": self._calls,
                "errors": self._errors,
                "ewma_latency_ms": None if self._ewma_ms is None else round(self._ewma_ms, 3),
                "last_latency_ms": None if self._last_ms is None else round(self._last_ms, 3),
                "last_error": self._last_error,
            }
