from __future__ import annotations

import asyncio
from typing import Any

import pytest

from modelwire.errors import (
    AuthenticationError,
    ProviderUnavailableError,
    RateLimitError,
    TimeoutError,
)
from modelwire.providers import mock as mock_module
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


def test_stream_chunks_by_words_and_ends_with_the_replys_usage() -> None:
    model = mock_registry("mock:m", stream_chunk_words=2).get_model("mock:m")
    req = ChatRequest.build("chunk me")
    reply = model.invoke(req)
    events = list(model.stream(req))
    *pieces, last = events
    words = reply.text.split(" ")
    assert len(pieces) == (len(words) + 1) // 2
    assert all(len(p.text.split()) <= 2 for p in pieces)
    assert last.done and last.usage == reply.usage and last.finish_reason == "stop"
    assert last.request_id and last.request_id.startswith("mock-")


@pytest.mark.parametrize("kind", ["rate_limit", "server", "timeout", "auth"])
def test_streams_raise_the_injected_fault(kind: str) -> None:
    model = mock_registry("mock:m", error_rate=1.0, error_kinds=[kind]).get_model("mock:m")
    expected = type(_fault_of(model.invoke))
    with pytest.raises(expected):
        list(model.stream(ChatRequest.build("hi")))

    async def collect() -> None:
        [e async for e in model.astream(ChatRequest.build("hi"))]

    with pytest.raises(expected):
        asyncio.run(collect())


def _fault_of(call: Any) -> Exception:
    try:
        call(ChatRequest.build("hi"))
    except Exception as exc:
        return exc
    raise AssertionError("no fault injected")


def test_latency_sleeps_blocking_or_with_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sync calls sleep with time.sleep, async ones with asyncio.sleep, for the same seeded
    latency (base plus jitter); the latency over the timeout fails before any sleep."""
    slept: list[tuple[str, float]] = []

    async def asleep(seconds: float) -> None:
        slept.append(("async", seconds))

    monkeypatch.setattr(mock_module.time, "sleep", lambda s: slept.append(("sync", s)))
    monkeypatch.setattr(mock_module.asyncio, "sleep", asleep)

    def model() -> Any:
        return mock_registry("mock:m", latency_ms=100, latency_jitter_ms=50, seed=4).get_model(
            "mock:m"
        )

    model().invoke(ChatRequest.build("x"))
    asyncio.run(model().ainvoke(ChatRequest.build("x")))
    (sync_kind, sync_s), (async_kind, async_s) = slept
    assert (sync_kind, async_kind) == ("sync", "async")
    assert sync_s == async_s and 0.1 <= sync_s <= 0.15
    slept.clear()
    with pytest.raises(TimeoutError):
        model().invoke(ChatRequest.build("x", timeout=0.05))
    assert slept == []
