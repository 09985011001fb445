"""The ledger's SQLAlchemy Core tables (the current schema; migrations.py builds it step by step).

``usage_calls`` holds one row per attempt: an id, then the columns of ``columns.COLUMNS`` (where
each comes from is said there). ``ts_us`` is the attempt's UTC time in microseconds since the Unix
epoch (an exact, portable integer); ``cost_nanos`` is the cost in nano-dollars, or NULL when the
model's price was unknown.

``usage_daily`` is the rollup, one row per (UTC day, model, provider, caller, status), kept
current by the writer in the same transaction as the rows it summarises. ``caller`` is ``''`` in
the rollup when the rows' caller is NULL (a primary key cannot hold NULL). ``cost_nanos`` sums the
priced rows only and ``unpriced_calls`` counts the others.

This module imports SQLAlchemy: import it only when a ledger is opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
    true,
)

from modelwire.usage.columns import CALL_COLUMNS, COLUMNS, SUMMED_FIELDS, StoredColumn

__all__ = [
    "CALLS",
    "CALL_COLUMNS",
    "DAILY",
    "DAILY_KEYS",
    "DAILY_SUMS",
    "ROLLUP_GROUPS",
    "SCHEMA_VERSION",
    "VERSION_TABLE",
    "calls_table",
    "metadata",
]

metadata = MetaData()

# SQLite makes an INTEGER PRIMARY KEY an alias of the rowid (fast appends); elsewhere a BIGINT.
_ID = BigInteger().with_variant(Integer(), "sqlite")

_SQL_TYPES: dict[str, Any] = {
    "bigint": BigInteger,
    "integer": Integer,
    "float": Float,
    "text": Text,
    "boolean": Boolean,
}


def _column(c: StoredColumn) -> Column[Any]:
    sql_type = String(c.length) if c.sql_type == "string" else _SQL_TYPES[c.sql_type]
    old_rows = c.default_for_old_rows
    default: Any
    if old_rows is None:
        default = None
    elif type(old_rows) is bool:
        default = true() if old_rows else false()
    else:
        default = text(str(old_rows))
    return Column(c.column, sql_type, nullable=c.nullable, server_default=default)


def calls_table(columns: Sequence[StoredColumn], into: MetaData) -> Table:
    """The ``usage_calls`` table holding ``columns`` (``columns.COLUMNS``): an id first, then
    those columns in their order, and the indexes on ``ts_us`` and ``run_id``."""
    return Table(
        "usage_calls",
        into,
        Column("id", _ID, primary_key=True, autoincrement=True),
        *(_column(c) for c in columns),
        Index("ix_usage_calls_ts", "ts_us"),
        *(Index("ix_usage_calls_run", "run_id") for c in columns if c.column == "run_id"),
    )


CALLS = calls_table(COLUMNS, metadata)

DAILY = Table(
    "usage_daily",
    metadata,
    Column("day", String(10), primary_key=True),  # 'YYYY-MM-DD', UTC
    Column("model_id", String(255), primary_key=True),
    Column("provider", String(100), primary_key=True),
    Column("caller", String(255), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("calls", BigInteger, nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("cache_read_tokens", BigInteger, nullable=False),
    Column("cache_write_tokens", BigInteger, nullable=False),
    Column("reasoning_tokens", BigInteger, nullable=False),
    Column("cost_nanos", BigInteger, nullable=False),
    Column("unpriced_calls", BigInteger, nullable=False),
    Column("latency_sum_ms", Float, nullable=False),
    # schema v2
    Column("latency_max_ms", Float, nullable=False, server_default=text("0")),
    # schema v4: the counts billed at their own prices (the summed columns added in v4)
    *(
        Column(c.column, BigInteger, nullable=False, server_default=text("0"))
        for c in COLUMNS
        if c.summed and c.added_in == 4
    ),
)

VERSION_TABLE = Table(
    "usage_schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(255), nullable=False),
    Column("applied_us", BigInteger, nullable=False),
)

SCHEMA_VERSION = 4

DAILY_KEYS: tuple[str, ...] = ("day", "model_id", "provider", "caller", "status")
#: The rollup's sums, in the order of ``rows.aggregate``'s deltas (the counts are the stored
#: columns marked ``summed``).
DAILY_SUMS: tuple[str, ...] = (
    "calls",
    *SUMMED_FIELDS,
    "cost_nanos",
    "unpriced_calls",
    "latency_sum_ms",
)

# Summary groupings the rollup can answer (summary key -> rollup column).
ROLLUP_GROUPS: dict[str, str] = {
    "model": "model_id",
    "provider": "provider",
    "caller": "caller",
    "status": "status",
    "day": "day",
}
