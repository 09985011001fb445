"""UsageLedger against a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelwire.catalog.pricing import from_nanos, to_nanos
from modelwire.types import ModelCost
from modelwire.usage import store
from modelwire.usage.events import UsageEvent
from modelwire.usage.ledger import LedgerClosedError, UsageLedger
from modelwire.usage.reports import GROUP_KEYS, SUMMARY_FIELDS
from tests.support.ledger import T0, event, ledger_url

__all__ = ["ledger_url"]

TOKENS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cache_write_1h_tokens",
    "input_audio_tokens",
    "input_image_tokens",
    "output_audio_tokens",
    "output_image_tokens",
)


def expected_summary(events: list[UsageEvent], by: tuple[str, ...]) -> list[dict[str, Any]]:
    """The summary computed in plain Python from the events (the oracle)."""

    def key_of(e: UsageEvent) -> tuple[Any, ...]:
        ts = e.timestamp.astimezone(UTC)
        values = {
            "model": e.model_id,
            "provider": e.provider,
            "caller": e.caller,
            "group": e.group,
            "status": e.status,
            "run": e.run_id,
            "day": ts.date(),
            "hour": ts.replace(minute=0, second=0, microsecond=0),
        }
        return tuple(values[k] for k in by)

    acc: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: {"calls": 0, "errors": 0, **dict.fromkeys(TOKENS, 0), "nanos": 0, "unpriced": 0}
    )
    for e in events:
        a = acc[key_of(e)]
        a["calls"] += 1
        a["errors"] += e.status == "error"
        for t in TOKENS:
            a[t] += getattr(e, t)
        if e.cost_usd is None:
            a["unpriced"] += 1
        else:
            a["nanos"] += to_nanos(e.cost_usd)
    out = []
    for k, a in acc.items():
        row: dict[str, Any] = dict(zip(by, k, strict=True))
        row.update({"calls": a["calls"], "errors": a["errors"]})
        row.update({t: a[t] for t in TOKENS})
        row["cost_usd"] = None if a["unpriced"] == a["calls"] else from_nanos(a["nanos"])
        row["unpriced_calls"] = a["unpriced"]
        out.append(row)
    out.sort(key=lambda d: tuple((d[k] is None, d[k]) for k in by))
    return out


@pytest.fixture
def filled(ledger_url: str) -> Iterator[tuple[UsageLedger, list[UsageEvent]]]:
    events = [event(i) for i in range(300)]
    ledger = UsageLedger(ledger_url, batch_size=64, flush_interval_ms=5)
    for e in events:
        ledger.record(e)
    ledger.flush()
    yield ledger, events
    ledger.close()


def test_round_trip_every_field(ledger_url: str) -> None:
    e = event(
        1,
        cost_usd=Decimal("0.000123456789"),
        ttft_ms=12.5,
        stream=True,
        prompt="secret prompt",
        output="secret output",
    )
    with UsageLedger(ledger_url) as ledger:
        ledger.record(e)
        (r,) = list(ledger.records())
    assert r.timestamp == e.timestamp
    assert (r.model_id, r.provider, r.caller, r.group) == (
        e.model_id,
        e.provider,
        e.caller,
        e.group,
    )
    assert (r.attempt, r.status, r.error_type) == (e.attempt, e.status, e.error_type)
    assert [getattr(r, t) for t in TOKENS] == [getattr(e, t) for t in TOKENS]
    assert r.cost_usd == Decimal("0.000123457")  # nano-dollars, banker's rounding
    assert (r.latency_ms, r.ttft_ms, r.request_id, r.stream) == (e.latency_ms, 12.5, "req_1", True)
    assert r.prompt is None and r.output is None  # store_prompts is off


def test_prompts_stored_only_when_enabled(ledger_url: str) -> None:
    with UsageLedger(ledger_url, store_prompts=True) as ledger:
        ledger.record(event(0, prompt="the prompt", output="the answer"))
        (r,) = list(ledger.records())
    assert (r.prompt, r.output) == ("the prompt", "the answer")


def test_unknown_price_is_null_not_zero(ledger_url: str) -> None:
    with UsageLedger(ledger_url) as ledger:
        ledger.record(event(0, model_id="mock:free", cost_usd=Decimal(0)))
        ledger.record(event(1, model_id="mock:unknown", cost_usd=None))
        rows = {r.model_id: r for r in ledger.records()}
        summary = {s["model"]: s for s in ledger.summary(by=("model",))}
    assert rows["mock:free"].cost_usd == Decimal(0)
    assert rows["mock:unknown"].cost_usd is None
    assert summary["mock:free"]["cost_usd"] == Decimal(0)
    assert summary["mock:free"]["unpriced_calls"] == 0
    assert summary["mock:unknown"]["cost_usd"] is None
    assert summary["mock:unknown"]["unpriced_calls"] == 1


@pytest.mark.parametrize(
    "by",
    [
        (),
        ("model",),
        ("model", "day"),
        ("provider", "caller", "status"),
        ("day",),
        ("group",),
        ("hour",),
        ("model", "group", "hour"),
        ("caller", "day", "status", "provider", "model"),
    ],
)
def test_summary_matches_python_oracle(
    filled: tuple[UsageLedger, list[UsageEvent]], by: tuple[str, ...]
) -> None:
    ledger, events = filled
    got = ledger.summary(by=by)
    assert got == expected_summary(events, by)
    for row in got:
        assert list(row) == [*by, *SUMMARY_FIELDS]


@pytest.mark.parametrize("by", [("model",), ("model", "day"), ("caller", "status"), ("day",)])
def test_rollup_and_rows_agree(
    filled: tuple[UsageLedger, list[UsageEvent]], by: tuple[str, ...]
) -> None:
    ledger, _ = filled
    assert ledger.summary(by=by, source="rollup") == ledger.summary(by=by, source="rows")


def test_rollup_refuses_what_it_cannot_answer(
    filled: tuple[UsageLedger, list[UsageEvent]],
) -> None:
    ledger, _ = filled
    with pytest.raises(ValueError, match="rollup cannot answer"):
        ledger.summary(by=("group",), source="rollup")
    with pytest.raises(ValueError, match="rollup cannot answer"):
        ledger.summary(by=("model",), since=T0 + timedelta(hours=1), source="rollup")
    with pytest.raises(ValueError, match="cannot group by"):
        ledger.summary(by=("nope",))
    with pytest.raises(ValueError, match="rollup cannot answer"):
        ledger.summary(by=("run",), source="rollup")
    assert set(GROUP_KEYS) == {
        "model",
        "provider",
        "caller",
        "group",
        "day",
        "hour",
        "status",
        "run",
    }


def test_filters_and_bounds(filled: tuple[UsageLedger, list[UsageEvent]]) -> None:
    ledger, events = filled
    day2 = T0.date() + timedelta(days=2)
    since_dt = T0 + timedelta(hours=30)  # not day-aligned: served from rows
    until_dt = datetime.combine(day2 + timedelta(days=3), datetime.min.time(), UTC)
    cases: list[tuple[dict[str, Any], list[UsageEvent]]] = [
        ({"since": day2}, [e for e in events if e.timestamp.date() >= day2]),
        ({"since": since_dt}, [e for e in events if e.timestamp >= since_dt]),
        (
            {"since": day2.isoformat(), "until": until_dt},
            [e for e in events if day2 <= e.timestamp.date() and e.timestamp < until_dt],
        ),
        ({"caller": "web"}, [e for e in events if e.caller == "web"]),
        ({"model": "mock:beta"}, [e for e in events if e.model_id == "mock:beta"]),
    ]
    for kwargs, subset in cases:
        for by in (("model", "day"), ("group",)):
            assert ledger.summary(by=by, **kwargs) == expected_summary(subset, by), kwargs
    recs = list(ledger.records(since=since_dt, model="mock:beta", status="error"))
    want = [
        e
        for e in events
        if e.timestamp >= since_dt and e.model_id == "mock:beta" and e.status == "error"
    ]
    assert [r.request_id for r in recs] == [e.request_id for e in want]


def test_counts_used_in_some_rows_only(ledger_url: str) -> None:
    # Counts non-zero on one day, for one caller or one model only: each is summed where it
    # is and 0 in every other group, whatever the filters (a SQLite rollup reads back only the
    # counts non-zero in the rows a summary matches).
    events = [event(i, cache_write_tokens=0, reasoning_tokens=0) for i in range(90)]
    events += [
        event(200, input_audio_tokens=7, timestamp=T0 + timedelta(days=3)),
        event(201, output_image_tokens=11, caller="web", model_id="mock:beta", provider="mock"),
        event(202, cache_write_1h_tokens=5, model_id="other:gamma", timestamp=T0 + timedelta(1)),
        event(203, reasoning_tokens=3, input_image_tokens=2, output_audio_tokens=4, caller=None),
    ]
    day = T0.date()
    cases: list[tuple[dict[str, Any], list[UsageEvent]]] = [
        ({}, events),
        (
            {"since": day + timedelta(2)},
            [e for e in events if e.timestamp.date() >= day + timedelta(2)],
        ),
        (
            {"until": day + timedelta(1)},
            [e for e in events if e.timestamp.date() < day + timedelta(1)],
        ),
        ({"caller": "web"}, [e for e in events if e.caller == "web"]),
        ({"caller": "batch"}, [e for e in events if e.caller == "batch"]),
        ({"model": "other:gamma"}, [e for e in events if e.model_id == "other:gamma"]),
        ({"model": "nobody:here"}, []),
    ]
    with UsageLedger(ledger_url) as ledger:
        for e in events:
            ledger.record(e)
        for kwargs, subset in cases:
            for by in ((), ("model",), ("model", "day"), ("caller", "status")):
                got = ledger.summary(by=by, source="rollup", **kwargs)
                assert got == expected_summary(subset, by), (kwargs, by)
                assert got == ledger.summary(by=by, source="rows", **kwargs), (kwargs, by)
                for row in got:
                    assert list(row) == [*by, *SUMMARY_FIELDS]


def test_records_paging_and_order(filled: tuple[UsageLedger, list[UsageEvent]]) -> None:
    ledger, events = filled
    from modelwire.usage.reports import iter_records

    ids = [r.id for r in iter_records(ledger.engine, chunk=7)]
    assert ids == sorted(ids) and len(ids) == len(events)
    newest = [r.request_id for r in ledger.records(limit=5, newest_first=True)]
    assert newest == [e.request_id for e in events[::-1][:5]]


def test_relative_since_is_calendar_days(ledger_url: str) -> None:
    now = datetime.now(UTC)
    today = datetime.combine(now.date(), datetime.min.time(), UTC)
    with UsageLedger(ledger_url) as ledger:
        for ts in (today - timedelta(days=7), today - timedelta(days=6), now):
            ledger.record(event(0, model_id="mock:a", cost_usd=Decimal(1), timestamp=ts))
        rows = ledger.summary(by=("day",), since="7d")
    assert [r["day"] for r in rows] == [(today - timedelta(days=6)).date(), now.date()]


def test_reprice_updates_rows_and_rollup(ledger_url: str) -> None:
    prices: dict[str, ModelCost | None] = {
        "mock:alpha": ModelCost(input_per_mtok="1", output_per_mtok="2"),
        "mock:beta": None,
    }
    events = [event(i) for i in range(60)]
    with UsageLedger(ledger_url, prices=prices.get) as ledger:
        for e in events:
            ledger.record(e)
        changed = ledger.reprice(model="mock:alpha")
        alpha = list(ledger.records(model="mock:alpha"))
        ok = [r for r in alpha if r.status == "ok"]
        assert changed == len(ok) > 0
        for r in ok:  # every input token at $1/M (cache prices fall back to input), output $2/M
            assert r.cost_usd == Decimal(r.input_tokens + 2 * r.output_tokens) / 1_000_000
        original = {e.request_id: e.cost_usd for e in events}
        for r in alpha:
            if r.status != "ok":  # failed attempts keep what the service stored
                assert r.cost_usd == original[r.request_id]
        by = ("model", "day", "caller", "status")
        assert ledger.summary(by=by, source="rollup") == ledger.summary(by=by, source="rows")
        # Now beta becomes unpriced: its costs turn NULL and the rollup follows.
        assert ledger.reprice(model="mock:beta", since=T0) > 0
        beta = [r for r in ledger.records(model="mock:beta") if r.status == "ok"]
        assert beta and all(r.cost_usd is None for r in beta)
        (row,) = ledger.summary(by=("model",), model="mock:beta", since=T0.date())
        assert row["unpriced_calls"] >= len(beta)
        assert ledger.reprice(model="mock:beta") == 0  # idempotent
        assert ledger.reprice() > 0  # other:gamma has no price now either
        assert all(r.cost_usd is None for r in ledger.records(model="other:gamma", status="ok"))
        assert ledger.reprice() == 0  # a second pass finds nothing to change
        assert ledger.summary(by=by) == ledger.summary(by=by, source="rows")


def test_rebuild_rollup_restores_it(filled: tuple[UsageLedger, list[UsageEvent]]) -> None:
    ledger, _ = filled
    before = ledger.summary(by=("model", "day", "caller", "status", "provider"))
    with ledger.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM usage_daily")
    assert ledger.summary(by=("model",), source="rollup") == []
    assert ledger.rebuild_rollup() > 0
    assert ledger.summary(by=("model", "day", "caller", "status", "provider")) == before


def test_latency_max_in_rollup(ledger_url: str) -> None:
    with UsageLedger(ledger_url, batch_size=2) as ledger:
        for lat in (5.0, 50.0, 7.0, 3.0, 49.0):
            ledger.record(event(0, latency_ms=lat, timestamp=T0))
        ledger.flush()
        with ledger.engine.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT calls, latency_sum_ms, latency_max_ms FROM usage_daily"
            ).one()
    assert tuple(row) == (5, 114.0, 50.0)


def test_sync_mode_writes_before_returning(ledger_url: str) -> None:
    with UsageLedger(ledger_url, sync=True) as ledger:
        ledger.record(event(3))
        assert ledger.pending() == 0
        with ledger.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM usage_calls").scalar() == 1
    with pytest.raises(LedgerClosedError):
        ledger.record(event(4))


def test_close_drains_and_refuses_more(ledger_url: str) -> None:
    ledger = UsageLedger(ledger_url, flush_interval_ms=10_000, batch_size=10_000)
    for i in range(100):
        ledger.record(event(i))
    ledger.close()
    ledger.close()  # idempotent
    with pytest.raises(LedgerClosedError):
        ledger.record(event(0))
    with UsageLedger(ledger_url) as again:
        assert sum(1 for _ in again.records()) == 100


def test_threads_rows_equal_rollup(ledger_url: str) -> None:
    threads, per = 8, 1500
    with UsageLedger(ledger_url, batch_size=256, flush_interval_ms=2) as ledger:

        def produce(t: int) -> None:
            for i in range(per):
                ledger.record(event(t * per + i))

        workers = [threading.Thread(target=produce, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        by = ("model", "day", "caller", "status", "provider")
        rollup = ledger.summary(by=by, source="rollup")
        rows = ledger.summary(by=by, source="rows")
    assert rollup == rows
    assert sum(r["calls"] for r in rows) == threads * per
    assert rows == expected_summary([event(i) for i in range(threads * per)], by)


def test_summary_keys_are_typed(filled: tuple[UsageLedger, list[UsageEvent]]) -> None:
    ledger, _ = filled
    (row, *_) = ledger.summary(by=("day", "hour"))
    assert isinstance(row["day"], date)
    assert isinstance(row["hour"], datetime) and row["hour"].tzinfo is not None
    assert isinstance(row["cost_usd"], Decimal)


def test_reprice_defaults_to_the_bundled_catalog(ledger_url: str) -> None:
    from modelwire.catalog import load_catalog
    from modelwire.catalog.pricing import compute_cost
    from modelwire.types import Usage

    wrong = event(0, model_id="openai:gpt-4o-mini", provider="openai", status="ok")
    with UsageLedger(ledger_url) as ledger:
        ledger.record(wrong)
        assert ledger.reprice(model="openai:gpt-4o-mini") == 1
        (r,) = list(ledger.records())
    usage = Usage(
        input_tokens=wrong.input_tokens,
        output_tokens=wrong.output_tokens,
        cache_read_tokens=wrong.cache_read_tokens,
        cache_write_tokens=wrong.cache_write_tokens,
    )
    want = compute_cost(usage, load_catalog().price_for("openai:gpt-4o-mini"))
    assert want is not None and r.cost_usd == want != wrong.cost_usd


def test_bad_values_do_not_block_the_ledger(ledger_url: str) -> None:
    bad = [event(1, input_tokens=2**70, request_id="too-big")]
    if ledger_url.startswith("postgresql"):
        bad.append(event(2, prompt="nul\x00byte", request_id="nul"))
        bad.append(event(3, model_id="m:" + "x" * 300, request_id="too-long"))
    with UsageLedger(ledger_url, store_prompts=True, batch_size=8) as ledger:
        for i in range(30):
            ledger.record(event(i))
            if i == 12:
                for e in bad:
                    ledger.record(e)
        ledger.flush()
        stored = [r.request_id for r in ledger.records()]
        assert stored == [f"req_{i}" for i in range(30)]
        assert [e.request_id for e in ledger.failed_events()] == [e.request_id for e in bad]
        by = ("model", "day", "caller", "status")
        assert ledger.summary(by=by) == ledger.summary(by=by, source="rows")


_models = st.sampled_from(["mock:a", "mock:b", "other:c"])
# The counts most calls leave at 0 (a summary from a SQLite rollup reads back only the counts
# non-zero in some matched row).
_rare_count = st.just(0) | st.integers(0, 1000)
# Every field is given: builds() draws any field of a named tuple that it is not given.
_events = st.builds(
    UsageEvent,
    model_id=_models,
    provider=st.sampled_from(["mock", "other"]),
    status=st.sampled_from(["ok", "error"]),
    attempt=st.integers(1, 3),
    caller=st.sampled_from([None, "web", "batch"]),
    group=st.sampled_from([None, "smart"]),
    error_type=st.none() | st.just("RateLimitError"),
    input_tokens=st.integers(0, 10**7),
    output_tokens=st.integers(0, 10**6),
    cache_read_tokens=st.integers(0, 1000),
    cache_write_tokens=st.integers(0, 1000),
    reasoning_tokens=st.integers(0, 1000),
    cache_write_1h_tokens=_rare_count,
    input_audio_tokens=_rare_count,
    input_image_tokens=_rare_count,
    output_audio_tokens=_rare_count,
    output_image_tokens=_rare_count,
    cost_usd=st.none() | st.decimals(min_value=0, max_value=100, places=12),
    latency_ms=st.floats(0, 1e5),
    ttft_ms=st.none() | st.floats(0, 1e5),
    request_id=st.none() | st.just("req"),
    stream=st.booleans(),
    prompt=st.none(),
    output=st.none(),
    timestamp=st.datetimes(
        min_value=datetime(2025, 12, 30), max_value=datetime(2026, 1, 3), timezones=st.just(UTC)
    ),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    events=st.lists(_events, max_size=60),
    by=st.lists(st.sampled_from(GROUP_KEYS), unique=True, max_size=3),
    since=st.none() | st.dates(date(2025, 12, 29), date(2026, 1, 4)),
)
def test_summary_property(
    tmp_path_factory: pytest.TempPathFactory,
    events: list[UsageEvent],
    by: list[str],
    since: date | None,
) -> None:
    path = tmp_path_factory.mktemp("prop") / "u.db"
    with UsageLedger(path, batch_size=7, flush_interval_ms=1) as ledger:
        for e in events:
            ledger.record(e)
        got = ledger.summary(by=by, since=since)
        kept = [e for e in events if since is None or e.timestamp.date() >= since]
        assert got == expected_summary(kept, tuple(by))
        rollup_ok = set(by) <= {"model", "provider", "caller", "status", "day"}
        if rollup_ok:
            assert ledger.summary(by=by, since=since, source="rows") == got


def test_sqlite_nulls_and_bools_stored_as_before_through_registered_adapters(
    tmp_path: Path,
) -> None:
    # A SQLite ledger registers adapters for None and bool (binding them is then far cheaper);
    # the stored values must stay what sqlite3 stores for them without adapters.
    path = tmp_path / "usage.db"
    ledger = UsageLedger(path, sync=True)
    try:
        assert (type(None), sqlite3.PrepareProtocol) in sqlite3.adapters
        assert (bool, sqlite3.PrepareProtocol) in sqlite3.adapters
        ledger.record(event(stream=True, caller=None))
        ledger.record(event(stream=False, caller="c"))
    finally:
        ledger.close()
    with closing(sqlite3.connect(path)) as conn:
        stored = conn.execute(
            "SELECT stream, typeof(stream), caller, typeof(caller), typeof(tool_uses)"
            " FROM usage_calls ORDER BY id"
        ).fetchall()
    assert stored == [(1, "integer", None, "null", "null"), (0, "integer", "c", "text", "null")]


def test_sqlite_adapters_already_registered_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    def own(value: object) -> str:
        return "own"

    for kind in (type(None), bool):
        monkeypatch.setitem(sqlite3.adapters, (kind, sqlite3.PrepareProtocol), own)
    store.make_engine("sqlite://").dispose()
    assert sqlite3.adapters[(type(None), sqlite3.PrepareProtocol)] is own
    assert sqlite3.adapters[(bool, sqlite3.PrepareProtocol)] is own
