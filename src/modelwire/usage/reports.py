"""Reading the ledger: summaries (from the rollup when the grouping allows), record iteration.

``since`` is inclusive and ``until`` exclusive. Both accept a ``datetime`` (naive means UTC), a
``date`` (midnight UTC), a ``timedelta`` (that long before now), or a string: an ISO date or
datetime, or a relative span ``30m``, ``12h``, ``7d``, ``2w``. ``Nd``/``Nw`` mean the last N
calendar days (7·N for weeks), today included, starting at midnight UTC; ``Nm``/``Nh`` are exact.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache, partial
from operator import index, itemgetter
from typing import TYPE_CHECKING, Any

from modelwire.catalog.pricing import from_nanos
from modelwire.usage.columns import SUMMED_FIELDS, column_of
from modelwire.usage.rows import US_PER_DAY, US_PER_HOUR, UsageRecord, to_us

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Table
    from sqlalchemy.engine import Connection, Engine

__all__ = [
    "GROUP_KEYS",
    "SUMMARY_FIELDS",
    "When",
    "format_usd",
    "iter_records",
    "latency_percentiles",
    "parse_when",
    "summary",
    "tool_use_summary",
    "uses_rollup",
]

When = datetime | date | timedelta | str | None

GROUP_KEYS = ("model", "provider", "caller", "group", "day", "hour", "status", "run")
SUMMARY_FIELDS = ("calls", "errors", *SUMMED_FIELDS, "cost_usd", "unpriced_calls")
# The grouping keys that are an event field stored in a column of its own.
_KEY_FIELDS = {
    "model": "model_id",
    "provider": "provider",
    "caller": "caller",
    "group": "group",
    "status": "status",
    "run": "run_id",
}
_REL = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_EPOCH_DAY = date(1970, 1, 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_when(value: When, now: datetime | None = None) -> int | None:
    """A bound as UTC microseconds since the epoch (see the module docstring for the forms)."""
    if value is None:
        return None
    now = now or datetime.now(UTC)
    if isinstance(value, datetime):
        return to_us(value)
    if isinstance(value, date):
        return (value - _EPOCH_DAY).days * US_PER_DAY
    if isinstance(value, timedelta):
        return to_us(now - value)
    m = _REL.match(value)
    if m:
        n, unit = int(m.group(1)), m.group(2).lower()
        if unit == "m":
            return to_us(now - timedelta(minutes=n))
        if unit == "h":
            return to_us(now - timedelta(hours=n))
        days = n * (7 if unit == "w" else 1)
        today = (to_us(now) // US_PER_DAY) * US_PER_DAY
        return today - max(days - 1, 0) * US_PER_DAY
    text = value.strip()
    try:
        if len(text) == 10:
            return parse_when(date.fromisoformat(text))
        return to_us(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(
            f"cannot read {value!r} as a time: use an ISO date/datetime or 30m, 12h, 7d, 2w"
        ) from None


def _check_by(by: Sequence[str]) -> tuple[str, ...]:
    if isinstance(by, str):
        by = tuple(x.strip() for x in by.split(",") if x.strip())
    keys = tuple(by)
    for k in keys:
        if k not in GROUP_KEYS:
            raise ValueError(f"cannot group by {k!r}; choose from {', '.join(GROUP_KEYS)}")
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate grouping key in {keys}")
    return keys


def uses_rollup(by: Sequence[str], since_us: int | None, until_us: int | None) -> bool:
    """True when the daily rollup can answer this summary exactly."""
    from modelwire.usage.tables import ROLLUP_GROUPS

    aligned = all(b is None or b % US_PER_DAY == 0 for b in (since_us, until_us))
    return aligned and all(k in ROLLUP_GROUPS for k in _check_by(by))


def _key_value(key: str, v: Any) -> Any:
    if key == "day":
        if isinstance(v, str):
            return date.fromisoformat(v)
        return _EPOCH_DAY + timedelta(days=int(v))
    if key == "hour":
        return _EPOCH + timedelta(microseconds=int(v) * US_PER_HOUR)
    if key == "caller" and v == "":
        return None
    return v


_CONVERT: dict[str, Any] = {
    "day": lambda v: _key_value("day", v),
    "hour": lambda v: _key_value("hour", v),
    "caller": lambda v: None if v == "" else v,
}


def _group_exprs(t: Table) -> dict[str, ColumnElement[Any]]:
    """The SQL expression of each grouping key over the ``usage_calls`` rows."""
    exprs: dict[str, ColumnElement[Any]] = {k: t.c[column_of(f)] for k, f in _KEY_FIELDS.items()}
    exprs["day"] = t.c[column_of("timestamp")] // US_PER_DAY
    exprs["hour"] = t.c[column_of("timestamp")] // US_PER_HOUR
    return exprs


def _row_filters(t: Table, since_us: int | None, until_us: int | None, **equal: Any) -> list[Any]:
    """WHERE terms over the ``usage_calls`` rows: the time bounds, then each event field equal
    to its value (``None``: any)."""
    at = t.c[column_of("timestamp")]
    where: list[Any] = []
    if since_us is not None:
        where.append(at >= since_us)
    if until_us is not None:
        where.append(at < until_us)
    where += [t.c[column_of(f)] == v for f, v in equal.items() if v is not None]
    return where


def summary(
    engine: Engine,
    by: Sequence[str] = ("model",),
    since: When = None,
    until: When = None,
    caller: str | None = None,
    model: str | None = None,
    source: str = "auto",
) -> list[dict[str, Any]]:
    """Grouped totals: the ``by`` keys then ``SUMMARY_FIELDS``; see ``UsageLedger.summary``.

    ``source`` is ``"auto"`` (the rollup when it can answer), ``"rows"`` or ``"rollup"`` (which
    raises ``ValueError`` when the rollup cannot answer exactly).
    """
    keys = _check_by(by)
    since_us, until_us = parse_when(since), parse_when(until)
    if source not in ("auto", "rows", "rollup"):
        raise ValueError(f"source must be 'auto', 'rows' or 'rollup', not {source!r}")
    can = uses_rollup(keys, since_us, until_us)
    if source == "rollup" and not can:
        raise ValueError("the daily rollup cannot answer this grouping or these bounds")
    if can and source != "rows":
        out = _rollup_summary(engine, keys, since_us, until_us, caller, model)
    else:
        out = _rows_summary(engine, keys, since_us, until_us, caller, model)
    nullable = [k for k in keys if k in ("caller", "group", "run")]
    if nullable:
        out.sort(key=lambda d: tuple((d[k] is None, d[k]) for k in keys))
    elif keys:
        out.sort(key=itemgetter(*keys))
    return out


def _rollup_summary(
    engine: Engine,
    keys: tuple[str, ...],
    since_us: int | None,
    until_us: int | None,
    caller: str | None,
    model: str | None,
) -> list[dict[str, Any]]:
    """``summary`` from the daily rollup, in SQL of its own (the rollup's columns are plain
    names; the statement text is built once per shape).

    On SQLite only the counts non-zero in some matched rollup row are summed and read back
    (``_counts_in_use``; most ledgers never see audio, image or 1-hour cache counts): the
    others are 0 in every group. Both reads run in the one read transaction the connection
    begins (``BEGIN DEFERRED``), so they see the same rows. On PostgreSQL every count is summed.
    """
    from modelwire.usage.tables import ROLLUP_GROUPS

    filters: list[str] = []
    params: list[Any] = []
    if since_us is not None:
        filters.append("day >= {ph}")
        params.append(_key_value("day", since_us // US_PER_DAY).isoformat())
    if until_us is not None:
        filters.append("day < {ph}")
        params.append(_key_value("day", until_us // US_PER_DAY).isoformat())
    if caller is not None:
        filters.append("caller = {ph}")
        params.append(caller)
    if model is not None:
        filters.append("model_id = {ph}")
        params.append(model)
    groups = tuple(ROLLUP_GROUPS[k] for k in keys)
    with engine.connect() as conn:
        ph = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        where = tuple(f.format(ph=ph) for f in filters)
        if conn.dialect.name == "sqlite":
            summed = _counts_in_use(conn, where, tuple(params))
        else:
            summed = SUMMED_FIELDS
        result = conn.exec_driver_sql(_rollup_sql(groups, summed, where), tuple(params)).all()
    return _result_rows(keys, summed, result)


@lru_cache(maxsize=256)
def _rollup_sql(groups: tuple[str, ...], summed: tuple[str, ...], where: tuple[str, ...]) -> str:
    """The rollup's SELECT: the ``groups`` columns, then the sums of ``SUMMARY_FIELDS`` with
    only the counts ``summed`` (the cost in nano-dollars)."""
    sums = [
        "sum(calls)",
        "sum(CASE WHEN status = 'error' THEN calls ELSE 0 END)",
        *(f"sum({c})" for c in summed),
        "sum(cost_nanos)",
        "sum(unpriced_calls)",
    ]
    sql = f"SELECT {', '.join((*groups, *sums))} FROM usage_daily"
    if where:
        sql += f" WHERE {' AND '.join(where)}"
    if groups:
        sql += f" GROUP BY {', '.join(groups)}"
    return sql


def _counts_in_use(
    conn: Connection, where: tuple[str, ...], params: tuple[Any, ...]
) -> tuple[str, ...]:
    """The ``SUMMED_FIELDS`` that are non-zero in at least one rollup row matched by ``where``:
    the first row with any of the counts not yet seen non-zero, until none is left (one scan
    of the rows for the counts that are 0 throughout, a few rows for the others)."""
    left = SUMMED_FIELDS
    while left:
        found = conn.exec_driver_sql(_first_nonzero_sql(left, where), params).first()
        if found is None:
            break
        left = tuple(c for c, v in zip(left, found, strict=True) if not v)
    return tuple(c for c in SUMMED_FIELDS if c not in left)


@lru_cache(maxsize=256)
def _first_nonzero_sql(counts: tuple[str, ...], where: tuple[str, ...]) -> str:
    nonzero = " OR ".join(f"{c} <> 0" for c in counts)
    return (
        f"SELECT {', '.join(counts)} FROM usage_daily "
        f"WHERE {' AND '.join((f'({nonzero})', *where))} LIMIT 1"
    )


def _rows_summary(
    engine: Engine,
    keys: tuple[str, ...],
    since_us: int | None,
    until_us: int | None,
    caller: str | None,
    model: str | None,
) -> list[dict[str, Any]]:
    """``summary`` from the ``usage_calls`` rows (any grouping, any bounds)."""
    from sqlalchemy import case, func, select

    from modelwire.usage.tables import CALLS

    t = CALLS
    exprs = _group_exprs(t)
    group_cols = [exprs[k] for k in keys]
    cols = [
        func.count(),
        func.sum(case((t.c.status == "error", 1), else_=0)),
        *(func.sum(t.c[column_of(x)]) for x in SUMMED_FIELDS),
        func.coalesce(func.sum(t.c.cost_nanos), 0),
        func.sum(case((t.c.cost_nanos.is_(None), 1), else_=0)),
    ]
    where = _row_filters(t, since_us, until_us, caller=caller, model_id=model)
    stmt = select(*group_cols, *cols).where(*where)
    if group_cols:
        stmt = stmt.group_by(*group_cols)
    with engine.connect() as conn:
        result = conn.execute(stmt).all()
    return _result_rows(keys, SUMMED_FIELDS, result)


def _result_rows(
    keys: tuple[str, ...], summed: tuple[str, ...], result: Sequence[Sequence[Any]]
) -> list[dict[str, Any]]:
    """The summary's dicts from the selected rows: the ``keys`` then the sums of ``calls``,
    ``errors``, the counts ``summed``, the cost in nano-dollars and ``unpriced_calls`` (none
    NULL in a group with calls). Worked column by column: each distinct key value converted
    once, the sums made ``int`` (PostgreSQL's are ``Decimal``), the counts not summed 0."""
    n = len(keys)
    if not all(r[n] for r in result):  # no calls: ``by=()`` over no rows gives one such row
        result = [r for r in result if r[n]]
    if not result:
        return []
    columns: list[Any] = list(zip(*result, strict=True))
    for i, k in enumerate(keys):
        conv = _CONVERT.get(k)
        if conv is not None:
            seen = {v: conv(v) for v in set(columns[i])}
            columns[i] = map(seen.__getitem__, columns[i])
    fields = ("calls", "errors", *summed, "cost_usd", "unpriced_calls")
    sums: dict[str, list[Any]] = dict(zip(fields, map(_ints, columns[n:]), strict=True))
    sums["cost_usd"] = [
        None if u == c else from_nanos(x)
        for c, x, u in zip(sums["calls"], sums["cost_usd"], sums["unpriced_calls"], strict=True)
    ]
    zeros = [0] * len(result)
    columns[n:] = [sums.get(f, zeros) for f in SUMMARY_FIELDS]
    names = (*keys, *SUMMARY_FIELDS)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _ints(values: Sequence[Any]) -> list[int]:
    """``values`` as ``int``: as they are when they all are (``index`` takes an ``int`` at
    once, where ``int()`` parses its arguments first), else each through ``int()`` (NULL 0)."""
    try:
        return list(map(index, values))
    except TypeError:
        return [int(v or 0) for v in values]


def tool_use_summary(
    engine: Engine,
    by: Sequence[str] = ("model",),
    since: When = None,
    until: When = None,
    caller: str | None = None,
    model: str | None = None,
) -> list[dict[str, Any]]:
    """Server-side tool uses grouped like ``summary``: the ``by`` keys then ``tool_uses``, a
    dict of kind to count. Only groups with a use are listed (read from the rows that hold
    one: tool uses are stored per call as JSON, not in the rollup)."""
    from sqlalchemy import select

    from modelwire.usage.rows import tool_uses_from_json
    from modelwire.usage.tables import CALLS

    keys = _check_by(by)
    t = CALLS
    exprs = _group_exprs(t)
    uses_col = t.c[column_of("tool_uses")]
    where = _row_filters(t, parse_when(since), parse_when(until), caller=caller, model_id=model)
    stmt = select(*(exprs[k] for k in keys), uses_col).where(uses_col.is_not(None), *where)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(stmt).all()]
    convert = [(k, _CONVERT.get(k)) for k in keys]
    groups: dict[tuple[Any, ...], dict[str, int]] = {}
    for r in rows:
        key = tuple(r[i] if conv is None else conv(r[i]) for i, (_, conv) in enumerate(convert))
        acc = groups.setdefault(key, {})
        for kind, n in (tool_uses_from_json(r[-1]) or {}).items():
            acc[kind] = acc.get(kind, 0) + n
    out = [
        {**dict(zip(keys, key, strict=True)), "tool_uses": dict(sorted(uses.items()))}
        for key, uses in groups.items()
        if any(uses.values())
    ]
    out.sort(key=lambda d: tuple((d[k] is None, d[k]) for k in keys))
    return out


