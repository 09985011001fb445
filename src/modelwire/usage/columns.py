"""The stored columns of a usage event, listed once.

``COLUMNS`` names, in the table's order, each ``usage_calls`` column that holds a field of a
``UsageEvent``: the column's name and SQL type, the event field it comes from and how the value is
converted on the way in. A read-back ``UsageRecord`` calls each value by its event field name (one
name per value on the Python side; a column's name differs only where it says something more:
``ts_us``, ``cost_nanos``, or where SQL reserves the word: ``group_name``).

Everything that lists these columns derives the list from here: the ``usage_calls`` table
(``tables.py``), the rows the writer inserts and the rollup's sums (``rows.py``), ``UsageRecord``
and the CSV/JSON exports. ``tests/usage/test_usage_columns.py`` checks that they agree.

Pure Python: no SQLAlchemy here (the service imports the usage package on every start).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from modelwire.usage.events import UsageEvent

__all__ = [
    "CALL_COLUMNS",
    "COLUMNS",
    "SUMMED_FIELDS",
    "Conversion",
    "SqlType",
    "StoredColumn",
    "column_of",
]

SqlType = Literal["bigint", "integer", "float", "string", "text", "boolean"]


class Conversion(Enum):
    """How an event field becomes its column's value (and back, for ``UsageRecord``)."""

    COPY = "copy"
    """Stored as it is."""
    UTC_MICROS = "utc_micros"
    """A ``datetime`` as integer microseconds since 1970-01-01 UTC (naive means UTC)."""
    NANO_DOLLARS = "nano_dollars"
    """A ``Decimal`` of US dollars as integer nano-dollars, banker's rounding; ``None`` (no known
    price) stays NULL."""
    IF_PROMPTS_STORED = "if_prompts_stored"
    """Stored as it is by a ledger with ``store_prompts=True``, NULL otherwise."""
    JSON = "json"
    """Compact JSON text; an empty value (no tool uses, one request) is NULL. ``tool_uses``:
    ``{"web_search": 2}``; ``iterations``: one object per request holding its non-zero
    ``Usage`` counts (``[{"input_tokens": 205000, "output_tokens": 3500}, ...]``)."""


@dataclass(frozen=True, slots=True)
class StoredColumn:
    """One ``usage_calls`` column and the event field it holds.

    ``length`` is the size of a ``string`` column. ``summed``: the column is a count summed
    under its own name into the daily rollup and into summaries. ``added_in`` is the schema
    version that added the column; a column added after the first has ``default_for_old_rows``
    (a boolean or an integer) as its server default (the value of the rows written before it
    existed).
    """

    column: str
    sql_type: SqlType
    nullable: bool
    field: str
    conversion: Conversion = Conversion.COPY
    length: int | None = None
    summed: bool = False
    added_in: int = 1
    default_for_old_rows: bool | int | None = None


def _count(name: str, added_in: int = 1) -> StoredColumn:
    old_rows = None if added_in == 1 else 0
    return StoredColumn(
        name, "bigint", False, name, summed=True, added_in=added_in, default_for_old_rows=old_rows
    )


COLUMNS: tuple[StoredColumn, ...] = (
    StoredColumn("ts_us", "bigint", False, "timestamp", Conversion.UTC_MICROS),
    StoredColumn("model_id", "string", False, "model_id", length=255),
    StoredColumn("provider", "string", False, "provider", length=100),
    StoredColumn("caller", "string", True, "caller", length=255),
    StoredColumn("group_name", "string", True, "group", length=255),
    StoredColumn("attempt", "integer", False, "attempt"),
    StoredColumn("status", "string", False, "status", length=16),
    StoredColumn("error_type", "string", True, "error_type", length=100),
    _count("input_tokens"),
    _count("output_tokens"),
    _count("cache_read_tokens"),
    _count("cache_write_tokens"),
    _count("reasoning_tokens"),
    StoredColumn("cost_nanos", "bigint", True, "cost_usd", Conversion.NANO_DOLLARS),
    StoredColumn("latency_ms", "float", False, "latency_ms"),
    StoredColumn("ttft_ms", "float", True, "ttft_ms"),
    StoredColumn("request_id", "string", True, "request_id", length=255),
    StoredColumn("prompt", "text", True, "prompt", Conversion.IF_PROMPTS_STORED),
    StoredColumn("output", "text", True, "output", Conversion.IF_PROMPTS_STORED),
    StoredColumn("stream", "boolean", False, "stream", added_in=2, default_for_old_rows=False),
    StoredColumn("run_id", "string", True, "run_id", length=64, added_in=3),
    _count("cache_write_1h_tokens", added_in=4),
    _count("input_audio_tokens", added_in=4),
    _count("input_image_tokens", added_in=4),
    _count("output_audio_tokens", added_in=4),
    _count("output_image_tokens", added_in=4),
    StoredColumn("tool_uses", "text", True, "tool_uses", Conversion.JSON, added_in=4),
    StoredColumn("iterations", "text", True, "iterations", Conversion.JSON, added_in=4),
)

#: The ``usage_calls`` columns the writer inserts, in order (the database assigns the id).
CALL_COLUMNS: tuple[str, ...] = tuple(c.column for c in COLUMNS)

#: The counts summed into the daily rollup and summaries, in order (column = field name).
SUMMED_FIELDS: tuple[str, ...] = tuple(c.field for c in COLUMNS if c.summed)

_BY_FIELD = {c.field: c for c in COLUMNS}


def column_of(field: str) -> str:
    """The ``usage_calls`` column that stores the event field ``field``."""
    return _BY_FIELD[field].column


def _check(columns: tuple[StoredColumn, ...]) -> None:
    fields = [c.field for c in columns]
    unknown = sorted(set(fields) - set(UsageEvent._fields))
    twice = sorted({f for f in fields if fields.count(f) > 1})
    if unknown or twice:
        raise ValueError(f"usage columns: unknown event fields {unknown}, stored twice {twice}")


_check(COLUMNS)
