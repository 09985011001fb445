"""Tools, images and thinking on the anthropic provider end to end: ModelService and the real
``anthropic`` SDK against the loopback fake server, in all four call styles.

The fake server checks the Messages shapes as the API does (tool results answering the previous
turn's ``tool_use`` ids, first in a user message; ids of the API's charset; signed thinking), so
a request it answers is one the API takes; what the SDK sent is read from its request log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest

from modelwire.config.schema import Config
from modelwire.content import (
    DocumentPart,
    ImagePart,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultPart,
)
from modelwire.errors import (
    InvalidRequestError,
    MalformedToolCallError,
    ProviderUnavailableError,
    UnsupportedFeatureError,
)
from modelwire.registry.model_registry import ModelRegistry
from modelwire.service.model_service import ModelService
from modelwire.types import ChatResponse, Message, StreamEvent, ToolCallDelta
from modelwire.usage.events import InMemoryUsageSink
from tools.fake_provider import FakeProviderServer
from tools.fake_provider.anthropic_format import (
    Answer,
    redacted_block,
    text_block,
    thinking_block,
    tool_use,
)

MODEL = "anthropic:claude-fake-1"
MESSAGES = "/v1/messages"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
PDF = b"%PDF-1.4\n% a tiny document\n"


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """The current weather in a city.

    Args:
        city: the city's name
        unit: the temperature unit
    """
    return f"18 degrees {unit} in {city}"


def get_time(zone: str) -> str:
    """The time in a time zone."""
    return f"noon in {zone}"


@pytest.fixture
def server(fake_server_shared: FakeProviderServer) -> FakeProviderServer:
    return fake_server_shared


@pytest.fixture
def service(server: FakeProviderServer) -> Iterator[ModelService]:
    config = Config.model_validate(
        {
            "providers": {
                "anthropic": {
                    "api_key": "sk-ant-tools",
                    "base_url": server.url,
                    "timeout_s": 5,
                    "max_retries": 2,
                }
            },
            "models": {MODEL: {"cost": {"input_per_mtok": "3", "output_per_mtok": "15"}}},
            "retry": {"base_delay_s": 0, "max_delay_s": 0},
        }
    )
    registry = ModelRegistry.from_config(config, catalog=False)
    yield ModelService(registry, ledger=InMemoryUsageSink(), caller="tests")
    registry.close()


def _sink(service: ModelService) -> InMemoryUsageSink:
    assert isinstance(service.ledger, InMemoryUsageSink)
    return service.ledger


class Answered:
    """One call's outcome, the same shape for every call style."""

    def __init__(self, text: str, calls: tuple[ToolCall, ...], message: Message, reason: Any):
        self.text = text
        self.tool_calls = calls
        self.message = message
        self.finish_reason = reason
        self.deltas: list[ToolCallDelta] = []


def _from_response(resp: ChatResponse) -> Answered:
    return Answered(resp.text, resp.tool_calls, resp.message, resp.finish_reason)


def _from_events(events: list[StreamEvent]) -> Answered:
    last = events[-1]
    assert last.done and all(not e.done for e in events[:-1])
    assert last.full_text == "".join(e.text for e in events)
    message = last.message
    assert message is not None
    out = Answered(last.full_text or "", last.tool_calls, message, last.finish_reason)
    out.deltas = [e.tool_call_delta for e in events if e.tool_call_delta is not None]
    return out


def _invoke(service: ModelService, prompt: Any, **params: Any) -> Answered:
    return _from_response(service.invoke_model(MODEL, prompt, **params))


def _ainvoke(service: ModelService, prompt: Any, **params: Any) -> Answered:
    return _from_response(asyncio.run(service.ainvoke_model(MODEL, prompt, **params)))


def _stream(service: ModelService, prompt: Any, **params: Any) -> Answered:
    return _from_events(list(service.stream_model(MODEL, prompt, **params)))


def _astream(service: ModelService, prompt: Any, **params: Any) -> Answered:
    async def collect() -> list[StreamEvent]:
        return [e async for e in service.astream_model(MODEL, prompt, **params)]

    return _from_events(asyncio.run(collect()))


