"""Versioned schema migrations: an ordered list, applied on open inside one locked transaction.

``usage_schema_version`` holds one row per applied version. Opening a ledger applies every
missing step in order; a database newer than this code is refused rather than guessed at.

- v1: ``usage_calls`` (one row per attempt), ``usage_daily`` (rollup with latency sum), index on
  ``usage_calls.ts_us``.
- v2: ``usage_calls.stream`` (was the attempt streamed) and ``usage_daily.latency_max_ms``,
  backfilled from the stored rows.
- v3: ``usage_calls.run_id`` and its index.
- v4: the counts billed at their own prices, in both tables (``cache_write_1h_tokens``,
  ``input_audio_tokens``, ``input_image_tokens``, ``output_audio_tokens``,
  ``output_image_tokens``; 0 for older rows), and on ``usage_calls`` the JSON text columns
  ``tool_uses`` and ``iterations`` (NULL for older rows).

A package above the ledger that keeps tables of its own in the ledger's database (the gateway's
virtual keys) runs its own list of steps through ``migrate`` with its own version table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from modelwire.errors import LedgerSchemaError
from modelwire.usage.rows import day_of

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Engine

__all__ = ["MIGRATIONS", "LedgerSchemaError", "current_version", "migrate"]

_PG_LOCK_KEY = 0x6D77_6C65  # "mwle": advisory lock id for migrations


def _v1(conn: Connection) -> None:
    from sqlalchemy import (
        BigInteger,
        Column,
        Float,
        Index,
        Integer,
        MetaData,
        String,
        Table,
        Text,
    )

    md = MetaData()
    ident = BigInteger().with_variant(Integer(), "sqlite")
    Table(
        "usage_calls",
        md,
        Column("id", ident, primary_key=True, autoincrement=True),
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
        Index("ix_usage_calls_ts", "ts_us"),
    )
    Table(
        "usage_daily",
        md,
        Column("day", String(10), primary_key=True),
        Column("model_id", String(255), primary_key=True),
        Column("provider", String(100), primary_key=True),
        Column("caller", String(255), primary_key=True),
        Column("status", String(16), primary_key=True),
        *(
            Column(c, BigInteger, nullable=False)
            for c in (
                "calls",
                "input_tokens",
                "output_tokens",
                "cache_read_tokens",
                "cache_write_tokens",
                "reasoning_tokens",
                "cost_nanos",
                "unpriced_calls",
            )
        ),
        Column("latency_sum_ms", Float, nullable=False),
    )
    md.create_all(conn)


def _v2(conn: Connection) -> None:
    false = "0" if conn.dialect.name == "sqlite" else "false"
    conn.exec_driver_sql(
        f"ALTER TABLE usage_calls ADD COLUMN stream BOOLEAN NOT NULL DEFAULT {false}"
    )
    conn.exec_driver_sql(
        "ALTER TABLE usage_daily ADD COLUMN latency_max_ms FLOAT NOT NULL DEFAULT 0"
    )
    # Backfill the maximum from the rows, streaming them in id order.
    maxima: dict[tuple[str, str, str, str, str], float] = {}
    result = conn.exec_driver_sql(
        "SELECT ts_us, model_id, provider, caller, status, latency_ms FROM usage_calls"
    )
    for ts_us, model_id, provider, caller, status, lat in result:
        k = (day_of(int(ts_us)), model_id, provider, caller or "", status)
        if lat > maxima.get(k, 0.0):
            maxima[k] = float(lat)
    if maxima:
        from sqlalchemy import bindparam, update

        from modelwire.usage.tables import DAILY

        stmt = (
            update(DAILY)
            .where(
                DAILY.c.day == bindparam("k_day"),
                DAILY.c.model_id == bindparam("k_model"),
                DAILY.c.provider == bindparam("k_provider"),
                DAILY.c.caller == bindparam("k_caller"),
                DAILY.c.status == bindparam("k_status"),
            )
            .values(latency_max_ms=bindparam("k_max"))
        )
        conn.execute(
            stmt,
            [
                {
                    "k_day": k[0],
                    "k_model": k[1],
                    "k_provider": k[2],
                    "k_caller": k[3],
                    "k_status": k[4],
                    "k_max": v,
                }
                for k, v in maxima.items()
            ],
        )


def _v3(conn: Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE usage_calls ADD COLUMN run_id VARCHAR(64)")
    conn.exec_driver_sql("CREATE INDEX ix_usage_calls_run ON usage_calls (run_id)")


#: The counts schema v4 adds to both tables (0 for the rows and days before it).
V4_COUNTS = (
    "cache_write_1h_tokens",
    "input_audio_tokens",
    "input_image_tokens",
    "output_audio_tokens",
    "output_image_tokens",
)


def _v4(conn: Connection) -> None:
    for table in ("usage_calls", "usage_daily"):
        for name in V4_COUNTS:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} BIGINT NOT NULL DEFAULT 0")
    conn.exec_driver_sql("ALTER TABLE usage_calls ADD COLUMN tool_uses TEXT")
    conn.exec_driver_sql("ALTER TABLE usage_calls ADD COLUMN iterations TEXT")


Migration = tuple[int, str, Callable[["Connection"], None]]

MIGRATIONS: list[Migration] = [
    (1, "usage_calls, usage_daily rollup, index on ts_us", _v1),
    (2, "usage_calls.stream, usage_daily.latency_max_ms (backfilled)", _v2),
    (3, "usage_calls.run_id (the run of run_tools or an output retried) and its index", _v3),
    (
        4,
        "1-hour cache writes, audio and image tokens (both tables), tool uses and iterations",
        _v4,
    ),
]


def current_version(conn: Connection, table: str = "usage_schema_version") -> int:
    """The highest applied version recorded in ``table`` (0 for an empty database)."""
    from sqlalchemy import inspect

    if not inspect(conn).has_table(table):
        return 0
    v = conn.exec_driver_sql(f"SELECT MAX(version) FROM {table}").scalar()
    return int(v or 0)


def migrate(
    engine: Engine,
    target: int | None = None,
    *,
    migrations: Sequence[Migration] = MIGRATIONS,
    version_table: Table | None = None,
) -> int:
    """Apply the missing migrations up to ``target`` (default: all); return the version reached.

    ``migrations`` and ``version_table`` (its columns those of ``usage_schema_version``) run
    another list of steps, recorded in its own table, under the same lock.
    """
    from modelwire.usage.tables import VERSION_TABLE

    table = VERSION_TABLE if version_table is None else version_table
    steps = migrations if target is None else [m for m in migrations if m[0] <= target]
    latest = migrations[-1][0]
    with engine.connect() as raw:
        conn = raw.execution_options(modelwire_begin="IMMEDIATE")
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
            version = current_version(conn, table.name)
            if version > latest:
                raise LedgerSchemaError(
                    f"the usage database has schema version {version}; this modelwire knows "
                    f"up to {latest} (upgrade modelwire)"
                )
            if version == 0:
                table.create(conn, checkfirst=True)
            for number, description, step in steps:
                if number <= version:
                    continue
                step(conn)
                row: dict[str, Any] = {
                    "version": number,
                    "description": description,
                    "applied_us": time.time_ns() // 1000,
                }
                conn.execute(table.insert(), row)
                version = number
    return version
