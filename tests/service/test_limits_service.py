"""Limits on the call path: reserve before each attempt, settle when it ends, in every call
style; refusals recorded; groups skip members whose limits are hit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import modelwire as mw
from modelwire.config.schema import Config
from modelwire.registry.model_registry import ModelRegistry
from modelwire.routing.group import ModelGroup
from modelwire.service.limiting import worst_case
from modelwire.service.model_service import ModelService
from modelwire.usage.ledger import UsageLedger
from modelwire.usage.limit_rules import Limit
from tests.support.helpers import mock_registry


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ModelService]:
    ledger = UsageLedger(tmp_path / "usage.db", sync=True)
    svc = ModelService(mock_registry("mock:a", "mock:b"), ledger)
    yield svc
    svc.close()


def _rows(svc: ModelService) -> list[tuple[str, str, str | None, str | None]]:
    ledger = svc.ledger
    assert isinstance(ledger, UsageLedger)
    with ledger.engine.connect() as conn:
        return [
            tuple(r)  # type: ignore[misc]
            for r in conn.exec_driver_sql(
                "SELECT model_id, status, error_type, group_name FROM usage_calls ORDER BY id"
            )
        ]


def _holds(svc: ModelService) -> int:
    ledger = svc.ledger
    assert isinstance(ledger, UsageLedger)
    with ledger.engine.connect() as conn:
        return int(
            conn.exec_driver_sql("SELECT COUNT(*) FROM limit_holds WHERE settled = 0").scalar() or 0
        )


def test_no_limits_means_no_reservation(service: ModelService) -> None:
    assert not service.limits.active
    service.invoke_model("mock:a", "hi")
    ledger = service.ledger
    assert isinstance(ledger, UsageLedger)
    with ledger.engine.connect() as conn:
        tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert "limit_holds" not in tables  # the limits' tables are not even created


def test_a_budget_stops_calls_before_they_are_sent(service: ModelService) -> None:
    service.limits.add(Limit.budget("0.0002/day", model="mock:a"))
    spent = Decimal(0)
    with pytest.raises(mw.BudgetExceededError) as caught:
        for _ in range(100):
            spent += service.invoke_model("mock:a", "hello there", max_tokens=50).cost_usd or 0
    err = caught.value
    assert "model=mock:a" in str(err) and err.spent == spent and err.reserved == 0
    (status,) = service.limits.status()
    assert status.spent == spent <= Decimal("0.0002")
    rows = _rows(service)
    assert rows[-1] == ("mock:a", "error", "BudgetExceededError", None)
    assert all(r[1] == "ok" for r in rows[:-1])
    assert service.invoke_model("mock:b", "other models are not limited").text
    assert _holds(service) == 0


def test_refusals_are_not_retried(service: ModelService) -> None:
    service.limits.add(Limit.requests(1, model="mock:a"))
    service.invoke_model("mock:a", "one")
    with pytest.raises(mw.RateLimitedError) as caught:
        service.invoke_model("mock:a", "two")
    assert 0 < caught.value.retry_after <= 61  # a minute, counted in 1-second buckets
    assert [r[1:3] for r in _rows(service)] == [("ok", None), ("error", "RateLimitedError")]


def test_wait_for_rate_waits_instead(service: ModelService) -> None:
    service.limits.add(Limit.requests(1, model="mock:a", window_s=0.05))
    service.invoke_model("mock:a", "one")
    assert service.invoke_model("mock:a", "two", wait_for_rate=True).text
    with pytest.raises(mw.RateLimitedError):  # waiting 0 s cannot help
        service.invoke_model("mock:a", "three", wait_for_rate=0)
    with pytest.raises(ValueError, match="wait_for_rate"):
        service.invoke_model("mock:a", "x", wait_for_rate="soon")


def test_streams_settle_when_done_and_when_abandoned(service: ModelService) -> None:
    service.limits.add(Limit.budget("1/day"))
    events = list(service.stream_model("mock:a", "a long story please", max_tokens=40))
    stream = service.stream_model("mock:a", "another long story please", max_tokens=40)
    next(stream)
    stream.close()  # the consumer leaves after the first piece
    (status,) = service.limits.status()
    assert status.spent == events[-1].cost_usd and status.reserved == 0
    assert [r[1] for r in _rows(service)] == ["ok", "cancelled"]
    assert _holds(service) == 0


def test_async_calls_and_cancellation_settle(service: ModelService) -> None:
    service.limits.add(Limit.budget("1/day"))

    async def main() -> Decimal | None:
        answer = await service.ainvoke_model("mock:a", "hi", max_tokens=20)
        events = [e async for e in service.astream_model("mock:a", "hi", max_tokens=20)]
        assert events[-1].done
        return answer.cost_usd

    cost = asyncio.run(main())
    assert cost is not None and service.limits.status()[0].spent > cost
    assert _holds(service) == 0


def test_a_cancelled_slow_call_gives_its_reservation_back(tmp_path: Path) -> None:
    registry = mock_registry("mock:slow", latency_ms=5_000)
    svc = ModelService(registry, UsageLedger(tmp_path / "u.db", sync=True))
    svc.limits.add(Limit.budget("1/day"))

    async def main() -> None:
        task = asyncio.create_task(svc.ainvoke_model("mock:slow", "hi", max_tokens=20))
        for _ in range(500):  # until the reservation is made and the call is under way
            await asyncio.sleep(0.01)
            if svc.limits.status()[0].reserved:
                break
        await asyncio.sleep(0.2)  # the provider is called
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        asyncio.run(main())
        (status,) = svc.limits.status()
        assert (status.spent, status.reserved) == (0, 0)
        assert [r[1] for r in _rows(svc)] == ["cancelled"]
    finally:
        svc.close()


def test_groups_skip_members_whose_limits_are_hit(service: ModelService) -> None:
    service.groups.add(ModelGroup("g", ("mock:a", "mock:b"), strategy="failover"))
    service.limits.add(Limit.requests(1, model="mock:a"))
    first = service.invoke_model("g", "one")
    assert first.model_id == "mock:a" and first.skipped == {}
    second = service.invoke_model("g", "two")
    assert second.model_id == "mock:b"
    assert "limit: rate 1 requests/min for model=mock:a" in second.skipped["mock:a"]
    assert [r[1:] for r in _rows(service)] == [
        ("ok", None, "g"),
        ("error", "RateLimitedError", "g"),
        ("ok", None, "g"),
    ]
    health = service.groups.health()["g"]
    assert "mock:a" in str(health)  # a refusal is not a failure of the member
    service.limits.add(Limit.requests(1, group="g", name="group-rate"))
    assert service.invoke_model("g", "three").model_id == "mock:b"
    with pytest.raises(mw.RateLimitedError):
        service.invoke_model("g", "four")  # every member refused: the refusal itself


def test_limits_from_configuration(tmp_path: Path) -> None:
    config = Config.model_validate(
        {
            "providers": {"mock": {"type": "mock"}},
            "usage": {"database": str(tmp_path / "u.db"), "reservation_lease_s": 30},
            "limits": {
                "timezone": "Europe/Berlin",
                "rules": [{"requests_per_minute": 1, "caller": "alice"}],
            },
        }
    )
    registry = ModelRegistry(config=config)
    svc = ModelService(registry, UsageLedger(tmp_path / "u.db", sync=True))
    try:
        assert svc.limits.lease_s == 30 and svc.limits.timezone == "Europe/Berlin"
        svc.invoke_model("mock:mock-fast", "one", caller="alice")
        svc.invoke_model("mock:mock-fast", "one", caller="bob")
        with pytest.raises(mw.RateLimitedError, match="caller=alice"):
            svc.invoke_model("mock:mock-fast", "two", caller="alice")
    finally:
        svc.close()


def test_worst_case_uses_max_tokens_or_the_models_limit() -> None:
    registry = mock_registry("mock:a")
    model = registry.get_model("mock:a")
    request = ModelService.build_request("hello", {"max_tokens": 100})
    cost, tokens = worst_case(model, request)
    assert tokens > 100 and cost == (Decimal("0.15") * (tokens - 100) + Decimal("60")) / 10**6


def test_limits_need_a_ledger() -> None:
    svc = ModelService(mock_registry("mock:a"), None, limits=[Limit.requests(5)])
    with pytest.raises(mw.ModelwireError, match="ledger"):
        svc.invoke_model("mock:a", "hi")


UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"


def test_an_unreachable_limits_database_refuses_by_default(service: ModelService) -> None:
    from modelwire.usage.limits import Limits
    from modelwire.usage.store import make_engine

    service.limits = Limits(make_engine(UNREACHABLE), [Limit.requests(5)])
    service._recorder.limits = service.limits
    with pytest.raises(mw.LimitsUnavailableError, match="unreachable") as caught:
        service.invoke_model("mock:a", "hi")
    assert "127.0.0.1" in str(caught.value) or "connection" in str(caught.value).lower()
    assert _rows(service) == [("mock:a", "error", "LimitsUnavailableError", None)]


def test_an_unreachable_limits_database_lets_calls_through_when_open(
    service: ModelService, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from modelwire.usage.limits import Limits
    from modelwire.usage.store import make_engine

    limits = Limits(make_engine(UNREACHABLE), [Limit.requests(5)], on_database_error="open")
    svc = ModelService(service.registry, service.ledger, limits=limits)
    with caplog.at_level(logging.WARNING, "modelwire.usage"):
        assert svc.invoke_model("mock:a", "hi").text
    assert limits.stats()["failed_open"] == 1 and "UNCHECKED" in caplog.text
    assert [r[1] for r in _rows(service)] == ["ok"]


def test_concurrent_async_calls_never_pass_a_budget(service: ModelService) -> None:
    budget = Decimal("0.0005")
    service.limits.add(Limit.budget(budget, "total"))

    async def one(i: int) -> Decimal:
        try:
            answer = await service.ainvoke_model("mock:a", f"question {i}", max_tokens=60)
        except mw.BudgetExceededError:
            return Decimal(0)
        return answer.cost_usd or Decimal(0)

    async def main() -> list[Decimal]:
        return list(await asyncio.gather(*(one(i) for i in range(60))))

    costs = asyncio.run(main())
    (status,) = service.limits.status()
    assert status.spent == sum(costs) <= budget
    assert status.reserved == 0 and 0 < sum(1 for c in costs if c) < 60


def test_limits_on_an_in_memory_ledger_hold_under_threads() -> None:
    """``sqlite://`` is one connection shared by every thread, the ledger's writer included;
    the ledger lends it to one thread at a time, so limits settle every call."""
    config = Config.model_validate(
        {
            "providers": {"mock": {"type": "mock"}},
            "limits": {"rules": [{"budget": "50/month"}, {"requests_per_minute": 100_000}]},
        }
    )
    svc = ModelService(ModelRegistry(config=config), UsageLedger("sqlite://"))
    errors: list[BaseException] = []

    def calls() -> None:
        for _ in range(40):
            try:
                svc.invoke_model("mock:gpt-4o-mini", "hi")  # priced
            except Exception as exc:
                errors.append(exc)

    try:
        threads = [threading.Thread(target=calls) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        svc.ledger.flush()
        assert len(_rows(svc)) == 160
        assert _holds(svc) == 0
        ledger = svc.ledger
        assert isinstance(ledger, UsageLedger)
        with ledger.engine.connect() as conn:
            nanos = conn.exec_driver_sql("SELECT SUM(cost_nanos) FROM usage_calls").scalar()
        (budget,) = [s for s in svc.limits.status() if s.limit.is_budget]
        assert (budget.spent, budget.reserved) == (Decimal(nanos) / 10**9, 0)
        assert budget.spent > 0
    finally:
        svc.close()
