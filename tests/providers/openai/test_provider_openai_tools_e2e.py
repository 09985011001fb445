"""Tool calling, images and documents end to end: the real ``openai`` SDK, through
``ModelService``, against the loopback fake server (which refuses what OpenAI refuses)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

import modelwire as mw
from modelwire.content import (
    DocumentPart,
    ImagePart,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultPart,
)
from modelwire.errors import MalformedToolCallError, UnsupportedFeatureError
from modelwire.types import StreamEvent
from tools.fake_provider import FakeProviderServer

MODEL = "openai:gpt-4o-mini"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.7 tiny"
TWO_CITIES = 'call get_weather {"city": "Paris"}\ncall get_weather {"city": "Rome", "days": 2}'


def get_weather(city: str, days: int = 1) -> str:
    """The weather in a city.

    Args:
        city: the city's name
        days: how many days ahead
    """
    return f"sunny in {city} for {days} day(s)"


def now() -> str:
    """The time."""
    return "noon"


Service = tuple[mw.ModelService, mw.InMemoryUsageSink]


@pytest.fixture
def service(fake_server: FakeProviderServer) -> Iterator[Service]:
    cfg = mw.Config(
        providers={
            "openai": {"api_key": "sk-test", "base_url": fake_server.url + "/v1"},
            "local": {"type": "openai_compatible", "base_url": fake_server.url + "/v1"},
        },
        retry={"base_delay_s": 0.0, "max_delay_s": 0.01},
    )
    registry = mw.ModelRegistry.from_config(cfg)
    sink = mw.InMemoryUsageSink()
    try:
        yield mw.ModelService(registry, ledger=sink, caller="tests"), sink
    finally:
        registry.close()


def _results(calls: tuple[ToolCall, ...]) -> mw.Message:
    return mw.Message(
        role="tool",
        content=tuple(
            ToolResultPart(call_id=c.id, content=get_weather(**c.arguments)) for c in calls
        ),
    )


def _check_calls(calls: tuple[ToolCall, ...], number: int) -> None:
    assert [(c.id, c.name, dict(c.arguments)) for c in calls] == [
        (f"call_fake{number}_0", "get_weather", {"city": "Paris"}),
        (f"call_fake{number}_1", "get_weather", {"city": "Rome", "days": 2}),
    ]


def _sent_tools(fake_server: FakeProviderServer) -> Any:
    return fake_server.requests[0].body["tools"]


def test_invoke_returns_parallel_calls_and_a_second_turn_answers(
    fake_server: FakeProviderServer, service: Service
) -> None:
    svc, sink = service
    first = svc.invoke_model(MODEL, TWO_CITIES, tools=[get_weather])
    _check_calls(first.tool_calls, 1)
    assert first.finish_reason == "tool_calls" and first.text == ""
    (tool,) = _sent_tools(fake_server)
    assert tool["type"] == "function" and tool["function"]["name"] == "get_weather"
    assert tool["function"]["description"] == "The weather in a city."
    assert tool["function"]["parameters"]["required"] == ["city"]
    history = [
        mw.Message(role="user", content=TWO_CITIES),
        first.message,
        _results(first.tool_calls),
    ]
    second = svc.invoke_model(MODEL, history, tools=[get_weather])
    assert second.text == "echo: sunny in Paris for 1 day(s); sunny in Rome for 2 day(s)"
    assert second.finish_reason == "stop" and second.tool_calls == ()
    sent = fake_server.requests[1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool"]
    assert [m["tool_call_id"] for m in sent[2:]] == ["call_fake1_0", "call_fake1_1"]
    assert [(e.status, e.output_tokens > 0) for e in sink.events] == [("ok", True), ("ok", True)]


def test_ainvoke_with_tools(service: Service) -> None:
    svc, _ = service

    async def main() -> list[mw.ChatResponse]:
        return list(
            await asyncio.gather(
                *(svc.ainvoke_model(MODEL, TWO_CITIES, tools=[get_weather]) for _ in range(3))
            )
        )

    responses = asyncio.run(main())
    assert all(len(r.tool_calls) == 2 and r.finish_reason == "tool_calls" for r in responses)
    assert len({r.tool_calls[0].id for r in responses}) == 3


def _check_stream(events: list[StreamEvent], number: int) -> StreamEvent:
    *pieces, final = events
    assert final.done and not any(e.done for e in pieces)
    deltas = [e.tool_call_delta for e in pieces if e.tool_call_delta is not None]
    assert [(d.index, d.id, d.name) for d in deltas if d.id] == [
        (0, f"call_fake{number}_0", "get_weather"),
        (1, f"call_fake{number}_1", "get_weather"),
    ]
    assert "".join(d.arguments_delta for d in deltas if d.index == 1) == (
        '{"city": "Rome", "days": 2}'
    )
    assert len(deltas) > 4  # the arguments really came in pieces
    _check_calls(final.tool_calls, number)
    assert final.finish_reason == "tool_calls" and final.parts == final.tool_calls
    assert final.usage is not None and final.usage.output_tokens > 0
    return final


def test_stream_assembles_the_calls_and_the_next_turn_streams_text(
    fake_server: FakeProviderServer, service: Service
) -> None:
    svc, sink = service
    final = _check_stream(list(svc.stream_model(MODEL, TWO_CITIES, tools=[get_weather])), 1)
    assert final.message is not None
    history = [
        mw.Message(role="user", content=TWO_CITIES),
        final.message,
        _results(final.tool_calls),
    ]
    events = list(svc.stream_model(MODEL, history, tools=[get_weather]))
    assert "".join(e.text for e in events).startswith("echo: sunny in Paris")
    assert events[-1].finish_reason == "stop"
    assert fake_server.requests[0].body["stream"] is True
    assert [(e.status, e.stream) for e in sink.events] == [("ok", True), ("ok", True)]


def test_astream_with_tools(service: Service) -> None:
    svc, _ = service

    async def main() -> list[StreamEvent]:
        return [e async for e in svc.astream_model(MODEL, TWO_CITIES, tools=[get_weather])]

    _check_stream(asyncio.run(main()), 1)


def test_named_choice_and_serial_calls(fake_server: FakeProviderServer, service: Service) -> None:
    svc, _ = service
    forced = svc.invoke_model(MODEL, "hello", tools=[get_weather, now], tool_choice="now")
    # the server finished with "stop", as OpenAI does for a named tool_choice
    assert fake_server.requests[0].body["tool_choice"] == {
        "type": "function",
        "function": {"name": "now"},
    }
    assert forced.raw.choices[0].finish_reason == "stop"
    assert forced.finish_reason == "tool_calls"
    assert [(c.name, dict(c.arguments)) for c in forced.tool_calls] == [("now", {})]
    serial = svc.invoke_model(MODEL, TWO_CITIES, tools=[get_weather], parallel_tool_calls=False)
    assert len(serial.tool_calls) == 1
    assert fake_server.requests[1].body["parallel_tool_calls"] is False
    plain = svc.invoke_model(MODEL, TWO_CITIES, tools=[get_weather], tool_choice="none")
    assert plain.tool_calls == () and plain.text.startswith("echo: call get_weather")


def test_malformed_arguments_raise_and_are_recorded(service: Service) -> None:
    svc, sink = service
    prompt = 'call get_weather {"city": "Par'
    with pytest.raises(MalformedToolCallError) as caught:
        svc.invoke_model(MODEL, prompt, tools=[get_weather])
    assert caught.value.raw_text == '{"city": "Par'
    with pytest.raises(MalformedToolCallError):
        list(svc.stream_model(MODEL, prompt, tools=[get_weather]))
    assert [(e.status, e.error_type) for e in sink.events] == [
        ("error", "MalformedToolCallError"),
        ("error", "MalformedToolCallError"),
    ]
    assert all(e.request_id is not None for e in sink.events)


def test_a_stream_cut_mid_tool_call_records_its_row(
    fake_server: FakeProviderServer, service: Service
) -> None:
    svc, sink = service
    fake_server.faults.push(cut_stream_after=3)  # the first call's id and two argument pieces
    events: list[StreamEvent] = []
    with pytest.raises(mw.ProviderUnavailableError, match="cut off"):
        for event in svc.stream_model(MODEL, TWO_CITIES, tools=[get_weather]):
            events.append(event)
    assert events and all(e.tool_call_delta is not None for e in events)
    (row,) = sink.events  # not retried: tool-call pieces had reached the consumer
    assert (row.status, row.error_type, row.stream) == ("error", "ProviderUnavailableError", True)
    assert len(fake_server.requests) == 1


def test_images_and_documents_reach_the_server_in_openai_shape(
    fake_server: FakeProviderServer, service: Service
) -> None:
    svc, _ = service
    message = mw.Message(
        role="user",
        content=(
            TextPart(text="what are these?"),
            ImagePart(data=PNG, detail="low"),
            ImagePart(url="https://example.com/cat.jpg"),
            DocumentPart(data=PDF, name="report.pdf"),
        ),
    )
    response = svc.invoke_model(MODEL, [message])
    assert response.text == "echo: what are these? [image] [image] [file report.pdf]"
    (sent,) = fake_server.requests[0].body["messages"]
    assert sent["content"] == [
        {"type": "text", "text": "what are these?"},
        {
            "type": "image_url",
            "image_url": {
                "url": "data:image/png;base64," + ImagePart(data=PNG).base64,
                "detail": "low",
            },
        },
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
        {
            "type": "file",
            "file": {
                "filename": "report.pdf",
                "file_data": "data:application/pdf;base64," + DocumentPart(data=PDF).base64,
            },
        },
    ]


def test_tool_result_images_follow_in_a_user_message(
    fake_server: FakeProviderServer, service: Service
) -> None:
    svc, _ = service
    first = svc.invoke_model(MODEL, "call get_weather {}", tools=[get_weather])
    (call,) = first.tool_calls
    result = ToolResultPart(
        call_id=call.id, content=(TextPart(text="a chart"), ImagePart(data=PNG))
    )
    history = [
        mw.Message(role="user", content="call get_weather {}"),
        first.message,
        mw.Message(role="tool", content=(result,)),
    ]
    svc.invoke_model(
        MODEL, history, tools=[get_weather]
    )  # the fake refuses images in tool messages
    sent = fake_server.requests[1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "user"]
    assert sent[3]["content"][1]["type"] == "image_url"


def test_a_history_from_another_vendor_replays(
    fake_server: FakeProviderServer, service: Service
) -> None:
    svc, _ = service
    foreign_id = "toolu_01A09q90qw90lq917835lq9:a-very-long-foreign-id-of-another-vendor"
    history = [
        mw.Message(role="user", content="weather in Oslo?"),
        mw.Message(
            role="assistant",
            content=(
                ThinkingPart(
                    text="I should call the tool.", signature="c2ln", provider="anthropic"
                ),
                TextPart(text="Let me check."),
                ToolCall(
                    id=foreign_id,
                    name="get_weather",
                    arguments={"city": "Oslo"},
                    provider_state={"google": {"thought_signature": "b64"}},
                ),
            ),
        ),
        mw.Message(role="tool", content=(ToolResultPart(call_id=foreign_id, content="snow"),)),
    ]
    response = svc.invoke_model(MODEL, history, tools=[get_weather])
    assert response.text == "echo: snow"
    sent = fake_server.requests[0].body["messages"]
    assert sent[1]["content"] == "Let me check."
    assert sent[1]["tool_calls"][0]["id"] == sent[2]["tool_call_id"]
    assert len(sent[2]["tool_call_id"]) <= 40
    assert "thought_signature" not in str(sent) and "I should call" not in str(sent)


def test_a_result_for_an_unknown_call_fails_before_any_request(
    fake_server: FakeProviderServer, service: Service
) -> None:
    svc, sink = service
    history = [
        mw.Message(role="user", content="hi"),
        mw.Message(role="tool", content=(ToolResultPart(call_id="call_x", content="?"),)),
    ]
    with pytest.raises(mw.InvalidRequestError, match="call_x"):
        svc.invoke_model(MODEL, history, tools=[get_weather])
    assert fake_server.requests == []
    assert [e.error_type for e in sink.events] == ["InvalidRequestError"]


def test_an_oversized_image_fails_before_any_request(
    fake_server: FakeProviderServer, service: Service
) -> None:
    svc, _ = service
    huge = ImagePart(data=PNG + b"\x00" * (20 * 1024 * 1024))
    with pytest.raises(UnsupportedFeatureError, match="per image"):
        svc.invoke_model(MODEL, [mw.Message(role="user", content=(huge,))])
    assert fake_server.requests == []


def test_openai_compatible_servers_take_tools_too(
    fake_server: FakeProviderServer, service: Service
) -> None:
    svc, _ = service
    response = svc.invoke_model("local:llama3.1", TWO_CITIES, tools=[get_weather])
    _check_calls(response.tool_calls, 1)
    assert fake_server.requests[0].headers["authorization"] == "Bearer not-needed"


@pytest.mark.parametrize(
    ("model", "params", "lacking"),
    [
        ("openai:gpt-5-chat-latest", {"tools": [get_weather]}, "tools"),
        (
            "openai:o3-mini",
            {"prompt": [mw.Message(role="user", content=(ImagePart(data=PNG),))]},
            "images",
        ),
        ("openai:o3", {"tools": [get_weather], "parallel_tool_calls": True}, "parallel_tools"),
    ],
)
def test_catalog_features_refuse_before_any_request(
    fake_server: FakeProviderServer,
    service: Service,
    model: str,
    params: dict[str, Any],
    lacking: str,
) -> None:
    svc, _ = service
    info = svc.registry.get_model_info(model)
    assert info.features is not None and lacking not in info.features
    prompt = params.pop("prompt", "hi")
    with pytest.raises(UnsupportedFeatureError, match=lacking):
        svc.invoke_model(model, prompt, **params)
    assert fake_server.requests == []


def test_openai_catalog_features(service: Service) -> None:
    svc, _ = service
    features = {
        info.name: info.features
        for info in svc.registry.list_models()
        if info.provider == "openai" and info.source == "catalog"
    }
    assert len(features) > 10 and all(f is not None for f in features.values())
    without_tools = {name for name, f in features.items() if f is not None and "tools" not in f}
    assert without_tools == {"gpt-5-chat-latest"}
    assert features["gpt-4o-mini"] == {
        "tools",
        "parallel_tools",
        "images",
        "documents",
        "structured_output",
    }
    assert features["o3-mini"] == {"tools", "structured_output"}
    assert "structured_output" not in features["gpt-4o-2024-05-13"]  # json_object only
    serial = svc.invoke_model(
        "openai:o4-mini", TWO_CITIES, tools=[get_weather], parallel_tool_calls=False
    )
    assert len(serial.tool_calls) == 2  # o-series models refuse the flag: it is not sent