STYLES: dict[str, Callable[..., Answered]] = {
    "invoke": _invoke,
    "ainvoke": _ainvoke,
    "stream": _stream,
    "astream": _astream,
}


@pytest.fixture(params=list(STYLES))
def call(request: pytest.FixtureRequest) -> Callable[..., Answered]:
    return STYLES[request.param]


def _sent(server: FakeProviderServer) -> dict[str, Any]:
    body: dict[str, Any] = server.requests_to(MESSAGES)[-1].body
    return body


# -- a tool conversation ------------------------------------------------------------------------


def test_python_tools_give_tool_calls_and_a_second_turn_gets_the_answer(
    server: FakeProviderServer, service: ModelService, call: Callable[..., Answered]
) -> None:
    first = call(service, "Paris", tools=[get_weather], tool_choice="required")
    (made,) = first.tool_calls
    assert made.name == "get_weather" and made.arguments == {"city": "Paris"}
    assert made.id.startswith("toolu_fake") and first.finish_reason == "tool_calls"
    body = _sent(server)
    assert body["tool_choice"] == {"type": "any"}
    (tool,) = body["tools"]
    assert tool["name"] == "get_weather"
    assert tool["description"] == "The current weather in a city."
    assert tool["input_schema"]["required"] == ["city"]
    assert tool["input_schema"]["properties"]["city"]["description"] == "the city's name"

    result = ToolResultPart(call_id=made.id, content=get_weather(**made.arguments))
    history = [
        Message(role="user", content="Paris"),
        first.message,
        Message(role="tool", content=(result,)),
    ]
    second = call(service, history, tools=[get_weather])
    assert second.text == "echo: 18 degrees celsius in Paris"
    assert second.tool_calls == () and second.finish_reason == "stop"
    sent = _sent(server)["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": [
            {"type": "tool_use", "id": made.id, "name": "get_weather", "input": {"city": "Paris"}}
        ],
    }
    assert sent[2] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": made.id,
                "content": "18 degrees celsius in Paris",
            }
        ],
    }
    assert [(e.status, e.stream) for e in _sink(service).events] == [
        ("ok", call in (_stream, _astream))
    ] * 2


def test_stream_deltas_rebuild_the_call(server: FakeProviderServer, service: ModelService) -> None:
    nested = {"trip": {"stops": [{"city": "Paris", "nights": 2}, {"city": "Rome"}]}, "ok": True}
    server.script("anthropic", Answer(tool_use("plan", nested, id="toolu_nested")))
    for style in (_stream, _astream):
        if style is _astream:
            server.script("anthropic", Answer(tool_use("plan", nested, id="toolu_nested")))
        answer = style(service, "plan a trip", tools=[get_weather])
        start, *pieces = answer.deltas
        assert (start.index, start.id, start.name, start.arguments_delta) == (
            0,
            "toolu_nested",
            "plan",
            "",
        )
        assert len(pieces) > 3 and all(p.index == 0 and p.id is None for p in pieces)
        (made,) = answer.tool_calls
        assert made.arguments == nested
        assert "".join(p.arguments_delta for p in pieces) == made.arguments_json


