"""The limits engine against real databases (SQLite file, PostgreSQL when configured):
reserve, settle, expiry, windows, refusals, failing closed or open."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from modelwire.errors import (
    BudgetExceededError,
    ConfigError,
    LimitExceededError,
    LimitsUnavailableError,
    RateLimitedError,
)
from modelwire.usage.limit_rules import Limit, window_bounds
from modelwire.usage.limits import CallScope, Limits
from modelwire.usage.store import make_engine
from tests.support.ledger import ledger_url

__all__ = ["ledger_url"]

SCOPE = CallScope("alice", "mock:a", "mock", None)
T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, t: float = T) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_budget_reserves_refuses_and_settles(ledger_url: str) -> None:
    clock = Clock()
    limits = Limits(make_engine(ledger_url), [Limit.budget("1/day")], clock=clock)
    a = limits.reserve(SCOPE, Decimal("0.4"), 10)
    b = limits.reserve(SCOPE, Decimal("0.4"), 10)
    assert a is not None and b is not None
    with pytest.raises(BudgetExceededError) as caught:
        limits.reserve(SCOPE, Decimal("0.3"), 10)
    err = caught.value
    assert isinstance(err, LimitExceededError) and err.kind == "budget"
    assert (err.spent, err.reserved, err.needed) == (Decimal(0), Decimal("0.8"), Decimal("0.3"))
    assert "$1/day" in str(err) and "all calls" in str(err) and "reserved $0.8" in str(err)
    assert err.retry_after == pytest.approx(12 * 3600)
    limits.settle(a, Decimal("0.05"), 5)
    (status,) = limits.status()
    assert (status.spent, status.reserved, status.left) == (
        Decimal("0.05"),
        Decimal("0.4"),
        Decimal("0.55"),
    )
    assert status.resets_at == datetime(2026, 3, 2, tzinfo=UTC)
    assert limits.reserve(SCOPE, Decimal("0.3"), 10) is not None


def test_expired_reservation_stops_counting(ledger_url: str) -> None:
    clock = Clock()
    limits = Limits(make_engine(ledger_url), [Limit.budget("1/total")], lease_s=30, clock=clock)
    assert limits.reserve(SCOPE, Decimal("1"), 1) is not None  # never settled: a dead process
    with pytest.raises(BudgetExceededError):
        limits.reserve(SCOPE, Decimal("0.01"), 1)
    clock.t += 31
    assert limits.status()[0].reserved == 0
    assert limits.reserve(SCOPE, Decimal("1"), 1) is not None


def test_late_settlement_still_counts_what_was_spent(ledger_url: str) -> None:
    clock = Clock()
    limits = Limits(make_engine(ledger_url), [Limit.budget("1/total")], lease_s=1, clock=clock)
    held = limits.reserve(SCOPE, Decimal("0.5"), 1)
    assert held is not None
    clock.t += 5
    limits.settle(held, Decimal("0.25"), 1)
    assert limits.status()[0].spent == Decimal("0.25")


def test_request_rate_is_a_sliding_window(ledger_url: str) -> None:
    clock = Clock()
    limits = Limits(make_engine(ledger_url), [Limit.requests(3)], clock=clock)
    for step in range(3):
        held = limits.reserve(SCOPE, Decimal(0), 1)
        assert held is not None
        limits.settle(held, Decimal(0), 1)
        clock.t += 10 * (step < 2)
    with pytest.raises(RateLimitedError) as caught:
        limits.reserve(SCOPE, Decimal(0), 1)
    # the first admission's 1-second bucket (of 60 in the window) leaves the window then
    assert caught.value.retry_after == pytest.approx(41)
    clock.t += 40.5
    with pytest.raises(RateLimitedError):  # a bucket counts whole: never more than 3 a minute
        limits.reserve(SCOPE, Decimal(0), 1)
    clock.t += 0.5
    assert limits.reserve(SCOPE, Decimal(0), 1) is not None
    with pytest.raises(RateLimitedError):
        limits.reserve(SCOPE, Decimal(0), 1)


def test_token_rate_counts_actual_tokens(ledger_url: str) -> None:
    clock = Clock()
    limits = Limits(make_engine(ledger_url), [Limit.tokens(1000)], clock=clock)
    held = limits.reserve(SCOPE, None, 900)
    assert held is not None
    with pytest.raises(RateLimitedError):
        limits.reserve(SCOPE, None, 200)
    limits.settle(held, None, 100)  # the estimate was high
    assert limits.reserve(SCOPE, None, 800) is not None
    with pytest.raises(RateLimitedError, match="more than the whole limit"):
        limits.reserve(SCOPE, None, 5000)


def test_scopes_choose_the_limits(ledger_url: str) -> None:
    limits = Limits(
        make_engine(ledger_url),
        [
            Limit.budget("0.1/day", caller="bob"),
            Limit.budget("0.1/day", model="openai:*"),
            Limit.requests(1, group="g", provider="mock"),
        ],
    )
    assert limits.over(SCOPE) == ()
    assert limits.reserve(SCOPE, Decimal(1), 1) is None
    assert [x.caller for x in limits.over(CallScope("bob", "mock:a", "mock", None))] == ["bob"]
    assert len(limits.over(CallScope("bob", "openai:gpt", "openai", None))) == 2
    in_group = CallScope(None, "mock:a", "mock", "g")
    assert limits.reserve(in_group, Decimal(0), 1) is not None
    with pytest.raises(RateLimitedError, match="provider=mock group=g"):
        limits.reserve(in_group, Decimal(0), 1)


def test_unpriced_models_under_a_budget(ledger_url: str) -> None:
    engine = make_engine(ledger_url)
    closed = Limits(engine, [Limit.budget("1/day")])
    with pytest.raises(BudgetExceededError, match="has no price"):
        closed.reserve(SCOPE, None, 10)
    admit = Limits(engine, [Limit.budget("1/day")], unpriced="admit")
    held = admit.reserve(SCOPE, None, 10)
    assert held is not None
    admit.settle(held, None, 10)
    assert admit.status()[0].spent == 0


def test_calendar_windows_in_a_time_zone() -> None:
    tz = ZoneInfo("Europe/Berlin")
    now = int(datetime(2026, 3, 31, 23, 30, tzinfo=UTC).timestamp() * 1e6)  # 1 April in Berlin
    start, end = window_bounds("month", now, tz)
    assert datetime.fromtimestamp(start / 1e6, tz) == datetime(2026, 4, 1, tzinfo=tz)
    assert end is not None
    assert datetime.fromtimestamp(end / 1e6, tz) == datetime(2026, 5, 1, tzinfo=tz)
    start, end = window_bounds("week", now, tz)
    assert datetime.fromtimestamp(start / 1e6, tz) == datetime(2026, 3, 30, tzinfo=tz)  # Monday
    start, end = window_bounds("day", now, tz)
    assert end is not None and (end - start) == 24 * 3600 * 10**6
    assert window_bounds("total", now, tz) == (0, None)
    start, end = window_bounds("hour", now, tz)
    assert end is not None and end - start == 3600 * 10**6
    spring = int(datetime(2026, 3, 29, 12, tzinfo=UTC).timestamp() * 1e6)  # clocks go forward
    start, end = window_bounds("day", spring, tz)
    assert end is not None and end - start == 23 * 3600 * 10**6
    assert datetime.fromtimestamp(start / 1e6, tz) == datetime(2026, 3, 29, tzinfo=tz)


def test_limit_definitions_are_checked() -> None:
    assert Limit.budget("$12.5/week").rule == "$12.5/week"
    assert Limit.requests(60).rule == "60 requests/min"
    assert Limit.budget(5, "day", caller="a").key != Limit.budget(5, "day", caller="b").key
    assert Limit.budget(5, "day").key == Limit.budget(7, "day").key  # the amount may change
    for bad in (
        lambda: Limit.budget("5/fortnight"),
        lambda: Limit.budget(0, "day"),
        lambda: Limit.requests(0),
        lambda: Limit("tokens", Decimal("1.5")),
        lambda: Limit("budget", Decimal(1), "minute"),
    ):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(ConfigError, match="IANA"):
        Limits(None, timezone="Mars/Olympus")
    with pytest.raises(ConfigError, match="ledger"):
        Limits(None).add(Limit.requests(1))


def test_unreachable_database_fails_closed_by_default(tmp_path: object) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    limits = Limits(make_engine(url), [Limit.requests(5)])
    with pytest.raises(LimitsUnavailableError, match=r"unreachable.*refused"):
        limits.reserve(SCOPE, Decimal(0), 1)


def test_unreachable_database_fails_open_when_configured(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    limits = Limits(make_engine(url), [Limit.requests(5)], on_database_error="open")
    with caplog.at_level(logging.WARNING, "modelwire.usage"):
        assert limits.reserve(SCOPE, Decimal(0), 1) is None
    assert limits.stats()["failed_open"] == 1
    assert "UNCHECKED" in caplog.text


class ReserveSettleModel(RuleBasedStateMachine):
    """reserve/settle/expire against a model: spent and live reservations, in nano-dollars."""

    BUDGET = Decimal("1")

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.limits = Limits(
            make_engine("sqlite://"),
            [Limit.budget(self.BUDGET, "total"), Limit.requests(5, window_s=10)],
            lease_s=20,
            clock=self.clock,
        )
        self.spent = Decimal(0)
        self.live: list[tuple[object, Decimal, float]] = []  # reservation, amount, expiry
        self.admitted: list[float] = []
        self.late = Decimal(0)  # settled after the lease: spent beyond what was protected

    def _reserved(self) -> Decimal:
        return sum((a for _, a, exp in self.live if exp > self.clock.t), Decimal(0))

    @rule(cents=st.integers(1, 60))
    def reserve(self, cents: int) -> None:
        amount = Decimal(cents) / 100
        fits_budget = self.spent + self._reserved() + amount <= self.BUDGET
        # the rate counts the 1/60-window slices that overlap the last 10 s, the oldest whole
        now_us, slice_us = int(self.clock.t * 1_000_000), 10_000_000 // 60
        first = (now_us - 10_000_000) // slice_us
        recent = [t for t in self.admitted if int(t * 1_000_000) // slice_us >= first]
        fits_rate = len(recent) < 5
        try:
            held = self.limits.reserve(SCOPE, amount, 1)
        except BudgetExceededError:
            assert not fits_budget
            return
        except RateLimitedError:
            assert not fits_rate
            return
        assert fits_budget and fits_rate
        self.live.append((held, amount, self.clock.t + 20))
        self.admitted.append(self.clock.t)

    @precondition(lambda self: self.live)
    @rule(index=st.integers(0, 100), fraction=st.integers(0, 100))
    def settle(self, index: int, fraction: int) -> None:
        held, amount, expiry = self.live.pop(index % len(self.live))
        actual = (amount * fraction / 100).quantize(Decimal("0.0001"))
        self.limits.settle(held, actual, 1)  # type: ignore[arg-type]
        self.spent += actual
        if expiry <= self.clock.t:
            self.late += actual

    @rule(seconds=st.sampled_from([0.05, 0.5, 3, 11, 25]))
    def wait(self, seconds: float) -> None:
        self.clock.t += seconds

    @invariant()
    def rate_never_admits_more_than_5_in_10_s(self) -> None:
        for first in self.admitted:
            assert sum(1 for t in self.admitted if first <= t < first + 10) <= 5

    @invariant()
    def status_matches(self) -> None:
        budget = self.limits.status()[0]
        assert budget.spent == self.spent
        assert budget.reserved == self._reserved()
        assert budget.spent + budget.reserved <= self.BUDGET + self.late


ReserveSettleModel.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_reserve_settle_model = ReserveSettleModel.TestCase
