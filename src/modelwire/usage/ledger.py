"""``UsageLedger``: every attempt's tokens and exact cost, written behind the caller's back.

``record()`` only enqueues (about a microsecond); a writer thread inserts batches and keeps the
daily rollup current in the same transaction. SQLAlchemy is imported when a ledger is created,
not when this module is imported.

A SQLite file deleted or replaced while the ledger runs is noticed before and after every batch
(one ``stat`` each): the ledger closes its connections to the old file, opens the path again
(creating the file and its schema if it is gone) and writes there; a batch that may have gone
into a file no longer reachable by any name is written again at the path. Reads wait at most
``read_timeout_s`` for the writer and name the database error that stops them.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from modelwire.errors import LedgerReadError, ModelwireError
from modelwire.usage.events import UsageEvent
from modelwire.usage.reports import When
from modelwire.usage.rows import UsageRecord
from modelwire.usage.writer import (
    LedgerClosedError,
    LedgerFullError,
    LedgerWriteError,
    WriteBehind,
    describe_error,
)

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Connection, Engine

    from modelwire.usage.rollup import PriceSource
    from modelwire.usage.rows import RollupDelta
    from modelwire.usage.store import DatabaseFile

__all__ = [
    "LedgerClosedError",
    "LedgerFullError",
    "LedgerReadError",
    "LedgerStats",
    "LedgerWriteError",
    "UsageLedger",
    "UsageRecord",
]

log = logging.getLogger("modelwire.usage")

_T = TypeVar("_T")

#: How often one batch may reopen the file before the writer gives up and retries it later.
_REOPENS_PER_BATCH = 3
#: How long reopening waits for reads still running on the old file.
_REOPEN_WAIT_S = 30.0


@dataclass(frozen=True, slots=True)
class LedgerStats:
    """A snapshot of a ledger's writer, from ``UsageLedger.stats()``.

    ``pending``: events recorded and not yet handed to the database; ``written``: events this
    ledger has committed; ``failed``: events not stored (``failed_events()``); ``reopened``: how
    many times the SQLite file was found deleted or replaced and the path opened again;
    ``last_error``: the last database error the writer hit, ``None`` once a write succeeded since.
    """

    pending: int
    written: int
    failed: int
    reopened: int
    last_error: str | None


def _catalog_prices() -> PriceSource:
    from modelwire.catalog import load_catalog

    price_for: PriceSource = load_catalog().price_for
    return price_for


class UsageLedger:
    """A usage sink that stores one row per attempt in SQLite or PostgreSQL.

    ``url`` is a SQLAlchemy URL (``sqlite:///usage.db``, ``postgresql+psycopg://...``) or a plain
    file path; ``None`` means ``usage.db`` in the user data dir. Events are written in batches of
    up to ``batch_size``, at most ``flush_interval_ms`` after they arrive. The queue holds up to
    ``queue_size`` events; when it is full ``record()`` waits up to ``put_timeout_s`` and then
    raises ``LedgerFullError``. ``sync=True`` writes each event before ``record()`` returns.
    Prompts and outputs are stored only with ``store_prompts=True``. ``prices`` maps a model id
    to its ``ModelCost`` for ``reprice()`` (default: the bundled catalog). A read waits at most
    ``read_timeout_s`` for earlier events to be written, then raises ``LedgerReadError``.
    """

    def __init__(
        self,
        url: str | os.PathLike[str] | None = None,
        *,
        batch_size: int = 512,
        flush_interval_ms: float = 200,
        store_prompts: bool = False,
        sync: bool = False,
        queue_size: int = 100_000,
        put_timeout_s: float = 30.0,
        prices: PriceSource | None = None,
        read_timeout_s: float = 30.0,
    ) -> None:
        from sqlalchemy.engine import make_url

        from modelwire.config.secrets import remember, url_password
        from modelwire.usage import migrations
        from modelwire.usage.store import (
            DatabaseFile,
            is_bad_data_error,
            make_engine,
            normalise_url,
            sqlite_path,
        )

        if not (isinstance(read_timeout_s, int | float) and 0 < read_timeout_s < math.inf):
            raise ValueError(f"read_timeout_s must be a positive number, not {read_timeout_s!r}")
        real_url = normalise_url(url)
        remember([url_password(real_url)])  # scrubbed from logs and errors from now on
        self.url: str = make_url(real_url).render_as_string(hide_password=True)
        self.store_prompts = store_prompts
        self.sync = sync
        self.read_timeout_s = float(read_timeout_s)
        self._real_url = real_url
        self._prices = prices
        self._init_locks()
        self._written = 0
        self._reopened = 0
        self._engine = make_engine(real_url)
        path = sqlite_path(real_url)
        try:
            self.schema_version = migrations.migrate(self._engine)
            # Taken once a connection holds the file open (its inode cannot be reused then).
            self._file: DatabaseFile | None = (
                None if path is None else DatabaseFile(path.absolute())
            )
        except BaseException:
            self._engine.dispose()
            raise
        self._writer = WriteBehind(
            self._write_events,
            batch_size=batch_size,
            flush_interval_s=flush_interval_ms / 1000,
            queue_size=queue_size,
            put_timeout_s=put_timeout_s,
            after_fork=self._after_fork,
            is_bad_data=is_bad_data_error,
        )
        self._closed = False

    def _init_locks(self) -> None:
        # Readers and writers of the current engine; a reopen waits until none is left.
        self._gate = threading.Condition(threading.Lock())
        self._users = 0
        self._reopening = False
        self._reopen_lock = threading.Lock()
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"UsageLedger({self.url!r})"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for custom queries; the writer uses its own connections).

        A new engine replaces it when the SQLite file was deleted or replaced: fetch it for each
        query rather than keeping it.
        """
        return self._engine

    # -- writing -------------------------------------------------------------------------------

    def record(self, event: UsageEvent) -> None:
        """Enqueue ``event`` (or write it now with ``sync=True``)."""
        if self.sync:
            if self._closed:
                raise LedgerClosedError("this usage ledger is closed")
            self._write_events((event,))
        else:
            self._writer.put(event)

    def _write_events(self, events: Sequence[UsageEvent]) -> None:
        from modelwire.usage.rows import aggregate, events_to_rows
        from modelwire.usage.store import write_batch

        rows = events_to_rows(events, self.store_prompts)
        delta = aggregate(rows)
        if self._file is None:
            with self._using() as engine:
                write_batch(engine, rows, delta, on_busy=self._writer.report_error)
        else:
            self._write_to_file(rows, delta)
        with self._count_lock:
            self._written += len(rows)

    def _write_to_file(self, rows: Sequence[tuple[Any, ...]], delta: RollupDelta) -> None:
        """Write one batch into the file at the ledger's path, whatever happened to it.

        Before the batch (and again once a connection is taken) the path must still name the
        file the connections have open; otherwise the path is opened again first. After it, if
        the path changed meanwhile and the old file is left with no name in its folder, the batch
        may have gone into a file nobody can open again: it is written again at the path.
        """
        from modelwire.usage.store import DatabaseFileChanged, write_batch

        reopens = 0
        while reopens <= _REOPENS_PER_BATCH:
            file = self._file
            assert file is not None
            if not file.at_path():
                self._reopen(file)
                reopens += 1
                continue
            try:
                with self._using() as engine:
                    write_batch(
                        engine, rows, delta, check=file.check, on_busy=self._writer.report_error
                    )
            except DatabaseFileChanged:
                continue  # nothing written: reopen on the next turn
            except Exception:
                if file.at_path():
                    raise
                continue  # the file went away under the batch, which failed: try at the path
            if file.at_path():
                return
            if file.has_other_name():
                return  # written into the old file, renamed: the next batch reopens the path
            self._reopen(file)
            reopens += 1
            log.warning(
                "usage ledger: %s was deleted or replaced while %d events were written to it; "
                "writing them again there",
                file.path,
                len(rows),
            )
        raise DatabaseFileChanged(f"{self._file.path if self._file else self.url} keeps changing")

    def _reopen(self, old: DatabaseFile, wait: float = _REOPEN_WAIT_S) -> None:
        """Close every connection to ``old`` and open the ledger's path again (creating the file
        and its schema when it is gone). Raises, leaving the ledger as it was, when the new file
        cannot be used (not a database, a newer schema), or when other reads or another reopen
        keep it waiting longer than ``wait`` seconds: the writer retries it later."""
        from modelwire.usage import migrations
        from modelwire.usage.store import DatabaseFile, DatabaseFileChanged, make_engine

        deadline = time.monotonic() + wait
        if not self._reopen_lock.acquire(timeout=wait):
            raise DatabaseFileChanged(f"{old.path} is being opened again by another thread")
        try:
            if self._file is not old:
                return  # another thread has reopened it already
            gone = not old.path.exists()
            self._hold_users(max(deadline - time.monotonic(), 0.0))
            try:
                _truncate_wal(self._engine)
                self._engine.dispose()
                engine = make_engine(self._real_url)
                try:
                    version = migrations.migrate(engine)
                    new = DatabaseFile(old.path)
                except BaseException:
                    engine.dispose()
                    raise
                self._engine, self._file, self.schema_version = engine, new, version
                with self._count_lock:
                    self._reopened += 1
            finally:
                self._release_users()
        finally:
            self._reopen_lock.release()
        log.warning(
            "usage ledger: %s was %s while in use; %s it and writing there",
            old.path,
            "deleted" if gone else "replaced",
            "recreated" if gone else "opened the new file",
        )

    @contextmanager
    def _using(self, timeout: float | None = None) -> Iterator[Engine]:
        """The current engine, for one read or one batch; waits while it is being replaced."""
        with self._gate:
            if self._reopening and not self._gate.wait_for(lambda: not self._reopening, timeout):
                raise LedgerReadError(
                    f"usage ledger {self.url}: the database file is being opened again"
                )
            self._users += 1
            engine = self._engine
        try:
            yield engine
        finally:
            with self._gate:
                self._users -= 1
                if not self._users:
                    self._gate.notify_all()

    def _hold_users(self, wait: float) -> None:
        from modelwire.usage.store import DatabaseFileChanged

        with self._gate:
            self._reopening = True
            if not self._gate.wait_for(lambda: not self._users, wait):
                self._reopening = False
                self._gate.notify_all()
                raise DatabaseFileChanged(
                    f"usage ledger {self.url}: {self._users} reads still use the old file"
                )

    def _release_users(self) -> None:
        with self._gate:
            self._reopening = False
            self._gate.notify_all()

    def _after_fork(self) -> None:
        # The child must not share the parent's pooled connections (nor its locks' state).
        self._init_locks()
        self._engine.dispose(close=False)

    def failed_events(self) -> list[UsageEvent]:
        """Events not stored: rejected by the database as bad data (too large, too long, a NUL
        byte), or still unwritten when ``close()`` gave up on a failing database."""
        return self._writer.failed_events()

    def pending(self) -> int:
        """Events recorded and not yet handed to the database."""
        return self._writer.pending()

    def stats(self) -> LedgerStats:
        """Counters of the writer: pending, written, failed, reopened files, last error."""
        error = self._writer.last_error
        return LedgerStats(
            pending=self._writer.pending(),
            written=self._written,
            failed=len(self._writer.failed_events()),
            reopened=self._reopened,
            last_error=None if error is None else describe_error(error),
        )

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything recorded before this call is committed.

        With ``timeout`` (seconds), ``LedgerWriteError`` after that long, naming the last
        database error the writer hit; it is also raised when the database refuses the events.
        """
        self._writer.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Write everything still queued, stop the writer and release the database.

        A failing database is retried for up to ``timeout`` seconds (default 30); events still
        unwritten then raise ``LedgerWriteError`` (see ``failed_events()``).
        """
        if self._closed:
            return
        self._closed = True
        try:
            self._writer.close(timeout)
        finally:
            self._engine.dispose()

    def __enter__(self) -> UsageLedger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------

    def summary(
        self,
        by: Sequence[str] | str = ("model",),
        since: When = None,
        until: When = None,
        caller: str | None = None,
        model: str | None = None,
        *,
        source: str = "auto",
    ) -> list[dict[str, Any]]:
        """Totals grouped by any of model, provider, caller, group, day, hour, status.

        Each dict holds the grouping keys plus ``calls``, ``errors``, the token sums (the five
        counts, then the parts billed at their own prices: 1-hour cache writes, audio and image
        input and output), ``cost_usd`` (a ``Decimal`` summed over priced rows; ``None`` when
        every row in the group is unpriced) and ``unpriced_calls``. Server-side tool uses are
        summed by ``tool_uses``. Served from the daily rollup when the grouping and
        the bounds allow (no group/hour, whole-day bounds), from the rows otherwise;
        ``source="rows"``/``"rollup"`` forces one. Pending events are flushed first.
        """
        from modelwire.usage.reports import summary

        return self._read(
            lambda engine: summary(
                engine, by, since=since, until=until, caller=caller, model=model, source=source
            )
        )

    def tool_uses(
        self,
        by: Sequence[str] | str = ("model",),
        since: When = None,
        until: When = None,
        caller: str | None = None,
        model: str | None = None,
    ) -> list[dict[str, Any]]:
        """Server-side tool uses (web searches, ...) grouped like ``summary``: each dict holds
        the grouping keys and ``tool_uses``, a dict of kind to count; groups without a use are
        left out."""
        from modelwire.usage.reports import tool_use_summary

        return self._read(
            lambda engine: tool_use_summary(
                engine, by, since=since, until=until, caller=caller, model=model
            )
        )

    def records(
        self,
        *,
        since: When = None,
        until: When = None,
        model: str | None = None,
        caller: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> Iterator[UsageRecord]:
        """Iterate stored rows as ``UsageRecord`` (oldest first unless ``newest_first``).

        Rows are fetched in pages; each page is a read with its own ``read_timeout_s``.
        """
        from modelwire.usage.reports import iter_records

        self._flush_for_read(time.monotonic() + self.read_timeout_s)
        return iter_records(
            self._engine,
            run=self._read_page,
            since=since,
            until=until,
            model=model,
            caller=caller,
            status=status,
            limit=limit,
            newest_first=newest_first,
        )

    def to_pandas(self, **filters: Any) -> pd.DataFrame:
        """The rows ``records(**filters)`` yields, as a DataFrame (needs pandas)."""
        import pandas as pd

        frame = pd.DataFrame([r.to_dict() for r in self.records(**filters)], columns=_FIELDS)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        return frame

    def summary_frame(self, by: Sequence[str] | str = ("model",), **kwargs: Any) -> pd.DataFrame:
        """``summary(...)`` as a DataFrame; ``cost_usd`` becomes float (NaN when unpriced)."""
        import pandas as pd

        rows = self.summary(by, **kwargs)
        frame = pd.DataFrame(rows)
        if not rows:
            return frame
        frame["cost_usd"] = [None if c is None else float(c) for c in frame["cost_usd"]]
        frame["cost_usd"] = frame["cost_usd"].astype("float64")
        return frame

    # -- maintenance ---------------------------------------------------------------------------

    def reprice(self, since: When = None, model: str | None = None) -> int:
        """Recompute stored costs from the current prices and update the rollup to match.

        Each row is priced from every count it stored (1-hour cache writes, audio and image
        tokens, tool uses, the requests of a call that ran several) at the price in force at
        the row's own time (a price's ``earlier`` prices for rows older than its
        ``effective_date``). Only successful attempts are repriced (failed ones keep their
        stored cost). Returns how
        many rows changed; rows of models that are now unpriced become NULL.
        """
        from modelwire.usage.reports import parse_when
        from modelwire.usage.rollup import reprice

        since_us = parse_when(since)
        prices = self._prices if self._prices is not None else _catalog_prices()
        return self._read(lambda engine: reprice(engine, prices, since_us=since_us, model=model))

    def rebuild_rollup(self) -> int:
        """Recompute the whole daily rollup from the rows (returns rollup rows written)."""
        from modelwire.usage.rollup import rebuild_rollup

        return self._read(rebuild_rollup)

    # -- reads: a deadline, and the database error named -----------------------------------------

    def _read(self, query: Callable[[Engine], _T], *, flush: bool = True) -> _T:
        """Flush, then run ``query``: within ``read_timeout_s``, or ``LedgerReadError`` naming
        the database error. The SQLite file is checked first; a read that fails because the
        file went away under it runs once more at the path."""
        from modelwire.usage.store import read_deadline

        deadline = time.monotonic() + self.read_timeout_s
        if flush:
            self._flush_for_read(deadline)
        token = read_deadline.set(deadline)
        try:
            for attempt in (1, 2):
                file = self._file
                try:
                    if file is not None and not self._closed and not file.at_path():
                        self._reopen(file, max(deadline - time.monotonic(), 0.0))
                    with self._using(max(deadline - time.monotonic(), 0.0)) as engine:
                        if engine.dialect.name == "postgresql":
                            ms = max(int((deadline - time.monotonic()) * 1000), 1)
                            engine = engine.execution_options(modelwire_lock_timeout_ms=ms)
                        return query(engine)
                except (ModelwireError, ValueError, TypeError):
                    raise  # ours (already clear) or a bad argument
                except Exception as exc:
                    moved = file is not None and (self._file is not file or not file.at_path())
                    if attempt == 1 and moved:
                        continue
                    raise LedgerReadError(
                        f"usage ledger {self.url}: read failed: {describe_error(exc)}"
                    ) from exc
            raise AssertionError("unreachable")
        finally:
            read_deadline.reset(token)

    def _read_page(self, fetch: Callable[[Connection], _T]) -> _T:
        """One page of ``records()``: a read of its own."""

        def on_connection(engine: Engine) -> _T:
            with engine.connect() as conn:
                return fetch(conn)

        return self._read(on_connection, flush=False)

    def _flush_for_read(self, deadline: float) -> None:
        if self._closed:
            return
        try:
            self._writer.flush(max(deadline - time.monotonic(), 0.0))
        except LedgerWriteError as exc:
            error = self._writer.last_error or exc.__cause__
            cause = f"last database error: {describe_error(error)}" if error else str(exc)
            raise LedgerReadError(
                f"usage ledger {self.url}: read gave up after {self.read_timeout_s:g}s: the "
                f"events recorded before it could not be written ({cause})"
            ) from exc


def _truncate_wal(engine: Engine) -> None:
    """Move a SQLite file's write-ahead log into it and empty the log, through a connection
    still open on it. The log keeps the database's path (``usage.db-wal``): left full, SQLite
    would apply its pages to whatever file is put at that path next."""
    from sqlalchemy.pool import QueuePool

    pool = engine.pool
    if not isinstance(pool, QueuePool) or not pool.checkedin():
        return  # no idle connection: a new one would open the new file, not the old one
    try:
        conn = pool.connect()
        try:
            cur = conn.cursor()
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.fetchall()
            cur.close()
        finally:
            conn.close()
    except Exception as exc:
        log.warning(
            "usage ledger: could not empty the old file's write-ahead log: %s",
            describe_error(exc),
        )


_FIELDS = list(UsageRecord.__dataclass_fields__)
