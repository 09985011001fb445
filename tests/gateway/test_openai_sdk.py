"""The official, unmodified ``openai`` SDK against the gateway: sync, async, streaming, tools,
images, ``response_format``; what a client is told equals the ledger's row."""

from __future__ import annotations

import asyncio
import base64
import json
from decimal import Decimal
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from modelwire.content import ImagePart, ToolCall, ToolResultPart

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def client(gateway: Any, token: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway.url + "/v1", api_key=token or gateway.token, max_retries=0, timeout=30
    )


def test_plain_call_answers_and_its_usage_is_the_ledger_row(gateway: Any) -> None:
    with client(gateway) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(
            model="mini", messages=[{"role": "user", "content": "hello gateway"}]
        )
        completion = raw.parse()
    row = gateway.last_row()
    assert raw.headers["x-modelwire-model"] == row.model_id
    assert Decimal(raw.headers["x-modelwire-cost-usd"]) == row.cost_usd
    assert completion.model == "mock:gpt-4o-mini" == row.model_id
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (row.input_tokens, row.output_tokens)
    assert usage.total_tokens == row.input_tokens + row.output_tokens
    assert row.caller == "team-a" and row.status == "ok" and not row.stream


def test_the_same_call_in_process_gives_the_same_answer(gateway: Any) -> None:
    with client(gateway) as sdk:
        completion = sdk.chat.completions.create(
            model="mock:gpt-4o-mini",
            messages=[
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "what is a ledger?"},
            ],
            max_tokens=12,
        )
    direct = gateway.service.invoke_model(
        "mock:gpt-4o-mini", "what is a ledger?", system="be brief", max_tokens=12
    )
    assert completion.choices[0].message.content == direct.text
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == direct.usage.input_tokens


def test_async_client_runs_concurrent_calls(gateway: Any) -> None:
    async def run() -> list[str]:
        sdk = openai.AsyncOpenAI(
            base_url=gateway.url + "/v1", api_key=gateway.token, max_retries=0, timeout=30
        )
        try:
            answers = await asyncio.gather(
                *(
                    sdk.chat.completions.create(
                        model="mini", messages=[{"role": "user", "content": f"question {i}"}]
                    )
                    for i in range(12)
                )
            )
        finally:
            await sdk.close()
        return [a.choices[0].message.content or "" for a in answers]

    before = len(gateway.rows(caller="team-a"))
    texts = asyncio.run(run())
    assert len(texts) == 12 and all(texts)
    assert len(gateway.rows(caller="team-a")) == before + 12


