"""Events to row tuples, row tuples to rollup deltas, and stored rows back to ``UsageRecord``.

Every column is found by name in ``columns.COLUMNS``: what a row holds, where ``aggregate`` finds
its values and what a ``UsageRecord`` is read from. Pure Python, no SQLAlchemy: the writer thread
calls these on every batch, so the name lookups are compiled once into ``operator.itemgetter``s
and positions, and a day string is cached per UTC day.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, cast

from modelwire.catalog.pricing import from_nanos
from modelwire.types import Usage
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
    "USAGE_COUNTS",
    "US_PER_DAY",
    "US_PER_HOUR",
    "RollupDelta",
    "RowMaker",
    "UsageRecord",
    "aggregate",
    "day_of",
    "events_to_rows",
    "iterations_from_json",
    "to_json",
    "to_us",
    "tool_uses_from_json",
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

    __slots__ = ("_cost", "_json", "_no_json", "_time", "_with_prompts", "_without_prompts")

    def __init__(self, columns: Sequence[StoredColumn]) -> None:
        fields = UsageEvent._fields
        self._time = fields.index(_only(columns, Conversion.UTC_MICROS).field)
        self._cost = fields.index(_only(columns, Conversion.NANO_DOLLARS).field)
        json_columns = [c for c in columns if c.conversion is Conversion.JSON]
        json_at = [fields.index(c.field) for c in json_columns]
        # The JSON fields of an event as a tuple (itemgetter of one position returns the value).
        self._json: Callable[[tuple[Any, ...]], tuple[Any, ...]] = (
            operator.itemgetter(*json_at)
            if len(json_at) > 1
            else lambda e: tuple(e[i] for i in json_at)
        )
        self._no_json = (None,) * len(json_at)
        # Positions in ``event + (microseconds, nano-dollars, None, *JSON texts)``.
        converted = {Conversion.UTC_MICROS: len(fields), Conversion.NANO_DOLLARS: len(fields) + 1}
        null = len(fields) + 2
        as_json = {c.field: len(fields) + 3 + i for i, c in enumerate(json_columns)}

        def position(c: StoredColumn, store_prompts: bool) -> int:
            if c.conversion in converted:
                return converted[c.conversion]
            if c.conversion is Conversion.IF_PROMPTS_STORED and not store_prompts:
                return null
            if c.conversion is Conversion.JSON:
                return as_json[c.field]
            return fields.index(c.field)

        # At least two columns (the time and the cost): itemgetter returns a tuple.
        self._with_prompts = operator.itemgetter(*(position(c, True) for c in columns))
        self._without_prompts = operator.itemgetter(*(position(c, False) for c in columns))

    def rows(self, events: Iterable[UsageEvent], store_prompts: bool) -> list[tuple[Any, ...]]:
        """The row of each event (cost in nano-dollars, banker's rounding)."""
        pick = self._with_prompts if store_prompts else self._without_prompts
        at, priced, json_of, no_json = self._time, self._cost, self._json, self._no_json
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
            values = json_of(e)
            texts = tuple(map(to_json, values)) if any(values) else no_json
            out.append(pick(e + (us, nanos, None) + texts))  # noqa: RUF005 (faster than unpacking)
        return out


#: The integer counts of ``Usage``: what ``iterations`` keeps of each request.
USAGE_COUNTS: tuple[str, ...] = tuple(
    name for name, f in Usage.model_fields.items() if f.annotation is int
)


def to_json(value: Any) -> str | None:
    """A ``Conversion.JSON`` value as stored: ``None`` when empty; tool uses as an object;
    requests as a list of objects of their non-zero counts."""
    if not value:
        return None
    if isinstance(value, Mapping):
        return json.dumps({str(k): int(v) for k, v in value.items()}, separators=(",", ":"))
    items = [
        {k: int(v) for k, v in u.items() if v}
        if isinstance(u, Mapping)
        else {name: n for name in USAGE_COUNTS if (n := getattr(u, name))}
        for u in value
    ]
    return json.dumps(items, separators=(",", ":"))


def tool_uses_from_json(text: str | None) -> dict[str, int] | None:
    """Stored ``tool_uses`` back (``None``: none)."""
    return None if text is None else {str(k): int(v) for k, v in json.loads(text).items()}


def iterations_from_json(text: str | None) -> tuple[Usage, ...]:
    """Stored ``iterations`` back as one ``Usage`` per request (``()``: one request)."""
    return () if text is None else tuple(Usage(**item) for item in json.loads(text))


_ROWS = RowMaker(COLUMNS)


def events_to_rows(events: Iterable[UsageEvent], store_prompts: bool) -> list[tuple[Any, ...]]:
    """Row tuples in ``CALL_COLUMNS`` order (cost in nano-dollars, banker's rounding); prompt and
    output only with ``store_prompts``."""
    return _ROWS.rows(events, store_prompts)


# Rollup delta: key (day, model_id, provider, caller or '', status) ->
# [calls, the ten summed counts (SUMMED_FIELDS order), cost_nanos, unpriced, lat_sum, lat_max]
RollupDelta = dict[tuple[str, str, str, str, str], list[Any]]


def _position(field: str) -> int:
    return CALL_COLUMNS.index(column_of(field))


# Where aggregate finds its values in a row (CALL_COLUMNS order).
_TS, _MODEL, _PROVIDER, _CALLER, _STATUS, _COST, _LATENCY = map(
    _position,
    ("timestamp", "model_id", "provider", "caller", "status", "cost_usd", "latency_ms"),
)
# The counts, a sum each in the rollup's table. aggregate adds them one by one: a loop over
# them made aggregating a row cost half as much again.
_COUNTS = tuple(map(_position, SUMMED_FIELDS))
_READ = frozenset((_TS, _MODEL, _PROVIDER, _CALLER, _STATUS, _COST, _LATENCY, *_COUNTS))

#: What to select of a stored row so that it aggregates like the row the writer inserted: the
#: ``CALL_COLUMNS`` up to the last one ``aggregate`` reads, in their places, with ``NULL`` for
#: those it does not read (the prompt and output texts are never fetched).
AGGREGATED_COLUMNS: tuple[str, ...] = tuple(
    name if i in _READ else "NULL" for i, name in enumerate(CALL_COLUMNS[: 1 + max(_READ)])
)


def aggregate(rows: Iterable[Sequence[Any]], into: RollupDelta | None = None) -> RollupDelta:
    """Sum row tuples (``CALL_COLUMNS`` order, or ``AGGREGATED_COLUMNS``) into rollup deltas."""
    acc: RollupDelta = {} if into is None else into
    at, model, provider, caller, status = _TS, _MODEL, _PROVIDER, _CALLER, _STATUS
    priced, latency = _COST, _LATENCY
    c1, c2, c3, c4, c5, c6, c7, c8, c9, c10 = _COUNTS
    for r in rows:
        key = (day_of(r[at]), r[model], r[provider], r[caller] or "", r[status])
        cost = r[priced]
        lat = r[latency]
        a = acc.get(key)
        if a is None:
            unpriced = 1 if cost is None else 0
            acc[key] = [
                1,
                r[c1],
                r[c2],
                r[c3],
                r[c4],
                r[c5],
                r[c6],
                r[c7],
                r[c8],
                r[c9],
                r[c10],
                cost or 0,
                unpriced,
                lat,
                lat,
            ]
            continue
        a[0] += 1
        a[1] += r[c1]
        a[2] += r[c2]
        a[3] += r[c3]
        a[4] += r[c4]
        a[5] += r[c5]
        a[6] += r[c6]
        a[7] += r[c7]
        a[8] += r[c8]
        a[9] += r[c9]
        a[10] += r[c10]
        if cost is None:
            a[12] += 1
        else:
            a[11] += cost
        a[13] += lat
        if lat > a[14]:
            a[14] = lat
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
    cache_write_1h_tokens: int
    input_audio_tokens: int
    input_image_tokens: int
    output_audio_tokens: int
    output_image_tokens: int
    tool_uses: dict[str, int] | None
    iterations: tuple[Usage, ...]

    @classmethod
    def from_row(cls, m: Mapping[str, Any]) -> UsageRecord:
        """Build from a ``usage_calls`` row mapping."""
        return cls(id=int(m["id"]), **{field: read(m[column]) for column, field, read in _READERS})

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (timestamp and cost kept as ``datetime`` and ``Decimal``)."""
        d = asdict(self)
        d["iterations"] = self.iterations  # the Usage objects, not dicts of them
        return d

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ISO timestamp, cost as a decimal string or null, each request of
        ``iterations`` as an object of its non-zero counts."""
        d = asdict(self)
        d["timestamp"] = self.timestamp.isoformat()
        d["cost_usd"] = None if self.cost_usd is None else str(self.cost_usd)
        d["iterations"] = json.loads(to_json(self.iterations) or "[]")
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


_JSON_READERS: dict[str, Callable[[Any], Any]] = {
    "tool_uses": tool_uses_from_json,
    "iterations": iterations_from_json,
}


def _record_reader(column: StoredColumn) -> Callable[[Any], Any]:
    """How a ``UsageRecord`` reads ``column``'s stored value back (NULL stays ``None``)."""
    if column.conversion is Conversion.UTC_MICROS:
        return _moment
    if column.conversion is Conversion.NANO_DOLLARS:
        return _usd
    if column.conversion is Conversion.JSON:
        return _JSON_READERS[column.field]
    read = _READ_BY_TYPE[column.sql_type]
    return _nullable(read) if column.nullable and read is not _as_is else read


_READERS = [(c.column, c.field, _record_reader(c)) for c in COLUMNS]
