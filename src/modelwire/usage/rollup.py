"""Maintenance of stored costs and the daily rollup: ``reprice`` and ``rebuild_rollup``.

Both run in one transaction that excludes the writers (SQLite ``BEGIN IMMEDIATE``; PostgreSQL an
``EXCLUSIVE`` lock on ``usage_daily``), so a concurrent batch is either wholly before the rebuild
(and counted in it) or wholly after it (and added by its own UPSERT).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from modelwire.catalog.pricing import compute_cost, to_nanos
from modelwire.types import ModelCost, Usage
from modelwire.usage.columns import SUMMED_FIELDS
from modelwire.usage.rows import (
    AGGREGATED_COLUMNS,
    US_PER_DAY,
    RollupDelta,
    aggregate,
    day_of,
    delta_rows,
    iterations_from_json,
    tool_uses_from_json,
)
from modelwire.usage.store import statements

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = ["PriceSource", "rebuild_rollup", "reprice"]

PriceSource = Callable[[str], ModelCost | None]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_AGG_COLS = ", ".join(AGGREGATED_COLUMNS)
# The counts a cost is computed from: stored under their Usage field names.
_COUNTS = ", ".join(SUMMED_FIELDS)


def _exclusive(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE usage_daily IN EXCLUSIVE MODE")


def _ph(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _insert_delta(conn: Connection, delta: RollupDelta) -> None:
    if delta:
        conn.exec_driver_sql(statements(conn.engine).upsert, sorted(delta_rows(delta)))


def _rebuild_days(conn: Connection, pairs: Iterable[tuple[int, str]]) -> None:
    """Recompute the rollup rows of each (day number, model id) from the stored rows."""
    ph = _ph(conn)
    for day_n, model_id in sorted(set(pairs)):
        start = day_n * US_PER_DAY
        conn.exec_driver_sql(
            f"DELETE FROM usage_daily WHERE day = {ph} AND model_id = {ph}",
            (day_of(start), model_id),
        )
        rows = conn.exec_driver_sql(
            f"SELECT {_AGG_COLS} FROM usage_calls "
            f"WHERE model_id = {ph} AND ts_us >= {ph} AND ts_us < {ph}",
            (model_id, start, start + US_PER_DAY),
        )
        _insert_delta(conn, aggregate(rows))


def reprice(
    engine: Engine,
    prices: PriceSource,
    *,
    since_us: int | None = None,
    model: str | None = None,
) -> int:
    """Recompute ``cost_nanos`` of matching successful rows from ``prices``; rebuild the rollup
    rows they belong to in the same transaction. Each row is priced from all its stored counts
    (tool uses and per-request counts included) at the price in force at its own time (a
    price's ``earlier`` prices apply to rows from before its ``effective_date``). Failed
    attempts keep their stored cost (the service records them unpriced). Returns the number of
    rows whose cost changed."""
    ph_where: list[str] = ["status = 'ok'"]
    params: list[Any] = []
    with engine.connect() as raw:
        conn = raw.execution_options(modelwire_begin="IMMEDIATE")
        ph = _ph(conn)
        if since_us is not None:
            ph_where.append(f"ts_us >= {ph}")
            params.append(since_us)
        if model is not None:
            ph_where.append(f"model_id = {ph}")
            params.append(model)
        where = f" WHERE {' AND '.join(ph_where)}"
        with conn.begin():
            _exclusive(conn)
            cache: dict[str, ModelCost | None] = {}
            updates: list[tuple[int | None, int]] = []
            touched: set[tuple[int, str]] = set()
            result = conn.exec_driver_sql(
                f"SELECT id, ts_us, model_id, cost_nanos, tool_uses, iterations, {_COUNTS} "
                f"FROM usage_calls{where}",
                tuple(params),
            )
            for row_id, ts_us, model_id, old, uses, requests, *counts in result.all():
                if model_id not in cache:
                    cache[model_id] = prices(model_id)
                usage = Usage(
                    **{f: int(n) for f, n in zip(SUMMED_FIELDS, counts, strict=True)},
                    tool_uses=tool_uses_from_json(uses) or {},
                    iterations=iterations_from_json(requests),
                )
                at = _EPOCH + timedelta(microseconds=int(ts_us))
                new = to_nanos(compute_cost(usage, cache[model_id], at))
                if new != (None if old is None else int(old)):
                    updates.append((new, int(row_id)))
                    touched.add((int(ts_us) // US_PER_DAY, model_id))
            if updates:
                conn.exec_driver_sql(
                    f"UPDATE usage_calls SET cost_nanos = {ph} WHERE id = {ph}", updates
                )
                _rebuild_days(conn, touched)
    return len(updates)


def rebuild_rollup(engine: Engine, chunk: int = 50_000) -> int:
    """Recompute the whole rollup from the rows; returns the number of rollup rows written."""
    with engine.connect() as raw:
        conn = raw.execution_options(modelwire_begin="IMMEDIATE")
        with conn.begin():
            _exclusive(conn)
            conn.exec_driver_sql("DELETE FROM usage_daily")
            delta: RollupDelta = {}
            result = conn.exec_driver_sql(f"SELECT {_AGG_COLS} FROM usage_calls")
            while True:
                part = result.fetchmany(chunk)
                if not part:
                    break
                aggregate(part, into=delta)
            _insert_delta(conn, delta)
    return len(delta)
