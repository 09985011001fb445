"""OpenAI request/response mapping as pure functions (no network).

``respx`` cannot intercept the ``openai`` 3.x SDK (it sends through ``httpx2``, not ``httpx``), so
the wire-level check here uses an ``httpx2.MockTransport`` instead, and the golden tests pin the
bodies the fake server received; the rules themselves are checked exhaustively on the mapping
functions.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelwire.providers.openai.mapping import (
    StreamState,
    build_params,
    is_chat_model,
    is_reasoning_model,
    usage_from_openai,
)
from modelwire.types import ChatRequest, ModelInfo, Usage


@pytest.mark.parametrize(
    ("name", "reasoning"),
    [
        ("o1", True),
        ("o1-mini", True),
        ("o3", True),
        ("o3-mini-2025-01-31", True),
        ("o4-mini", True),
        ("gpt-5", True),
        ("gpt-5-mini", True),
        ("gpt-5.1", True),
        ("openai/o3-mini", True),
        ("gpt-4o", False),
        ("gpt-4o-mini", False),
        ("gpt-4.1", False),
        ("o1x-custom", False),
        ("llama3.1", False),
        ("gpt-50-fake", False),
    ],
)
def test_reasoning_families(name: str, reasoning: bool) -> None:
    assert is_reasoning_model(ModelInfo(id=f"openai:{name}")) is reasoning


def test_reasoning_flag_wins_over_the_name() -> None:
    assert is_reasoning_model(ModelInfo(id="local:qwq", reasoning=True))


@pytest.mark.parametrize(
    "model_id",
    [
        "text-embedding-3-small",
        "nomic-embed-text",
        "whisper-1",
        "tts-1-hd",
        "gpt-4o-mini-tts",
        "gpt-4o-transcribe",
        "gpt-4o-audio-preview",
        "gpt-4o-realtime-preview",
        "dall-e-3",
        "gpt-image-1",
        "omni-moderation-latest",
        "text-moderation-stable",
        "davinci-002",
        "babbage-002",
    ],
)
def test_non_chat_models_are_excluded(model_id: str) -> None:
    assert not is_chat_model(model_id)


@pytest.mark.parametrize("model_id", ["gpt-4o", "o3-mini", "gpt-5", "llama3.1:8b", "qwen2.5"])
def test_chat_models_are_kept(model_id: str) -> None:
    assert is_chat_model(model_id)


requests = st.builds(
    ChatRequest.build,
    st.text(min_size=1, max_size=20),
    system=st.none() | st.text(min_size=1, max_size=10),
    max_tokens=st.none() | st.integers(1, 10_000),
    temperature=st.none() | st.floats(0, 2),
    top_p=st.none() | st.floats(0, 1),
    seed=st.none() | st.integers(0, 2**31),
)


@given(requests, st.sampled_from(["o1", "o3-mini", "gpt-5", "o4-mini"]), st.booleans())
def test_reasoning_models_never_get_sampling_params(
    request: ChatRequest, name: str, stream: bool
) -> None:
    body = build_params(ModelInfo(id=f"openai:{name}"), request, stream=stream)
    assert "temperature" not in body and "top_p" not in body and "max_tokens" not in body
    assert body.get("max_completion_tokens") == request.max_tokens
    assert body.get("seed") == request.seed
    assert body["messages"][0]["role"] == ("system" if request.system else "user")
    assert ("stream_options" in body) is stream


@given(requests)
def test_chat_models_get_every_common_param(request: ChatRequest) -> None:
    body = build_params(ModelInfo(id="openai:gpt-4o"), request)
    assert body.get("max_tokens") == request.max_tokens
    assert body.get("temperature") == request.temperature
    assert body.get("top_p") == request.top_p
    assert "max_completion_tokens" not in body


def test_provider_params_override_and_pass_through() -> None:
    request = ChatRequest.build(
        "hi", max_tokens=5, provider_params={"max_tokens": 9, "reasoning_effort": "high"}
    )
    body = build_params(ModelInfo(id="openai:gpt-4o"), request)
    assert body["max_tokens"] == 9 and body["reasoning_effort"] == "high"


def test_usage_from_dict_object_and_none() -> None:
    raw = {
        "prompt_tokens": 100,
        "completion_tokens": 40,
        "prompt_tokens_details": {"cached_tokens": 64},
        "completion_tokens_details": {"reasoning_tokens": 30},
    }
    expected = Usage(input_tokens=100, output_tokens=40, cache_read_tokens=64, reasoning_tokens=30)
    assert usage_from_openai(raw) == expected
    assert usage_from_openai({"prompt_tokens": 3, "completion_tokens": None}) == Usage(
        input_tokens=3
    )
    assert usage_from_openai(None) == Usage()


def test_stream_state() -> None:
    state = StreamState()
    assert state.feed({"choices": [{"delta": {"role": "assistant", "content": ""}}]}) == ""
    assert state.feed({"choices": [{"delta": {"content": "ab"}, "finish_reason": None}]}) == "ab"
    assert not state.finished
    assert state.feed({"choices": [{"delta": {}, "finish_reason": "length"}]}) == ""
    assert state.finished and state.finish_reason == "length"
    assert state.feed({"choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 1}}) == ""
    assert state.usage == Usage(input_tokens=2, output_tokens=1)
    assert state.chars == 2


def test_reasoning_request_on_the_wire_with_a_mock_transport() -> None:
    """The in-process equivalent of a respx test: the SDK sends through an ``httpx2`` mock."""
    import json

    import httpx2
    import openai

    from modelwire.config.schema import ProviderConfig
    from modelwire.providers.base import ProviderContext
    from modelwire.providers.openai.model import OpenAIChatModel

    seen: list[httpx2.Request] = []
    reply = {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": "o3",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": 3,
            "completion_tokens": 9,
            "completion_tokens_details": {"reasoning_tokens": 7},
        },
    }

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=reply, headers={"x-request-id": "req_mock"})

    ctx = ProviderContext("openai", ProviderConfig(type="openai", api_key="sk-mock", timeout_s=30))
    transport = httpx2.MockTransport(handler)
    ctx.client(
        "sync",
        lambda: openai.OpenAI(
            api_key="sk-mock",
            base_url="http://mock.invalid/v1",
            max_retries=0,
            timeout=30,
            http_client=httpx2.Client(transport=transport),
        ),
        lambda c: c.close(),
    )
    try:
        model = OpenAIChatModel(ModelInfo(id="openai:o3"), ctx)
        request = ChatRequest.build("why?", system="s", max_tokens=64, temperature=0.3, timeout=4.0)
        resp = model.invoke(request)
    finally:
        ctx.close()
    (sent,) = seen
    body = json.loads(sent.content)
    assert body == {
        "model": "o3",
        "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "why?"}],
        "max_completion_tokens": 64,
    }
    assert sent.extensions["timeout"]["read"] == 4.0  # the per-call timeout reached the SDK
    assert resp.request_id == "req_mock"
    assert resp.usage == Usage(input_tokens=3, output_tokens=9, reasoning_tokens=7)