def test_stream_with_usage_joins_to_the_plain_answer(gateway: Any) -> None:
    messages = [{"role": "user", "content": "stream this please"}]
    with client(gateway) as sdk:
        chunks = list(
            sdk.chat.completions.create(
                model="mini",
                messages=messages,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        plain = sdk.chat.completions.create(model="mini", messages=messages)  # type: ignore[arg-type]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    rows = gateway.rows(caller="team-a", newest_first=True, limit=2)
    streamed = next(r for r in rows if r.stream)
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (
        streamed.input_tokens,
        streamed.output_tokens,
    )
    assert streamed.ttft_ms is not None


def test_async_stream_of_structured_output_with_usage(gateway: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    }

    async def run() -> list[Any]:
        sdk = openai.AsyncOpenAI(
            base_url=gateway.url + "/v1", api_key=gateway.token, max_retries=0, timeout=30
        )
        try:
            stream = await sdk.chat.completions.create(
                model="s:m",
                messages=[{"role": "user", "content": 'async REPLY: {"city": "Oslo"}'}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "place", "schema": schema, "strict": True},
                },
                stream=True,
                stream_options={"include_usage": True},
            )
            return [chunk async for chunk in stream]
        finally:
            await sdk.close()

    chunks = asyncio.run(run())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert json.loads(text) == {"city": "Oslo"}
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    row = gateway.last_row()
    assert row.stream and row.status == "ok"
    assert (usage.prompt_tokens, usage.completion_tokens) == (row.input_tokens, row.output_tokens)
    assert usage.prompt_tokens_details.cached_tokens == row.cache_read_tokens == 30  # type: ignore[union-attr]
    assert usage.completion_tokens_details.reasoning_tokens == row.reasoning_tokens == 5  # type: ignore[union-attr]


def test_stream_without_include_usage_sends_no_usage_chunk(gateway: Any) -> None:
    with client(gateway) as sdk:
        chunks = list(
            sdk.chat.completions.create(
                model="mini", messages=[{"role": "user", "content": "hi"}], stream=True
            )
        )
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


def test_tools_round_trip_with_the_tool_result_named_from_its_call(gateway: Any) -> None:
    question = {"role": "user", "content": "weather in Paris?"}
    with client(gateway) as sdk:
        first = sdk.chat.completions.create(
            model="s:m",
            messages=[question],  # type: ignore[list-item]
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
            tool_choice="auto",
        )
        choice = first.choices[0]
        assert choice.finish_reason == "tool_calls"
        assert choice.message.content is None
        (call,) = choice.message.tool_calls or []
        assert call.function.name == "get_weather"  # type: ignore[union-attr]
        assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
        second = sdk.chat.completions.create(
            model="s:m",
            messages=[
                question,  # type: ignore[list-item]
                choice.message.model_dump(exclude_none=True),  # type: ignore[list-item]
                {"role": "tool", "tool_call_id": call.id, "content": "18 C and sunny"},
            ],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
        )
    assert second.choices[0].message.content == "result: 18 C and sunny"
    request = gateway.service.registry.get_model("s:m").SEEN[-1]
    assistant, tool = request.messages[1], request.messages[2]
    assert assistant.tool_calls == (
        ToolCall(id=call.id, name="get_weather", arguments={"city": "Paris"}),
    )
    (result,) = tool.parts
    assert isinstance(result, ToolResultPart)
    assert (result.call_id, result.name, result.text) == (call.id, "get_weather", "18 C and sunny")
    assert request.tools[0].parameters == WEATHER_TOOL["function"]["parameters"]


def test_streamed_tool_calls_arrive_in_pieces_and_assemble(gateway: Any) -> None:
    with client(gateway) as sdk:
        chunks = list(
            sdk.chat.completions.create(
                model="s:m",
                messages=[{"role": "user", "content": "weather?"}],
                tools=[WEATHER_TOOL],  # type: ignore[list-item]
                tool_choice={"type": "function", "function": {"name": "get_weather"}},
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    pieces = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert len(pieces) == 3
    assert pieces[0].id == "call_1" and pieces[0].function.name == "get_weather"  # type: ignore[union-attr]
    arguments = "".join(p.function.arguments or "" for p in pieces)  # type: ignore[union-attr]
    assert json.loads(arguments) == {"city": "Paris"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.prompt_tokens_details.cached_tokens == 30  # type: ignore[union-attr]
    assert usage.completion_tokens_details.reasoning_tokens == 5  # type: ignore[union-attr]
    row = gateway.last_row()
    assert (row.cache_read_tokens, row.reasoning_tokens) == (30, 5)
    # 60 uncached input at $1/M, 30 read at $0.5/M, 10 written at $1.25/M, 20 out at $2/M
    assert row.cost_usd == Decimal("0.0001275")


def test_sdk_stream_helper_accumulates_the_tool_call(gateway: Any) -> None:
    with (
        client(gateway) as sdk,
        sdk.chat.completions.stream(
            model="s:m",
            messages=[{"role": "user", "content": "weather?"}],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
        ) as stream,
    ):
        final = stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls or []
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]


def test_images_reach_the_provider_as_image_parts(gateway: Any) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    with client(gateway) as sdk:
        sdk.chat.completions.create(
            model="s:m",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what is this?"},
                        {"type": "image_url", "image_url": {"url": data_url, "detail": "low"}},
                        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                    ],
                }
            ],
        )
    request = gateway.service.registry.get_model("s:m").SEEN[-1]
    _, inline, linked = request.messages[0].parts
    assert inline == ImagePart(data=PNG, media_type="image/png", detail="low")
    assert linked == ImagePart(url="https://example.com/a.png")


class City(BaseModel):
    name: str
    population: int


CITY_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "city", "schema": City.model_json_schema(), "strict": True},
}


def test_response_format_json_schema_is_validated_output(gateway: Any) -> None:
    from tests.gateway.harness import Scripted

    Scripted.SEEN.clear()
    with client(gateway) as sdk:
        completion = sdk.chat.completions.create(
            model="s:m",
            messages=[{"role": "user", "content": 'REPLY: {"name": "Oslo", "population": 7}'}],
            response_format=CITY_FORMAT,  # type: ignore[arg-type]
        )
    assert completion.choices[0].message.content == '{"name": "Oslo", "population": 7}'
    (request,) = Scripted.SEEN
    assert request.output is not None and request.output.name == "City"
    assert request.output_mode == "auto" and not request.provider_params
    assert gateway.last_row().status == "ok"


def test_sdk_parse_helper_gets_the_pydantic_instance(gateway: Any) -> None:
    with client(gateway) as sdk:
        completion = sdk.beta.chat.completions.parse(
            model="s:m",
            messages=[{"role": "user", "content": 'REPLY: {"name": "Rome", "population": 3}'}],
            response_format=City,
        )
    assert completion.choices[0].message.parsed == City(name="Rome", population=3)


def test_response_format_json_object_asks_in_the_prompt(gateway: Any) -> None:
    from tests.gateway.harness import Scripted

    Scripted.SEEN.clear()
    with client(gateway) as sdk:
        completion = sdk.chat.completions.create(
            model="s:m",
            messages=[{"role": "user", "content": 'REPLY: ```json\n{"ok": true}\n```'}],
            response_format={"type": "json_object"},
        )
    assert completion.choices[0].message.content == '{"ok": true}'
    (request,) = Scripted.SEEN
    assert request.output_mode == "prompted" and request.output is not None


