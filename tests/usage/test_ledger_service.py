"""ModelService on the mock provider writing to a real ledger: every attempt, exactly once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelwire.errors import ModelwireError
from modelwire.service.model_service import ModelService
from modelwire.usage.events import InMemoryUsageSink, UsageEvent
from modelwire.usage.ledger import UsageLedger
from tests.support.helpers import mock_registry
from tests.support.ledger import ledger_url

__all__ = ["ledger_url"]

TEST_KEYS = ("sk-test-ledger-5ec7e7-0penai", "sk-ant-test-ledger-c0ffee")


class Tee:
    """Sends each event to the ledger and keeps a copy (the oracle)."""

    def __init__(self, ledger: UsageLedger) -> None:
        self.ledger = ledger
        self.copy = InMemoryUsageSink()

    def record(self, event: UsageEvent) -> None:
        self.copy.record(event)
        self.ledger.record(event)


def service_for(ledger: Any, **mock: Any) -> ModelService:
    registry = mock_registry("mock:mini", "mock:backup", **mock)
    registry.config = registry.config.model_copy(
        update={
            "retry": registry.config.retry.model_copy(
                update={"base_delay_s": 0.0, "max_delay_s": 0.0, "max_retry_after_s": 0.0}
            )
        }
    )
    return ModelService(registry, ledger=ledger, caller="load")


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[UsageLedger]:
    with UsageLedger(tmp_path / "u.db") as ledger:
        yield ledger


def row_and_rollup_sums(ledger: UsageLedger) -> tuple[tuple[int, ...], tuple[int, ...]]:
    tokens = "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens"
    with ledger.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT COUNT(*), {', '.join(f'SUM({t})' for t in tokens.split(', '))}, "
            "SUM(cost_nanos), SUM(CASE WHEN cost_nanos IS NULL THEN 1 ELSE 0 END) FROM usage_calls"
        ).one()
        rollup = conn.exec_driver_sql(
            f"SELECT SUM(calls), {', '.join(f'SUM({t})' for t in tokens.split(', '))}, "
            "SUM(cost_nanos), SUM(unpriced_calls) FROM usage_daily"
        ).one()
    return tuple(int(x or 0) for x in rows), tuple(int(x or 0) for x in rollup)


def test_16_threads_x_5000_calls_through_the_service(sqlite_ledger: UsageLedger) -> None:
    service = service_for(sqlite_ledger)
    threads, per = 16, 5000
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(per):
                service.invoke_model("mock:mini", f"thread {t} call {i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    sqlite_ledger.flush()
    rows, rollup = row_and_rollup_sums(sqlite_ledger)
    assert rows[0] == threads * per == 80_000
    assert rows == rollup
    by = ("model", "day", "caller", "status", "provider")
    assert sqlite_ledger.summary(by=by) == sqlite_ledger.summary(by=by, source="rows")


def test_every_attempt_is_stored_as_emitted(ledger_url: str) -> None:
    """Errors, retries and successes: the stored rows equal the events the service emitted."""
    with UsageLedger(ledger_url, batch_size=16) as ledger:
        tee = Tee(ledger)
        service = service_for(tee, error_rate=0.3, seed=7)
        failures = 0
        for i in range(150):
            try:
                service.invoke_model("mock:mini", f"call {i}")
            except ModelwireError:
                failures += 1
        events = list(service.stream_model("mock:backup", "stream me"))
        assert events[-1].done
        stored = list(ledger.records())
    assert failures > 0
    emitted = tee.copy.events
    assert len(stored) == len(emitted) > 150
    statuses = {r.status for r in stored}
    assert statuses == {"ok", "error"}
    assert any(r.attempt > 1 for r in stored)  # retries are rows of their own
    for r, e in zip(stored, emitted, strict=True):
        assert (r.model_id, r.status, r.attempt, r.error_type, r.request_id) == (
            e.model_id,
            e.status,
            e.attempt,
            e.error_type,
            e.request_id,
        )
        assert (r.input_tokens, r.output_tokens, r.cost_usd) == (
            e.input_tokens,
            e.output_tokens,
            e.cost_usd,
        )
        assert r.latency_ms == pytest.approx(e.latency_ms)
    streamed = stored[-1]
    assert streamed.stream and streamed.model_id == "mock:backup"


def test_no_api_key_in_any_stored_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets in provider configuration never reach the database; prompts only when enabled."""
    for store in (False, True):
        path = tmp_path / f"keys-{store}.db"
        with UsageLedger(path, store_prompts=store) as ledger:
            registry = mock_registry("mock:mini", api_key=TEST_KEYS[0])
            service = ModelService(registry, ledger=ledger, caller="sec", store_prompts=store)
            monkeypatch.setenv("OPENAI_API_KEY", TEST_KEYS[0])
            monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEYS[1])
            for i in range(20):
                service.invoke_model("mock:mini", f"please summarise document {i}")
            ledger.flush()
            prompts = [r.prompt for r in ledger.records()]
        raw = b"".join(p.read_bytes() for p in tmp_path.glob(f"keys-{store}.db*"))
        for key in TEST_KEYS:
            assert key.encode() not in raw
        if store:
            assert all(p and "please summarise document" in p for p in prompts)
            assert b"please summarise document" in raw
        else:
            assert prompts == [None] * 20
            assert b"please summarise document" not in raw
