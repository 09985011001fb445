"""What routing knows about each member: its breaker, its latency and its call counts.

``MemberHealth`` pairs a ``CircuitBreaker`` with ``MemberStats`` (an exponentially weighted
moving average of the latency of successful calls, and counters: the registry's statistics
class, ``modelwire.registry.stats``). Strategies read it; the group's executor writes it after
every attempt.

``HealthMonitor`` is an optional background thread that probes members at an interval and feeds
the outcomes to their breakers, so a member that recovered is noticed without waiting for user
traffic to try it. By default it probes only members whose breaker is not closed (probing costs a
call); the probe function is supplied by the caller (a tiny request through the service).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from modelwire.registry.stats import DEFAULT_LATENCY_ALPHA, MemberStats
from modelwire.routing.breaker import BreakerState, CircuitBreaker

__all__ = ["DEFAULT_LATENCY_ALPHA", "HealthMonitor", "MemberHealth", "MemberStats"]


class MemberHealth:
    """One member's breaker and stats, as strategies and health reports see them."""

    def __init__(
        self,
        model_id: str,
        breaker: CircuitBreaker | None = None,
        stats: MemberStats | None = None,
    ) -> None:
        self.model_id = model_id
        self.breaker = breaker if breaker is not None else CircuitBreaker()
        self.stats = stats if stats is not None else MemberStats()

    def __repr__(self) -> str:
        return f"MemberHealth({self.model_id!r}, state={self.breaker.state.value!r})"

    @property
    def is_open(self) -> bool:
        """True while the breaker refuses calls (open and still cooling down)."""
        return self.breaker.state is BreakerState.OPEN

    def succeeded(self, latency_ms: float) -> None:
        """Record a successful call."""
        self.stats.observe_success(latency_ms)
        self.breaker.record_success()

    def failed(self, error: BaseException | None = None) -> None:
        """Record a call that failed because of the member."""
        self.stats.observe_failure(error)
        self.breaker.record_failure(error)

    def snapshot(self) -> dict[str, Any]:
        """Breaker state and stats in one dict."""
        breaker = self.breaker.snapshot()
        stats = self.stats.snapshot()
        return {
            "model_id": self.model_id,
            "state": breaker["state"],
            "healthy": breaker["state"] == BreakerState.CLOSED.value,
            "cooldown_remaining_s": breaker["cooldown_remaining_s"],
            "consecutive_failures": breaker["consecutive_failures"],
            "window_failure_rate": breaker["window_failure_rate"],
            "times_opened": breaker["times_opened"],
            **stats,
        }


Probe = Callable[[str], Any]
"""Calls a model by id; raises when the model is unhealthy."""


class HealthMonitor:
    """A daemon thread that probes members every ``interval_s`` and feeds their breakers.

    ``members`` returns the current ``model id → MemberHealth`` map each round (so members added
    by a reload are picked up). ``probe_all=True`` also probes closed members (each probe is a
    real, billed call). ``run_once()`` does one round synchronously (for tests and schedulers).
    """

    def __init__(
        self,
        probe: Probe,
        members: Callable[[], Mapping[str, MemberHealth]],
        interval_s: float = 60.0,
        *,
        probe_all: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._probe = probe
        self._members = members
        self.interval_s = interval_s
        self.probe_all = probe_all
        self._clock = clock or time.perf_counter
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0

    def run_once(self) -> dict[str, bool]:
        """Probe every eligible member once; returns ``model id → probe succeeded``."""
        results: dict[str, bool] = {}
        for model_id, health in list(self._members().items()):
            if self._stop.is_set():
                break
            closed = health.breaker.state is BreakerState.CLOSED
            if closed and not self.probe_all:
                continue
            if not closed and not health.breaker.allow():
                continue  # still cooling down, or a probe is already in flight
            start = self._clock()
            try:
                self._probe(model_id)
            except Exception as err:  # any failure is a failed probe
                health.failed(err)
                results[model_id] = False
            else:
                health.succeeded((self._clock() - start) * 1000.0)
                results[model_id] = True
        self.rounds += 1
        return results

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_once()

    def start(self) -> HealthMonitor:
        """Start the thread (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="modelwire-health", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the thread and wait for the current round to end."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        """True while the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> HealthMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
