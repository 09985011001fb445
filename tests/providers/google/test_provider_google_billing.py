"""Every billed charge of a recorded Gemini answer, priced by hand.

Each ``golden/payloads/google/*_billed_*.json`` goes through the real SDK and the provider
(replayed on loopback, sync, async and streamed); the cost of its usage is compared with a figure
worked out here by hand from the prices below, written as the arithmetic it is.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from modelwire.catalog.pricing import compute_cost
from modelwire.providers.google.mapping import usage_from
from modelwire.providers.google.model import GeminiChatModel
from modelwire.types import ChatRequest, ModelCost, ModelInfo, PriceTier, Usage
from tests.providers.google.test_provider_google_golden import _context, replay_url

__all__ = ["replay_url"]

D = Decimal
M = 10**6  # prices are per million tokens

#: gemini-2.5-flash: audio input has its own price; USD 35 per 1,000 grounded prompts.
FLASH_25 = ModelCost(
    input_per_mtok=D("0.30"),
    output_per_mtok=D("2.50"),
    cache_read_per_mtok=D("0.03"),
    input_audio_per_mtok=D("1.00"),
    tool_use_fees={"web_search": D("0.035")},
)
#: gemini-3-pro-preview: prices double above 200k input tokens; USD 14 per 1,000 queries.
PRO_3 = ModelCost(
    input_per_mtok=D("2"),
    output_per_mtok=D("12"),
    cache_read_per_mtok=D("0.20"),
    tool_use_fees={"web_search": D("0.014")},
    tiers=(
        PriceTier(
            above_input_tokens=200_000,
            input_per_mtok=D("4"),
            output_per_mtok=D("18"),
            cache_read_per_mtok=D("0.40"),
        ),
    ),
)
FLASH_3 = ModelCost(
    input_per_mtok=D("0.50"),
    output_per_mtok=D("3"),
    input_audio_per_mtok=D("1"),
    tool_use_fees={"web_search": D("0.014")},
)
IMAGE_OUT = ModelCost(
    input_per_mtok=D("0.30"), output_per_mtok=D("2.50"), output_image_per_mtok=D("30")
)


def _usage(name: str, replay_url: str) -> Usage:
    ctx = _context(replay_url)
    model = GeminiChatModel(ModelInfo(id=f"google:{name}"), ctx)
    try:
        if name.startswith("stream"):
            usage = list(model.stream(ChatRequest.build("recorded")))[-1].usage
        else:
            usage = model.invoke(ChatRequest.build("recorded")).usage
            assert asyncio.run(model.ainvoke(ChatRequest.build("recorded"))).usage == usage
    finally:
        ctx.close()
    assert usage is not None
    return usage


def test_audio_input_a_cached_prefix_and_a_grounded_prompt(replay_url: str) -> None:
    usage = _usage("generate_billed_audio_grounding", replay_url)
    assert (usage.input_tokens, usage.cache_read_tokens, usage.input_audio_tokens) == (
        5000,
        1000,
        3200,
    )
    assert usage.tool_uses == {"web_search": 1}  # three queries, one grounded prompt (2.x)
    expected = (
        D(5000 - 1000 - 3200) * D("0.30")  # uncached text input
        + D(3200) * D("1.00")  # uncached audio input
        + D(1000) * D("0.03")  # cached input
        + D(300 + 200) * D("2.50")  # answer and thoughts
    ) / M + 1 * D("0.035")
    assert expected == D("0.03972")
    assert compute_cost(usage, FLASH_25) == expected


def test_a_prompt_above_the_tier_and_search_queries(replay_url: str) -> None:
    usage = _usage("generate_billed_tier_search", replay_url)
    assert usage.tool_uses == {"web_search": 2}  # Gemini 3 bills each query
    assert usage.input_image_tokens == 1290  # no image price: the (tiered) input price
    expected = (D(250_000) * D("4") + D(1200 + 800) * D("18")) / M + 2 * D("0.014")
    assert expected == D("1.064")
    assert compute_cost(usage, PRO_3) == expected


def test_image_output_at_the_image_price(replay_url: str) -> None:
    usage = _usage("generate_billed_image_output", replay_url)
    assert (usage.output_tokens, usage.output_image_tokens) == (1300, 1290)
    expected = (D(20) * D("0.30") + D(10) * D("2.50") + D(1290) * D("30")) / M
    assert expected == D("0.038731")
    assert compute_cost(usage, IMAGE_OUT) == expected


def test_streamed_grounding_on_the_last_chunk(replay_url: str) -> None:
    usage = _usage("stream_billed_grounding", replay_url)
    assert usage.tool_uses == {"web_search": 3}
    expected = (D(400) * D("0.50") + D(500) * D("1") + D(40) * D("3")) / M + 3 * D("0.014")
    assert expected == D("0.04282")
    assert compute_cost(usage, FLASH_3) == expected


def test_cached_audio_is_not_billed_as_uncached_audio() -> None:
    usage = usage_from(
        {
            "promptTokenCount": 1000,
            "cachedContentTokenCount": 600,
            "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": 1000}],
            "cacheTokensDetails": [{"modality": "AUDIO", "tokenCount": 600}],
        }
    )
    assert (usage.input_audio_tokens, usage.cache_read_tokens) == (400, 600)