def test_parallel_calls_thinking_and_their_replay(
    server: FakeProviderServer, service: ModelService, call: Callable[..., Answered]
) -> None:
    server.script(
        "anthropic",
        Answer(
            thinking_block("Two lookups.", "sig-1"),
            redacted_block("opaque=="),
            text_block("Looking both up."),
            tool_use("get_weather", {"city": "Oslo"}, id="toolu_a"),
            tool_use("get_time", {}, id="toolu_b"),
        ),
    )
    first = call(service, "Oslo?", tools=[get_weather, get_time])
    assert first.finish_reason == "tool_calls"
    assert [(c.id, c.name, dict(c.arguments)) for c in first.tool_calls] == [
        ("toolu_a", "get_weather", {"city": "Oslo"}),
        ("toolu_b", "get_time", {}),
    ]
    assert first.text == "Looking both up."
    thinking, redacted, text, *calls = first.message.parts
    assert thinking == ThinkingPart(text="Two lookups.", signature="sig-1", provider="anthropic")
    assert redacted == ThinkingPart(redacted="opaque==", provider="anthropic")
    assert text == TextPart(text="Looking both up.") and tuple(calls) == first.tool_calls

    results = Message(
        role="tool",
        content=(
            ToolResultPart(call_id="toolu_a", content="cold"),
            ToolResultPart(call_id="toolu_b", content="noon"),
        ),
    )
    history = [Message(role="user", content="Oslo?"), first.message, results]
    second = call(service, history, tools=[get_weather, get_time])
    assert second.text == "echo: cold noon"
    assistant, user = _sent(server)["messages"][1:]
    assert assistant["content"] == [
        {"type": "thinking", "thinking": "Two lookups.", "signature": "sig-1"},
        {"type": "redacted_thinking", "data": "opaque=="},
        {"type": "text", "text": "Looking both up."},
        {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Oslo"}},
        {"type": "tool_use", "id": "toolu_b", "name": "get_time", "input": {}},
    ]
    assert [b["tool_use_id"] for b in user["content"]] == ["toolu_a", "toolu_b"]


def test_tool_choice_and_parallel_calls_on_the_wire(
    server: FakeProviderServer, service: ModelService
) -> None:
    cases = [
        ({"tool_choice": "auto"}, {"type": "auto"}),
        ({"tool_choice": "none"}, {"type": "none"}),
        ({"tool_choice": "get_time"}, {"type": "tool", "name": "get_time"}),
        ({"parallel_tool_calls": False}, {"type": "auto", "disable_parallel_tool_use": True}),
        (
            {"tool_choice": "required", "parallel_tool_calls": False},
            {"type": "any", "disable_parallel_tool_use": True},
        ),
    ]
    for params, wire in cases:
        service.invoke_model(MODEL, "UTC", tools=[get_weather, get_time], **params)
        assert _sent(server)["tool_choice"] == wire
    service.invoke_model(MODEL, "UTC", tools=[get_time], parallel_tool_calls=True)
    assert "tool_choice" not in _sent(server)
    named = service.invoke_model(
        MODEL, "UTC", tools=[get_weather, get_time], tool_choice="get_time"
    )
    assert [(c.name, dict(c.arguments)) for c in named.tool_calls] == [
        ("get_time", {"zone": "UTC"})
    ]


# -- images and documents -------------------------------------------------------------------------


def test_images_and_documents_reach_the_server_in_the_messages_shape(
    server: FakeProviderServer, service: ModelService, call: Callable[..., Answered]
) -> None:
    message = Message(
        role="user",
        content=(
            "What is in these?",
            ImagePart(data=PNG),
            ImagePart(url="https://example.com/cat.jpg"),
            DocumentPart(data=PDF, name="tiny.pdf"),
            DocumentPart(url="https://example.com/paper.pdf"),
        ),
    )
    answer = call(service, [message])
    assert answer.text == "echo: What is in these?"
    (sent,) = _sent(server)["messages"]
    assert sent["content"] == [
        {"type": "text", "text": "What is in these?"},
        {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": "image/png",
                "data": ImagePart(data=PNG).base64,
            },
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        {
            "type": "document",
            "source": {
                "type": "base64",
                "media_type": "application/pdf",
                "data": DocumentPart(data=PDF).base64,
            },
            "title": "tiny.pdf",
        },
        {"type": "document", "source": {"type": "url", "url": "https://example.com/paper.pdf"}},
    ]


def test_a_tool_result_with_an_image(server: FakeProviderServer, service: ModelService) -> None:
    history = [
        Message(role="user", content="draw"),
        Message(role="assistant", content=(ToolCall(id="toolu_1", name="draw", arguments={}),)),
        Message(
            role="tool",
            content=(
                ToolResultPart(
                    call_id="toolu_1", content=(TextPart(text="drawn"), ImagePart(data=PNG))
                ),
            ),
        ),
    ]
    resp = service.invoke_model(MODEL, history, tools=[get_time])
    assert resp.text == "echo: drawn"
    (result,) = _sent(server)["messages"][2]["content"]
    assert result["content"] == [
        {"type": "text", "text": "drawn"},
        {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": "image/png",
                "data": ImagePart(data=PNG).base64,
            },
        },
    ]


