"""The demo ledger: a simulated month through the real service and mock providers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from modelwire import InMemoryUsageSink
from modelwire.demo import CALLERS, MODEL_LATENCY_MS, build_demo_ledger, fill_demo_ledger

END = datetime(2026, 3, 15, 12, tzinfo=UTC)


def _fill(**options: object) -> InMemoryUsageSink:
    sink = InMemoryUsageSink()
    fill_demo_ledger(sink, end=END, **options)  # type: ignore[arg-type]
    return sink


def test_events_are_backdated_into_the_window() -> None:
    sink = _fill(days=10, calls_per_day=30)
    stamps = [e.timestamp for e in sink.events]
    assert min(stamps) >= END - timedelta(days=10)
    assert max(stamps) <= END + timedelta(minutes=5)
    assert len({t.date() for t in stamps}) >= 9  # spread over the days
    assert stamps == sorted(stamps)  # the simulated clock only moves forward


def test_traffic_shape_callers_models_failures_cache() -> None:
    sink = _fill(days=14, calls_per_day=60, seed=3)
    events = sink.events
    assert {e.caller for e in events} == {c.name for c in CALLERS}
    assert {e.model_id for e in events} == set(MODEL_LATENCY_MS)
    failed = [e for e in events if e.status == "error"]
    assert failed and all(not e.cost_usd for e in failed)  # nothing billed for a failure
    assert any(e.attempt > 1 for e in events)  # retries and failovers are separate rows
    assert any(e.group == "smart" for e in events)
    assert any(e.cache_read_tokens > 0 for e in events if e.caller == "rag-search")
    assert any(e.stream and e.ttft_ms is not None for e in events)
    ok = [e for e in events if e.status == "ok"]
    assert all(e.cost_usd is not None and e.cost_usd > 0 for e in ok)
    weekday = sum(1 for e in events if e.timestamp.weekday() < 5) / 10
    weekend = sum(1 for e in events if e.timestamp.weekday() >= 5) / 4
    assert weekday > 1.5 * weekend


def test_latencies_follow_the_model() -> None:
    events = [e for e in _fill(days=14, calls_per_day=60).events if e.status == "ok"]

    def median(model: str) -> float:
        values = sorted(e.latency_ms for e in events if e.model_id == model)
        return values[len(values) // 2]

    assert (
        median("google:gemini-2.5-flash")
        < median("openai:gpt-4o")
        < median("google:gemini-2.5-pro")
    )


def test_same_seed_same_month() -> None:
    def key(sink: InMemoryUsageSink) -> list[tuple[object, ...]]:
        return [(e.timestamp, e.model_id, e.caller, e.status, e.cost_usd) for e in sink.events]

    assert key(_fill(days=3, calls_per_day=20)) == key(_fill(days=3, calls_per_day=20))
    assert key(_fill(days=3, calls_per_day=20, seed=1)) != key(_fill(days=3, calls_per_day=20))


def test_build_demo_ledger_summary_matches_events() -> None:
    sink = _fill(days=5, calls_per_day=30)
    with build_demo_ledger(days=5, calls_per_day=30, end=END) as ledger:
        (total,) = ledger.summary(by=())
        assert total["calls"] == len(sink.events)
        assert total["errors"] == sum(e.status != "ok" for e in sink.events)
        assert total["cost_usd"] == sum(e.cost_usd for e in sink.events if e.cost_usd is not None)
        days = ledger.summary(by=("day",))
        assert len(days) >= 5
