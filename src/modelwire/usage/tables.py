"""The ledger's SQLAlchemy Core tables (the current schema; migrations.py builds it step by step).

``usage_calls`` holds one row per attempt. ``ts_us`` is the attempt's UTC time in microseconds
since the Unix epoch (an exact, portable integer); ``cost_nanos`` is the cost in nano-dollars, or
NULL when the model's price was unknown.

``usage_daily`` is the rollup, one row per (UTC day, model, provider, caller, status), kept
current by the writer in the same transaction as the rows it summarises. ``caller`` is ``''`` in
the rollup when the rows' caller is NULL (a primary key cannot hold NULL). ``cost_nanos`` sums the
priced rows only and ``unpriced_calls`` counts the others.

This module imports SQLAlchemy: import it only when a ledger is opened.
"""

from __future__ import annotations

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
)

__all__ = [
    "CALLS",
    "CALL_COLUMNS",
    "DAILY",
    "DAILY_KEYS",
    "DAILY_SUMS",
    "ROLLUP_GROUPS",
    "SCHEMA_VERSION",
    "VERSION_TABLE",
    "metadata",
]

metadata = MetaData()

# SQLite makes an INTEGER PRIMARY KEY an alias of the rowid (fast appends); elsewhere a BIGINT.
_ID = BigInteger().with_variant(Integer(), "sqlite")

CALLS = Table(
    "usage_calls",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("ts_us", BigInteger, nullable=False),
    Column("model_id", String(255), nullable=False),
    Column("provider", String(100), nullable=False),
    Column("caller", String(255)),
    Column("group_name", String(255)),
    Column("attempt", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error_type", String(100)),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("cache_read_tokens", BigInteger, nullable=False),
    Column("cache_write_tokens", BigInteger, nullable=False),
    Column("reasoning_tokens", BigInteger, nullable=False),
    Column("cost_nanos", BigInteger),
    Column("latency_ms", Float, nullable=False),
    Column("ttft_ms", Float),
    Column("request_id", String(255)),
    Column("prompt", Text),
    Column("output", Text),
    # schema v2
    Column("stream", Boolean, nullable=False, server_default=false()),
    Index("ix_usage_calls_ts", "ts_us"),
)

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
)

VERSION_TABLE = Table(
    "usage_schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(255), nullable=False),
    Column("applied_us", BigInteger, nullable=False),
)

SCHEMA_VERSION = 2

# Columns the writer inserts, in order (the id is assigned by the database).
CALL_COLUMNS: tuple[str, ...] = (
    "ts_us",
    "model_id",
    "provider",
    "caller",
    "group_name",
    "attempt",
    "status",
    "error_type",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_nanos",
    "latency_ms",
    "ttft_ms",
    "request_id",
    "prompt",
    "output",
    "stream",
)

DAILY_KEYS: tuple[str, ...] = ("day", "model_id", "provider", "caller", "status")
DAILY_SUMS: tuple[str, ...] = (
    "calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
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
