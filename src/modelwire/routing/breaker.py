"""A circuit breaker per group member: stop calling a failing model, and try it again later.

States and transitions:

* **closed** — calls flow. The breaker opens after ``failure_threshold`` consecutive failures,
  or when, with at least ``min(min_calls, window)`` outcomes in the rolling window of the last
  ``window`` calls, the share of failures reaches ``failure_rate``.
* **open** — ``allow()`` says no until ``cooldown_s`` has passed since the breaker opened.
* **half_open** — after the cooldown, ``allow()`` admits exactly one *probe* at a time. A
  successful probe closes the breaker (with a fresh window); a failed probe opens it again for
  another cooldown. A probe whose outcome never arrives (its caller vanished) does not block the
  breaker for ever: after ``probe_timeout_s`` another probe is admitted, and ``release()`` gives
  the slot back at once when a call ends without a verdict on the member's health (for example
  the request itself was invalid).

So a failed member is never dropped for good: once its cooldown is over it is always offered a
probe. ``allow(force=True)`` admits a call even when open (used when every member of a group is
open: the one whose cooldown ends soonest is tried rather than failing without a call); the
breaker treats it as the probe.

Outcomes that arrive while the breaker is open (calls admitted before it opened) are counted in
the totals but change nothing. The breaker is thread-safe: one small lock, held only for
arithmetic (the clock is read under it; no I/O).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from modelwire.config.schema import BreakerConfig

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(StrEnum):
    """Where a breaker is in its cycle."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Closed → open → half-open → closed, with failure counting over a rolling window."""

    def __init__(
        self,
        failure_threshold: int = 5,
        failure_rate: float = 0.5,
        min_calls: int = 20,
        window: int = 50,
        cooldown_s: float = 30.0,
        *,
        probe_timeout_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or min_calls < 1 or window < 1:
            raise ValueError("failure_threshold, min_calls and window must be at least 1")
        if not 0 < failure_rate <= 1:
            raise ValueError("failure_rate must be in (0, 1]")
        if cooldown_s < 0:
            raise ValueError("cooldown_s must not be negative")
        self.failure_threshold = failure_threshold
        self.failure_rate = failure_rate
        self.min_calls = min_calls
        self.window = window
        self.cooldown_s = cooldown_s
        self.probe_timeout_s = (
            probe_timeout_s if probe_timeout_s is not None else max(cooldown_s, 60.0)
        )
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._outcomes: deque[bool] = deque(maxlen=window)  # True = failure
        self._window_failures = 0
        self._consecutive = 0
        self._opened_at = 0.0
        self._probe_since: float | None = None
        self._calls = 0
        self._failures = 0
        self._times_opened = 0
        self._last_error: str | None = None

    @classmethod
    def from_config(cls, config: BreakerConfig, **kwargs: Any) -> CircuitBreaker:
        """A breaker from the ``circuit_breaker:`` settings (``kwargs``: ``clock`` etc.)."""
        return cls(
            failure_threshold=config.failure_threshold,
            failure_rate=config.failure_rate,
            min_calls=config.min_calls,
            window=config.window,
            cooldown_s=config.cooldown_s,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"CircuitBreaker(state={self.state.value!r}, cooldown_s={self.cooldown_s})"

    # state ---------------------------------------------------------------------------------

    def _advance(self, now: float) -> None:
        """Open → half-open once the cooldown is over (caller holds the lock)."""
        if self._state is BreakerState.OPEN and now - self._opened_at >= self.cooldown_s:
            self._state = BreakerState.HALF_OPEN
            self._probe_since = None

    def _open(self, now: float) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = now
        self._probe_since = None
        self._times_opened += 1

    def _close(self) -> None:
        self._state = BreakerState.CLOSED
        self._probe_since = None
        self._outcomes.clear()
        self._window_failures = 0
        self._consecutive = 0

    @property
    def state(self) -> BreakerState:
        """The current state (an open breaker whose cooldown is over reads as half-open)."""
        with self._lock:
            self._advance(self._clock())
            return self._state

    def cooldown_remaining(self) -> float:
        """Seconds until an open breaker admits a probe; 0 when it is not open."""
        with self._lock:
            now = self._clock()
            self._advance(now)
            if self._state is not BreakerState.OPEN:
                return 0.0
            return max(self.cooldown_s - (now - self._opened_at), 0.0)

    # calls ---------------------------------------------------------------------------------

    def allow(self, force: bool = False) -> bool:
        """May a call go to this member now? In half-open this reserves the one probe slot.

        ``force=True`` admits the call whatever the state (it becomes the probe when the
        breaker is not closed).
        """
        with self._lock:
            now = self._clock()
            self._advance(now)
            if self._state is BreakerState.CLOSED:
                return True
            if self._state is BreakerState.OPEN:
                if not force:
                    return False
                self._state = BreakerState.HALF_OPEN
                self._probe_since = now
                return True
            probe_busy = (
                self._probe_since is not None and now - self._probe_since < self.probe_timeout_s
            )
            if probe_busy and not force:
                return False
            self._probe_since = now
            return True

    def record_success(self) -> None:
        """A call succeeded; in half-open this closes the breaker."""
        with self._lock:
            self._calls += 1
            self._advance(self._clock())
            if self._state is BreakerState.HALF_OPEN:
                self._close()
            elif self._state is BreakerState.CLOSED:
                self._consecutive = 0
                self._push(False)

    def record_failure(self, error: BaseException | None = None) -> None:
        """A call failed because of the member; may open (or re-open) the breaker."""
        with self._lock:
            self._calls += 1
            self._failures += 1
            if error is not None:
                self._last_error = type(error).__name__
            now = self._clock()
            self._advance(now)
            if self._state is BreakerState.HALF_OPEN:
                self._open(now)
            elif self._state is BreakerState.CLOSED:
                self._consecutive += 1
                self._push(True)
                if self._consecutive >= self.failure_threshold or self._rate_tripped():
                    self._open(now)

    def release(self) -> None:
        """A call ended without a verdict on the member: free the probe slot, count nothing."""
        with self._lock:
            self._probe_since = None

    def reset(self) -> None:
        """Back to closed with an empty window (totals are kept)."""
        with self._lock:
            self._close()

    def _push(self, failed: bool) -> None:
        if len(self._outcomes) == self._outcomes.maxlen and self._outcomes[0]:
            self._window_failures -= 1
        self._outcomes.append(failed)
        self._window_failures += failed

    def _rate_tripped(self) -> bool:
        n = len(self._outcomes)
        return n >= min(self.min_calls, self.window) and self._window_failures >= (
            self.failure_rate * n
        )

    # reporting -----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """A plain dict for health reports."""
        with self._lock:
            now = self._clock()
            self._advance(now)
            n = len(self._outcomes)
            remaining = (
                max(self.cooldown_s - (now - self._opened_at), 0.0)
                if self._state is BreakerState.OPEN
                else 0.0
            )
            return {
                "state": self._state.value,
                "consecutive_failures": self._consecutive,
                "window_calls": n,
                "window_failures": self._window_failures,
                "window_failure_rate": round(self._window_failures / n, 4) if n else 0.0,
                "cooldown_remaining_s": round(remaining, 3),
                "probe_in_flight": self._probe_since is not None,
                "calls": self._calls,
                "failures": self._failures,
                "times_opened": self._times_opened,
                "last_error": self._last_error,
            }
