"""Every billed charge of a recorded OpenAI answer, priced by hand.

Each ``golden/payloads/openai/*_billed_*.json`` goes through the real SDK and the provider
(replayed on loopback); the cost of its usage is compared with a figure worked out here by hand
from the prices below, written as the arithmetic it is.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from modelwire.catalog.pricing import compute_cost
from modelwire.types import ChatRequest, ModelCost, Usage
from tests.providers.openai.test_provider_openai_golden import PAYLOADS, MakeModel, replay_server
from tools.fake_provider import FakeProviderServer

__all__ = ["replay_server"]

D = Decimal
M = 10**6  # prices are per million tokens

#: gpt-4o-audio-preview's prices: text, audio in and out, cached input.
AUDIO = ModelCost(
    input_per_mtok=D("2.50"),
    output_per_mtok=D("10"),
    cache_read_per_mtok=D("1.25"),
    input_audio_per_mtok=D("40"),
    output_audio_per_mtok=D("80"),
)
#: gpt-4.1's prices, with an image-input price of its own for the test.
IMAGE = ModelCost(
    input_per_mtok=D("2"),
    output_per_mtok=D("8"),
    cache_read_per_mtok=D("0.50"),
    input_image_per_mtok=D("1.50"),
)


def _usage(
    name: str, server: tuple[FakeProviderServer, dict[str, Any]], openai_model: MakeModel
) -> Usage:
    fake, current = server
    (path,) = [p for p in PAYLOADS if p.stem == name]
    current["payload"] = json.loads(path.read_text())
    model = openai_model("gpt-4o-mini", base_url=fake.url + "/v1")
    if name.startswith("stream"):
        usage = list(model.stream(ChatRequest.build("replayed")))[-1].usage
    else:
        usage = model.invoke(ChatRequest.build("replayed")).usage
    assert usage is not None
    return usage


def test_audio_in_and_out_at_the_audio_prices(
    replay_server: tuple[FakeProviderServer, dict[str, Any]], openai_model: MakeModel
) -> None:
    usage = _usage("chat_billed_audio", replay_server, openai_model)
    assert (usage.input_audio_tokens, usage.output_audio_tokens) == (1000, 600)
    expected = (
        D(500) * D("2.50")  # text input
        + D(1000) * D("40")  # audio input
        + D(200) * D("10")  # text output
        + D(600) * D("80")  # audio output
    ) / M
    assert expected == D("0.09125")
    assert compute_cost(usage, AUDIO) == expected


def test_streamed_audio_with_a_cached_prefix(
    replay_server: tuple[FakeProviderServer, dict[str, Any]], openai_model: MakeModel
) -> None:
    usage = _usage("stream_billed_audio", replay_server, openai_model)
    assert (usage.input_tokens, usage.cache_read_tokens, usage.input_audio_tokens) == (
        2200,
        1000,
        700,
    )
    expected = (
        D(2200 - 1000 - 700) * D("2.50")  # uncached text input
        + D(700) * D("40")  # audio input
        + D(1000) * D("1.25")  # cached input
        + D(450 - 300) * D("10")  # text output
        + D(300) * D("80")  # audio output
    ) / M
    assert expected == D("0.056")
    assert compute_cost(usage, AUDIO) == expected


@pytest.mark.parametrize(
    ("cost", "expected"),
    [
        pytest.param(
            IMAGE,
            (D(1211) * 2 + D(765) * D("1.50") + D(1024) * D("0.50") + D(12) * 8) / M,
            id="an image price",
        ),
        pytest.param(
            IMAGE.model_copy(update={"input_image_per_mtok": None}),
            (D(3000 - 1024) * 2 + D(1024) * D("0.50") + D(12) * 8) / M,
            id="no image price: the input price",
        ),
    ],
)
def test_image_input(
    cost: ModelCost,
    expected: Decimal,
    replay_server: tuple[FakeProviderServer, dict[str, Any]],
    openai_model: MakeModel,
) -> None:
    usage = _usage("chat_billed_image", replay_server, openai_model)
    assert (usage.input_tokens, usage.cache_read_tokens, usage.input_image_tokens) == (
        3000,
        1024,
        765,
    )
    assert compute_cost(usage, cost) == expected
