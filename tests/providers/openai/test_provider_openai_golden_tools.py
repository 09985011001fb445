"""Golden tests of the OpenAI provider's tools, tool calls and content parts.

1. What modelwire sends: the bodies the fake server received (it refuses what OpenAI refuses)
   for tool conversations, including a history recorded on another vendor.
2. What modelwire makes of recorded answers: each payload under golden/payloads/openai/tools/
   (in the documented shapes: parallel calls, no arguments, nested arguments, text with a call,
   a named tool choice, malformed arguments, the legacy ``function_call``, streams) is replayed
   by a loopback server to the real SDK, and the normalised response, stream or error is pinned.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from modelwire.content import (
    DocumentPart,
    ImagePart,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultPart,
)
from modelwire.errors import ProviderError
from modelwire.tools import Tool, as_tools
from modelwire.types import ChatRequest, Message
from tests.support.paths import GOLDEN
from tools.fake_provider import FakeProviderServer, FakeRequest, Reply, Route, SseEvent

MakeModel = Callable[..., Any]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
PDF = b"%PDF-1.7\n%golden\n"
FOREIGN_ID = "toolu_01A09q90qw90lq917835lq9/from-another-vendor-and-longer-than-forty"


def search_docs(query: str, limit: int = 5) -> list[str]:
    """Search the documentation.

    Args:
        query: what to look for
        limit: how many results at most
    """
    return []


WEATHER = Tool(
    name="get_weather",
    description="The current weather in a place.",
    parameters={
        "type": "object",
        "properties": {
            "location": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location"],
    },
)
TOOLS = (WEATHER, *as_tools([search_docs]))

CONVERSATION = (
    Message(
        role="user",
        content=(
            TextPart(text="Weather in Oslo and Rome? And what is in this chart?"),
            ImagePart(data=PNG, detail="high"),
            ImagePart(url="https://example.com/chart.png"),
        ),
    ),
    Message(
        role="assistant",
        content=(
            ThinkingPart(
                text="Two cities: two calls.", signature="c2lnbmF0dXJl", provider="anthropic"
            ),
            TextPart(text="Checking both."),
            ToolCall(id=FOREIGN_ID, name="get_weather", arguments={"location": "Oslo"}),
            ToolCall(
                id="call_RpEDoB8O0FTL9JoKTuCVFOyR",
                name="get_weather",
                arguments={"location": "Rome", "unit": "celsius"},
                provider_state={"google": {"thought_signature": "dGhvdWdodA=="}},
            ),
        ),
    ),
    Message(
        role="tool",
        content=(
            ToolResultPart(call_id=FOREIGN_ID, content="-3 °C, snow", name="get_weather"),
            ToolResultPart(
                call_id="call_RpEDoB8O0FTL9JoKTuCVFOyR", content="timeout", is_error=True
            ),
        ),
    ),
    Message(role="user", content="Now search the docs for the radar chart."),
    Message(
        role="assistant",
        content=(ToolCall(id="call_s1", name="search_docs", arguments={"query": "radar"}),),
    ),
    Message(
        role="tool",
        content=(
            ToolResultPart(
                call_id="call_s1",
                content=(TextPart(text="Radar chart, page 4:"), ImagePart(data=PNG)),
            ),
        ),
    ),
)

REQUESTS: dict[str, tuple[str, dict[str, Any], ChatRequest, bool]] = {
    "full_tool_conversation": (
        "gpt-4o",
        {},
        ChatRequest(
            messages=CONVERSATION,
            system="You are a weather assistant.",
            tools=TOOLS,
            tool_choice="auto",
            parallel_tool_calls=True,
            max_tokens=200,
        ),
        False,
    ),
    "named_choice_serial_stream": (
        "gpt-4o-mini",
        {},
        ChatRequest.build(
            "What's the weather in Paris?",
            tools=TOOLS,
            tool_choice="get_weather",
            parallel_tool_calls=False,
        ),
        True,
    ),
    "required_on_a_reasoning_model_without_parallel_tools": (
        "o3-mini",
        {"features": ["tools"]},
        ChatRequest.build("Weather?", tools=(WEATHER,), tool_choice="required", max_tokens=300),
        False,
    ),
    "document": (
        "gpt-4.1",
        {},
        ChatRequest(
            messages=(
                Message(
                    role="user",
                    content=(
                        DocumentPart(data=PDF, name="invoice.pdf"),
                        TextPart(text="What is the total?"),
                    ),
                ),
            )
        ),
        False,
    ),
}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_what_modelwire_sends_with_tools(
    name: str,
    fake_server: FakeProviderServer,
    openai_model: MakeModel,
    snapshot: SnapshotAssertion,
) -> None:
    model_name, info, request, stream = REQUESTS[name]
    model = openai_model(model_name, info=info)
    if stream:
        assert list(model.stream(request))[-1].done
    else:
        model.invoke(request)
    (seen,) = fake_server.requests
    assert seen.body["model"] == model_name
    assert {"method": seen.method, "path": seen.path, "body": seen.body} == snapshot


def test_the_foreign_history_is_sent_without_other_vendors_state(
    fake_server: FakeProviderServer, openai_model: MakeModel
) -> None:
    _, info, request, _ = REQUESTS["full_tool_conversation"]
    openai_model("gpt-4o", info=info).invoke(request)
    sent = json.dumps(fake_server.requests[0].body)
    for private in ("Two cities", "c2lnbmF0dXJl", "dGhvdWdodA==", FOREIGN_ID):
        assert private not in sent


# -- recorded payloads ------------------------------------------------------------------------

PAYLOADS = sorted((GOLDEN / "payloads" / "openai" / "tools").glob("*.json"))
_GENERATED_ID = re.compile(r"call_[0-9a-f]{32}")


@pytest.fixture
def replay_server() -> Iterator[tuple[FakeProviderServer, dict[str, Any]]]:
    """A loopback server that answers every chat request with the payload in ``current``."""
    current: dict[str, Any] = {}

    def handler(request: FakeRequest, server: FakeProviderServer) -> Reply:
        payload = current["payload"]
        headers = dict(payload.get("headers") or {})
        if "chunks" in payload:
            events = [SseEvent(json.dumps(c)) for c in payload["chunks"]] + [SseEvent("[DONE]")]
            return Reply(events=events, headers=headers)
        return Reply(body=payload["body"], headers=headers)

    replay = SimpleNamespace(
        NAME="openai_replay",
        ROUTES=[Route("POST", r"/v1/chat/completions", handler)],
        error_body=lambda status, message, code: {"error": {"message": message}},
    )
    with FakeProviderServer(formats=[replay]) as server:
        yield server, current


def _generated_ids_masked(value: Any) -> Any:
    """Ids modelwire made for calls that came without one are random: pin their shape only."""
    return json.loads(_GENERATED_ID.sub("call_<generated>", json.dumps(value)))


def _error(exc: ProviderError) -> dict[str, Any]:
    return {
        "error": type(exc).__name__,
        "message": str(exc),
        "raw_text": getattr(exc, "raw_text", None),
        "retryable": exc.retryable,
    }


def _recorded_calls(payload: dict[str, Any]) -> list[tuple[str, Any]]:
    """The (name, decoded arguments) of each call in a payload, read independently."""
    if "body" in payload:
        message = payload["body"]["choices"][0]["message"]
        calls = message.get("tool_calls") or (
            [{"function": message["function_call"]}] if message.get("function_call") else []
        )
        return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls]
    by_index: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    for chunk in payload["chunks"]:
        for choice in chunk["choices"]:
            for piece in (choice.get("delta") or {}).get("tool_calls") or ():
                function = piece.get("function") or {}
                if function.get("name"):
                    names[piece["index"]] = function["name"]
                by_index.setdefault(piece["index"], []).append(function.get("arguments") or "")
    return [(names[i], json.loads("".join(by_index[i]))) for i in sorted(by_index)]


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: p.stem)
def test_recorded_tool_payloads(
    path: Path,
    replay_server: tuple[FakeProviderServer, dict[str, Any]],
    openai_model: MakeModel,
    snapshot: SnapshotAssertion,
) -> None:
    server, current = replay_server
    payload = json.loads(path.read_text())
    current["payload"] = payload
    model = openai_model("gpt-4o-mini", base_url=server.url + "/v1")
    request = ChatRequest.build("replayed", tools=TOOLS)
    result: dict[str, Any]
    try:
        if "chunks" in payload:
            *pieces, final = list(model.stream(request))
            result = {
                "text": "".join(e.text for e in pieces),
                "deltas": [
                    e.tool_call_delta.model_dump(mode="json")
                    for e in pieces
                    if e.tool_call_delta is not None
                ],
                "final": final.model_dump(mode="json", exclude_none=True),
            }
            calls = result["final"].get("tool_calls", [])
        else:
            result = model.invoke(request).model_dump(mode="json")
            calls = result["tool_calls"]
    except ProviderError as exc:
        assert "malformed" in path.stem or "not_an_object" in path.stem
        result = _error(exc)
    else:
        # the calls, restated independently of the snapshot
        assert [(c["name"], c["arguments"]) for c in calls] == _recorded_calls(payload)
    assert _generated_ids_masked(result) == snapshot
