from __future__ import annotations

import asyncio

import pytest

from modelwire.errors import (
    AuthenticationError,
    ProviderUnavailableError,
    RateLimitError,
    TimeoutError,
)
from modelwire.types import ChatRequest
from tests.support.helpers import mock_registry


def test_replies_are_deterministic_per_seed_and_prompt() -> None:
    a = mock_registry("mock:m", seed=1).get_model("mock:m")
    b = mock_registry("mock:m", seed=1).get_model("mock:m")
    c = mock_registry("mock:m", seed=2).get_model("mock:m")
    req = ChatRequest.build("hello")
    assert a.invoke(req).text == b.invoke(req).text
    assert a.invoke(req).text != c.invoke(req).text
    assert a.invoke(req).text != a.invoke(ChatRequest.build("other")).text


def test_token_counts_derive_from_text() -> None:
    model = mock_registry("mock:m").get_model("mock:m")
    short = model.invoke(ChatRequest.build("hi")).usage
    long = model.invoke(ChatRequest.build("hi " * 2000)).usage
    assert long.input_tokens > short.input_tokens
    assert long.cache_read_tokens > 0 and short.cache_read_tokens == 0
    assert model.invoke(ChatRequest.build("x", max_tokens=3)).usage.output_tokens <= 3


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("rate_limit", RateLimitError),
        ("server", ProviderUnavailableError),
        ("timeout", TimeoutError),
        ("auth", AuthenticationError),
    ],
)
def test_error_kinds(kind: str, error: type[Exception]) -> None:
    model = mock_registry("mock:m", error_rate=1.0, error_kinds=[kind], retry_after_s=3).get_model(
        "mock:m"
    )
    with pytest.raises(error) as info:
        model.invoke(ChatRequest.build("hi"))
    assert info.value.model_id == "mock:m"  # type: ignore[attr-defined]
    if kind == "rate_limit":
        assert info.value.retry_after == 3  # type: ignore[attr-defined]


def test_error_rate_is_seeded() -> None:
    def failures(seed: int) -> list[bool]:
        model = mock_registry("mock:m", error_rate=0.3, seed=seed).get_model("mock:m")
        out = []
        for _ in range(50):
            try:
                model.invoke(ChatRequest.build("x"))
                out.append(False)
            except (RateLimitError, ProviderUnavailableError):
                out.append(True)
        return out

    assert failures(5) == failures(5)
    assert 5 <= sum(failures(5)) <= 30


def test_timeout_when_latency_exceeds_request_timeout() -> None:
    model = mock_registry("mock:m", latency_ms=500).get_model("mock:m")
    with pytest.raises(TimeoutError):
        model.invoke(ChatRequest.build("x", timeout=0.1))


def test_stream_and_async_stream_match_invoke() -> None:
    model = mock_registry("mock:m").get_model("mock:m")
    req = ChatRequest.build("stream me")
    text = model.invoke(req).text
    events = list(model.stream(req))
    assert "".join(e.text for e in events) == text and events[-1].done

    async def collect() -> str:
        return "".join([e.text async for e in model.astream(req)])

    assert asyncio.run(collect()) == text


def test_list_models() -> None:
    registry = mock_registry()
    ids = [i.id for i in type(registry.get_model("mock:x")).list_models(registry.provider("mock"))]
    assert "mock:gpt-4o-mini" in ids
