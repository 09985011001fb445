"""Anthropic request/usage mapping as pure functions (no network, no SDK)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelwire.errors import InvalidRequestError
from modelwire.providers.anthropic.mapping import (
    DEFAULT_MAX_TOKENS,
    StreamState,
    build_body,
    finish_reason,
    response_text,
    usage_from,
)
from modelwire.types import ChatRequest, Message, ModelInfo, Usage

INFO = ModelInfo(id="anthropic:claude-sonnet-4-5")


def test_minimal_body_always_sends_max_tokens() -> None:
    body = build_body(ChatRequest.build("hi"), INFO)
    assert body == {
        "model": "claude-sonnet-4-5",
        "max_tokens": DEFAULT_MAX_TOKENS,
        "messages": [{"role": "user", "content": "hi"}],
    }


def test_max_tokens_default_is_capped_by_the_model() -> None:
    small = ModelInfo(id="anthropic:claude-small", max_output_tokens=1024)
    assert build_body(ChatRequest.build("hi"), small)["max_tokens"] == 1024
    big = ModelInfo(id="anthropic:claude-big", max_output_tokens=64_000)
    assert build_body(ChatRequest.build("hi"), big)["max_tokens"] == DEFAULT_MAX_TOKENS
    assert build_body(ChatRequest.build("hi", max_tokens=77), small)["max_tokens"] == 77


def test_common_parameters_map_and_seed_is_ignored() -> None:
    request = ChatRequest.build(
        "hi", system="be brief", temperature=0.2, top_p=0.9, stop=["END", "STOP"], seed=42
    )
    body = build_body(request, INFO)
    assert body["system"] == "be brief"
    assert body["temperature"] == 0.2
    assert body["top_p"] == 0.9
    assert body["stop_sequences"] == ["END", "STOP"]
    assert "seed" not in body
    assert "stop" not in body


def test_system_messages_join_the_top_level_system_in_order() -> None:
    request = ChatRequest(
        messages=(
            Message(role="system", content="rule two"),
            Message(role="user", content="q1"),
            Message(role="assistant", content="a1"),
            Message(role="user", content="q2"),
        ),
        system="rule one",
    )
    body = build_body(request, INFO)
    assert body["system"] == "rule one\n\nrule two"
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]


def test_provider_params_pass_through_untouched_and_win() -> None:
    thinking = {"type": "enabled", "budget_tokens": 2048}
    request = ChatRequest.build(
        "hi", temperature=0.5, provider_params={"thinking": thinking, "temperature": 1.0}
    )
    body = build_body(request, INFO)
    assert body["thinking"] is thinking
    assert body["temperature"] == 1.0


def test_text_tool_messages_and_empty_conversations_are_rejected() -> None:
    with pytest.raises(InvalidRequestError, match="ToolResultParts only"):
        build_body(ChatRequest(messages=(Message(role="tool", content="x"),)), INFO)
    with pytest.raises(InvalidRequestError, match="at least one"):
        build_body(ChatRequest(messages=(Message(role="system", content="x"),)), INFO)


def test_usage_adds_the_cache_to_input() -> None:
    usage = usage_from(
        {
            "input_tokens": 12,
            "cache_read_input_tokens": 1800,
            "cache_creation_input_tokens": 200,
            "output_tokens": 420,
            "output_tokens_details": {"thinking_tokens": 300},
        }
    )
    assert usage == Usage(
        input_tokens=2012,
        output_tokens=420,
        cache_read_tokens=1800,
        cache_write_tokens=200,
        reasoning_tokens=300,
    )


def test_usage_tolerates_missing_and_null_fields() -> None:
    assert usage_from(None) == Usage()
    assert usage_from({"input_tokens": 5, "cache_read_input_tokens": None}) == Usage(input_tokens=5)


@given(
    plain=st.integers(0, 10**7),
    read=st.integers(0, 10**7),
    write=st.integers(0, 10**7),
    out=st.integers(0, 10**6),
)
def test_usage_invariants(plain: int, read: int, write: int, out: int) -> None:
    usage = usage_from(
        {
            "input_tokens": plain,
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": write,
            "output_tokens": out,
        }
    )
    assert usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens == plain
    assert usage.output_tokens == out
    assert usage.total_tokens == plain + read + write + out


def test_finish_reasons() -> None:
    assert finish_reason("end_turn") == "stop"
    assert finish_reason("stop_sequence") == "stop"
    assert finish_reason("max_tokens") == "length"
    assert finish_reason("tool_use") == "tool_calls"
    assert finish_reason("refusal") == "content_filter"
    assert finish_reason("pause_turn") == "length"  # unfinished: send it back to continue
    assert finish_reason("model_context_window_exceeded") == "length"
    assert finish_reason("entangled") == "stop"  # newer than this mapping
    assert finish_reason("entangled", has_tool_calls=True) == "tool_calls"
    assert finish_reason(None) is None


def test_response_text_skips_thinking_blocks() -> None:
    content = [
        {"type": "thinking", "thinking": "hmm", "signature": "s"},
        {"type": "text", "text": "Hello"},
        {"type": "text", "text": ", world"},
    ]
    assert response_text(content) == "Hello, world"


def test_stream_state_keeps_the_latest_non_null_usage() -> None:
    state = StreamState()
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "usage": {
                "input_tokens": 10,
                "cache_read_input_tokens": 100,
                "cache_creation_input_tokens": 0,
                "output_tokens": 1,
            },
        },
    }
    assert state.feed(start) == ""
    text = {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hi"}}
    think = {"type": "content_block_delta", "delta": {"type": "thinking_delta", "thinking": "x"}}
    assert state.feed(think) == ""
    assert state.feed(text) == "Hi"
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {"output_tokens": 30, "input_tokens": None, "cache_read_input_tokens": None},
    }
    state.feed(delta)
    assert not state.finished
    state.feed({"type": "message_stop"})
    assert state.finished
    assert state.message_id == "msg_1"
    assert state.chars == 2
    assert state.finish_reason == "stop"
    assert state.usage == Usage(input_tokens=110, output_tokens=30, cache_read_tokens=100)


def test_stream_state_takes_text_from_a_non_empty_block_start() -> None:
    state = StreamState()
    start = {"type": "content_block_start", "content_block": {"type": "text", "text": "Hi"}}
    assert state.feed(start) == "Hi"
    thinking = {
        "type": "content_block_start",
        "content_block": {"type": "thinking", "thinking": ""},
    }
    assert state.feed(thinking) == ""
    assert state.chars == 2
