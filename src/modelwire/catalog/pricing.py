"""Exact cost arithmetic: every billed count of a ``Usage`` at its own price.

The definition (``decimal_cost``), prices in USD per million tokens and fees in USD per use::

    cost = ( sum over the call's sampling requests of
               uncached text input × input          + audio input × input_audio
             + image input × input_image            + cache reads × cache_read
             + 5-minute cache writes × cache_write  + 1-hour cache writes × cache_write_1h
             + text output × output                 + audio output × output_audio
             + image output × output_image
           + sum over server-side tool kinds of uses × fee × 1,000,000 ) / 1,000,000

* **Requests.** A usage with ``iterations`` (several sampling requests in one call) is priced
  request by request; otherwise the usage is one request. Tool uses are counted once, from the
  call's ``tool_uses``.
* **Tiers.** A request whose input (cached included) exceeds a tier's ``above_input_tokens``
  pays that tier's prices for all of its tokens (the highest such tier); a price the tier does
  not give keeps the base price. Tiers are applied per request, never to a sum of requests.
* **Fallbacks.** A price not published falls back: cache read and 5-minute cache write to the
  input price, 1-hour cache write to the 5-minute cache-write price, audio and image input to
  the (tiered) input price, audio and image output to the (tiered) output price. A tool kind
  without a fee costs nothing beyond its tokens.
* **Parts.** Cache reads and writes are parts of ``input_tokens``, 1-hour writes part of
  ``cache_write_tokens``, audio and image input parts of the uncached input, audio and image
  output parts of ``output_tokens``; each token is charged once, at its own price (a part
  larger than its whole is cut to the whole).
* **Dates.** ``at`` (default: now) picks the price in force at that moment: the newest of the
  price and its ``earlier`` prices whose ``effective_date`` (00:00 UTC) is not after it; when
  every one starts later, the oldest.
* A price with no input or output price is unpriced: cost ``None``, never zero.

``compute_cost`` gives the very ``Decimal`` (digits and exponent) of ``decimal_cost`` in
integer arithmetic: each price set is scaled once per ``ModelCost`` object to integers over one
power of ten, so a call pays no lookup beyond its tier.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, NamedTuple

from modelwire.types import ModelCost, PriceTier, Usage

__all__ = [
    "NANOS_PER_USD",
    "ScaledPrices",
    "compute_cost",
    "decimal_cost",
    "from_nanos",
    "price_in_force",
    "scaled_prices",
    "to_nanos",
]

MILLION = Decimal(1_000_000)
NANOS_PER_USD = Decimal(1_000_000_000)

ScaledPrices = tuple[int, int, int, int, int]

#: The price of each count ``_counts`` gives, in its order.
_PRICE_ORDER = (
    "input",
    "cache_read",
    "cache_write",
    "cache_write_1h",
    "output",
    "input_audio",
    "input_image",
    "output_audio",
    "output_image",
)


class _Set(NamedTuple):
    """The nine prices of one tier (the base: ``above`` -1) as integers times ``10**exp``."""

    above: int
    prices: tuple[int, ...]
    exp: int


class _Plan(NamedTuple):
    """One dated price, scaled: its price sets (base first) and its fees (USD per million
    uses, as ``(integer, exponent)``)."""

    sets: tuple[_Set, ...]
    fees: Mapping[str, tuple[int, int]]


# A dated price: (the POSIX second it takes effect, its plan; None when unpriced).
_Dated = tuple[float, _Plan | None]

# id(cost) -> (cost, its dated plans newest first; None: not all Decimal, use decimal_cost).
# The entry keeps the ModelCost alive, so its id cannot be reused while cached. Models are few;
# the bound only guards against a caller making endless ones.
_plan_cache: dict[int, tuple[ModelCost, tuple[_Dated, ...] | None]] = {}
_PLAN_CACHE_MAX = 4096


def _start(day: date | None) -> float:
    if day is None:
        return float("-inf")
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _seconds(at: datetime | date) -> float:
    if not isinstance(at, datetime):
        return _start(at)
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()


def _dated(cost: ModelCost) -> tuple[ModelCost, ...]:
    return (cost, *cost.earlier)


def price_in_force(cost: ModelCost, at: datetime | date | None = None) -> ModelCost:
    """The one of ``cost`` and its ``earlier`` prices in force at ``at`` (default: now)."""
    moment = time.time() if at is None else _seconds(at)
    candidates = _dated(cost)
    for price in candidates:
        if _start(price.effective_date) <= moment:
            return price
    return candidates[-1]


def _resolved(price: ModelCost, tier: PriceTier | None) -> tuple[Any, ...] | None:
    """The nine prices of a request at ``price`` (in ``tier``), fallbacks applied."""

    def pick(name: str) -> Any:
        value = getattr(tier, f"{name}_per_mtok", None) if tier is not None else None
        return getattr(price, f"{name}_per_mtok") if value is None else value

    inp, out = pick("input"), pick("output")
    if inp is None or out is None:
        return None
    read, write, write_1h = pick("cache_read"), pick("cache_write"), pick("cache_write_1h")
    write = inp if write is None else write
    in_audio, in_image = price.input_audio_per_mtok, price.input_image_per_mtok
    out_audio, out_image = price.output_audio_per_mtok, price.output_image_per_mtok
    return (
        inp,
        inp if read is None else read,
        write,
        write if write_1h is None else write_1h,
        out,
        inp if in_audio is None else in_audio,
        inp if in_image is None else in_image,
        out if out_audio is None else out_audio,
        out if out_image is None else out_image,
    )


def _tier_of(price: ModelCost, input_tokens: int) -> PriceTier | None:
    found = None
    for tier in price.tiers:
        if input_tokens > tier.above_input_tokens:
            found = tier
    return found


def _counts(u: Usage) -> tuple[int, ...]:
    """The nine counts of one request, in ``_PRICE_ORDER``: each token once."""
    read = u.cache_read_tokens
    write = u.cache_write_tokens
    write_1h = min(u.cache_write_1h_tokens, write)
    uncached = max(u.input_tokens - read - write, 0)
    in_audio = min(u.input_audio_tokens, uncached)
    in_image = min(u.input_image_tokens, uncached - in_audio)
    output = u.output_tokens
    out_audio = min(u.output_audio_tokens, output)
    out_image = min(u.output_image_tokens, output - out_audio)
    return (
        uncached - in_audio - in_image,
        read,
        write - write_1h,
        write_1h,
        output - out_audio - out_image,
        in_audio,
        in_image,
        out_audio,
        out_image,
    )


def _exact(value: Any) -> bool:
    return type(value) is Decimal and value.is_finite()


def _scale(values: Sequence[Decimal]) -> tuple[tuple[int, ...], int]:
    exp = min(int(v.as_tuple().exponent) for v in values)
    return tuple(int(v.scaleb(-exp)) for v in values), exp


def _plan(price: ModelCost) -> tuple[bool, _Plan | None]:
    """``(exact, plan)``: the plan of one dated price (``None``: unpriced); ``exact`` is false
    when a price is not a finite ``Decimal`` (then ``decimal_cost`` does the arithmetic)."""
    base = _resolved(price, None)
    if base is None:
        return True, None
    sets = []
    for above, tier in ((-1, None), *((t.above_input_tokens, t) for t in price.tiers)):
        prices = base if tier is None else _resolved(price, tier)
        if prices is None or not all(_exact(p) for p in prices):
            return False, None
        ints, exp = _scale(prices)
        sets.append(_Set(above, ints, exp))
    fees = {}
    for kind, fee in price.tool_use_fees.items():
        if not _exact(fee):
            return False, None
        (n,), exp = _scale([fee * MILLION])
        fees[kind] = (n, exp)
    return True, _Plan(tuple(sets), fees)


def _plans(cost: ModelCost) -> tuple[_Dated, ...] | None:
    entry = _plan_cache.get(id(cost))
    if entry is not None and entry[0] is cost:
        return entry[1]
    made = [(_start(p.effective_date), *_plan(p)) for p in _dated(cost)]
    plans: tuple[_Dated, ...] | None = (
        tuple((start, plan) for start, _, plan in made)
        if all(exact for _, exact, _ in made)
        else None
    )
    if len(_plan_cache) >= _PLAN_CACHE_MAX:
        _plan_cache.clear()
    _plan_cache[id(cost)] = (cost, plans)
    return plans


def scaled_prices(cost: ModelCost) -> ScaledPrices | None:
    """``(input, cache_read, cache_write, output, exponent)`` of the base prices in force now,
    as integers over one power of ten (``price == integer * 10**exponent``; cache prices not
    published are the input price). ``None`` when unpriced, or when a price is not a
    ``Decimal`` (a ``ModelCost`` built without validation). Computed once per ``ModelCost``."""
    plans = _plans(cost)
    plan = None if plans is None else _pick(plans, None)
    if plan is None:
        return None
    base = plan.sets[0]
    inp, read, write, _, out = base.prices[:5]
    return inp, read, write, out, base.exp


def _pick(plans: tuple[_Dated, ...], at: datetime | date | None) -> _Plan | None:
    if len(plans) == 1:
        return plans[0][1]
    moment = time.time() if at is None else _seconds(at)
    for start, plan in plans:
        if start <= moment:
            return plan
    return plans[-1][1]


def _tier(sets: tuple[_Set, ...], input_tokens: int) -> _Set:
    """The price set of a request of ``input_tokens``: the highest tier it is above."""
    chosen = sets[0]
    for s in sets:
        if input_tokens > s.above:
            chosen = s
    return chosen


def _request(u: Usage, sets: tuple[_Set, ...]) -> tuple[int, int]:
    """One request's total (integer) and its exponent."""
    chosen = sets[0] if len(sets) == 1 else _tier(sets, u.input_tokens)
    p = chosen.prices
    if (
        u.cache_write_1h_tokens
        or u.input_audio_tokens
        or u.input_image_tokens
        or u.output_audio_tokens
        or u.output_image_tokens
    ):
        c = _counts(u)
        total = (
            c[0] * p[0]
            + c[1] * p[1]
            + c[2] * p[2]
            + c[3] * p[3]
            + c[4] * p[4]
            + c[5] * p[5]
            + c[6] * p[6]
            + c[7] * p[7]
            + c[8] * p[8]
        )
        return total, chosen.exp
    # The plain request (text, 5-minute cache): _counts with the other parts zero.
    read = u.cache_read_tokens
    write = u.cache_write_tokens
    uncached = u.input_tokens - read - write
    if uncached < 0:
        uncached = 0
    return uncached * p[0] + read * p[1] + write * p[2] + u.output_tokens * p[4], chosen.exp


