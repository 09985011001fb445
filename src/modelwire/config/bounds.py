"""The limits every configuration value is checked against, and the base of its models.

Every number has an upper bound as well as a lower one, and floats must be finite, so a value
that validates cannot overflow later (a timer of ``1e300`` seconds, a window of ``10**20`` calls).
The bounds are generous: the ``MAX_*`` constants below, documented in docs/configuration.md.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

__all__ = [
    "MAX_COUNT",
    "MAX_DELAY_MS",
    "MAX_PRICE",
    "MAX_SECONDS",
    "MAX_TOKENS",
    "MAX_TTL_S",
    "MAX_WEIGHT",
    "PRICE_PLACES",
    "SEED_BOUND",
    "Strict",
    "check_base_url",
    "check_price",
]

MAX_SECONDS = 86_400.0
"""Upper bound of every duration in seconds (timeouts, backoff delays, cool-downs): one day."""
MAX_DELAY_MS = 3_600_000.0
"""Upper bound of durations in milliseconds (mock latency, usage flush interval): one hour."""
MAX_TTL_S = 2_592_000.0
"""Upper bound of discovery's cache lifetime and refresh interval: 30 days."""
MAX_COUNT = 1_000_000
"""Upper bound of counts (breaker thresholds and window, usage batch size, words per chunk)."""
MAX_TOKENS = 100_000_000
"""Upper bound of a model's context window and output limit, in tokens."""
MAX_WEIGHT = 1_000_000.0
"""Upper bound of a member's weight in a ``weighted`` group."""
MAX_PRICE = Decimal(1_000_000)
"""Upper bound of a price, in USD per million tokens."""
PRICE_PLACES = 12
"""Most decimal places a price may have (trailing zeros do not count)."""

SEED_BOUND = 2**63


class Strict(BaseModel):
    """A configuration model: unknown fields are errors, values are frozen and finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def check_base_url(value: str | None) -> str | None:
    """``value`` if it is an http(s) URL with a host (and a valid port)."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"expected an http:// or https:// URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL with a host")
    return value


def check_price(value: Decimal | None) -> Decimal | None:
    """``value`` if it is a usable price, with trailing zeros past the last decimal place dropped.

    A price is finite, from 0 to :data:`MAX_PRICE` and has at most :data:`PRICE_PLACES` decimal
    places, so every cost computed from it stays exact and fits the ledger.
    """
    if value is None:
        return None
    if not value.is_finite() or value < 0 or value > MAX_PRICE:
        raise ValueError(f"expected a price from 0 to {MAX_PRICE} USD per million tokens")
    if value == 0:
        return Decimal(0)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if exponent < -PRICE_PLACES:  # drop trailing zeros (exactly: no context rounding)
        zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
        kept = min(exponent + zeros, 0)
        if kept < -PRICE_PLACES:
            raise ValueError(f"expected a price with at most {PRICE_PLACES} decimal places")
        value = Decimal((sign, digits[: len(digits) - (kept - exponent)], kept))
    return value
