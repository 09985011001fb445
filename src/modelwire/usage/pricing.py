"""Exact cost arithmetic (DESIGN.md §4).

cost = uncached input × input price + cache reads × cache-read price
     + cache writes × cache-write price + output × output price, prices per million tokens.

Cached input is part of ``input_tokens`` and is charged once, at its own price. A cache price the
vendor does not publish falls back to the input price. A model with no input or output price has
cost ``None`` (unknown), never zero.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from modelwire.types import ModelCost, Usage

__all__ = ["NANOS_PER_USD", "compute_cost", "from_nanos", "to_nanos"]

MILLION = Decimal(1_000_000)
NANOS_PER_USD = Decimal(1_000_000_000)


def compute_cost(usage: Usage, cost: ModelCost | None) -> Decimal | None:
    """The exact USD cost of ``usage`` at ``cost``'s prices, or ``None`` when unpriced."""
    if cost is None or cost.input_per_mtok is None or cost.output_per_mtok is None:
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
