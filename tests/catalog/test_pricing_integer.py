"""``compute_cost`` (integer arithmetic) gives the very ``Decimal`` of ``decimal_cost``.

``decimal_cost`` is the definition (the sum of four ``Decimal`` products divided by a million);
the integer version must give the same value with the same digits and exponent (so ``str()`` and
the golden cost snapshots are unchanged), for any prices and token counts.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from modelwire.catalog.pricing import compute_cost, decimal_cost, scaled_prices
from modelwire.types import ModelCost, Usage

prices = st.one_of(
    st.none(),
    st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("15"), Decimal("0.075"), Decimal("1.25"), Decimal("3.0"), Decimal(0)]),
    st.integers(0, 10**4).map(lambda n: Decimal(n).scaleb(2)),  # positive exponents: 1.2E+3
)
tokens = st.integers(0, 10**9)


@given(prices, prices, prices, prices, tokens, tokens, tokens, tokens, tokens)
def test_same_decimal_as_the_definition(
    inp: Decimal | None,
    out: Decimal | None,
    read: Decimal | None,
    write: Decimal | None,
    input_tokens: int,
    output_tokens: int,
    cache_read: int,
    cache_write: int,
    reasoning: int,
) -> None:
    cost = ModelCost(
        input_per_mtok=inp,
        output_per_mtok=out,
        cache_read_per_mtok=read,
        cache_write_per_mtok=write,
    )
    usage = Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=reasoning,
    )
    fast, reference = compute_cost(usage, cost), decimal_cost(usage, cost)
    assert fast == reference
    assert str(fast) == str(reference)  # digits and exponent too, not only the value


def test_known_figures() -> None:
    cost = ModelCost(input_per_mtok="0.15", output_per_mtok="0.6", cache_read_per_mtok="0.075")
    usage = Usage(input_tokens=1200, output_tokens=300, cache_read_tokens=200)
    # 1000 x 0.15 + 200 x 0.075 + 300 x 0.6 = 150 + 15 + 180 = 345 per million
    assert compute_cost(usage, cost) == Decimal("0.000345")
    assert scaled_prices(cost) == (150, 75, 150, 600, -3)
    assert compute_cost(Usage(), cost) == Decimal(0)
    assert compute_cost(usage, ModelCost(input_per_mtok=1)) is None  # no output price
    assert compute_cost(usage, None) is None


def test_a_changed_copy_is_priced_at_its_own_prices() -> None:
    cost = ModelCost(input_per_mtok="3", output_per_mtok="15")
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert compute_cost(usage, cost) == Decimal(18)
    copy = cost.model_copy(update={"output_per_mtok": Decimal(5)})  # not validated, same class
    assert compute_cost(usage, copy) == Decimal(8)
    assert compute_cost(usage, cost) == Decimal(18)


def test_prices_that_skipped_validation_still_price_exactly() -> None:
    cost = ModelCost.model_construct(input_per_mtok=0, output_per_mtok=2)  # ints, not Decimals
    assert scaled_prices(cost) is None
    assert compute_cost(Usage(input_tokens=5, output_tokens=500_000), cost) == Decimal(1)
