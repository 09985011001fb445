"""Schema migrations, file permissions and SQLite settings."""

from __future__ import annotations

import os
import stat
import sys
import threading
from pathlib import Path

import pytest

from modelwire.usage.ledger import UsageLedger
from modelwire.usage.migrations import MIGRATIONS, LedgerSchemaError, migrate
from modelwire.usage.store import default_url, make_engine
from modelwire.usage.tables import SCHEMA_VERSION
from tests.support.ledger import T0, event, ledger_url, make_url

__all__ = ["ledger_url"]

V1_ROW = (
    "INSERT INTO usage_calls (ts_us, model_id, provider, caller, group_name, attempt, status, "
    "error_type, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
    "reasoning_tokens, cost_nanos, latency_ms, ttft_ms, request_id, prompt, output) VALUES "
    "({ts}, 'mock:a', 'mock', {caller}, NULL, 1, 'ok', NULL, 100, 10, 0, 0, 0, {cost}, {lat}, "
    "NULL, 'r', NULL, NULL)"
)
V1_DAILY = (
    "INSERT INTO usage_daily (day, model_id, provider, caller, status, calls, input_tokens, "
    "output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, "
    "unpriced_calls, latency_sum_ms) VALUES "
    "('{day}', 'mock:a', 'mock', '{caller}', 'ok', {calls}, {tin}, {tout}, 0, 0, 0, {cost}, "
    "{unpriced}, {lat})"
)


def test_migrations_are_ordered_and_complete() -> None:
    numbers = [m[0] for m in MIGRATIONS]
    assert numbers == list(range(1, len(MIGRATIONS) + 1))
    assert numbers[-1] == SCHEMA_VERSION


def test_v1_database_is_upgraded(ledger_url: str) -> None:
    engine = make_engine(ledger_url)
    assert migrate(engine, target=1) == 1
    day = T0.date().isoformat()
    ts = int(T0.timestamp() * 1_000_000)
    with engine.begin() as conn:
        for caller, cost, lat in (
            ("'web'", 1000, 5.0),
            ("'web'", 3000, 40.0),
            ("NULL", "NULL", 9.0),
        ):
            conn.exec_driver_sql(V1_ROW.format(ts=ts, caller=caller, cost=cost, lat=lat))
        conn.exec_driver_sql(
            V1_DAILY.format(
                day=day, caller="web", calls=2, tin=200, tout=20, cost=4000, unpriced=0, lat=45.0
            )
        )
        conn.exec_driver_sql(
            V1_DAILY.format(
                day=day, caller="", calls=1, tin=100, tout=10, cost=0, unpriced=1, lat=9.0
            )
        )
        cols = conn.exec_driver_sql("SELECT * FROM usage_daily").keys()
        assert "latency_max_ms" not in cols
    engine.dispose()

    with UsageLedger(ledger_url) as ledger:
        assert ledger.schema_version == SCHEMA_VERSION
        records = list(ledger.records())
        assert [r.stream for r in records] == [False, False, False]
        with ledger.engine.connect() as conn:
            maxima = dict(
                conn.exec_driver_sql("SELECT caller, latency_max_ms FROM usage_daily").all()
            )
            versions = [
                v for (v,) in conn.exec_driver_sql("SELECT version FROM usage_schema_version")
            ]
        assert maxima == {"web": 40.0, "": 9.0}  # backfilled from the rows
        assert sorted(versions) == list(range(1, SCHEMA_VERSION + 1))
        # The upgraded database keeps working: new rows, summaries from either source.
        ledger.record(event(0, model_id="mock:a", provider="mock", caller="web", timestamp=T0))
        by = ("model", "day", "caller")
        assert ledger.summary(by=by) == ledger.summary(by=by, source="rows")
        web = ledger.summary(by=("caller",), caller="web")[0]
        assert web["calls"] == 3


V3_ROW = (
    "INSERT INTO usage_calls (ts_us, model_id, provider, caller, group_name, attempt, status, "
    "error_type, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
    "reasoning_tokens, cost_nanos, latency_ms, ttft_ms, request_id, prompt, output, stream, "
    "run_id) VALUES ({ts}, 'mock:a', 'mock', 'web', NULL, 1, 'ok', NULL, 1000, 100, 0, 0, 0, "
    "{cost}, 5.0, NULL, 'r', NULL, NULL, {stream}, 'run-1')"
)


