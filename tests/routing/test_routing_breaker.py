"""The circuit breaker: unit cases, a hypothesis state machine, and real threads."""

from __future__ import annotations

import threading

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from modelwire.config.schema import BreakerConfig
from modelwire.errors import ProviderUnavailableError
from modelwire.routing.breaker import BreakerState, CircuitBreaker

CLOSED, OPEN, HALF = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


class FakeClock:
    """A clock that moves only when told to (thread-safe enough: reads of a float)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make(clock: FakeClock, **kw: object) -> CircuitBreaker:
    opts: dict[str, object] = dict(
        failure_threshold=3, failure_rate=0.5, min_calls=4, window=6, cooldown_s=10.0
    )
    opts.update(kw)
    return CircuitBreaker(clock=clock, **opts)  # type: ignore[arg-type]


def test_opens_after_consecutive_failures_and_recovers_after_cooldown() -> None:
    clock = FakeClock()
    b = make(clock, min_calls=100)
    for _ in range(2):
        b.record_failure()
    assert b.state is CLOSED and b.allow()
    b.record_failure(ProviderUnavailableError("503"))
    assert b.state is OPEN
    assert not b.allow()
    assert b.cooldown_remaining() == 10.0
    clock.advance(9.99)
    assert not b.allow()
    clock.advance(0.01)
    assert b.state is HALF
    assert b.allow()  # the probe
    assert not b.allow()  # only one at a time
    b.record_success()
    assert b.state is CLOSED
    snap = b.snapshot()
    assert snap["times_opened"] == 1
    assert snap["last_error"] == "ProviderUnavailableError"
    assert snap["window_calls"] == 0  # a fresh window after closing


def test_a_success_resets_the_consecutive_count() -> None:
    b = make(FakeClock(), failure_rate=1.0)
    for _ in range(5):
        b.record_failure()
        b.record_failure()
        b.record_success()
    assert b.state is CLOSED


def test_opens_on_failure_rate_once_min_calls_reached() -> None:
    b = make(FakeClock(), failure_threshold=100, failure_rate=0.5, min_calls=4, window=6)
    b.record_failure()
    b.record_success()
    b.record_failure()
    assert b.state is CLOSED  # 2/3 failed, but only 3 calls so far
    b.record_success()
    b.record_success()
    assert b.state is CLOSED  # 2/5: the rate is judged when a failure arrives
    b.record_failure()
    assert b.state is OPEN  # 3/6 = 0.5 >= failure_rate


def test_rolling_window_forgets_old_outcomes() -> None:
    b = make(FakeClock(), failure_threshold=100, failure_rate=0.5, min_calls=4, window=4)
    b.record_failure()
    for _ in range(4):
        b.record_success()  # pushes the failure out of the window
    assert b.snapshot()["window_failures"] == 0
    b.record_failure()
    assert b.state is CLOSED  # 1/4
    b.record_failure()
    assert b.state is OPEN  # 2/4


def test_failed_probe_reopens_for_another_cooldown() -> None:
    clock = FakeClock()
    b = make(clock, failure_threshold=1)
    b.record_failure()
    clock.advance(10)
    assert b.allow()
    b.record_failure()
    assert b.state is OPEN
    assert not b.allow()
    clock.advance(10)
    assert b.allow()


def test_release_frees_the_probe_slot_and_a_lost_probe_times_out() -> None:
    clock = FakeClock()
    b = make(clock, failure_threshold=1, probe_timeout_s=30.0)
    b.record_failure()
    clock.advance(10)
    assert b.allow()
    b.release()
    assert b.allow()  # slot given back
    clock.advance(29)
    assert not b.allow()
    clock.advance(1)
    assert b.allow()  # the previous probe never reported: admitted again


def test_force_admits_an_open_member_as_the_probe() -> None:
    clock = FakeClock()
    b = make(clock, failure_threshold=1)
    b.record_failure()
    assert not b.allow()
    assert b.allow(force=True)
    assert b.state is HALF
    b.record_success()
    assert b.state is CLOSED


def test_outcomes_while_open_change_nothing_but_totals() -> None:
    clock = FakeClock()
    b = make(clock, failure_threshold=1)
    b.record_failure()
    b.record_success()
    b.record_failure()
    assert b.state is OPEN
    assert b.cooldown_remaining() == 10.0
    assert b.snapshot()["calls"] == 3


def test_from_config_and_validation() -> None:
    cfg = BreakerConfig(failure_threshold=2, failure_rate=0.25, min_calls=3, window=9, cooldown_s=1)
    b = CircuitBreaker.from_config(cfg, clock=FakeClock())
    assert (b.failure_threshold, b.failure_rate, b.min_calls, b.window, b.cooldown_s) == (
        2,
        0.25,
        3,
        9,
        1.0,
    )
    assert b.probe_timeout_s == 60.0
    assert "closed" in repr(b)
    for bad in ({"failure_threshold": 0}, {"failure_rate": 0}, {"cooldown_s": -1}, {"window": 0}):
        with pytest.raises(ValueError):
            CircuitBreaker(**bad)  # type: ignore[arg-type]


# ---- the state machine, against a plain reference model ---------------------------------------


class BreakerMachine(RuleBasedStateMachine):
    """Random interleavings of calls, outcomes and time; checked against a reference model."""

    @initialize(
        threshold=st.integers(1, 5),
        rate=st.sampled_from([0.25, 0.5, 1.0]),
        min_calls=st.integers(1, 8),
        window=st.integers(1, 8),
        cooldown=st.sampled_from([0.0, 1.0, 5.0]),
        probe_timeout=st.sampled_from([2.0, 20.0]),
    )
    def setup(
        self,
        threshold: int,
        rate: float,
        min_calls: int,
        window: int,
        cooldown: float,
        probe_timeout: float,
    ) -> None:
        self.clock = FakeClock()
        self.b = CircuitBreaker(
            failure_threshold=threshold,
            failure_rate=rate,
            min_calls=min_calls,
            window=window,
            cooldown_s=cooldown,
            probe_timeout_s=probe_timeout,
            clock=self.clock,
        )
        # reference model
        self.m_state = CLOSED
        self.m_outcomes: list[bool] = []
        self.m_consecutive = 0
        self.m_opened_at = 0.0
        self.m_probe_at: float | None = None  # when the outstanding probe was admitted

    def _m_tick(self) -> None:
        if self.m_state is OPEN and self.clock.now - self.m_opened_at >= self.b.cooldown_s:
            self.m_state = HALF
            self.m_probe_at = None

    def _m_open(self) -> None:
        self.m_state = OPEN
        self.m_opened_at = self.clock.now
        self.m_probe_at = None

    @rule(seconds=st.sampled_from([0.0, 0.5, 1.0, 3.0, 7.0, 25.0]))
    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule()
    def allow(self) -> None:
        self._m_tick()
        was, now = self.m_state, self.clock.now
        got = self.b.allow()
        if was is CLOSED:
            assert got
        elif was is OPEN:
            assert not got, "open breaker admitted a call before its cooldown"
        else:
            busy = self.m_probe_at is not None and now - self.m_probe_at < self.b.probe_timeout_s
            assert got is (not busy), "half-open must admit exactly one probe at a time"
            if got:
                self.m_probe_at = now

    @rule()
    def success(self) -> None:
        self._m_tick()
        was = self.m_state
        self.b.record_success()
        if was is HALF:
            self.m_state, self.m_outcomes, self.m_consecutive = CLOSED, [], 0
            self.m_probe_at = None
            assert self.b.state is CLOSED, "a success in half-open must close the breaker"
        elif was is CLOSED:
            self.m_consecutive = 0
            self.m_outcomes = [*self.m_outcomes, False][-self.b.window :]

    @rule()
    def failure(self) -> None:
        self._m_tick()
        was = self.m_state
        self.b.record_failure()
        if was is HALF:
            self._m_open()
        elif was is CLOSED:
            self.m_consecutive += 1
            self.m_outcomes = [*self.m_outcomes, True][-self.b.window :]
            n = len(self.m_outcomes)
            rate_hit = n >= min(self.b.min_calls, self.b.window) and sum(self.m_outcomes) >= (
                self.b.failure_rate * n
            )
            if self.m_consecutive >= self.b.failure_threshold or rate_hit:
                self._m_open()

    @rule()
    def release(self) -> None:
        self.b.release()
        self.m_probe_at = None

    @rule()
    def never_stuck_open(self) -> None:
        # However bad things are, waiting out the cooldown (and any lost probe) admits a call.
        self.clock.advance(max(self.b.cooldown_s, self.b.probe_timeout_s))
        self._m_tick()
        assert self.b.allow()
        if self.m_state is HALF:
            self.m_probe_at = self.clock.now

    @invariant()
    def matches_model(self) -> None:
        self._m_tick()
        assert self.b.state is self.m_state
        snap = self.b.snapshot()
        if self.m_state is CLOSED:
            assert snap["window_calls"] == len(self.m_outcomes)
            assert snap["window_failures"] == sum(self.m_outcomes)
            assert snap["consecutive_failures"] == self.m_consecutive
        if self.m_state is OPEN:
            remaining = self.b.cooldown_s - (self.clock.now - self.m_opened_at)
            assert snap["cooldown_remaining_s"] == pytest.approx(max(remaining, 0.0), abs=1e-3)


BreakerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestBreakerStateMachine = BreakerMachine.TestCase


# ---- real threads -----------------------------------------------------------------------------


def test_threads_half_open_admits_exactly_one_probe() -> None:
    clock = FakeClock()
    b = make(clock, failure_threshold=1)
    b.record_failure()
    clock.advance(10)
    n = 32
    start = threading.Barrier(n)
    admitted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        start.wait()
        got = b.allow()
        with lock:
            admitted.append(got)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(admitted) == n
    assert admitted.count(True) == 1


def test_threads_hammering_keep_counts_consistent() -> None:
    b = CircuitBreaker(failure_threshold=10_000, min_calls=10_000, window=100)
    n, per = 8, 2_000
    start = threading.Barrier(n)

    def worker(i: int) -> None:
        start.wait()
        for k in range(per):
            if b.allow():
                if (i + k) % 4 == 0:
                    b.record_failure()
                else:
                    b.record_success()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    snap = b.snapshot()
    assert snap["calls"] == n * per
    assert snap["failures"] == n * per // 4
    assert snap["window_calls"] == 100
    assert 0 <= snap["window_failures"] <= 100
    assert snap["state"] == "closed"
