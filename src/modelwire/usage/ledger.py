"""``UsageLedger``: every attempt's tokens and exact cost, written behind the caller's back.

``record()`` only enqueues (about a microsecond); a writer thread inserts batches and keeps the
daily rollup current in the same transaction. SQLAlchemy is imported when a ledger is created,
not when this module is imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from modelwire.usage.events import EventFields, UsageEvent
from modelwire.usage.reports import When
from modelwire.usage.rows import UsageRecord
from modelwire.usage.writer import (
    LedgerClosedError,
    LedgerFullError,
    LedgerWriteError,
    Queued,
    WriteBehind,
)

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine

    from modelwire.usage.rollup import PriceSource

__all__ = [
    "LedgerClosedError",
    "LedgerFullError",
    "LedgerWriteError",
    "UsageLedger",
    "UsageRecord",
]


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
    to its ``ModelCost`` for ``reprice()`` (default: the bundled catalog).
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
    ) -> None:
        from sqlalchemy.engine import make_url

        from modelwire.usage import migrations
        from modelwire.usage.store import is_bad_data_error, make_engine, normalise_url

        real_url = normalise_url(url)
        self.url: str = make_url(real_url).render_as_string(hide_password=True)
        self.store_prompts = store_prompts
        self.sync = sync
        self._prices = prices
        self._engine = make_engine(real_url)
        try:
            self.schema_version = migrations.migrate(self._engine)
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

    def __repr__(self) -> str:
        return f"UsageLedger({self.url!r})"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for custom queries; the writer uses its own connections)."""
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

    def _record_fields(self, fields: EventFields) -> None:
        """``record(UsageEvent(*fields))`` without building the event on the caller's thread
        (the writer turns the fields into a row directly)."""
        if self.sync:
            self.record(UsageEvent(*fields))
        else:
            self._writer.put(fields)

    def _write_events(self, events: Sequence[Queued]) -> None:
        from modelwire.usage.rows import aggregate, events_to_rows
        from modelwire.usage.store import write_batch

        rows = events_to_rows(events, self.store_prompts)
        write_batch(self._engine, rows, aggregate(rows))

    def _after_fork(self) -> None:
        # The child must not share the parent's pooled connections.
        self._engine.dispose(close=False)

    def failed_events(self) -> list[UsageEvent]:
        """Events not stored: rejected by the database as bad data (too large, too long, a NUL
        byte), or still unwritten when ``close()`` gave up on a failing database."""
        return [
            e if isinstance(e, UsageEvent) else UsageEvent(*e) for e in self._writer.failed_events()
        ]

    def pending(self) -> int:
        """Events recorded and not yet handed to the database."""
        return self._writer.pending()

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything recorded before this call is committed."""
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

        Each dict holds the grouping keys plus ``calls``, ``errors``, the five token sums,
        ``cost_usd`` (a ``Decimal`` summed over priced rows; ``None`` when every row in the group
        is unpriced) and ``unpriced_calls``. Served from the daily rollup when the grouping and
        the bounds allow (no group/hour, whole-day bounds), from the rows otherwise;
        ``source="rows"``/``"rollup"`` forces one. Pending events are flushed first.
        """
        from modelwire.usage.reports import summary

        self._flush_for_read()
        return summary(
            self._engine, by, since=since, until=until, caller=caller, model=model, source=source
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
        """Iterate stored rows as ``UsageRecord`` (oldest first unless ``newest_first``)."""
        from modelwire.usage.reports import iter_records

        self._flush_for_read()
        return iter_records(
            self._engine,
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

        Only successful attempts are repriced (failed ones keep their stored cost). Returns how
        many rows changed; rows of models that are now unpriced become NULL.
        """
        from modelwire.usage.reports import parse_when
        from modelwire.usage.rollup import reprice

        self._flush_for_read()
        prices = self._prices if self._prices is not None else _catalog_prices()
        return reprice(self._engine, prices, since_us=parse_when(since), model=model)

    def rebuild_rollup(self) -> int:
        """Recompute the whole daily rollup from the rows (returns rollup rows written)."""
        from modelwire.usage.rollup import rebuild_rollup

        self._flush_for_read()
        return rebuild_rollup(self._engine)

    def _flush_for_read(self) -> None:
        if not self._closed:
            self._writer.flush()


_FIELDS = list(UsageRecord.__dataclass_fields__)