def test_v3_database_is_upgraded_with_the_billed_counts(ledger_url: str) -> None:
    engine = make_engine(ledger_url)
    assert migrate(engine, target=3) == 3
    day = T0.date().isoformat()
    ts = int(T0.timestamp() * 1_000_000)
    false = "0" if engine.dialect.name == "sqlite" else "false"
    with engine.begin() as conn:
        conn.exec_driver_sql(V3_ROW.format(ts=ts, cost=4000, stream=false))
        conn.exec_driver_sql(
            V1_DAILY.format(
                day=day, caller="web", calls=1, tin=1000, tout=100, cost=4000, unpriced=0, lat=5.0
            )
        )
        assert "tool_uses" not in list(conn.exec_driver_sql("SELECT * FROM usage_calls").keys())
    engine.dispose()

    billed = {
        "cache_write_1h_tokens": 7,
        "input_audio_tokens": 11,
        "input_image_tokens": 13,
        "output_audio_tokens": 17,
        "output_image_tokens": 19,
    }
    with UsageLedger(ledger_url) as ledger:
        assert ledger.schema_version == SCHEMA_VERSION == 4
        (old,) = ledger.records()
        assert (old.tool_uses, old.iterations, old.run_id) == (None, (), "run-1")
        assert all(getattr(old, name) == 0 for name in billed)
        ledger.record(
            event(
                0,
                model_id="mock:a",
                provider="mock",
                caller="web",
                status="ok",
                timestamp=T0,
                tool_uses={"web_search": 2},
                **billed,
            )
        )
        ledger.flush()
        new = list(ledger.records())[-1]
        assert new.tool_uses == {"web_search": 2}
        assert {name: getattr(new, name) for name in billed} == billed
        by = ("model", "day", "caller")
        assert ledger.summary(by=by) == ledger.summary(by=by, source="rows")
        (web,) = ledger.summary(by=("caller",), caller="web")
        assert web["calls"] == 2
        assert {name: web[name] for name in billed} == billed  # the old row counts 0
        with ledger.engine.connect() as conn:
            daily = conn.exec_driver_sql(
                "SELECT calls, cache_write_1h_tokens, output_image_tokens FROM usage_daily"
            ).all()
        assert [tuple(r) for r in daily] == [(2, 7, 19)]


def test_newer_schema_is_refused(ledger_url: str) -> None:
    UsageLedger(ledger_url).close()
    engine = make_engine(ledger_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO usage_schema_version (version, description, applied_us) "
            "VALUES (99, 'from the future', 0)"
        )
    engine.dispose()
    with pytest.raises(LedgerSchemaError, match="schema version 99"):
        UsageLedger(ledger_url)


def test_reopen_is_a_no_op(ledger_url: str) -> None:
    with UsageLedger(ledger_url) as ledger:
        ledger.record(event(1))
    with UsageLedger(ledger_url) as ledger:
        assert ledger.schema_version == SCHEMA_VERSION
        assert len(list(ledger.records())) == 1


def test_concurrent_first_opens_migrate_once(ledger_url: str) -> None:
    errors: list[BaseException] = []
    ledgers: list[UsageLedger] = []
    barrier = threading.Barrier(4)

    def open_one() -> None:
        barrier.wait()
        try:
            ledgers.append(UsageLedger(ledger_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with ledgers[0].engine.connect() as conn:
        versions = sorted(
            v for (v,) in conn.exec_driver_sql("SELECT version FROM usage_schema_version")
        )
    for ledger in ledgers:
        ledger.close()
    assert versions == list(range(1, SCHEMA_VERSION + 1))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_sqlite_file_is_private_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "usage.db"
    with UsageLedger(path) as ledger:
        ledger.record(event(0))
        ledger.flush()
        with ledger.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) & 0o077 == 0


def test_default_url_is_in_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    url = default_url()
    assert url == f"sqlite:///{tmp_path / 'xdg' / 'modelwire' / 'usage.db'}"
    with UsageLedger() as ledger:
        assert ledger.url == url
        ledger.record(event(0))
    assert (tmp_path / "xdg" / "modelwire" / "usage.db").exists()


@pytest.mark.postgres
def test_repr_and_url_hide_the_password(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = make_url("postgres", tmp_path, request)  # trust auth: any password is accepted
    url = url.replace("postgres@", "postgres:hunter2-secret@", 1)
    with UsageLedger(url) as ledger:
        ledger.record(event(0))
        assert "hunter2-secret" not in repr(ledger)
        assert "hunter2-secret" not in ledger.url
        assert "***" in ledger.url
