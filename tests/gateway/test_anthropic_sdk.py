"""The official, unmodified ``anthropic`` SDK against the gateway: sync and async, plain and
streaming, tools, images; what a client is told equals the ledger's row (cache counts apart, as Anthropic does)."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import anthropic
import pytest

from modelwire.content import ImagePart, ThinkingPart, ToolCall, ToolResultPart

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def client(gateway: Any, token: str | None = None) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=gateway.url, api_key=token or gateway.token, max_retries=0, timeout=30
    )


def test_plain_message_and_its_usage_is_the_ledger_row(gateway: Any) -> None:
    with client(gateway) as sdk:
        message = sdk.messages.create(
            model="mini", max_tokens=64, messages=[{"role": "user", "content": "hello"}]
        )
    row = gateway.last_row()
    assert message.model == row.model_id == "mock:gpt-4o-mini"
    assert message.stop_reason == "end_turn"
    assert message.content[0].type == "text" and message.content[0].text
    assert (message.usage.input_tokens, message.usage.output_tokens) == (
        row.input_tokens,
        row.output_tokens,
    )
    assert row.caller == "team-a"


def test_cache_counts_are_apart_from_input_as_anthropic_reports_them(gateway: Any) -> None:
    with client(gateway) as sdk:
        message = sdk.messages.create(
            model="s:m",
            max_tokens=64,
            system=[{"type": "text", "text": "you are terse"}],
            messages=[{"role": "user", "content": "count"}],
        )
    row = gateway.last_row()
    usage = message.usage
    assert usage.cache_read_input_tokens == row.cache_read_tokens == 30
    assert usage.cache_creation_input_tokens == row.cache_write_tokens == 10
    total_input = usage.input_tokens + usage.cache_read_input_tokens
    total_input += usage.cache_creation_input_tokens
    assert total_input == row.input_tokens == 100
    assert usage.output_tokens == row.output_tokens
    request = gateway.service.registry.get_model("s:m").SEEN[-1]
    assert request.system == "you are terse" and request.max_tokens == 64


def test_stream_text_and_final_message(gateway: Any) -> None:
    with (
        client(gateway) as sdk,
        sdk.messages.stream(
            model="mini", max_tokens=64, messages=[{"role": "user", "content": "stream it"}]
        ) as stream,
    ):
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    with client(gateway) as sdk:
        plain = sdk.messages.create(
            model="mini", max_tokens=64, messages=[{"role": "user", "content": "stream it"}]
        )
    assert len(pieces) > 1
    assert "".join(pieces) == final.content[0].text == plain.content[0].text  # type: ignore[union-attr]
    streamed = next(r for r in gateway.rows(newest_first=True, limit=2) if r.stream)
    assert (final.usage.input_tokens, final.usage.output_tokens) == (
        streamed.input_tokens,
        streamed.output_tokens,
    )


def test_async_stream_with_tools_and_its_usage_is_the_ledger_row(gateway: Any) -> None:
    async def run() -> tuple[list[str], anthropic.types.Message]:
        sdk = anthropic.AsyncAnthropic(
            base_url=gateway.url, api_key=gateway.token, max_retries=0, timeout=30
        )
        try:
            async with sdk.messages.stream(
                model="s:m",
                max_tokens=64,
                tools=[WEATHER_TOOL],  # type: ignore[list-item]
                messages=[{"role": "user", "content": "weather in Paris, async?"}],
            ) as stream:
                kinds = [event.type async for event in stream]
                return kinds, await stream.get_final_message()
        finally:
            await sdk.close()

    kinds, final = asyncio.run(run())
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert "input_json" in kinds  # the tool's arguments arrived in pieces
    (call,) = final.content
    assert call.type == "tool_use" and call.name == "get_weather"
    assert call.input == {"city": "Paris"}
    assert final.stop_reason == "tool_use"
    row = gateway.last_row()
    assert row.stream and row.status == "ok" and row.caller == "team-a"
    assert final.usage.output_tokens == row.output_tokens == 20
    assert final.usage.cache_read_input_tokens == row.cache_read_tokens == 30
    total_input = final.usage.input_tokens + final.usage.cache_read_input_tokens
    assert total_input + (final.usage.cache_creation_input_tokens or 0) == row.input_tokens


def test_tools_round_trip(gateway: Any) -> None:
    question = {"role": "user", "content": "weather in Paris?"}
    with client(gateway) as sdk:
        first = sdk.messages.create(
            model="s:m",
            max_tokens=64,
            messages=[question],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
        )
        assert first.stop_reason == "tool_use"
        (use,) = [b for b in first.content if b.type == "tool_use"]
        assert (use.name, use.input) == ("get_weather", {"city": "Paris"})
        second = sdk.messages.create(
            model="s:m",
            max_tokens=64,
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
            messages=[
                question,  # type: ignore[list-item]
                {"role": "assistant", "content": first.content},  # type: ignore[dict-item]
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": use.id, "content": "18 C"},
                        {"type": "text", "text": "and tomorrow?"},
                    ],
                },
            ],
        )
    assert second.content[0].text == "result: 18 C"  # type: ignore[union-attr]
    request = gateway.service.registry.get_model("s:m").SEEN[-1]
    roles = [m.role for m in request.messages]
    assert roles == ["user", "assistant", "tool", "user"]
    assert request.messages[1].tool_calls == (
        ToolCall(id=use.id, name="get_weather", arguments={"city": "Paris"}),
    )
    (result,) = request.messages[2].parts
    assert isinstance(result, ToolResultPart)
    assert (result.call_id, result.name, result.text) == (use.id, "get_weather", "18 C")


def test_streamed_tool_use_assembles_in_the_sdk(gateway: Any) -> None:
    with (
        client(gateway) as sdk,
        sdk.messages.stream(
            model="s:m",
            max_tokens=64,
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
            tool_choice={"type": "tool", "name": "get_weather"},
            messages=[{"role": "user", "content": "weather?"}],
        ) as stream,
    ):
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    (use,) = final.content
    assert use.type == "tool_use" and use.input == {"city": "Paris"}
    assert kinds.count("input_json") == 2
    assert final.usage.cache_read_input_tokens == 30


def test_images_and_thinking_reach_the_provider(gateway: Any) -> None:
    with client(gateway) as sdk:
        sdk.messages.create(
            model="s:m",
            max_tokens=64,
            messages=[
                {"role": "user", "content": "first"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                        {"type": "text", "text": "ok"},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": "image/png",
                                "data": base64.b64encode(PNG).decode(),
                            },
                        },
                        {"type": "text", "text": "and this?"},
                    ],
                },
            ],
        )
    request = gateway.service.registry.get_model("s:m").SEEN[-1]
    thinking, _ = request.messages[1].parts
    assert thinking == ThinkingPart(text="hmm", signature="sig", provider="anthropic")
    image, _ = request.messages[2].parts
    assert image == ImagePart(data=PNG, media_type="image/png")


def test_async_client_and_a_real_anthropic_provider(gateway: Any) -> None:
    async def run() -> anthropic.types.Message:
        sdk = anthropic.AsyncAnthropic(
            base_url=gateway.url, api_key=gateway.token, max_retries=0, timeout=30
        )
        try:
            return await sdk.messages.create(
                model="anthropic:claude-haiku-4-5",
                max_tokens=64,
                messages=[{"role": "user", "content": "via the fake"}],
            )
        finally:
            await sdk.close()

    message = asyncio.run(run())
    assert message.content[0].text == "echo: via the fake"  # type: ignore[union-attr]
    (sent,) = gateway.fake.requests_to("/v1/messages")[-1:]
    sent_headers = " ".join(sent.headers.values())
    assert "sk-ant-fake-0123456789abcdef" in sent_headers  # the entry's key, not the client's
    assert gateway.token not in sent_headers
    assert gateway.last_row().model_id == "anthropic:claude-haiku-4-5"


def test_models_in_anthropic_shape(gateway: Any) -> None:
    with client(gateway) as sdk:
        ids = [m.id for m in sdk.models.list()]
    assert "mini" in ids and "team" in ids


def test_a_refused_model_is_a_permission_error(gateway: Any) -> None:
    with client(gateway, gateway.mock_only) as sdk, pytest.raises(anthropic.PermissionDeniedError):
        sdk.messages.create(model="s:m", max_tokens=8, messages=[{"role": "user", "content": "x"}])
