"""Events to row tuples, row tuples to rollup deltas, and stored rows back to ``UsageRecord``.

Every column is found by name in ``columns.COLUMNS``: what a row holds, where ``aggregate`` finds
its values and what a ``UsageRecord`` is read from. Pure Python, no SQLAlchemy: the writer thread
calls these on every batch, so the name lookups are compiled once into ``operator.itemgetter``s
and positions, and a day string is cached per UTC day.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, cast

from modelwire.catalog.pricing import from_nanos
from modelwire.usage.columns import (
    CALL_COLUMNS,
    COLUMNS,
    SUMMED_FIELDS,
    Conversion,
    StoredColumn,
    column_of,
)
from modelwire.usage.events import UsageEvent

__all__ = [
    "AGGREGATED_COLUMNS",
    "US_PER_DAY",
    "US_PER_HOUR",
    "RollupDelta",
    "RowMaker",
    "UsageRecord",
    "aggregate",
    "day_of",
    "events_to_rows",
    "to_us",
]

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_NANOS = Decimal(1_000_000_000)

_day_cache: dict[int, str] = {}


def to_us(ts: datetime) -> int:
    """UTC microseconds since the epoch; a naive datetime is taken to be UTC."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    if ts.year >= 1971:
        # Exact: the float's integer part is the whole seconds (sub-second error < 0.5 us).
        return int(ts.timestamp()) * 1_000_000 + ts.microsecond
    return (ts - _EPOCH) // _ONE_US


def day_of(ts_us: int) -> str:
    """The UTC day ('YYYY-MM-DD') that ``ts_us`` falls on."""
    n = ts_us // US_PER_DAY
    s = _day_cache.get(n)
    if s is None:
        s = (date(1970, 1, 1) + timedelta(days=n)).isoformat()
        if len(_day_cache) < 10_000:
            _day_cache[n] = s
    return s


def _only(columns: Sequence[StoredColumn], conversion: Conversion) -> StoredColumn:
    found = [c for c in columns if c.conversion is conversion]
    if len(found) != 1:
        raise ValueError(f"a row needs exactly one {conversion.name} column, not {len(found)}")
    return found[0]


class RowMaker:
    """Turns events into row tuples holding ``columns`` (``columns.COLUMNS``) in their order.

    Compiled once from the column names: an event is a tuple, so a row is one ``itemgetter``
    over the event followed by its converted values (the time in microseconds, the cost in
    nano-dollars, and NULL for the prompt and output a ledger does not store).
    """

    __slots__ = ("_cost", "_time", "_with_prompts", "_without_prompts")

    def __init__(self, columns: Sequence[StoredColumn]) -> None:
        fields = UsageEvent._fields
        self._time = fields.index(_only(columns, Conversion.UTC_MICROS).field)
        self._cost = fields.index(_only(columns, Conversion.NANO_DOLLARS).field)
        # Positions in ``event + (microseconds, nano-dollars, None)``.
        converted = {Conversion.UTC_MICROS: len(fields), Conversion.NANO_DOLLARS: len(fields) + 1}
        null = len(fields) + 2

        def position(c: StoredColumn, store_prompts: bool) -> int:
            if c.conversion in converted:
                return converted[c.conversion]
            if c.conversion is Conversion.IF_PROMPTS_STORED and not store_prompts:
                return null
            return fields.index(c.field)

        # At least two columns (the time and the cost): itemgetter returns a tuple.
        self._with_prompts = operator.itemgetter(*(position(c, True) for c in columns))
        self._without_prompts = operator.itemgetter(*(position(c, False) for c in columns))

    def rows(self, events: Iterable[UsageEvent], store_prompts: bool) -> list[tuple[Any, ...]]:
        """The row of each event (cost in nano-dollars, banker's rounding)."""
        pick = self._with_prompts if store_prompts else self._without_prompts
        at, priced = self._time, self._cost
        out = []
        # Read by positions compiled from the names: typed as plain tuples.
        for e in cast("Iterable[tuple[Any, ...]]", events):
            ts: datetime = e[at]
            if ts.tzinfo is None or ts.year < 1971:
                us = to_us(ts)
            else:
                us = int(ts.timestamp()) * 1_000_000 + ts.microsecond
            usd: Decimal | None = e[priced]
            nanos = None if usd is None else int((usd * _NANOS).to_integral_value(ROUND_HALF_EVEN))
            out.append(pick(e + (us, nanos, None)))  # noqa: RUF005 (faster than unpacking)
        return out


_ROWS = RowMaker(COLUMNS)


def events_to_rows(events: Iterable[UsageEvent], store_prompts: bool) -> list[tuple[Any, ...]]:
    """Row tuples in ``CALL_COLUMNS`` order (cost in nano-dollars, banker's rounding); prompt and
    output only with ``store_prompts``."""
    return _ROWS.rows(events, store_prompts)


