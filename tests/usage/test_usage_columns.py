"""One definition of the stored columns (``usage/columns.py``): the event's fields, the
``usage_calls`` table, the rows the writer inserts, the rollup's sums, ``UsageRecord`` and the
exports all agree with it, and the table's SQL is the one existing databases have."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from modelwire.catalog.pricing import to_nanos
from modelwire.cli.usage_cmd import export_fields
from modelwire.types import Usage
from modelwire.usage import columns as columns_module
from modelwire.usage.columns import (
    CALL_COLUMNS,
    COLUMNS,
    SUMMED_FIELDS,
    Conversion,
    StoredColumn,
)
from modelwire.usage.events import UsageEvent
from modelwire.usage.ledger import UsageLedger
from modelwire.usage.rows import (
    AGGREGATED_COLUMNS,
    RowMaker,
    UsageRecord,
    aggregate,
    day_of,
    delta_rows,
    events_to_rows,
    to_us,
)
from modelwire.usage.tables import CALLS, DAILY, DAILY_KEYS, DAILY_SUMS, calls_table
from tests.support.ledger import event, ledger_url

__all__ = ["ledger_url"]

# The usage_calls DDL of schema v4 as the migrations build it step by step and existing databases
# hold it: it changes only with a new migration.
SQLITE_DDL = (
    "\nCREATE TABLE usage_calls (\n\tid INTEGER NOT NULL, \n\tts_us BIGINT NOT NULL, \n\tmodel_id "
    "VARCHAR(255) NOT NULL, \n\tprovider VARCHAR(100) NOT NULL, \n\tcaller VARCHAR(255), \n\t"
    "group_name VARCHAR(255), \n\tattempt INTEGER NOT NULL, \n\tstatus VARCHAR(16) NOT NULL, \n\t"
    "error_type VARCHAR(100), \n\tinput_tokens BIGINT NOT NULL, \n\toutput_tokens BIGINT NOT "
    "NULL, \n\tcache_read_tokens BIGINT NOT NULL, \n\tcache_write_tokens BIGINT NOT NULL, \n\t"
    "reasoning_tokens BIGINT NOT NULL, \n\tcost_nanos BIGINT, \n\tlatency_ms FLOAT NOT NULL, \n\t"
    "ttft_ms FLOAT, \n\trequest_id VARCHAR(255), \n\tprompt TEXT, \n\toutput TEXT, \n\tstream "
    "BOOLEAN DEFAULT 0 NOT NULL, \n\trun_id VARCHAR(64), \n\tcache_write_1h_tokens BIGINT "
    "DEFAULT 0 NOT NULL, \n\tinput_audio_tokens BIGINT DEFAULT 0 NOT NULL, \n\t"
    "input_image_tokens BIGINT DEFAULT 0 NOT NULL, \n\toutput_audio_tokens BIGINT DEFAULT 0 NOT "
    "NULL, \n\toutput_image_tokens BIGINT DEFAULT 0 NOT NULL, \n\ttool_uses TEXT, \n\t"
    "iterations TEXT, \n\tPRIMARY KEY (id)\n)\n\n"
)
POSTGRES_DDL = SQLITE_DDL.replace("id INTEGER NOT NULL", "id BIGSERIAL NOT NULL").replace(
    "stream BOOLEAN DEFAULT 0", "stream BOOLEAN DEFAULT false"
)
INDEX_DDL = [
    "CREATE INDEX ix_usage_calls_ts ON usage_calls (ts_us)",
    "CREATE INDEX ix_usage_calls_run ON usage_calls (run_id)",
]

# Where each event field is stored, written out here independently of the definition: a column
# is named after its field except where the name says more (or SQL reserves the word).
RENAMED = {"timestamp": "ts_us", "group": "group_name", "cost_usd": "cost_nanos"}

_EARLY = datetime(1965, 7, 1, 8, 30, 0, 250, tzinfo=UTC) - timedelta(microseconds=1)


def _distinct_event() -> UsageEvent:
    """An event whose every field holds a value no other field holds."""
    return UsageEvent(
        model_id="vendor:model",
        provider="vendor",
        status="error",
        attempt=2,
        caller="caller",
        group="group",
        error_type="ErrorType",
        input_tokens=1001,
        output_tokens=1002,
        cache_read_tokens=1003,
        cache_write_tokens=1004,
        reasoning_tokens=1005,
        cost_usd=Decimal("0.000001006"),
        latency_ms=1007.5,
        ttft_ms=1008.5,
        request_id="request",
        stream=True,
        prompt="prompt",
        output="output",
        timestamp=datetime(2026, 3, 1, 12, 0, 0, 1009, tzinfo=UTC),
        run_id="run",
        cache_write_1h_tokens=1010,
        input_audio_tokens=1011,
        input_image_tokens=1012,
        output_audio_tokens=1013,
        output_image_tokens=1014,
        tool_uses={"web_search": 1015},
        iterations=(Usage(input_tokens=1016), Usage(output_tokens=1017, cache_write_1h_tokens=1)),
    )


def _stored(field: str, value: Any) -> Any:
    if field == "timestamp":
        return to_us(value)
    if field == "cost_usd":
        return to_nanos(value)
    if field == "tool_uses":
        return None if value is None else json.dumps(value, separators=(",", ":"))
    if field == "iterations":
        return (
            json.dumps(
                [{k: v for k, v in u.model_dump().items() if v and type(v) is int} for u in value],
                separators=(",", ":"),
            )
            if value
            else None
        )
    return value


def disagreements(columns: Sequence[StoredColumn]) -> list[str]:
    """What is wrong with ``columns`` as the definition of the stored event."""
    problems: list[str] = []
    fields = [c.field for c in columns]
    if sorted(fields) != sorted(UsageEvent._fields):
        problems.append(f"the event's fields are not each stored once: {fields}")
    table = calls_table(columns, MetaData())
    for name, dialect, expected in (
        ("sqlite", sqlite.dialect(), SQLITE_DDL),
        ("postgresql", postgresql.dialect(), POSTGRES_DDL),
    ):
        if str(CreateTable(table).compile(dialect=dialect)) != expected:
            problems.append(f"the {name} CREATE TABLE differs")
        if [
            str(CreateIndex(ix).compile(dialect=dialect))
            for ix in sorted(table.indexes, key=lambda i: i.name or "")
        ] != sorted(INDEX_DDL, key=lambda d: d.split()[2]):
            problems.append(f"the {name} index differs")
    event = _distinct_event()
    for store_prompts in (True, False):
        (row,) = RowMaker(columns).rows([event], store_prompts)
        stored = dict(zip([c.column for c in columns], row, strict=True))
        for field, value in event._asdict().items():
            column = RENAMED.get(field, field)
            if not store_prompts and field in ("prompt", "output"):
                value = None
            if stored.get(column, "missing") != _stored(field, value):
                problems.append(f"column {column} does not hold the field {field}")
    if [f.name for f in dataclasses.fields(UsageRecord)] != ["id", *fields]:
        problems.append("UsageRecord's fields are not the id and the stored fields in order")
    return problems


def test_the_definition_agrees_with_the_table_rows_and_records() -> None:
    assert disagreements(COLUMNS) == []
    assert tuple(c.name for c in CALLS.columns) == ("id", *CALL_COLUMNS)


def _swapped(i: int, j: int) -> list[StoredColumn]:
    out = list(COLUMNS)
    out[i], out[j] = out[j], out[i]
    return out


def _index(field: str) -> int:
    return [c.field for c in COLUMNS].index(field)


@pytest.mark.parametrize(
    "columns",
    [
        pytest.param(_swapped(_index("prompt"), _index("stream")), id="two columns swapped"),
        pytest.param(
            [
                dataclasses.replace(
                    c, field={"input_tokens": "output_tokens"}.get(c.field, c.field)
                )
                if c.field in ("input_tokens", "output_tokens")
                else c
                for c in COLUMNS
            ],
            id="a field stored twice",
        ),
        pytest.param(
            [
                dataclasses.replace(
                    c, field={"caller": "group", "group": "caller"}.get(c.field, c.field)
                )
                for c in COLUMNS
            ],
            id="two fields swapped",
        ),
        pytest.param(
            [dataclasses.replace(c, nullable=True) if c.field == "attempt" else c for c in COLUMNS],
            id="nullability changed",
        ),
        pytest.param(
            [dataclasses.replace(c, length=200) if c.field == "caller" else c for c in COLUMNS],
            id="a length changed",
        ),
        pytest.param(COLUMNS[:-1], id="a field not stored"),
    ],
)
def test_a_changed_definition_is_caught(columns: list[StoredColumn]) -> None:
    assert disagreements(columns)


def test_exports_are_the_records_fields_with_priced_after_the_cost() -> None:
    fields = export_fields()
    record = [f.name for f in dataclasses.fields(UsageRecord)]
    assert [f for f in fields if f != "priced"] == record
    assert fields[fields.index("cost_usd") + 1] == "priced"


def test_the_rollup_sums_the_summed_columns_under_their_names() -> None:
    summed = [c.field for c in COLUMNS if c.summed]
    assert summed == [
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
    ]
    assert list(DAILY_SUMS[1:11]) == summed
    # The rollup table holds each sum once (the columns added in v4 come last, after the
    # latency maximum of v2: the upsert names its columns).
    daily = [c.name for c in DAILY.columns]
    assert sorted(daily) == sorted({*DAILY_KEYS, *DAILY_SUMS, "latency_max_ms"})
    assert daily[-5:] == summed[5:]
    # A stored row is selected with each column aggregate reads in its place, NULL otherwise.
    for i, name in enumerate(AGGREGATED_COLUMNS):
        assert name in (CALL_COLUMNS[i], "NULL")
    assert "latency_ms" in AGGREGATED_COLUMNS and "prompt" not in AGGREGATED_COLUMNS
    assert set(summed) <= set(AGGREGATED_COLUMNS)


def test_aggregate_sums_each_count_by_name() -> None:
    extra = dict.fromkeys(SUMMED_FIELDS[5:], 0)
    events = [
        event(i, **{f: (i * (k + 2)) % (k + 3) for k, f in enumerate(extra)}) for i in range(200)
    ]
    assert all(sum(getattr(e, f) for e in events) for f in extra)
    counts = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    expected: dict[tuple[Any, ...], dict[str, Any]] = {}
    for e in events:
        key = (day_of(to_us(e.timestamp)), e.model_id, e.provider, e.caller or "", e.status)
        sums = expected.setdefault(key, dict.fromkeys((*DAILY_SUMS, "latency_max_ms"), 0))
        sums["calls"] += 1
        for f in (*counts, "reasoning_tokens", *SUMMED_FIELDS[5:]):
            sums[f] += getattr(e, f)
        if e.cost_usd is None:
            sums["unpriced_calls"] += 1
        else:
            sums["cost_nanos"] += to_nanos(e.cost_usd)
        sums["latency_sum_ms"] += e.latency_ms
        sums["latency_max_ms"] = max(sums["latency_max_ms"], e.latency_ms)
    rows = events_to_rows(events, False)
    got = {
        tuple(r[:5]): dict(zip((*DAILY_SUMS, "latency_max_ms"), r[5:], strict=True))
        for r in delta_rows(aggregate(rows))
    }
    assert got == expected  # latencies are halves: their float sums are exact
    # A stored row selected as AGGREGATED_COLUMNS aggregates like the inserted row.
    selected = [
        tuple(v if name != "NULL" else None for v, name in zip(r, AGGREGATED_COLUMNS, strict=False))
        for r in rows
    ]
    assert aggregate(selected) == aggregate(rows)


def test_a_definition_naming_an_unknown_or_repeated_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event fields"):
        columns_module._check((*COLUMNS, StoredColumn("colour", "text", True, "colour")))
    with pytest.raises(ValueError, match=r"stored twice \['caller'\]"):
        columns_module._check((*COLUMNS, StoredColumn("who", "text", True, "caller")))
    with pytest.raises(ValueError, match="exactly one UTC_MICROS column"):
        RowMaker([c for c in COLUMNS if c.conversion is not Conversion.UTC_MICROS])


def test_an_event_reads_back_field_for_field(ledger_url: str) -> None:
    sent = [_distinct_event(), event(5, prompt="p", output="o"), event(6, timestamp=_EARLY)]
    with UsageLedger(ledger_url, store_prompts=True) as ledger:
        for e in sent:
            ledger.record(e)
        records = list(ledger.records())
    assert [r.id for r in records] == sorted(r.id for r in records)
    for e, record in zip(sent, records, strict=True):
        back = dataclasses.asdict(record)
        assert back.pop("id") > 0
        assert back == e._asdict()


def test_records_without_stored_prompts_read_back_none(tmp_path: Path) -> None:
    with UsageLedger(tmp_path / "u.db") as ledger:
        ledger.record(_distinct_event())
        (record,) = ledger.records()
    assert (record.prompt, record.output, record.stream) == (None, None, True)
