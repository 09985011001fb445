"""Each field of a ``UsageEvent`` lands in its own column, whatever its value, and a service's
attempt is stored as its response says."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from modelwire.catalog.pricing import to_nanos
from modelwire.service.model_service import ModelService
from modelwire.types import Usage
from modelwire.usage.events import UsageEvent
from modelwire.usage.ledger import UsageLedger
from modelwire.usage.rows import (
    events_to_rows,
    iterations_from_json,
    to_us,
    tool_uses_from_json,
)
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
    cache_write_1h_tokens=st.integers(0, 10**6),
    input_audio_tokens=st.integers(0, 10**6),
    input_image_tokens=st.integers(0, 10**6),
    output_audio_tokens=st.integers(0, 10**6),
    output_image_tokens=st.integers(0, 10**6),
    tool_uses=st.none() | st.dictionaries(st.sampled_from(["web_search", "x"]), st.integers(0, 9)),
    iterations=st.lists(
        st.builds(Usage, input_tokens=st.integers(0, 10**6), output_tokens=st.integers(0, 10**6)),
        max_size=3,
    ).map(tuple),
)


@given(events, st.booleans())
def test_each_column_holds_its_field(event: UsageEvent, store_prompts: bool) -> None:
    (from_event,) = events_to_rows([event], store_prompts)
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
        elif column == "tool_uses":
            assert (value is None) == (not expected)
            expected = value and tool_uses_from_json(value)
            value = value and event.tool_uses
        elif column == "iterations":
            assert (value is None) == (not expected)
            assert iterations_from_json(value) == expected  # back to the very requests
            continue
        assert value == expected, column


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