def format_usd(cost: Decimal | None, places: int | None = None) -> str:
    """``$0.000435`` (fixed point, never exponent notation); ``unpriced`` for ``None``.

    With ``places`` the amount is rounded for display (half-even); a non-zero amount that
    rounds to zero shows as ``<$0.0…01`` rather than ``$0``.
    """
    if cost is None:
        return "unpriced"
    if places is None:
        text = f"{cost.normalize():f}" if cost else "0"
        return f"${text}"
    q = cost.quantize(Decimal(1).scaleb(-places))
    if q == 0 and cost != 0:
        return f"<${Decimal(1).scaleb(-places):f}"
    return f"${q:f}"


def total_cost(rows: Sequence[dict[str, Any]]) -> Decimal | None:
    """The sum of ``cost_usd`` over summary rows (``None`` when every row is unpriced)."""
    costs = [r["cost_usd"] for r in rows if r["cost_usd"] is not None]
    return sum(costs, Decimal(0)) if costs else None


def iter_records(
    engine: Engine,
    *,
    since: When = None,
    until: When = None,
    model: str | None = None,
    caller: str | None = None,
    status: str | None = None,
    after_id: int | None = None,
    limit: int | None = None,
    newest_first: bool = False,
    chunk: int = 1000,
    run: Callable[[Callable[[Connection], list[UsageRecord]]], list[UsageRecord]] | None = None,
) -> Iterator[UsageRecord]:
    """Stored rows in id order (or newest first), fetched in chunks so no cursor stays open.

    ``run(fetch)`` calls ``fetch`` with a connection for each chunk and returns its rows
    (default: a connection from ``engine``).
    """
    from sqlalchemy import select

    from modelwire.usage.tables import CALLS

    t = CALLS
    since_us, until_us = parse_when(since), parse_when(until)
    where = _row_filters(t, since_us, until_us, model_id=model, caller=caller, status=status)

    def run_on_engine(fetch: Callable[[Connection], list[UsageRecord]]) -> list[UsageRecord]:
        with engine.connect() as conn:
            return fetch(conn)

    run = run or run_on_engine
    cursor = after_id
    left = limit
    while left is None or left > 0:
        size = chunk if left is None else min(chunk, left)
        stmt = select(t).where(*where)
        if cursor is not None:
            stmt = stmt.where(t.c.id < cursor if newest_first else t.c.id > cursor)
        stmt = stmt.order_by(t.c.id.desc() if newest_first else t.c.id).limit(size)
        batch = run(partial(_fetch_records, stmt=stmt))
        yield from batch
        if len(batch) < size:
            return
        cursor = batch[-1].id
        if left is not None:
            left -= len(batch)


