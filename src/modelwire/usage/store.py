"""Opening the ledger's database and writing batches to it (SQLite and PostgreSQL).

SQLite: the file (and its folder) are created owner-only before SQLAlchemy opens them, the
database runs in WAL mode with a busy timeout, and write transactions start with
``BEGIN IMMEDIATE`` so two writers queue on the busy handler instead of failing on a lock upgrade.
PostgreSQL: the writer takes a ``ROW EXCLUSIVE`` lock implicitly; ``reprice`` takes an
``EXCLUSIVE`` lock on the rollup so concurrent writers cannot interleave with its rebuild.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwire.usage.rows import RollupDelta, delta_rows

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = [
    "BusyError",
    "Statements",
    "default_url",
    "is_bad_data_error",
    "is_busy_error",
    "make_engine",
    "normalise_url",
    "sqlite_path",
    "statements",
    "write_batch",
]

BUSY_TIMEOUT_MS = 5_000


class BusyError(Exception):
    """The database stayed locked for longer than the retry budget."""


def default_url() -> str:
    """``sqlite:///<user data dir>/modelwire/usage.db`` (platformdirs)."""
    from platformdirs import user_data_dir

    return "sqlite:///" + str(Path(user_data_dir("modelwire")) / "usage.db")


def normalise_url(url: str | os.PathLike[str] | None) -> str:
    """A SQLAlchemy URL: ``None`` is the default path; a plain file path means SQLite."""
    if url is None:
        return default_url()
    s = os.fspath(url)
    if "://" not in s:
        return "sqlite:///" + str(Path(s).expanduser().absolute())
    return s


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or ``None`` (in-memory or not SQLite)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    if u.database.startswith("file:"):
        return None
    return Path(u.database)


def _create_private_file(path: Path) -> None:
    """Create ``path`` (and missing parent folders) readable and writable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the ledger's SQLite settings applied on every connection."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import StaticPool

    path = sqlite_path(url)
    is_sqlite = url.startswith("sqlite")
    if path is not None:
        if not path.exists():
            _create_private_file(path)
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            pool_size=4,
            max_overflow=8,
        )
    elif is_sqlite:  # in-memory: one shared connection
        engine = create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
    else:
        engine = create_engine(url, pool_pre_ping=True)

    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # first: the WAL switch may wait
            if path is not None:
                _enable_wal(cur)
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            mode = conn.get_execution_options().get("modelwire_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_bad_data_error(exc: BaseException) -> bool:
    """True when the database rejected a value (too large, too long, NUL byte, wrong type).

    Such an event will never be written; the writer sets it aside instead of retrying forever.
    """
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, OverflowError | TypeError | ValueError):
        return True
    if isinstance(exc, sa_exc.DataError | sa_exc.IntegrityError):
        return True
    return isinstance(exc, sa_exc.StatementError) and isinstance(
        exc.orig, OverflowError | TypeError | ValueError
    )


def is_busy_error(exc: BaseException) -> bool:
    """True for SQLite 'database is locked/busy' and PostgreSQL serialization/deadlock errors."""
    orig = getattr(exc, "orig", exc)
    msg = str(orig).lower()
    if "database is locked" in msg or "database is busy" in msg or "sqlite_busy" in msg:
        return True
    sqlstate = getattr(orig, "sqlstate", None)
    return sqlstate in {"40001", "40P01", "55P03"}


class Statements:
    """The writer's two statements, rendered once per dialect."""

    def __init__(self, dialect_name: str, paramstyle: str) -> None:
        from modelwire.usage.tables import CALL_COLUMNS, DAILY_KEYS, DAILY_SUMS

        ph = "?" if paramstyle == "qmark" else "%s"
        self.insert = (
            f"INSERT INTO usage_calls ({', '.join(CALL_COLUMNS)}) "
            f"VALUES ({', '.join([ph] * len(CALL_COLUMNS))})"
        )
        cols = (*DAILY_KEYS, *DAILY_SUMS, "latency_max_ms")
        greatest = "max" if dialect_name == "sqlite" else "GREATEST"
        sets = [f"{c} = usage_daily.{c} + excluded.{c}" for c in DAILY_SUMS]
        sets.append(
            f"latency_max_ms = {greatest}(usage_daily.latency_max_ms, excluded.latency_max_ms)"
        )
        self.upsert = (
            f"INSERT INTO usage_daily ({', '.join(cols)}) VALUES ({', '.join([ph] * len(cols))}) "
            f"ON CONFLICT ({', '.join(DAILY_KEYS)}) DO UPDATE SET {', '.join(sets)}"
        )


_sql_cache: dict[tuple[str, str], Statements] = {}


def statements(engine: Engine) -> Statements:
    """The writer's INSERT and rollup UPSERT for ``engine``'s dialect (cached)."""
    d = engine.dialect
    key = (d.name, str(d.paramstyle))
    s = _sql_cache.get(key)
    if s is None:
        s = _sql_cache[key] = Statements(d.name, str(d.paramstyle))
    return s


def write_batch(
    engine: Engine,
    rows: Sequence[tuple[Any, ...]],
    delta: RollupDelta,
    *,
    retry_s: float = 30.0,
) -> None:
    """Insert ``rows`` and apply ``delta`` to the rollup in one transaction, retrying when busy."""
    if not rows:
        return
    sql = statements(engine)
    # Sorted so two writers touching the same rollup rows lock them in the same order.
    drows = sorted(delta_rows(delta))
    deadline = time.monotonic() + retry_s
    pause = 0.005
    while True:
        try:
            with engine.connect() as conn:
                conn = conn.execution_options(modelwire_begin="IMMEDIATE")
                with conn.begin():
                    conn.exec_driver_sql(sql.insert, list(rows))
                    conn.exec_driver_sql(sql.upsert, drows)
            return
        except Exception as exc:
            if not is_busy_error(exc) or time.monotonic() >= deadline:
                if is_busy_error(exc):
                    raise BusyError(f"database stayed locked for {retry_s:.0f}s") from exc
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.25)


def _enable_wal(cur: Any) -> None:
    """Switch to WAL; several processes opening a new file at once can see 'database is locked'
    while another connection holds the lock the switch needs, so retry within the busy budget."""
    import sqlite3

    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
