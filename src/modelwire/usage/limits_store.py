"""The limits' tables in the ledger's database, and the statements that reserve and settle.

Two tables, migrated through the ledger's migration lock with their own version table
(``limits_schema_version``):

- ``limit_counters``: per (limit, calendar window) what settled attempts spent (nano-dollars),
  their tokens and their number; one row per budget window, never a scan of the usage rows.
- ``limit_holds``: one row per (reservation, limit). A budget's hold counts as reserved until
  it is settled (deleted, its actual cost added to the counter) or its lease expires. A rate's
  hold is the admission itself: it counts while it is younger than the rate's window, settled
  or not (a request that was let through was sent), its amount being 1 request or the tokens
  (the estimate, replaced by the actual count when settled).

Every reservation runs in one short transaction: SQLite ``BEGIN IMMEDIATE`` (one writer at a
time for the whole file); PostgreSQL a transaction-scoped advisory lock per limit, taken in the
limits' key order (so two reservations never deadlock), released at commit. No lock is held
while a provider is called.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table

from modelwire.usage import migrations

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = ["MIGRATIONS", "VERSION_TABLE", "LimitSql", "sql_for"]

metadata = MetaData()

VERSION_TABLE = Table(
    "limits_schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(255), nullable=False),
    Column("applied_us", BigInteger, nullable=False),
)


def _v1(conn: Connection) -> None:
    md = MetaData()
    Table(
        "limit_counters",
        md,
        Column("limit_key", String(32), primary_key=True),
        Column("window_start_us", BigInteger, primary_key=True),
        Column("spent_nanos", BigInteger, nullable=False),
        Column("tokens", BigInteger, nullable=False),
        Column("requests", BigInteger, nullable=False),
    )
    Table(
        "limit_holds",
        md,
        Column("reservation", String(32), primary_key=True),
        Column("limit_key", String(32), primary_key=True),
        Column("window_start_us", BigInteger, nullable=False),
        Column("created_us", BigInteger, nullable=False),
        Column("expires_us", BigInteger, nullable=False),
        Column("amount", BigInteger, nullable=False),
        Column("settled", Integer, nullable=False),
        Index("ix_limit_holds_window", "limit_key", "window_start_us"),
        Index("ix_limit_holds_created", "limit_key", "created_us"),
    )
    md.create_all(conn)


MIGRATIONS: list[migrations.Migration] = [
    (1, "limit_counters (spent per limit and window), limit_holds (reservations, admissions)", _v1),
]


def migrate(engine: Engine) -> int:
    """Create or upgrade the limits' tables; the version reached."""
    return migrations.migrate(engine, migrations=MIGRATIONS, version_table=VERSION_TABLE)


class LimitSql:
    """The statements, rendered once per dialect's placeholder style."""

    def __init__(self, dialect: str, paramstyle: str) -> None:
        p = "?" if paramstyle == "qmark" else "%s"
        self.postgres = dialect == "postgresql"
        self.lock = f"SELECT pg_advisory_xact_lock({p})"
        self.budget_used = (
            f"SELECT (SELECT spent_nanos FROM limit_counters WHERE limit_key = {p} "
            f"AND window_start_us = {p}), "
            f"(SELECT COALESCE(SUM(amount), 0) FROM limit_holds WHERE limit_key = {p} "
            f"AND window_start_us = {p} AND settled = 0 AND expires_us > {p})"
        )
        self.rate_used = (
            f"SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM limit_holds "
            f"WHERE limit_key = {p} AND created_us > {p}"
        )
        self.rate_rows = (
            f"SELECT created_us, amount FROM limit_holds WHERE limit_key = {p} "
            f"AND created_us > {p} ORDER BY created_us"
        )
        self.hold = (
            "INSERT INTO limit_holds (reservation, limit_key, window_start_us, created_us, "
            f"expires_us, amount, settled) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, 0)"
        )
        self.release = f"DELETE FROM limit_holds WHERE reservation = {p} AND limit_key = {p}"
        self.settle_rate = (
            f"UPDATE limit_holds SET settled = 1, amount = {p} "
            f"WHERE reservation = {p} AND limit_key = {p}"
        )
        self.count = (
            "INSERT INTO limit_counters (limit_key, window_start_us, spent_nanos, tokens, "
            f"requests) VALUES ({p}, {p}, {p}, {p}, {p}) "
            "ON CONFLICT (limit_key, window_start_us) DO UPDATE SET "
            "spent_nanos = limit_counters.spent_nanos + excluded.spent_nanos, "
            "tokens = limit_counters.tokens + excluded.tokens, "
            "requests = limit_counters.requests + excluded.requests"
        )
        self.prune_rate = f"DELETE FROM limit_holds WHERE limit_key = {p} AND created_us <= {p}"
        self.prune_budget = (
            f"DELETE FROM limit_holds WHERE limit_key = {p} AND settled = 0 AND expires_us <= {p}"
        )

    def one(self, conn: Connection, sql: str, params: Sequence[Any]) -> Any:
        """The first row of ``sql``."""
        return conn.exec_driver_sql(sql, tuple(params)).first()


_cache: dict[tuple[str, str], LimitSql] = {}


def sql_for(engine: Engine) -> LimitSql:
    """The statements for ``engine``'s dialect (cached)."""
    d = engine.dialect
    key = (d.name, str(d.paramstyle))
    sql = _cache.get(key)
    if sql is None:
        sql = _cache[key] = LimitSql(d.name, str(d.paramstyle))
    return sql
