"""``compute_cost`` (integer arithmetic) gives the very ``Decimal`` of ``decimal_cost``.

``decimal_cost`` is the definition (the sum of the ``Decimal`` products of each count and its
price, request by request, and of each tool use and its fee, divided by a million); the integer
version must give the same value with the same digits and exponent (so ``str()`` and the golden
cost snapshots are unchanged), for any prices, tiers, fees, dates and counts.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from modelwire.catalog.pricing import compute_cost, decimal_cost, price_in_force, scaled_prices
from modelwire.types import ModelCost, PriceTier, Usage

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


# -- every count, tier, fee, request and date --------------------------------------------------

some_price = st.one_of(
    st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("0.30"), Decimal("1.25"), Decimal("6.00"), Decimal("22.5")]),
    st.integers(0, 10**4).map(lambda n: Decimal(n).scaleb(2)),
)
maybe_price = st.none() | some_price
KINDS = ["web_search", "file_search", "web_fetch"]
EDGES = [0, 1, 1000, 200_000]  # counts and tier thresholds that meet


@st.composite
def model_costs(draw: st.DrawFn, dated: bool = True) -> ModelCost:
    thresholds = sorted(draw(st.sets(st.integers(0, 10**6) | st.sampled_from(EDGES), max_size=3)))
    tiers = tuple(
        PriceTier(
            above_input_tokens=t,
            input_per_mtok=draw(maybe_price),
            output_per_mtok=draw(maybe_price),
            cache_read_per_mtok=draw(maybe_price),
            cache_write_per_mtok=draw(maybe_price),
            cache_write_1h_per_mtok=draw(maybe_price),
        )
        for t in thresholds
    )
    earlier: tuple[ModelCost, ...] = ()
    if dated and draw(st.booleans()):
        earlier = (draw(model_costs(dated=False)).model_copy(update={"effective_date": None}),)
    return ModelCost(
        input_per_mtok=draw(maybe_price),
        output_per_mtok=draw(maybe_price),
        cache_read_per_mtok=draw(maybe_price),
        cache_write_per_mtok=draw(maybe_price),
        cache_write_1h_per_mtok=draw(maybe_price),
        input_audio_per_mtok=draw(maybe_price),
        input_image_per_mtok=draw(maybe_price),
        output_audio_per_mtok=draw(maybe_price),
        output_image_per_mtok=draw(maybe_price),
        tool_use_fees=draw(st.dictionaries(st.sampled_from(KINDS[:2]), some_price)),
        tiers=tiers,
        effective_date=draw(st.dates(date(2024, 1, 1), date(2028, 1, 1))) if earlier else None,
        earlier=earlier,
    )


counts = st.integers(0, 10**7) | st.sampled_from(EDGES)


def one_request(draw: st.DrawFn) -> Usage:
    return Usage(
        input_tokens=draw(counts),
        output_tokens=draw(counts),
        cache_read_tokens=draw(counts),
        cache_write_tokens=draw(counts),
        reasoning_tokens=draw(counts),
        cache_write_1h_tokens=draw(counts),
        input_audio_tokens=draw(counts),
        input_image_tokens=draw(counts),
        output_audio_tokens=draw(counts),
        output_image_tokens=draw(counts),
    )


@st.composite
def usages(draw: st.DrawFn) -> Usage:
    requests = tuple(one_request(draw) for _ in range(draw(st.integers(0, 3))))
    top = sum(requests, Usage()) if requests else one_request(draw)
    uses = draw(st.dictionaries(st.sampled_from(KINDS), st.integers(0, 100)))
    return top.model_copy(update={"tool_uses": uses, "iterations": requests})


moments = (
    st.none()
    | st.datetimes(datetime(2023, 1, 1), datetime(2029, 1, 1))
    | st.dates(date(2023, 1, 1), date(2029, 1, 1))
)


@given(usages(), model_costs(), moments)
def test_every_count_tier_fee_and_date_gives_the_decimal_of_the_definition(
    usage: Usage, cost: ModelCost, at: datetime | date | None
) -> None:
    fast, reference = compute_cost(usage, cost, at), decimal_cost(usage, cost, at)
    assert fast == reference
    assert str(fast) == str(reference)


def test_the_price_in_force_by_date() -> None:
    old = ModelCost(input_per_mtok="1", output_per_mtok="1", effective_date=date(2025, 1, 1))
    cost = ModelCost(
        input_per_mtok="2", output_per_mtok="2", effective_date=date(2026, 6, 1), earlier=(old,)
    )
    usage = Usage(input_tokens=1_000_000)
    assert compute_cost(usage, cost, datetime(2026, 5, 31, 23, 59, 59)) == Decimal(1)
    assert compute_cost(usage, cost, datetime(2026, 6, 1)) == Decimal(2)  # 00:00 UTC
    assert compute_cost(usage, cost, date(2024, 1, 1)) == Decimal(1)  # before all: the oldest
    # "now" is the newest price that has started: one that starts in the future waits.
    future = cost.model_copy(update={"effective_date": date(2999, 1, 1)})
    assert compute_cost(usage, future) == Decimal(1)
    assert compute_cost(usage, future, date(2999, 1, 1)) == Decimal(2)
    assert price_in_force(future) is old


def test_adding_a_usage_of_several_requests_keeps_each_request_for_its_tier() -> None:
    cost = ModelCost(
        input_per_mtok="1",
        output_per_mtok="1",
        tiers=(PriceTier(above_input_tokens=1000, input_per_mtok="2"),),
    )
    first, second = Usage(input_tokens=1500), Usage(input_tokens=300)
    looped = Usage(input_tokens=1800, iterations=(first, second))
    small = Usage(input_tokens=600)
    both = looped + small
    assert both.input_tokens == 2400 and both.iterations == (first, second, small)
    assert compute_cost(both, cost) == (Decimal(1500) * 2 + Decimal(300 + 600) * 1) / 10**6
    # Plain usages add up as one request (price each call, then add the costs).
    assert (Usage(input_tokens=1) + Usage(input_tokens=2)).iterations == ()
