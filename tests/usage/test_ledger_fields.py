"""The service hands a ``UsageLedger`` each attempt as a tuple of ``UsageEvent`` fields; the
ledger must store exactly what it stores for the event itself, each field in its column."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelwire.catalog.pricing import to_nanos
from modelwire.service.model_service import ModelService
from modelwire.usage.events import UsageEvent
from modelwire.usage.ledger import UsageLedger
from modelwire.usage.rows import events_to_rows, to_us
from modelwire.usage.tables import CALL_COLUMNS
from tests.support.helpers import mock_registry

events = st.builds(
    UsageEvent,
    model_id=st.text(min_size=1, max_size=8),
    provider=st.text(min_size=1, max_size=8),
    status=st.sampled_from(["ok", "error", "cancelled"]),
    attempt=st.integers(1, 5),
    caller=st.none() | st.text(max_size=5),
    group=st.none() | st.text(max_size=5),
    error_type=st.none() | st.text(max_size=5),
    input_tokens=st.integers(0, 10**9),
    output_tokens=st.integers(0, 10**9),
    cache_read_tokens=st.integers(0, 10**6),
    cache_write_tokens=st.integers(0, 10**6),
    reasoning_tokens=st.integers(0, 10**6),
    cost_usd=st.none() | st.decimals(min_value=0, max_value=100, places=12, allow_nan=False),
    latency_ms=st.floats(0, 1e6),
    ttft_ms=st.none() | st.floats(0, 1e6),
    request_id=st.none() | st.text(max_size=8),
    stream=st.booleans(),
    prompt=st.none() | st.text(max_size=8),
    output=st.none() | st.text(max_size=8),
    timestamp=st.datetimes(
        min_value=datetime(1960, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )
    | st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(2100, 1, 1)),
)


def _fields(event: UsageEvent) -> tuple[Any, ...]:
    return tuple(getattr(event, f.name) for f in dataclasses.fields(UsageEvent))


@given(events, st.booleans())
def test_each_column_holds_its_field(event: UsageEvent, store_prompts: bool) -> None:
    (from_event,) = events_to_rows([event], store_prompts)
    (from_fields,) = events_to_rows([_fields(event)], store_prompts)
    assert from_fields == from_event
    row = dict(zip(CALL_COLUMNS, from_event, strict=True))
    renamed = {"group_name": "group", "cost_nanos": "cost_usd", "ts_us": "timestamp"}
    for column, value in row.items():
        field = renamed.get(column, column)
        expected = getattr(event, field)
        if column == "cost_nanos":
            expected = to_nanos(expected)
        elif column == "ts_us":
            expected = to_us(expected)
        elif column in ("prompt", "output") and not store_prompts:
            expected = None
        assert value == expected, column


def test_fields_rebuild_the_event() -> None:
    event = UsageEvent(model_id="m", provider="p", cost_usd=Decimal("0.1"), request_id="r")
    assert UsageEvent(*_fields(event)) == event


def test_failed_events_are_events_whatever_was_queued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with UsageLedger(tmp_path / "u.db") as ledger:
        event = UsageEvent(model_id="m", provider="p", timestamp=datetime.now(UTC) - timedelta(1))
        monkeypatch.setattr(ledger._writer, "failed_events", lambda: [_fields(event), event])
        assert ledger.failed_events() == [event, event]
        assert all(type(e) is UsageEvent for e in ledger.failed_events())


def test_service_rows_match_what_the_event_would_store(tmp_path: Path) -> None:
    registry = mock_registry("mock:mini")
    with UsageLedger(tmp_path / "u.db") as ledger:
        service = ModelService(registry, ledger=ledger, caller="t")
        response = service.invoke_model("mock:mini", "hello there")
        ledger.flush()
        (record,) = list(ledger.records())
    assert (record.model_id, record.caller, record.status) == ("mock:mini", "t", "ok")
    assert record.input_tokens == response.usage.input_tokens
    assert record.cost_usd == response.cost_usd
    assert record.request_id == response.request_id