def test_an_invalid_answer_is_a_502_the_sdk_raises(gateway: Any) -> None:
    with client(gateway) as sdk, pytest.raises(openai.InternalServerError) as info:
        sdk.chat.completions.create(
            model="s:m",
            messages=[{"role": "user", "content": 'REPLY: {"name": "Oslo"}'}],
            response_format=CITY_FORMAT,  # type: ignore[arg-type]
        )
    assert info.value.status_code == 502
    body = info.value.body
    assert isinstance(body, dict) and body["code"] == "invalid_output"
    assert "population" in body["message"]


def test_a_structured_stream_ends_validated_or_with_an_error_event(gateway: Any) -> None:
    with client(gateway) as sdk:
        stream = sdk.chat.completions.create(
            model="s:m",
            messages=[{"role": "user", "content": 'REPLY: {"name": "Bern", "population": 1}'}],
            response_format=CITY_FORMAT,  # type: ignore[arg-type]
            stream=True,
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert City.model_validate_json(text) == City(name="Bern", population=1)
        bad = sdk.chat.completions.create(
            model="s:m",
            messages=[{"role": "user", "content": 'REPLY: {"name": "Bern"}'}],
            response_format=CITY_FORMAT,  # type: ignore[arg-type]
            stream=True,
        )
        with pytest.raises(openai.APIError, match="population"):
            for _ in bad:
                pass


def test_other_openai_extras_reach_an_openai_backend_untouched(gateway: Any) -> None:
    fake = gateway.fake
    fake.clear()
    with client(gateway) as sdk:
        completion = sdk.chat.completions.create(
            model="openai:gpt-4o-mini",
            messages=[{"role": "user", "content": "penalise please"}],
            frequency_penalty=0.5,
        )
    (sent,) = fake.requests_to("/chat/completions")
    assert sent.body["frequency_penalty"] == 0.5 and "response_format" not in sent.body
    assert sent.body["model"] == "gpt-4o-mini"
    assert completion.choices[0].message.content == "echo: penalise please"
    assert sent.headers["authorization"] == "Bearer sk-fake-openai-0123456789abcdef"


def test_stream_through_a_real_openai_provider(gateway: Any) -> None:
    with client(gateway) as sdk:
        chunks = list(
            sdk.chat.completions.create(
                model="openai:gpt-4o-mini",
                messages=[{"role": "user", "content": "one two three"}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: one two three"
    row = gateway.last_row()
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == row.output_tokens > 0


def test_groups_and_aliases_route_and_the_answering_model_is_named(gateway: Any) -> None:
    with client(gateway) as sdk:
        for name in ("team", "best"):
            completion = sdk.chat.completions.create(
                model=name, messages=[{"role": "user", "content": "fail over please"}]
            )
            assert completion.model == "mock:gpt-4o-mini"
    rows = [r for r in gateway.rows(caller="team-a") if r.group == "team"]
    assert [r.model_id for r in rows if r.status == "ok"] == ["mock:gpt-4o-mini"] * 2
    assert {r.model_id for r in rows if r.status == "error"} == {"down:gpt-4o-mini"}


def test_models_lists_models_aliases_and_groups(gateway: Any) -> None:
    with client(gateway) as sdk:
        listed = {m.id: m for m in sdk.models.list()}
    assert {"mock:gpt-4o-mini", "mini", "s:m", "team", "best"} <= set(listed)
    assert listed["mini"].owned_by == "mock"
    assert listed["team"].owned_by == "modelwire"
    assert listed["best"].model_extra == {"kind": "alias", "target": "team"}
    with client(gateway, gateway.mock_only) as sdk:
        restricted = {m.id for m in sdk.models.list()}
        assert sdk.models.retrieve("mini").model_extra == {
            "kind": "alias",
            "target": "mock:gpt-4o-mini",
        }
        with pytest.raises(openai.NotFoundError):
            sdk.models.retrieve("team")  # exists, but not for this key
    assert "mock:gpt-4o-mini" in restricted and "mini" in restricted
    assert not [m for m in restricted if m in ("s:m", "team", "best")]


@pytest.mark.parametrize("model", ["mini", "mock:gpt-4o-mini"])
def test_a_key_limited_to_patterns_calls_what_matches(gateway: Any, model: str) -> None:
    with client(gateway, gateway.mock_only) as sdk:
        completion = sdk.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi"}]
        )
    assert completion.model == "mock:gpt-4o-mini"
    assert gateway.last_row().caller == "mock-only"


def test_a_key_limited_to_patterns_is_refused_other_models(gateway: Any) -> None:
    with client(gateway, gateway.mock_only) as sdk, pytest.raises(openai.PermissionDeniedError):
        sdk.chat.completions.create(model="s:m", messages=[{"role": "user", "content": "hi"}])
