"""Exact cost arithmetic (the rule of "Usage and cost" in docs/design.md).

cost = uncached input × input price + cache reads × cache-read price
     + cache writes × cache-write price + output × output price, prices per million tokens.

Cached input is part of ``input_tokens`` and is charged once, at its own price. A cache price the
vendor does not publish falls back to the input price. A model with no input or output price has
cost ``None`` (unknown), never zero.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from modelwire.types import ModelCost, Usage

__all__ = [
    "NANOS_PER_USD",
    "ScaledPrices",
    "compute_cost",
    "decimal_cost",
    "from_nanos",
    "scaled_prices",
    "to_nanos",
]

MILLION = Decimal(1_000_000)
NANOS_PER_USD = Decimal(1_000_000_000)


ScaledPrices = tuple[int, int, int, int, int]

# id(cost) -> (cost, its scaled prices); the entry keeps the ModelCost alive, so its id cannot be
# reused while cached. Models are few; the bound only guards against a caller making endless ones.
_scaled_cache: dict[int, tuple[ModelCost, ScaledPrices | None]] = {}
_SCALED_CACHE_MAX = 4096


def scaled_prices(cost: ModelCost) -> ScaledPrices | None:
    """``(input, cache_read, cache_write, output, exponent)``: the four prices as integers over
    one power of ten, exactly (``price == integer * 10**exponent``; a cache price not published
    is the input price). ``None`` when unpriced, or when a price is not a ``Decimal`` (a
    ``ModelCost`` built without validation). Computed once per ``ModelCost`` object."""
    entry = _scaled_cache.get(id(cost))
    if entry is not None and entry[0] is cost:
        return entry[1]
    scaled = _scale(cost)
    if len(_scaled_cache) >= _SCALED_CACHE_MAX:
        _scaled_cache.clear()
    _scaled_cache[id(cost)] = (cost, scaled)
    return scaled


def _scale(cost: ModelCost) -> ScaledPrices | None:
    inp, out = cost.input_per_mtok, cost.output_per_mtok
    if inp is None or out is None:
        return None
    read, write = cost.cache_read_per_mtok, cost.cache_write_per_mtok
    prices = (inp, inp if read is None else read, inp if write is None else write, out)
    if not all(type(p) is Decimal and p.is_finite() for p in prices):
        return None
    exponent = min(int(p.as_tuple().exponent) for p in prices)
    a, b, c, d = (int(p.scaleb(-exponent)) for p in prices)
    return a, b, c, d, exponent


def compute_cost(usage: Usage, cost: ModelCost | None) -> Decimal | None:
    """The exact USD cost of ``usage`` at ``cost``'s prices, or ``None`` when unpriced."""
    if cost is None:
        return None
    scaled = scaled_prices(cost)
    if scaled is None:
        return decimal_cost(usage, cost)
    input_price, read_price, write_price, output_price, exponent = scaled
    cache_read = usage.cache_read_tokens
    cache_write = usage.cache_write_tokens
    uncached = max(usage.input_tokens - cache_read - cache_write, 0)
    total = (
        uncached * input_price
        + cache_read * read_price
        + cache_write * write_price
        + usage.output_tokens * output_price
    )
    # The very Decimal (digits and exponent) that decimal_cost's sum of four products gives.
    return Decimal(total).scaleb(exponent) / MILLION


def decimal_cost(usage: Usage, cost: ModelCost) -> Decimal | None:
    """``compute_cost`` in ``Decimal`` arithmetic throughout: the definition above, used for
    prices that are not ``Decimal`` and as the reference in tests."""
    if cost.input_per_mtok is None or cost.output_per_mtok is None:
        return None
    cache_read = usage.cache_read_tokens
    cache_write = usage.cache_write_tokens
    uncached = max(usage.input_tokens - cache_read - cache_write, 0)
    read_price = cost.cache_read_per_mtok
    write_price = cost.cache_write_per_mtok
    total = (
        uncached * cost.input_per_mtok
        + cache_read * (cost.input_per_mtok if read_price is None else read_price)
        + cache_write * (cost.input_per_mtok if write_price is None else write_price)
        + usage.output_tokens * cost.output_per_mtok
    )
    return total / MILLION


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
