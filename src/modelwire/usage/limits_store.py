"""The limits' tables in the ledger's database, and the statements that reserve and settle.

Two tables, migrated through the ledger's migration lock with their own version table
(``limits_schema_version``):

- ``limit_counters``: per (limit, calendar window) what settled attempts spent (nano-dollars),
  their tokens and their number; one row per budget window, never a scan of the usage rows.
- ``limit_holds``: one row per (reservation, limit). A budget's hold counts as reserved until
  it is settled (deleted, its actual cost added to the counter) or its lease expires. A rate's
  hold is the admission itself (1 request, or the tokens: the estimate, replaced by the actual
  count when settled), kept for a lease at least as the record of what was let through.
- ``limit_buckets``: per rate, what was admitted in each 1/60 of its window. A reservation sums
  the buckets that overlap the last window (at most 61 rows, however high the rate), counting
  the oldest bucket whole: a rate may admit slightly less than its amount at a bucket's edge,
  never more in any window of its length. Settled or not, an admission counts: it was sent.

Every reservation runs in one short transaction: SQLite ``BEGIN IMMEDIATE`` (one writer at a
time for the whole file); PostgreSQL a transaction-scoped advisory lock per limit, taken in the
limits' key order (so two reservations never deadlock), released at commit. No lock is held
while a provider is called.

The statements run on the driver's own cursor (SQLAlchemy's pool, not its execution layer: a
reservation is a handful of tiny statements, and the layer would cost more than they do). On
PostgreSQL the limits use an engine of their own on the ledger's URL: no ping before each
checkout (a dead pooled connection is retried once instead), ``lock_timeout`` 10 s and
``synchronous_commit = off`` set once per connection (a commit does not wait for the disk; see
docs/limits.md for what that means when the database server crashes).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table

from modelwire.usage import migrations

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = [
    "MIGRATIONS",
    "VERSION_TABLE",
    "Cursor",
    "LimitSql",
    "is_database_error",
    "limits_engine",
    "sql_for",
    "transaction",
]

#: A PostgreSQL reservation stops waiting for another's lock after this long (ms).
LOCK_TIMEOUT_MS = 10_000

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
    Table(
        "limit_buckets",
        md,
        Column("limit_key", String(32), primary_key=True),
        Column("bucket", BigInteger, primary_key=True),
        Column("amount", BigInteger, nullable=False),
    )
    md.create_all(conn)


MIGRATIONS: list[migrations.Migration] = [
    (
        1,
        "limit_counters (spent per budget window), limit_holds (reservations, admissions), "
        "limit_buckets (admissions per rate and slice of its window)",
        _v1,
    ),
]


def migrate(engine: Engine) -> int:
    """Create or upgrade the limits' tables; the version reached."""
    return migrations.migrate(engine, migrations=MIGRATIONS, version_table=VERSION_TABLE)


class LimitSql:
    """The statements, rendered once per dialect's placeholder style."""

    def __init__(self, dialect: str, paramstyle: str) -> None:
        p = "?" if paramstyle == "qmark" else "%s"
        self.postgres = dialect == "postgresql"
        self.p = p
        self._checks: dict[tuple[bool, ...], str] = {}
        self.budget_used = (
            f"SELECT (SELECT spent_nanos FROM limit_counters WHERE limit_key = {p} "
            f"AND window_start_us = {p}), "
            f"(SELECT COALESCE(SUM(amount), 0) FROM limit_holds WHERE limit_key = {p} "
            f"AND window_start_us = {p} AND settled = 0 AND expires_us > {p})"
        )
        self.rate_rows = (
            f"SELECT bucket, amount FROM limit_buckets WHERE limit_key = {p} "
            f"AND bucket >= {p} ORDER BY bucket"
        )
        self.bump = (
            f"INSERT INTO limit_buckets (limit_key, bucket, amount) VALUES ({p}, {p}, {p}) "
            "ON CONFLICT (limit_key, bucket) DO UPDATE SET "
            "amount = limit_buckets.amount + excluded.amount"
        )
        self.prune_buckets = f"DELETE FROM limit_buckets WHERE limit_key = {p} AND bucket < {p}"
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

    def check(self, budgets: tuple[bool, ...]) -> str:
        """One SELECT of what every limit holds now, in order: a budget's spent and reserved
        (parameters: key, window start, key, window start, now), a rate's admitted amount
        (key, first bucket)."""
        found = self._checks.get(budgets)
        if found is None:
            p = self.p
            parts = []
            for budget in budgets:
                if budget:
                    parts.append(
                        f"(SELECT spent_nanos FROM limit_counters WHERE limit_key = {p} "
                        f"AND window_start_us = {p})"
                    )
                    parts.append(
                        f"(SELECT COALESCE(SUM(amount), 0) FROM limit_holds WHERE limit_key = "
                        f"{p} AND window_start_us = {p} AND settled = 0 AND expires_us > {p})"
                    )
                else:
                    parts.append(
                        f"(SELECT COALESCE(SUM(amount), 0) FROM limit_buckets "
                        f"WHERE limit_key = {p} AND bucket >= {p})"
                    )
            found = self._checks[budgets] = "SELECT " + ", ".join(parts)
        return found

    def locks(self, n: int) -> str:
        """One statement taking ``n`` advisory locks, left to right."""
        return "SELECT " + ", ".join([f"pg_advisory_xact_lock({self.p})"] * n)


