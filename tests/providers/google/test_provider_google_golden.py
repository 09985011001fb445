"""Golden tests of the google (Gemini) provider.

* What modelwire sends: path, query and JSON body for a set of requests, as the ``google-genai``
  SDK puts them on the wire (captured by the fake server).
* What modelwire makes of recorded responses: each ``golden/payloads/google/*.json`` (a
  ``generateContent`` body, or the chunks of a stream) is served verbatim by a replay route and read
  through the real SDK and the provider; the normalised ``ChatResponse`` / final ``StreamEvent`` is
  pinned (``malformed_*`` payloads: the ``MalformedToolCallError`` they raise).

The ids modelwire makes for Gemini's id-less calls are random: they are checked (unique, of the
documented form) and then written as ``call_<modelwire>`` in the snapshots.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from pydantic import BaseModel
from syrupy.assertion import SnapshotAssertion

from modelwire.config.schema import ProviderConfig
from modelwire.content import (
    DocumentPart,
    ImagePart,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultPart,
)
from modelwire.errors import MalformedToolCallError
from modelwire.providers.base import ProviderContext
from modelwire.providers.google.model import GeminiChatModel
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
    gemini_format,
)

PAYLOADS = GOLDEN / "payloads" / "google"


def _context(url: str) -> ProviderContext:
    return ProviderContext(
        "google",
        ProviderConfig(type="google", api_key="AIza-golden-key", base_url=url, timeout_s=5.0),
    )


INFO = ModelInfo(id="google:gemini-fake")
LEGACY_INFO = ModelInfo(id="google:gemini-2.5-flash")

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(16))
PDF = b"%PDF-1.7\n%golden\n"


class Filter(BaseModel):
    """Which issues to find."""

    state: Literal["open", "closed"] = "open"
    labels: list[str] = []


def search_issues(query: str, filter: Filter, limit: int = 20) -> list[str]:
    """Search the issue tracker.

    Args:
        query: words to look for
        filter: which issues
        limit: at most this many
    """
    return []


def get_time() -> str:
    """The time now."""
    return "12:00"


TOOLS = (Tool.from_function(search_issues), Tool.from_function(get_time))
WEATHER = Tool(
    name="get_weather",
    description="Weather in a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def _conversation() -> tuple[Message, ...]:
    """A whole tool conversation made on Gemini: thinking, text and two parallel calls (the
    signature on the first), then both results in reverse order, one an error, one with an
    image."""
    signed = {"google": {"thought_signature": gemini_format.signature("golden")}}
    return (
        Message(role="user", content="Weather in Paris and London, and the time?"),
        Message(
            role="assistant",
            content=(
                ThinkingPart(text="Two cities, one clock.", provider="google"),
                TextPart(text="Checking both."),
                ToolCall(
                    id="call_a",
                    name="get_weather",
                    arguments={"city": "Paris"},
                    provider_state=signed,
                ),
                ToolCall(id="call_b", name="get_weather", arguments={"city": "London"}),
            ),
        ),
        Message(
            role="tool",
            content=(
                ToolResultPart(call_id="call_b", content="London: service down", is_error=True),
            ),
        ),
        Message(
            role="tool",
            content=(
                ToolResultPart(
                    call_id="call_a",
                    content=(TextPart(text="18 C, cloudy"), ImagePart(data=PNG)),
                    name="get_weather",
                ),
            ),
        ),
    )


def _foreign_history() -> tuple[Message, ...]:
    """A conversation recorded on another vendor: its own call ids, its thinking, no Gemini
    signatures and results without names."""
    return (
        Message(role="user", content="What time is it?"),
        Message(
            role="assistant",
            content=(
                ThinkingPart(text="Use the clock.", signature="EqQBCkYIBRgC", provider="anthropic"),
                ToolCall(
                    id="toolu_01A09q90qw90lq917835lq9",
                    name="get_time",
                    provider_state={"anthropic": {"cache": True}},
                ),
            ),
        ),
        Message(
            role="tool",
            content=(ToolResultPart(call_id="toolu_01A09q90qw90lq917835lq9", content="12:00"),),
        ),
    )


REQUESTS: dict[str, ChatRequest] = {
    "prompt_only": ChatRequest.build("Hello"),
    "system_and_common_parameters": ChatRequest.build(
        "Summarise the plot of Hamlet.",
        system="Answer in one sentence.",
        max_tokens=256,
        temperature=0.2,
        top_p=0.9,
        stop=["END", "###"],
        seed=7,
    ),
    "conversation_with_system_messages": ChatRequest(
        messages=(
            Message(role="system", content="You are terse."),
            Message(role="user", content="2+2?"),
            Message(role="assistant", content="4"),
            Message(role="user", content="and 3+3?"),
        ),
        system="Arithmetic only.",
    ),
    "provider_params_pass_through": ChatRequest.build(
        "Prove it.",
        provider_params={
            "thinking_config": {"thinking_budget": 1024, "include_thoughts": True},
            "response_mime_type": "text/plain",
            "safety_settings": [
                {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}
            ],
            "cachedContent": "cachedContents/abc123",
        },
    ),
    "tools_and_auto_choice": ChatRequest.build("Find crash bugs", tools=TOOLS, tool_choice="auto"),
    "tools_choice_none": ChatRequest.build("Just talk", tools=TOOLS, tool_choice="none"),
    "tools_choice_required": ChatRequest.build(
        "Do something", tools=TOOLS, tool_choice="required", parallel_tool_calls=False
    ),
    "tools_choice_named": ChatRequest.build("What time?", tools=TOOLS, tool_choice="get_time"),
    "images_and_documents": ChatRequest.build(
        Message(
            role="user",
            content=(
                TextPart(text="Compare these."),
                ImagePart(data=PNG),
                ImagePart(url="https://example.com/cat.jpg"),
                DocumentPart(data=PDF, name="report.pdf"),
                DocumentPart(url="https://example.com/paper"),
            ),
        )
    ),
    "tool_conversation": ChatRequest.build(_conversation(), tools=(WEATHER,)),
    "history_from_another_vendor": ChatRequest.build(_foreign_history(), tools=TOOLS),
}


@pytest.fixture
def server(fake_server_shared: FakeProviderServer) -> FakeProviderServer:
    return fake_server_shared


def test_request_bodies(server: FakeProviderServer, snapshot: SnapshotAssertion) -> None:
    ctx = _context(server.url)
    model = GeminiChatModel(INFO, ctx)
    sent: dict[str, Any] = {}

    def last() -> dict[str, Any]:
        r = server.requests[-1]
        return {"path": r.path, "query": r.query, "body": r.body}

    try:
        for name, request in REQUESTS.items():
            model.invoke(request)
            sent[name] = last()
        list(model.stream(REQUESTS["system_and_common_parameters"]))
        sent["system_and_common_parameters_streamed"] = last()
        model.invoke(ChatRequest.build("Hi", timeout=2.5))
        sent["timeout_header"] = server.requests[-1].headers.get("x-server-timeout")
        legacy = GeminiChatModel(LEGACY_INFO, ctx)
        legacy.invoke(ChatRequest.build(_conversation(), tools=(WEATHER,)))
        sent["tool_conversation_on_gemini_2"] = last()
    finally:
        ctx.close()
    assert sent == snapshot


# -- recorded responses -------------------------------------------------------------------------


def _payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return data


def _replay(request: FakeRequest, server: FakeProviderServer) -> Reply:
    data = _payload(request.params["model"])
    headers = dict(data.get("headers") or {})
    if "chunks" in data:
        return Reply(events=[SseEvent(json.dumps(c)) for c in data["chunks"]], headers=headers)
    return Reply(body=data["body"], headers=headers)


_REPLAY = route_format(
    "gemini-replay",
    [Route("POST", r"/v1beta/models/(?P<model>[^/:]+):\w+", _replay)],
    gemini_format,
)


@pytest.fixture(scope="module")
def replay_url() -> Iterator[str]:
    with FakeProviderServer(formats=[_REPLAY]) as srv:
        yield srv.url


_MADE_ID = re.compile(r"^call_[0-9a-f]{32}$")


def _scrub(value: Any, seen: set[str] | None = None) -> Any:
    """``value`` with the ids modelwire made written as ``call_<modelwire>`` (each id must
    have the documented form; ``seen`` collects them)."""
    if isinstance(value, dict):
        return {k: _scrub(v, seen) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v, seen) for v in value)
    if isinstance(value, str) and _MADE_ID.match(value):
        if seen is not None:
            seen.add(value)
        return "call_<modelwire>"
    return value


def _names(prefix: str) -> list[str]:
    return sorted(p.stem for p in PAYLOADS.glob(f"{prefix}_*.json"))


def test_payload_files_exist() -> None:
    assert len(_names("generate")) >= 3 and len(_names("stream")) >= 2


@pytest.mark.parametrize("name", _names("generate"))
def test_recorded_response(name: str, replay_url: str, snapshot: SnapshotAssertion) -> None:
    ctx = _context(replay_url)
    model = GeminiChatModel(ModelInfo(id=f"google:{name}"), ctx)
    try:
        resp = model.invoke(ChatRequest.build("recorded"))
        again = asyncio.run(model.ainvoke(ChatRequest.build("recorded")))
    finally:
        ctx.close()
    made: set[str] = set()
    dumped = _scrub(resp.model_dump(), made)
    assert _scrub(again.model_dump()) == dumped
    # every call has its own id: Gemini's, or one modelwire made for it
    assert len({c.id for c in resp.tool_calls}) == len(resp.tool_calls)
    assert len(made) == sum(1 for c in resp.tool_calls if _MADE_ID.match(c.id))
    assert dumped == snapshot


@pytest.mark.parametrize("name", _names("stream"))
def test_recorded_stream(name: str, replay_url: str, snapshot: SnapshotAssertion) -> None:
    ctx = _context(replay_url)
    model = GeminiChatModel(ModelInfo(id=f"google:{name}"), ctx)

    async def collect() -> list[Any]:
        return [e async for e in model.astream(ChatRequest.build("recorded"))]

    try:
        events = list(model.stream(ChatRequest.build("recorded")))
        async_events = asyncio.run(collect())
    finally:
        ctx.close()
    assert _scrub([e.model_dump() for e in async_events]) == _scrub(
        [e.model_dump() for e in events]
    )
    assert events[-1].done
    summary: dict[str, Any] = {
        "text": "".join(e.text for e in events),
        "last": events[-1].model_dump(),
    }
    deltas = [e.tool_call_delta.model_dump() for e in events if e.tool_call_delta is not None]
    if deltas:
        # one delta per call, with its whole arguments, and the same id as the final call
        assert [d["id"] for d in deltas] == [c.id for c in events[-1].tool_calls]
        summary["deltas"] = deltas
    assert _scrub(summary) == snapshot


@pytest.mark.parametrize("name", _names("malformed"))
def test_recorded_malformed_call(name: str, replay_url: str, snapshot: SnapshotAssertion) -> None:
    ctx = _context(replay_url)
    model = GeminiChatModel(ModelInfo(id=f"google:{name}"), ctx)
    request = ChatRequest.build("recorded", tools=(WEATHER,))
    try:
        with pytest.raises(MalformedToolCallError) as caught:
            if "stream" in name:
                list(model.stream(request))
            else:
                model.invoke(request)
    finally:
        ctx.close()
    err = caught.value
    assert not err.retryable
    assert (err.provider, err.model_id) == ("google", f"google:{name}")
    assert {"message": str(err), "raw_text": err.raw_text} == snapshot