def compute_cost(
    usage: Usage, cost: ModelCost | None, at: datetime | date | None = None
) -> Decimal | None:
    """The exact USD cost of ``usage`` at ``cost``'s prices in force at ``at`` (default: now;
    a naive datetime is UTC), or ``None`` when unpriced."""
    if cost is None:
        return None
    entry = _plan_cache.get(id(cost))
    plans = entry[1] if entry is not None and entry[0] is cost else _plans(cost)
    if plans is None:
        return decimal_cost(usage, cost, at)
    plan = plans[0][1] if len(plans) == 1 else _pick(plans, at)
    if plan is None:
        return None
    sets = plan.sets
    iterations = usage.iterations
    if iterations:
        total, exp = _request(iterations[0], sets)
        for u in iterations[1:]:
            total, exp = _add(total, exp, *_request(u, sets))
    elif (
        usage.cache_write_1h_tokens
        or usage.input_audio_tokens
        or usage.input_image_tokens
        or usage.output_audio_tokens
        or usage.output_image_tokens
    ):
        total, exp = _request(usage, sets)
    else:  # the plain request (text, 5-minute cache), inline: most calls are this one
        n = usage.input_tokens
        chosen = sets[0]
        if len(sets) > 1 and n > sets[1].above:
            chosen = _tier(sets, n)
        p = chosen.prices
        read = usage.cache_read_tokens
        write = usage.cache_write_tokens
        uncached = n - read - write
        if uncached < 0:
            uncached = 0
        total = uncached * p[0] + read * p[1] + write * p[2] + usage.output_tokens * p[4]
        exp = chosen.exp
    uses = usage.tool_uses
    if uses:
        fees = plan.fees
        for kind, n in uses.items():
            fee = fees.get(kind)
            if fee is not None:
                total, exp = _add(total, exp, n * fee[0], fee[1])
    # The very Decimal (digits and exponent) that decimal_cost's sum of products gives.
    return Decimal(total).scaleb(exp) / MILLION


