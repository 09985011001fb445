"""Every billed charge of a recorded Anthropic answer, priced by hand.

Each ``golden/payloads/anthropic/*_billed_*.json`` goes through the real SDK and the provider
(replayed on loopback, sync and streamed); the cost of the usage it yields is compared with a
figure worked out here by hand from the prices below, written as the arithmetic it is.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from modelwire.catalog.pricing import compute_cost
from modelwire.providers.anthropic.model import AnthropicChatModel
from modelwire.types import ChatRequest, ModelCost, ModelInfo, PriceTier, Usage
from tests.providers.anthropic.test_provider_anthropic_golden import _context, replay_url

__all__ = ["replay_url"]

D = Decimal
M = 10**6  # prices are per million tokens

#: Claude Sonnet 4.5's prices (USD per million tokens; web search USD 10 per 1,000).
SONNET = ModelCost(
    input_per_mtok=D("3"),
    output_per_mtok=D("15"),
    cache_read_per_mtok=D("0.30"),
    cache_write_per_mtok=D("3.75"),
    cache_write_1h_per_mtok=D("6"),
    tool_use_fees={"web_search": D("0.01")},
    tiers=(
        PriceTier(
            above_input_tokens=200_000,
            input_per_mtok=D("6"),
            output_per_mtok=D("22.50"),
            cache_read_per_mtok=D("0.60"),
            cache_write_per_mtok=D("7.50"),
            cache_write_1h_per_mtok=D("12"),
        ),
    ),
)


def _usage(name: str, replay_url: str) -> Usage:
    ctx = _context(replay_url)
    model = AnthropicChatModel(ModelInfo(id=f"anthropic:{name}"), ctx)
    try:
        if name.startswith("stream"):
            events = list(model.stream(ChatRequest.build("recorded")))

            async def collect() -> Usage | None:  # the async stream gives the same usage
                return [e async for e in model.astream(ChatRequest.build("recorded"))][-1].usage

            assert asyncio.run(collect()) == events[-1].usage
            usage = events[-1].usage
        else:
            usage = model.invoke(ChatRequest.build("recorded")).usage
            assert asyncio.run(model.ainvoke(ChatRequest.build("recorded"))).usage == usage
    finally:
        ctx.close()
    assert usage is not None
    return usage


def test_one_hour_cache_writes_and_web_searches(replay_url: str) -> None:
    usage = _usage("message_billed_cache_1h_web_search", replay_url)
    assert (usage.input_tokens, usage.cache_read_tokens, usage.cache_write_tokens) == (
        1200 + 500 + 3000,
        500,
        3000,
    )
    assert usage.cache_write_1h_tokens == 2000
    assert usage.tool_uses == {"web_search": 3, "web_fetch": 1}  # web fetch: no fee
    expected = (
        D(1200) * D("3")  # uncached input
        + D(500) * D("0.30")  # cache read
        + D(1000) * D("3.75")  # 5-minute cache write
        + D(2000) * D("6")  # 1-hour cache write
        + D(400) * D("15")  # output
    ) / M + 3 * D("0.01")  # three web searches
    assert expected == D("0.0555")
    assert compute_cost(usage, SONNET) == expected


def test_compaction_is_billed_as_the_sum_of_its_requests_each_tiered(replay_url: str) -> None:
    usage = _usage("message_billed_compaction", replay_url)
    # The top level says 23000 in / 1000 out; the compaction step is only in the iterations.
    assert (usage.input_tokens, usage.output_tokens) == (205_000 + 23_000, 3_500 + 1_000)
    assert [(u.input_tokens, u.output_tokens) for u in usage.iterations] == [
        (205_000, 3_500),
        (23_000, 1_000),
    ]
    expected = (
        D(205_000) * D("6")
        + D(3_500) * D("22.50")  # the compaction request: above 200k
        + D(23_000) * D("3")
        + D(1_000) * D("15")  # the answer: base prices
    ) / M
    assert expected == D("1.39275")
    assert compute_cost(usage, SONNET) == expected
    # Not the tier applied to the sum of the two requests:
    summed = usage.model_copy(update={"iterations": ()})
    assert compute_cost(summed, SONNET) == (D(228_000) * 6 + D(4_500) * D("22.50")) / M


def test_a_streamed_tool_loop_prices_each_request(replay_url: str) -> None:
    usage = _usage("stream_billed_tool_loop", replay_url)
    assert len(usage.iterations) == 2
    assert usage.tool_uses == {"web_search": 2}
    assert (usage.input_tokens, usage.cache_write_1h_tokens) == (900 + 4000 + 1200 + 4000, 4000)
    expected = (
        D(900) * D("3")
        + D(4000) * D("6")
        + D(120) * D("15")  # 1st: a 1-hour cache write
        + D(1200) * D("3")
        + D(4000) * D("0.30")
        + D(230) * D("15")  # 2nd: reads the cache
    ) / M + 2 * D("0.01")
    assert expected == D("0.05675")
    assert compute_cost(usage, SONNET) == expected


@pytest.mark.parametrize(
    ("above", "expected"),
    [(4_899, D(4900) * 6), (4_900, D(900) * 3 + D(4000) * 6)],
    ids=["tiered", "at the threshold: base"],
)
def test_the_tier_starts_above_its_threshold(above: int, expected: Decimal) -> None:
    request = Usage(input_tokens=4900, cache_write_tokens=4000, cache_write_1h_tokens=4000)
    cost = SONNET.model_copy(
        update={"tiers": (PriceTier(above_input_tokens=above, input_per_mtok=D(6)),)}
    )
    # The tier gives no 1-hour price: the base one (6) stays.
    assert compute_cost(request, cost) == expected / M