def _nearest_rank(ordered: Sequence[float], percent: float) -> float | None:
    """The ``percent`` percentile of sorted values by the nearest-rank method."""
    if not ordered:
        return None
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_percentiles(
    engine: Engine,
    by: Sequence[str] = ("model",),
    since: When = None,
    until: When = None,
    caller: str | None = None,
    model: str | None = None,
) -> list[dict[str, Any]]:
    """Latency and time-to-first-token percentiles of the successful attempts, grouped like
    ``summary`` (same keys, bounds and filters; always from the rows).

    Each dict holds the grouping keys plus ``ok_calls``, ``latency_p50_ms``,
    ``latency_p95_ms``, ``latency_p99_ms``, ``streamed`` (attempts with a time to first token)
    and ``ttft_p50_ms``/``ttft_p95_ms`` (``None`` when nothing was streamed). Percentiles use
    the nearest-rank method.
    """
    from sqlalchemy import select

    from modelwire.usage.tables import CALLS

    keys = _check_by(by)
    t = CALLS
    exprs = _group_exprs(t)
    since_us, until_us = parse_when(since), parse_when(until)
    where = [
        t.c.status == "ok",
        *_row_filters(t, since_us, until_us, caller=caller, model_id=model),
    ]
    stmt = select(*(exprs[k] for k in keys), t.c.latency_ms, t.c.ttft_ms).where(*where)
    latencies: dict[tuple[Any, ...], list[float]] = {}
    ttfts: dict[tuple[Any, ...], list[float]] = {}
    n = len(keys)
    with engine.connect() as conn:
        for r in conn.execute(stmt):
            group = tuple(r[:n])
            latencies.setdefault(group, []).append(float(r[n]))
            if r[n + 1] is not None:
                ttfts.setdefault(group, []).append(float(r[n + 1]))
    out: list[dict[str, Any]] = []
    for group in sorted(latencies, key=lambda g: tuple((v is None, v) for v in g)):
        values = sorted(latencies[group])
        first = sorted(ttfts.get(group, ()))
        row: dict[str, Any] = {
            k: v if k not in _CONVERT else _CONVERT[k](v) for k, v in zip(keys, group, strict=True)
        }
        row.update(
            ok_calls=len(values),
            latency_p50_ms=_nearest_rank(values, 50),
            latency_p95_ms=_nearest_rank(values, 95),
            latency_p99_ms=_nearest_rank(values, 99),
            streamed=len(first),
            ttft_p50_ms=_nearest_rank(first, 50),
            ttft_p95_ms=_nearest_rank(first, 95),
        )
        out.append(row)
    return out


def _fetch_records(conn: Connection, stmt: Any) -> list[UsageRecord]:
    return [UsageRecord.from_row(dict(m)) for m in conn.execute(stmt).mappings()]