def _add(a: int, a_exp: int, b: int, b_exp: int) -> tuple[int, int]:
    """``a * 10**a_exp + b * 10**b_exp`` at the smaller exponent (as Decimal addition)."""
    if a_exp == b_exp:
        return a + b, a_exp
    if a_exp < b_exp:
        return a + b * 10 ** (b_exp - a_exp), a_exp
    return a * 10 ** (a_exp - b_exp) + b, b_exp


def decimal_cost(
    usage: Usage, cost: ModelCost, at: datetime | date | None = None
) -> Decimal | None:
    """``compute_cost`` in ``Decimal`` arithmetic throughout: the definition above, used for
    prices that are not ``Decimal`` and as the reference in tests."""
    price = price_in_force(cost, at)
    if price.input_per_mtok is None or price.output_per_mtok is None:
        return None
    terms: list[Any] = []
    for u in usage.iterations or (usage,):
        prices = _resolved(price, _tier_of(price, u.input_tokens))
        assert prices is not None  # the input and output prices are known
        terms.extend(n * p for n, p in zip(_counts(u), prices, strict=True))
    for kind, n in usage.tool_uses.items():
        fee = price.tool_use_fees.get(kind)
        if fee is not None:
            terms.append(n * fee * MILLION)
    total = sum(terms[1:], terms[0])
    return Decimal(total) / MILLION if not isinstance(total, Decimal) else total / MILLION


def to_nanos(usd: Decimal | None) -> int | None:
    """USD as an integer of nano-dollars (banker's rounding), for exact storage."""
    if usd is None:
        return None
    return int((usd * NANOS_PER_USD).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_nanos(nanos: int | None) -> Decimal | None:
    """Nano-dollars back to USD."""
    if nanos is None:
        return None
    return Decimal(nanos) / NANOS_PER_USD
