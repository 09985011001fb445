"""Events to row tuples, row tuples to rollup deltas, and stored rows back to ``UsageRecord``.

Pure Python, no SQLAlchemy: the writer thread calls these on every batch, so they are written for
speed (one attribute fetch per event, a cached day string per UTC day).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from modelwire.catalog.pricing import from_nanos
from modelwire.usage.events import UsageEvent

__all__ = [
    "US_PER_DAY",
    "US_PER_HOUR",
    "RollupDelta",
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

# UsageEvent's fields in declaration order: an event as the EventFields tuple the service sends.
_fields_of = operator.attrgetter(*(f.name for f in fields(UsageEvent)))
_NO_TEXT = (None, None)
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


def events_to_rows(
    events: Iterable[UsageEvent | tuple[Any, ...]], store_prompts: bool
) -> list[tuple[Any, ...]]:
    """Row tuples in ``tables.CALL_COLUMNS`` order (cost in nano-dollars, banker's rounding), from
    events or from ``EventFields`` tuples (the event's fields in declaration order)."""
    fields_of = _fields_of
    return [_fields_row(e if isinstance(e, tuple) else fields_of(e), store_prompts) for e in events]


def _fields_row(f: tuple[Any, ...], store_prompts: bool) -> tuple[Any, ...]:
    """The row of one ``EventFields`` tuple (see ``UsageEvent`` for the field order)."""
    ts = f[19]
    if ts.tzinfo is None or ts.year < 1971:
        us = to_us(ts)
    else:
        us = int(ts.timestamp()) * 1_000_000 + ts.microsecond
    c = f[12]
    cost = None if c is None else int((c * _NANOS).to_integral_value(ROUND_HALF_EVEN))
    prompt, output = (f[17], f[18]) if store_prompts else _NO_TEXT
    # CALL_COLUMNS: ts, model, provider, caller, group, attempt, status, error type, five counts,
    # cost, latency, ttft, request id, prompt, output, stream
    return (
        us,
        f[0],
        f[1],
        f[4],
        f[5],
        f[3],
        f[2],
        *f[6:12],
        cost,
        *f[13:16],
        prompt,
        output,
        f[16],
    )


# Rollup delta: key (day, model_id, provider, caller or '', status) ->
# [calls, input, output, cache_read, cache_write, reasoning, cost_nanos, unpriced, lat_sum, lat_max]
RollupDelta = dict[tuple[str, str, str, str, str], list[Any]]


def aggregate(rows: Iterable[Sequence[Any]], into: RollupDelta | None = None) -> RollupDelta:
    """Sum row tuples (``CALL_COLUMNS`` order) into rollup deltas."""
    acc: RollupDelta = {} if into is None else into
    for r in rows:
        key = (day_of(r[0]), r[1], r[2], r[3] or "", r[6])
        cost = r[13]
        lat = r[14]
        a = acc.get(key)
        if a is None:
            acc[key] = [
                1,
                r[8],
                r[9],
                r[10],
                r[11],
                r[12],
                cost or 0,
                1 if cost is None else 0,
                lat,
                lat,
            ]
            continue
        a[0] += 1
        a[1] += r[8]
        a[2] += r[9]
        a[3] += r[10]
        a[4] += r[11]
        a[5] += r[12]
        if cost is None:
            a[7] += 1
        else:
            a[6] += cost
        a[8] += lat
        if lat > a[9]:
            a[9] = lat
    return acc


def delta_rows(acc: RollupDelta) -> list[tuple[Any, ...]]:
    """Rollup deltas as tuples: the five key columns then the sums, then the latency max."""
    return [(*k, *v) for k, v in acc.items()]


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One stored attempt, as ``UsageLedger.records()`` yields it."""

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
    stream: bool
    prompt: str | None
    output: str | None

    @classmethod
    def from_row(cls, m: Mapping[str, Any]) -> UsageRecord:
        """Build from a ``usage_calls`` row mapping."""
        return cls(
            id=int(m["id"]),
            timestamp=_EPOCH + timedelta(microseconds=int(m["ts_us"])),
            model_id=m["model_id"],
            provider=m["provider"],
            caller=m["caller"],
            group=m["group_name"],
            attempt=int(m["attempt"]),
            status=m["status"],
            error_type=m["error_type"],
            input_tokens=int(m["input_tokens"]),
            output_tokens=int(m["output_tokens"]),
            cache_read_tokens=int(m["cache_read_tokens"]),
            cache_write_tokens=int(m["cache_write_tokens"]),
            reasoning_tokens=int(m["reasoning_tokens"]),
            cost_usd=from_nanos(None if m["cost_nanos"] is None else int(m["cost_nanos"])),
            latency_ms=float(m["latency_ms"]),
            ttft_ms=None if m["ttft_ms"] is None else float(m["ttft_ms"]),
            request_id=m["request_id"],
            stream=bool(m["stream"]),
            prompt=m["prompt"],
            output=m["output"],
        )

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (timestamp and cost kept as ``datetime`` and ``Decimal``)."""
        return asdict(self)

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ISO timestamp, cost as a decimal string or null."""
        d = asdict(self)
        d["timestamp"] = self.timestamp.isoformat()
        d["cost_usd"] = None if self.cost_usd is None else str(self.cost_usd)
        return d
