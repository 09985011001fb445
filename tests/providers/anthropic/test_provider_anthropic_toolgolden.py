"""Golden tests of the anthropic provider's tools, images and thinking.

* What modelwire sends: the request body of a whole tool conversation (a system prompt, an image,
  thinking, parallel calls with a foreign id, results with an image and an error, the user's
  follow-up; tools with a nested schema, a tool choice), captured by the fake server, which
  checks it as the API would.
* What modelwire makes of recorded answers: each ``golden/payloads/anthropic/tools_*.json`` (a
  Messages body, or a list of SSE events, in the API's documented shapes) is served verbatim and
  read through the real SDK and the provider; the ``ChatResponse``, or the stream's tool-call
  pieces and last event, is pinned. ``malformed_*.json`` streams raise ``MalformedToolCallError``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from modelwire.config.schema import ProviderConfig
from modelwire.content import ImagePart, TextPart, ThinkingPart, ToolCall, ToolResultPart
from modelwire.errors import MalformedToolCallError
from modelwire.providers.anthropic.model import AnthropicChatModel
from modelwire.providers.base import ProviderContext
from modelwire.tools import Tool
from modelwire.types import ChatRequest, Message, ModelInfo
from tests.support.helpers import route_format
from tests.support.paths import GOLDEN
from tools.fake_provider import (
    FakeProviderServer,
    FakeRequest,
    Reply,
    Route,
    SseEvent,
    anthropic_format,
)

PAYLOADS = GOLDEN / "payloads" / "anthropic"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(16))

WEATHER = Tool(
    name="get_weather",
    description="The current weather at a place.",
    parameters={
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City and region"},
            "unit": {"enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location"],
    },
)
TRIP = Tool(
    name="book_trip",
    parameters={
        "type": "object",
        "properties": {
            "legs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
                },
            }
        },
    },
)
CONVERSATION = (
    Message(role="system", content="Use the tools."),
    Message(
        role="user",
        content=("Weather where this photo was taken, and book me there?", ImagePart(data=PNG)),
    ),
    Message(
        role="assistant",
        content=(
            ThinkingPart(text="Looks like Lisbon.", signature="EqQBsig", provider="anthropic"),
            ThinkingPart(text="not mine", signature="x", provider="google"),
            TextPart(text="Checking."),
            ToolCall(
                id="toolu_01A09q90qw90lq917835lq9",
                name="get_weather",
                arguments={"location": "Lisbon"},
            ),
            ToolCall(
                id="call_8Xz:trip/1",
                name="book_trip",
                arguments={"legs": [{"from": "LHR", "to": "LIS"}]},
                provider_state={"openai": {"index": 1}},
            ),
        ),
    ),
    Message(
        role="tool",
        content=(
            ToolResultPart(
                call_id="toolu_01A09q90qw90lq917835lq9",
                content=(
                    TextPart(text="21 C, clear"),
                    ImagePart(url="https://example.com/map.png"),
                ),
                name="get_weather",
            ),
            ToolResultPart(call_id="call_8Xz:trip/1", content="no seats left", is_error=True),
        ),
    ),
    Message(role="user", content="Try the next day."),
)
REQUESTS: dict[str, ChatRequest] = {
    "tool_conversation": ChatRequest(
        messages=CONVERSATION,
        tools=(WEATHER, TRIP),
        tool_choice="required",
        parallel_tool_calls=False,
        max_tokens=512,
    ),
    "first_turn_named_choice": ChatRequest.build(
        "Weather in Lisbon?", tools=(WEATHER, TRIP), tool_choice="get_weather"
    ),
}


def _context(url: str) -> ProviderContext:
    return ProviderContext(
        "anthropic",
        ProviderConfig(type="anthropic", api_key="sk-ant-golden", base_url=url, timeout_s=5.0),
    )


def test_tool_request_bodies(
    fake_server_shared: FakeProviderServer, snapshot: SnapshotAssertion
) -> None:
    ctx = _context(fake_server_shared.url)
    model = AnthropicChatModel(ModelInfo(id="anthropic:claude-fake-1"), ctx)
    sent: dict[str, Any] = {}
    try:
        for name, request in REQUESTS.items():
            model.invoke(request)  # the fake server answers only what the API would take
            sent[name] = fake_server_shared.requests_to("/v1/messages")[-1].body
        list(model.stream(REQUESTS["tool_conversation"]))
        streamed = fake_server_shared.requests_to("/v1/messages")[-1].body
    finally:
        ctx.close()
    assert streamed == {**sent["tool_conversation"], "stream": True}
    assert sent == snapshot


# -- recorded answers ---------------------------------------------------------------------------


def _replay(request: FakeRequest, server: FakeProviderServer) -> Reply:
    data = json.loads((PAYLOADS / f"{request.body['model']}.json").read_text())
    headers = dict(data.get("headers") or {})
    if "events" in data:
        events = [SseEvent(json.dumps(e["data"]), e["event"]) for e in data["events"]]
        return Reply(events=events, headers=headers)
    return Reply(body=data["body"], headers=headers)


_REPLAY = route_format(
    "anthropic-tools-replay", [Route("POST", r"/v1/messages", _replay)], anthropic_format
)


@pytest.fixture(scope="module")
def replay_url() -> Iterator[str]:
    with FakeProviderServer(formats=[_REPLAY]) as srv:
        yield srv.url


def _names(prefix: str) -> list[str]:
    return sorted(p.stem for p in PAYLOADS.glob(f"{prefix}_*.json"))


def test_payload_files_exist() -> None:
    assert len(_names("tools_message")) >= 4 and len(_names("tools_stream")) >= 2
    assert len(_names("malformed")) >= 2


def _model(url: str, name: str) -> tuple[AnthropicChatModel, ProviderContext]:
    ctx = _context(url)
    return AnthropicChatModel(ModelInfo(id=f"anthropic:{name}"), ctx), ctx


REQUEST = ChatRequest.build("recorded", tools=(WEATHER,))


@pytest.mark.parametrize("name", _names("tools_message"))
def test_recorded_tool_message(name: str, replay_url: str, snapshot: SnapshotAssertion) -> None:
    model, ctx = _model(replay_url, name)
    try:
        resp = model.invoke(REQUEST)
        again = asyncio.run(model.ainvoke(REQUEST))
    finally:
        ctx.close()
    assert again.model_dump() == resp.model_dump()
    assert resp.finish_reason == "tool_calls" and resp.tool_calls
    assert resp.message.parts == resp.parts  # what the next turn sends back
    assert resp.model_dump() == snapshot


@pytest.mark.parametrize("name", _names("tools_stream"))
def test_recorded_tool_stream(name: str, replay_url: str, snapshot: SnapshotAssertion) -> None:
    model, ctx = _model(replay_url, name)

    async def collect() -> list[Any]:
        return [e async for e in model.astream(REQUEST)]

    try:
        events = list(model.stream(REQUEST))
        async_events = asyncio.run(collect())
    finally:
        ctx.close()
    assert [e.model_dump() for e in async_events] == [e.model_dump() for e in events]
    last = events[-1]
    assert last.done and last.tool_calls
    deltas = [e.tool_call_delta.model_dump() for e in events if e.tool_call_delta is not None]
    summary = {
        "text": "".join(e.text for e in events),
        "tool_call_deltas": deltas,
        "last": last.model_dump(),
    }
    assert summary == snapshot


@pytest.mark.parametrize("name", _names("malformed"))
def test_recorded_malformed_call(name: str, replay_url: str, snapshot: SnapshotAssertion) -> None:
    model, ctx = _model(replay_url, name)

    async def collect() -> list[Any]:
        return [e async for e in model.astream(REQUEST)]

    try:
        with pytest.raises(MalformedToolCallError) as caught:
            list(model.stream(REQUEST))
        with pytest.raises(MalformedToolCallError) as caught_async:
            asyncio.run(collect())
    finally:
        ctx.close()
    assert str(caught_async.value) == str(caught.value)
    error = caught.value
    assert error.request_id is not None and error.request_id.startswith("req_011CV")
    assert {"message": str(error), "raw_text": error.raw_text} == snapshot