# Rollup delta: key (day, model_id, provider, caller or '', status) ->
# [calls, the five summed counts (SUMMED_FIELDS order), cost_nanos, unpriced, lat_sum, lat_max]
RollupDelta = dict[tuple[str, str, str, str, str], list[Any]]


def _position(field: str) -> int:
    return CALL_COLUMNS.index(column_of(field))


# Where aggregate finds its values in a row (CALL_COLUMNS order).
_TS, _MODEL, _PROVIDER, _CALLER, _STATUS, _COST, _LATENCY = map(
    _position,
    ("timestamp", "model_id", "provider", "caller", "status", "cost_usd", "latency_ms"),
)
# The five counts, a sum each in the rollup's table. aggregate adds them one by one: a loop over
# them made aggregating a row cost half as much again.
_COUNTS = tuple(map(_position, SUMMED_FIELDS))

#: The columns ``aggregate`` needs of a row: ``CALL_COLUMNS`` up to the last one it reads (a
#: stored row selected with these aggregates like the row the writer inserted).
AGGREGATED_COLUMNS: tuple[str, ...] = CALL_COLUMNS[
    : 1 + max(_TS, _MODEL, _PROVIDER, _CALLER, _STATUS, _COST, _LATENCY, *_COUNTS)
]


def aggregate(rows: Iterable[Sequence[Any]], into: RollupDelta | None = None) -> RollupDelta:
    """Sum row tuples (``CALL_COLUMNS`` order, or ``AGGREGATED_COLUMNS``) into rollup deltas."""
    acc: RollupDelta = {} if into is None else into
    at, model, provider, caller, status = _TS, _MODEL, _PROVIDER, _CALLER, _STATUS
    priced, latency = _COST, _LATENCY
    c1, c2, c3, c4, c5 = _COUNTS
    for r in rows:
        key = (day_of(r[at]), r[model], r[provider], r[caller] or "", r[status])
        cost = r[priced]
        lat = r[latency]
        a = acc.get(key)
        if a is None:
            unpriced = 1 if cost is None else 0
            acc[key] = [1, r[c1], r[c2], r[c3], r[c4], r[c5], cost or 0, unpriced, lat, lat]
            continue
        a[0] += 1
        a[1] += r[c1]
        a[2] += r[c2]
        a[3] += r[c3]
        a[4] += r[c4]
        a[5] += r[c5]
        if cost is None:
            a[7] += 1
        else:
            a[6] += cost
        a[8] += lat
        if lat > a[9]:
            a[9] = lat
    return acc


def delta_rows(acc: RollupDelta) -> list[tuple[Any, ...]]:
    """Rollup deltas as tuples: the five key columns, ``tables.DAILY_SUMS``, the latency max."""
    return [(*k, *v) for k, v in acc.items()]


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One stored attempt, as ``UsageLedger.records()`` yields it: its id, then the event's
    stored fields, in the table's order (``columns.COLUMNS``)."""

    id: int
    timestamp: datetime
    model_id: str
    provider: str
    caller: str | None
    group: str | None
    attempt: int
    status: str
    error_type: str | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost_usd: Decimal | None
    latency_ms: float
    ttft_ms: float | None
    request_id: str | None
    prompt: str | None
    output: str | None
    stream: bool
    run_id: str | None

    @classmethod
    def from_row(cls, m: Mapping[str, Any]) -> UsageRecord:
        """Build from a ``usage_calls`` row mapping."""
        return cls(id=int(m["id"]), **{field: read(m[column]) for column, field, read in _READERS})

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (timestamp and cost kept as ``datetime`` and ``Decimal``)."""
        return asdict(self)

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ISO timestamp, cost as a decimal string or null."""
        d = asdict(self)
        d["timestamp"] = self.timestamp.isoformat()
        d["cost_usd"] = None if self.cost_usd is None else str(self.cost_usd)
        return d


def _moment(us: Any) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def _usd(nanos: Any) -> Decimal | None:
    return from_nanos(None if nanos is None else int(nanos))


def _nullable(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else convert(v)


def _as_is(value: Any) -> Any:
    return value


_READ_BY_TYPE: dict[str, Callable[[Any], Any]] = {
    "bigint": int,
    "integer": int,
    "float": float,
    "boolean": bool,
    "string": _as_is,
    "text": _as_is,
}


def _record_reader(column: StoredColumn) -> Callable[[Any], Any]:
    """How a ``UsageRecord`` reads ``column``'s stored value back (NULL stays ``None``)."""
    if column.conversion is Conversion.UTC_MICROS:
        return _moment
    if column.conversion is Conversion.NANO_DOLLARS:
        return _usd
    read = _READ_BY_TYPE[column.sql_type]
    return _nullable(read) if column.nullable and read is not _as_is else read


_READERS = [(c.column, c.field, _record_reader(c)) for c in COLUMNS]
