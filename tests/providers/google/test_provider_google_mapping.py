"""Gemini request/usage mapping as pure functions (no network, no SDK)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelwire.errors import InvalidRequestError
from modelwire.providers.google.mapping import (
    StreamState,
    build_config,
    build_contents,
    finish_reason,
    request_id_of,
    response_finish_reason,
    response_text,
    retry_delay_from_body,
    usage_from,
)
from modelwire.types import ChatRequest, Message, ModelInfo, Usage

INFO = ModelInfo(id="google:gemini-2.5-flash")


def test_roles_map_to_user_and_model_and_system_is_an_instruction() -> None:
    request = ChatRequest(
        messages=(
            Message(role="user", content="q1"),
            Message(role="assistant", content="a1"),
            Message(role="system", content="rule two"),
            Message(role="user", content="q2"),
        ),
        system="rule one",
    )
    contents, system = build_contents(request, INFO)
    assert contents == [
        {"role": "user", "parts": [{"text": "q1"}]},
        {"role": "model", "parts": [{"text": "a1"}]},
        {"role": "user", "parts": [{"text": "q2"}]},
    ]
    assert system == "rule one\n\nrule two"


def test_rejects_plain_tool_messages_and_empty_conversations() -> None:
    with pytest.raises(InvalidRequestError, match="ToolResultPart"):
        build_contents(ChatRequest(messages=(Message(role="tool", content="x"),)), INFO)
    with pytest.raises(InvalidRequestError, match="at least one"):
        build_contents(ChatRequest(messages=(Message(role="system", content="x"),)), INFO)


def test_minimal_config_is_empty() -> None:
    assert build_config(ChatRequest.build("hi"), None) == {}


def test_common_parameters_map_into_the_generation_config() -> None:
    request = ChatRequest.build(
        "hi", max_tokens=64, temperature=0.3, top_p=0.8, stop=["END"], seed=7, timeout=2.5
    )
    assert build_config(request, "sys") == {
        "system_instruction": "sys",
        "max_output_tokens": 64,
        "temperature": 0.3,
        "top_p": 0.8,
        "stop_sequences": ["END"],
        "seed": 7,
        "http_options": {"timeout": 2500},
    }


def test_provider_params_go_to_the_config_or_the_raw_body() -> None:
    thinking = {"thinking_budget": 0}
    request = ChatRequest.build(
        "hi",
        temperature=0.3,
        provider_params={"thinking_config": thinking, "temperature": 1.0, "cachedContent": "c/1"},
    )
    config = build_config(request, None)
    assert config["thinking_config"] is thinking
    assert config["temperature"] == 1.0
    assert config["http_options"] == {"extra_body": {"cachedContent": "c/1"}}


def test_usage_counts_thoughts_as_output_and_cache_inside_input() -> None:
    usage = usage_from(
        {
            "prompt_token_count": 2000,
            "cached_content_token_count": 1500,
            "candidates_token_count": 120,
            "thoughts_token_count": 300,
            "total_token_count": 2420,
        }
    )
    assert usage == Usage(
        input_tokens=2000, output_tokens=420, cache_read_tokens=1500, reasoning_tokens=300
    )


def test_usage_reads_camel_case_dicts_and_tool_prompts() -> None:
    usage = usage_from(
        {"promptTokenCount": 10, "toolUsePromptTokenCount": 5, "candidatesTokenCount": 3}
    )
    assert usage == Usage(input_tokens=15, output_tokens=3)
    assert usage_from(None) == Usage()


@given(
    prompt=st.integers(0, 10**7),
    cached=st.integers(0, 10**7),
    candidates=st.integers(0, 10**6),
    thoughts=st.integers(0, 10**6),
    tool=st.integers(0, 10**5),
)
def test_usage_matches_the_total_token_count(
    prompt: int, cached: int, candidates: int, thoughts: int, tool: int
) -> None:
    usage = usage_from(
        {
            "prompt_token_count": prompt,
            "cached_content_token_count": min(cached, prompt),
            "candidates_token_count": candidates,
            "thoughts_token_count": thoughts,
            "tool_use_prompt_token_count": tool,
        }
    )
    assert usage.total_tokens == prompt + candidates + thoughts + tool
    assert usage.reasoning_tokens <= usage.output_tokens
    assert usage.cache_read_tokens <= usage.input_tokens


def test_finish_reasons() -> None:
    assert finish_reason("STOP") == "stop"
    assert finish_reason("MAX_TOKENS") == "length"
    assert finish_reason("SAFETY") == "content_filter"
    assert finish_reason("FINISH_REASON_UNSPECIFIED") is None
    assert finish_reason("LANGUAGE") == "error"  # anything else is one of the five words
    assert finish_reason("A_REASON_FROM_NEXT_YEAR") == "error"
    assert finish_reason(None) is None


def test_text_skips_thought_parts_and_blocked_prompts_say_content_filter() -> None:
    response = {
        "candidates": [
            {
                "content": {"parts": [{"text": "plan", "thought": True}, {"text": "Hi"}]},
                "finish_reason": "STOP",
            }
        ]
    }
    assert response_text(response) == "Hi"
    assert response_finish_reason(response) == "stop"
    blocked = {"candidates": [], "prompt_feedback": {"block_reason": "SAFETY"}}
    assert response_text(blocked) == ""
    assert response_finish_reason(blocked) == "content_filter"


def test_retry_delay_from_a_retry_info_detail() -> None:
    body = {
        "error": {
            "code": 429,
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"},
            ],
        }
    }
    assert retry_delay_from_body(body) == 37.0
    assert retry_delay_from_body({"error": {"details": [{"retryDelay": "soon"}]}}) is None
    assert retry_delay_from_body("not json") is None


def test_stream_state_keeps_the_last_usage_and_needs_a_finish_reason() -> None:
    state = StreamState()
    first = {
        "candidates": [{"content": {"parts": [{"text": "Hel"}]}}],
        "usage_metadata": {"prompt_token_count": 4, "candidates_token_count": 1},
        "response_id": "r1",
    }
    last = {
        "candidates": [{"content": {"parts": [{"text": "lo"}]}, "finish_reason": "MAX_TOKENS"}],
        "usage_metadata": {"prompt_token_count": 4, "candidates_token_count": 2},
    }
    assert not state.started and state.request_id is None
    assert state.feed(first) == "Hel"
    assert state.started and not state.finished
    assert state.feed({**last, "response_id": "r2"}) == "lo"
    assert state.finished
    assert state.finish_reason == "length"
    assert state.response_id == "r2"
    assert state.request_id == "r1"  # the first chunk's
    assert state.chars == 5
    assert state.usage == Usage(input_tokens=4, output_tokens=2)


def test_request_id_is_the_header_the_sdk_kept_else_the_response_id() -> None:
    from types import SimpleNamespace

    http = SimpleNamespace(headers={"x-request-id": "req-h"})
    assert request_id_of(SimpleNamespace(sdk_http_response=http, response_id="resp-1")) == "req-h"
    assert request_id_of({"response_id": "resp-2"}) == "resp-2"
    assert request_id_of({}) is None


def test_http_options_in_provider_params_merge_over_the_built_ones() -> None:
    request = ChatRequest.build(
        "hi",
        timeout=2,
        provider_params={"http_options": {"headers": {"x-extra": "1"}, "timeout": 9000}, "x": 1},
    )
    config = build_config(request, None)
    assert config["http_options"] == {
        "extra_body": {"x": 1},
        "timeout": 9000,
        "headers": {"x-extra": "1"},
    }


def test_config_fields_come_from_the_caller() -> None:
    request = ChatRequest.build("hi", provider_params={"brand_new_field": True})
    assert build_config(request, None, {"brand_new_field"}) == {"brand_new_field": True}
    assert build_config(request, None) == {
        "http_options": {"extra_body": {"brand_new_field": True}}
    }