def test_an_image_over_the_limit_fails_before_any_request(
    server: FakeProviderServer, service: ModelService
) -> None:
    big = ImagePart(data=PNG + bytes(4 * 1024 * 1024))
    with pytest.raises(UnsupportedFeatureError, match=r"at most 5\.0 MB per image"):
        service.invoke_model(MODEL, [Message(role="user", content=("look", big))])
    assert server.requests_to(MESSAGES) == []


# -- histories from other vendors ---------------------------------------------------------------


def test_a_history_from_another_vendor_replays(
    server: FakeProviderServer, service: ModelService, call: Callable[..., Answered]
) -> None:
    foreign = ToolCall(
        id="functions.get_weather:0",
        name="get_weather",
        arguments={"city": "Lima"},
        provider_state={"google": {"thought_signature": "c2ln"}},
    )
    history = [
        Message(role="system", content="Be brief."),
        Message(role="user", content="Lima?"),
        Message(
            role="assistant",
            content=(ThinkingPart(text="hmm", signature="g", provider="google"), foreign),
        ),
        Message(role="tool", content=(ToolResultPart(call_id=foreign.id, content="warm"),)),
        Message(role="user", content="and tomorrow?"),
    ]
    answer = call(service, history, tools=[get_weather])
    assert answer.text == "echo: warm and tomorrow?"
    body = _sent(server)
    assert body["system"] == "Be brief."
    user, assistant, results = body["messages"]
    assert user == {"role": "user", "content": "Lima?"}
    (use,) = assistant["content"]  # Gemini's thinking is not sent to Anthropic
    assert use["id"] != foreign.id and use["id"].startswith("functions_get_weather_0_")
    assert results["content"] == [
        {"type": "tool_result", "tool_use_id": use["id"], "content": "warm"},
        {"type": "text", "text": "and tomorrow?"},
    ]


def test_a_result_for_an_unknown_call_fails_before_any_request(
    server: FakeProviderServer, service: ModelService
) -> None:
    history = [
        Message(role="user", content="hi"),
        Message(role="tool", content=(ToolResultPart(call_id="call_nobody", content="x"),)),
    ]
    with pytest.raises(InvalidRequestError, match="call_nobody"):
        service.invoke_model(MODEL, history, tools=[get_time])
    assert server.requests_to(MESSAGES) == []


# -- malformed calls and cut streams -------------------------------------------------------------


def test_a_malformed_call_raises_with_the_raw_text(
    server: FakeProviderServer, service: ModelService, call: Callable[..., Answered]
) -> None:
    streamed = call in (_stream, _astream)
    raw = '{"city": "Par' if streamed else "[1, 2]"
    reason = "max_tokens" if streamed else "tool_use"
    server.script("anthropic", Answer(tool_use("get_weather", raw), stop_reason=reason))
    with pytest.raises(MalformedToolCallError) as caught:
        call(service, "Paris", tools=[get_weather])
    assert caught.value.raw_text == raw
    assert caught.value.model_id == MODEL and caught.value.request_id
    if streamed:
        assert "cut off by max_tokens" in str(caught.value)
    (event,) = _sink(service).events
    assert (event.status, event.error_type) == ("error", "MalformedToolCallError")


def test_a_stream_cut_inside_a_tool_call_records_its_row(
    server: FakeProviderServer, service: ModelService
) -> None:
    # events: message_start, content_block_start (tool_use), ping, input_json_delta, ...
    server.faults.push(cut_stream_after=4)
    events: list[StreamEvent] = []
    with pytest.raises(ProviderUnavailableError, match="cut off"):
        for event in service.stream_model(
            MODEL, "Paris", tools=[get_weather], tool_choice="required"
        ):
            events.append(event)
    assert [e.tool_call_delta is not None for e in events] == [True, True]
    (row,) = _sink(service).events  # a tool-call piece reached the caller: not retried
    assert (row.status, row.error_type, row.stream) == ("error", "ProviderUnavailableError", True)
    assert len(server.requests_to(MESSAGES)) == 1
