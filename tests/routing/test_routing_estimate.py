"""Token, cost and context-window estimates used by routing."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from modelwire.routing.estimate import (
    DEFAULT_OUTPUT_TOKENS,
    estimate_cost,
    estimate_tokens,
    expected_output_tokens,
    fits_context,
)
from modelwire.types import ChatRequest, Message, ModelCost, ModelInfo

PRICED = ModelInfo(
    id="p:m",
    cost=ModelCost(input_per_mtok=Decimal("1"), output_per_mtok=Decimal("4")),
    context_window=1000,
    max_output_tokens=100,
)


def test_formula() -> None:
    # 40 chars -> 10 tokens, + 4 for the message, + 3 priming
    assert estimate_tokens(ChatRequest.build("x" * 40)) == 17
    # 41 chars round up; a system prompt adds its text and one more message overhead
    req = ChatRequest.build("x" * 37, system="abcd")
    assert estimate_tokens(req) == 11 + 4 * 2 + 3
    msgs = [Message(role="user", content="hi"), Message(role="assistant", content="hello")]
    assert estimate_tokens(ChatRequest.build(msgs)) == 2 + 4 * 2 + 3


@given(st.lists(st.text(max_size=200), min_size=1, max_size=5), st.text(max_size=50))
def test_estimate_is_monotonic_in_text(contents: list[str], extra: str) -> None:
    base = ChatRequest.build([{"role": "user", "content": c} for c in contents])
    more = ChatRequest.build([{"role": "user", "content": c + extra} for c in contents])
    assert estimate_tokens(base) >= 3 + 4 * len(contents)
    assert estimate_tokens(more) >= estimate_tokens(base)


def test_expected_output_tokens() -> None:
    assert expected_output_tokens(ChatRequest.build("x", max_tokens=7), PRICED) == 7
    assert expected_output_tokens(ChatRequest.build("x"), PRICED) == 100  # model's limit
    assert expected_output_tokens(ChatRequest.build("x")) == DEFAULT_OUTPUT_TOKENS


def test_estimate_cost() -> None:
    req = ChatRequest.build("x" * 4000, max_tokens=50)  # 1000 + 4 + 3 input tokens
    assert estimate_cost(PRICED, req) == (Decimal(1007) * 1 + Decimal(50) * 4) / 1_000_000
    assert estimate_cost(ModelInfo(id="p:free"), req) is None


def test_fits_context() -> None:
    assert fits_context(PRICED, ChatRequest.build("x" * 100)) == (True, None)
    # 3960 chars -> 990 + 7 = 997 input tokens; the window must also hold max_tokens
    assert fits_context(PRICED, ChatRequest.build("x" * 3960, max_tokens=3)) == (True, None)
    assert fits_context(PRICED, ChatRequest.build("x" * 3960, max_tokens=4)) == (
        False,
        "context window 1000 < ~997 input tokens + max_tokens 4",
    )
    assert fits_context(PRICED, ChatRequest.build("x" * 4000)) == (
        False,
        "context window 1000 < ~1007 input tokens",
    )
    assert fits_context(ModelInfo(id="p:unknown"), ChatRequest.build("x" * 10**6)) == (True, None)
