"""Golden tests of the google (Gemini) provider.

* What modelwire sends: path, query and JSON body for a set of requests, as the ``google-genai``
  SDK puts them on the wire (captured by the fake server).
* What modelwire makes of recorded responses: each ``golden/payloads/google/*.json`` (a
  ``generateContent`` body, or the chunks of a stream) is served verbatim by a replay route and read
  through the real SDK and the provider; the normalised ``ChatResponse`` / final ``StreamEvent`` is
  pinned.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from modelwire.config.schema import ProviderConfig
from modelwire.providers.base import ProviderContext
from modelwire.providers.google.model import GeminiChatModel
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
    assert again.model_dump() == resp.model_dump()
    assert resp.model_dump() == snapshot


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
    assert [e.model_dump() for e in async_events] == [e.model_dump() for e in events]
    assert events[-1].done
    summary = {"text": "".join(e.text for e in events), "last": events[-1].model_dump()}
    assert summary == snapshot
