"""Opening the ledger's database and writing batches to it (SQLite and PostgreSQL).

SQLite: the file (and its folder) are created owner-only before SQLAlchemy opens them, the
database runs in WAL mode with a busy timeout, and write transactions start with
``BEGIN IMMEDIATE`` so two writers queue on the busy handler instead of failing on a lock upgrade.
Connections open the file only if it exists (SQLite would otherwise create a missing one with
the default, world-readable mode): only ``make_engine`` creates it. ``DatabaseFile`` remembers
which file that is, so the ledger notices it being deleted or replaced while in use.
PostgreSQL: the writer takes a ``ROW EXCLUSIVE`` lock implicitly; ``reprice`` takes an
``EXCLUSIVE`` lock on the rollup so concurrent writers cannot interleave with its rebuild.
With psycopg, a connection attempt gives up after ``PG_CONNECT_TIMEOUT_S`` (or the URL's
``connect_timeout``), or by ``read_deadline`` when a read sets it; a connection given the
``modelwire_lock_timeout_ms`` execution option stops waiting for a lock after that long.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwire.errors import BusyError, DatabaseFileChanged
from modelwire.usage.rows import RollupDelta, delta_rows

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.pool import ConnectionPoolEntry, Pool

__all__ = [
    "BusyError",
    "DatabaseFile",
    "DatabaseFileChanged",
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
PG_CONNECT_TIMEOUT_S = 10

#: The ``time.monotonic()`` by which the current read must be answered (set by the ledger around
#: a read): a PostgreSQL connection opened for it gives up by then (libpq waits at least 2 s).
read_deadline: ContextVar[float | None] = ContextVar("modelwire_read_deadline", default=None)


class DatabaseFile:
    """The SQLite file a ledger has open, known by its device and inode number.

    Checking costs one ``stat`` of the path. The ledger's open connections keep the file's inode
    in use, so no new file can get the same number while they are open. No descriptor of our own
    is kept: closing one would drop the locks SQLite holds on the file (POSIX record locks belong
    to the process, not to the descriptor).
    """

    __slots__ = ("identity", "path")

    def __init__(self, path: Path) -> None:
        self.path = path
        st = os.stat(path)
        self.identity = (st.st_dev, st.st_ino)

    def at_path(self) -> bool:
        """True while the path still names this file (False once it is deleted or replaced)."""
        try:
            st = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return False
        return (st.st_dev, st.st_ino) == self.identity

    def has_other_name(self) -> bool:
        """True when this file, no longer at its path, is still in its folder under another
        name (renamed there). Lists the folder; meant for the rare moment the file has gone."""
        ino = self.identity[1]
        try:
            with os.scandir(self.path.parent) as entries:
                return any(e.inode() == ino and e.name != self.path.name for e in entries)
        except OSError:
            return False

    def check(self) -> None:
        """Raise ``DatabaseFileChanged`` when the path no longer names this file."""
        if not self.at_path():
            raise DatabaseFileChanged(f"{self.path} was deleted or replaced")


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


def _one_connection_pool() -> type[Pool]:
    """SQLAlchemy's ``StaticPool`` (one connection for every checkout), lent to one thread at a
    time: a lock is held from checkout to checkin, so that two threads (an application's, the
    ledger's writer, limits, reports) never interleave their statements in one transaction. The
    thread that holds it may check it out again; ``StaticPool`` returns such a nested checkout
    once, and that return lends the connection on."""
    from sqlalchemy.pool import StaticPool

    lock = threading.Lock()
    holder: list[int | None] = [None]  # the thread that has the connection

    class OneConnectionPool(StaticPool):
        def _do_get(self) -> ConnectionPoolEntry:
            me = threading.get_ident()
            if holder[0] != me:
                lock.acquire()
                holder[0] = me
            return super()._do_get()

        def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
            try:
                super()._do_return_conn(record)
            finally:
                if holder[0] is not None:
                    holder[0] = None
                    lock.release()

    return OneConnectionPool


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the ledger's SQLite settings applied on every connection."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url

    path = sqlite_path(url)
    is_sqlite = url.startswith("sqlite")
    if path is not None:
        path = path.absolute()
        if not path.exists():
            _create_private_file(path)
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            pool_size=4,
            max_overflow=8,
        )
        existing_only = path.as_uri() + "?mode=rw"

        @event.listens_for(engine, "do_connect")
        def _open_existing(_dialect: Any, _record: Any, cargs: list[Any], cparams: Any) -> None:
            if not cparams.get("uri"):
                cargs[0] = existing_only
                cparams["uri"] = True

    elif is_sqlite:  # in-memory: the database lives in one connection, shared by every thread
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, poolclass=_one_connection_pool()
        )
    else:
        u = make_url(url)
        libpq = u.get_backend_name() == "postgresql" and u.get_driver_name() in _LIBPQ_DRIVERS
        connect_args: dict[str, Any] = {}
        if libpq and "connect_timeout" not in u.query:
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        if libpq:

            @event.listens_for(engine, "do_connect")
            def _connect_by_deadline(
                _dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]
            ) -> None:
                deadline = read_deadline.get()
                if deadline is not None:
                    left = max(math.ceil(deadline - time.monotonic()), 2)
                    cparams["connect_timeout"] = min(int(cparams["connect_timeout"]), left)

        if engine.dialect.name == "postgresql":

            @event.listens_for(engine, "begin")
            def _pg_begin(conn: Connection) -> None:
                ms = conn.get_execution_options().get("modelwire_lock_timeout_ms")
                if ms:
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(int(ms), 1)}")

    if is_sqlite:
        _bind_none_and_bool_directly()

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


_LIBPQ_DRIVERS = frozenset({"psycopg", "psycopg2"})

_NOTHING: dict[None, None] = {}


def _bind_none_and_bool_directly() -> None:
    """Let ``sqlite3`` bind ``None`` and ``bool`` values without searching for an adapter.

    ``sqlite3`` binds ``int``, ``float`` and ``str`` values as they are; for any other value it
    first looks for an adapter: in the module's registry, then as ``__adapt__`` and
    ``__conform__`` attributes, and on Python 3.11 each failed attribute lookup builds and drops
    an ``AttributeError``. That search cost about 3,300 instructions per ``None`` or ``bool``,
    and a row holds ten or so of them (the NULL columns and ``stream``): a third of the writer's
    work per event. An adapter registered for each is found at once. The values stored do not
    change: ``None`` is adapted to ``None`` (NULL) and a ``bool`` to the integer SQLite stores
    for it. The registry is the ``sqlite3`` module's, shared by the whole process: an adapter
    already registered for either type is left in place.
    """
    import sqlite3

    if (type(None), sqlite3.PrepareProtocol) not in sqlite3.adapters:
        sqlite3.register_adapter(type(None), _NOTHING.get)
    if (bool, sqlite3.PrepareProtocol) not in sqlite3.adapters:
        sqlite3.register_adapter(bool, int)


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
    check: Callable[[], None] | None = None,
    on_busy: Callable[[BaseException], None] | None = None,
) -> None:
    """Insert ``rows`` and apply ``delta`` to the rollup in one transaction, retrying when busy.

    ``check`` runs once the connection is taken, before the transaction starts (the ledger's
    test that the file is still the one it opened); ``on_busy`` receives each busy error retried.
    """
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
                if check is not None:
                    check()
                conn = conn.execution_options(modelwire_begin="IMMEDIATE")
                with conn.begin():
                    conn.exec_driver_sql(sql.insert, list(rows))
                    conn.exec_driver_sql(sql.upsert, drows)
            return
        except Exception as exc:
            if not is_busy_error(exc) or time.monotonic() >= deadline:
                if is_busy_error(exc):
                    from modelwire.usage.writer import describe_error

                    raise BusyError(
                        f"database stayed locked for {retry_s:.0f}s ({describe_error(exc)})"
                    ) from exc
                raise
            if on_busy is not None:
                on_busy(exc)
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
