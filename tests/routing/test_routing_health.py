"""Member stats, member health and the probing health monitor."""

from __future__ import annotations

import threading

import pytest

from modelwire.errors import ProviderUnavailableError
from modelwire.routing.breaker import BreakerState, CircuitBreaker
from modelwire.routing.health import HealthMonitor, MemberHealth, MemberStats


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_latency_moving_average() -> None:
    s = MemberStats(alpha=0.5)
    assert s.ewma_latency_ms is None
    s.observe_success(100)
    assert s.ewma_latency_ms == 100
    s.observe_success(200)
    assert s.ewma_latency_ms == 150
    s.observe_failure(ProviderUnavailableError("x"))  # failures do not move the average
    assert s.ewma_latency_ms == 150
    snap = s.snapshot()
    assert snap == {
        "calls": 3,
        "errors": 1,
        "ewma_latency_ms": 150.0,
        "last_latency_ms": 200.0,
        "last_error": "ProviderUnavailableError",
    }
    with pytest.raises(ValueError):
        MemberStats(alpha=0)


def test_member_health_feeds_breaker_and_stats() -> None:
    clock = Clock()
    h = MemberHealth("p:m", CircuitBreaker(failure_threshold=2, cooldown_s=5, clock=clock))
    h.succeeded(12.5)
    h.failed(ProviderUnavailableError("x"))
    assert not h.is_open
    h.failed()
    assert h.is_open
    snap = h.snapshot()
    assert snap["model_id"] == "p:m"
    assert snap["state"] == "open" and snap["healthy"] is False
    assert snap["cooldown_remaining_s"] == 5.0
    assert (snap["calls"], snap["errors"], snap["ewma_latency_ms"]) == (3, 2, 12.5)
    assert "open" in repr(h)


def test_monitor_probes_only_unhealthy_members_by_default() -> None:
    clock = Clock()
    ok = MemberHealth("a:ok", CircuitBreaker(clock=clock))
    sick = MemberHealth("b:sick", CircuitBreaker(failure_threshold=1, cooldown_s=10, clock=clock))
    sick.failed()
    members = {"a:ok": ok, "b:sick": sick}
    probed: list[str] = []
    fail = {"b:sick"}

    def probe(model_id: str) -> None:
        probed.append(model_id)
        if model_id in fail:
            raise ProviderUnavailableError("still down")

    mon = HealthMonitor(probe, lambda: members, interval_s=1)
    assert mon.run_once() == {}  # b is still cooling down
    clock.now += 10
    assert mon.run_once() == {"b:sick": False}
    assert sick.breaker.state is BreakerState.OPEN  # the failed probe re-opened it
    clock.now += 10
    fail.clear()
    assert mon.run_once() == {"b:sick": True}
    assert sick.breaker.state is BreakerState.CLOSED
    assert probed == ["b:sick", "b:sick"]
    assert HealthMonitor(probe, lambda: members, probe_all=True).run_once() == {
        "a:ok": True,
        "b:sick": True,
    }
    with pytest.raises(ValueError):
        HealthMonitor(probe, lambda: members, interval_s=0)


def test_monitor_thread_starts_and_stops() -> None:
    h = MemberHealth("a:x", CircuitBreaker(failure_threshold=1, cooldown_s=0))
    h.failed()
    seen = threading.Event()

    def probe(model_id: str) -> None:
        seen.set()

    mon = HealthMonitor(probe, lambda: {"a:x": h}, interval_s=0.01)
    with mon:
        assert mon.running
        assert seen.wait(5)
    assert not mon.running
    assert h.breaker.state is BreakerState.CLOSED
    assert mon.rounds >= 1