_cache: dict[tuple[str, str], LimitSql] = {}


def sql_for(engine: Engine) -> LimitSql:
    """The statements for ``engine``'s dialect (cached)."""
    d = engine.dialect
    key = (d.name, str(d.paramstyle))
    sql = _cache.get(key)
    if sql is None:
        sql = _cache[key] = LimitSql(d.name, str(d.paramstyle))
    return sql


class Cursor:
    """A driver cursor inside one transaction."""

    __slots__ = ("cur",)

    def __init__(self, cur: Any) -> None:
        self.cur = cur

    def one(self, sql: str, params: Sequence[Any]) -> Any:
        """The first row of ``sql``."""
        self.cur.execute(sql, tuple(params))
        return self.cur.fetchone()

    def all(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Every row of ``sql``."""
        self.cur.execute(sql, tuple(params))
        return list(self.cur.fetchall())

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run ``sql`` once."""
        self.cur.execute(sql, tuple(params))

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run ``sql`` for each of ``rows``."""
        if len(rows) == 1:
            self.cur.execute(sql, tuple(rows[0]))
        elif rows:
            self.cur.executemany(sql, [tuple(r) for r in rows])


@contextmanager
def transaction(engine: Engine, *, write: bool = True) -> Iterator[Cursor]:
    """One transaction on a pooled driver connection (SQLite: ``BEGIN IMMEDIATE`` when it
    writes); committed when the block ends, rolled back when it raises."""
    sqlite = engine.dialect.name == "sqlite"
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        # psycopg 3: statements are sent without waiting for each answer; a read waits for
        # what was sent before it (the server still runs them one after another, in order).
        pipeline = getattr(raw.driver_connection, "pipeline", None)
        try:
            if sqlite:
                cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield Cursor(cur)
                cur.execute("COMMIT")
            elif pipeline is not None:
                with pipeline():
                    yield Cursor(cur)
                    raw.commit()
            else:
                yield Cursor(cur)
                raw.commit()
        except BaseException as exc:
            try:
                raw.rollback()
            except Exception:
                raw.invalidate()  # the connection is unusable: the pool drops it
            if is_disconnect(engine, exc):
                raw.invalidate()
            raise
        finally:
            cur.close()
    finally:
        raw.close()


def is_database_error(engine: Engine | None, exc: BaseException) -> bool:
    """Whether ``exc`` is the database's (or its connection's) failure."""
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError | OSError):
        return True
    dbapi = getattr(engine.dialect, "dbapi", None) if engine is not None else None
    error = getattr(dbapi, "Error", None)
    return isinstance(error, type) and isinstance(exc, error)


def is_disconnect(engine: Engine, exc: BaseException) -> bool:
    """Whether ``exc`` says the connection is gone (worth one retry on a fresh one)."""
    dbapi = getattr(engine.dialect, "dbapi", None)
    kinds = tuple(
        k
        for k in (getattr(dbapi, "OperationalError", None), getattr(dbapi, "InterfaceError", None))
        if isinstance(k, type)
    )
    return engine.dialect.name == "postgresql" and bool(kinds) and isinstance(exc, kinds)


def limits_engine(ledger_engine: Engine) -> Engine:
    """The engine the limits use: the ledger's own for SQLite (one file, its settings), one of
    their own on the same URL for PostgreSQL (see the module docstring)."""
    if ledger_engine.dialect.name != "postgresql":
        return ledger_engine
    from sqlalchemy import event

    from modelwire.usage.store import make_engine

    engine = make_engine(ledger_engine.url.render_as_string(hide_password=False))
    engine.pool._pre_ping = False  # a dead connection is retried once instead

    @event.listens_for(engine, "connect")
    def _settings(dbapi_conn: Any, _record: Any) -> None:
        was = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET synchronous_commit = off; SET lock_timeout = {LOCK_TIMEOUT_MS}")
        dbapi_conn.autocommit = was

    return engine
