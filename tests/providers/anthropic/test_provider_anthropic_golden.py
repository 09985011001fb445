"""Golden tests of the anthropic provider.

* What modelwire sends: request bodies for a set of requests, captured by the fake server.
* What modelwire makes of recorded responses: each ``golden/payloads/anthropic/*.json`` (a
  Messages body, or a list of SSE events) is served verbatim by a replay route and read through
  the real SDK and the provider; the normalised ``ChatResponse`` / final ``StreamEvent`` is pinned.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from modelwire.config.schema import ProviderConfig
from modelwire.providers.anthropic.model import AnthropicChatModel
from modelwire.providers.base import ProviderContext
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


def _context(url: str) -> ProviderContext:
    return ProviderContext(
        "anthropic",
        ProviderConfig(type="anthropic", api_key="sk-ant-golden", base_url=url, timeout_s=5.0),
    )


REQUESTS: dict[str, tuple[ModelInfo, ChatRequest]] = {
    "prompt_only": (ModelInfo(id="anthropic:claude-fake-1"), ChatRequest.build("Hello")),
    "system_and_common_parameters": (
        ModelInfo(id="anthropic:claude-fake-1"),
        ChatRequest.build(
            "Summarise the plot of Hamlet.",
            system="Answer in one sentence.",
            max_tokens=256,
            temperature=0.2,
            top_p=0.9,
            stop=["END", "###"],
            seed=7,
            timeout=30,
        ),
    ),
    "conversation_with_system_messages": (
        ModelInfo(id="anthropic:claude-fake-1"),
        ChatRequest(
            messages=(
                Message(role="system", content="You are terse."),
                Message(role="user", content="2+2?"),
                Message(role="assistant", content="4"),
                Message(role="user", content="and 3+3?"),
            ),
            system="Arithmetic only.",
        ),
    ),
    "provider_params_pass_through": (
        ModelInfo(id="anthropic:claude-fake-1"),
        ChatRequest.build(
            "Prove it.",
            max_tokens=2048,
            provider_params={
                "thinking": {"type": "enabled", "budget_tokens": 1024},
                "metadata": {"user_id": "u-42"},
                "top_k": 5,
            },
        ),
    ),
    "default_max_tokens_capped_by_model": (
        ModelInfo(id="anthropic:claude-small", max_output_tokens=1024),
        ChatRequest.build("Hi"),
    ),
}


@pytest.fixture
def server(fake_server_shared: FakeProviderServer) -> FakeProviderServer:
    return fake_server_shared


def test_request_bodies(server: FakeProviderServer, snapshot: SnapshotAssertion) -> None:
    ctx = _context(server.url + "/anthropic")
    sent: dict[str, Any] = {}
    try:
        for name, (info, request) in REQUESTS.items():
            AnthropicChatModel(info, ctx).invoke(request)
            sent[name] = server.requests_to("/v1/messages")[-1].body
        info, request = REQUESTS["system_and_common_parameters"]
        list(AnthropicChatModel(info, ctx).stream(request))
        sent["system_and_common_parameters_streamed"] = server.requests_to("/v1/messages")[-1].body
    finally:
        ctx.close()
    assert sent == snapshot


# -- recorded responses -------------------------------------------------------------------------


def _payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return data


def _replay(request: FakeRequest, server: FakeProviderServer) -> Reply:
    name = str(request.body["model"])
    data = _payload(name)
    headers = dict(data.get("headers") or {})
    if "events" in data:
        events = [SseEvent(json.dumps(e["data"]), e["event"]) for e in data["events"]]
        return Reply(events=events, headers=headers)
    return Reply(body=data["body"], headers=headers)


_REPLAY = route_format(
    "anthropic-replay", [Route("POST", r"/v1/messages", _replay)], anthropic_format
)


@pytest.fixture(scope="module")
def replay_url() -> Iterator[str]:
    with FakeProviderServer(formats=[_REPLAY]) as srv:
        yield srv.url


def _names(prefix: str) -> list[str]:
    return sorted(p.stem for p in PAYLOADS.glob(f"{prefix}_*.json"))


def test_payload_files_exist() -> None:
    assert len(_names("message")) >= 3 and len(_names("stream")) >= 2


@pytest.mark.parametrize("name", _names("message"))
def test_recorded_message(name: str, replay_url: str, snapshot: SnapshotAssertion) -> None:
    ctx = _context(replay_url)
    model = AnthropicChatModel(ModelInfo(id=f"anthropic:{name}"), ctx)
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
    model = AnthropicChatModel(ModelInfo(id=f"anthropic:{name}"), ctx)

    async def collect() -> list[Any]:
        return [e async for e in model.astream(ChatRequest.build("recorded"))]

    try:
        events = list(model.stream(ChatRequest.build("recorded")))
        async_events = asyncio.run(collect())
    finally:
        ctx.close()
    assert [e.model_dump() for e in async_events] == [e.model_dump() for e in events]
    last = events[-1]
    assert last.done
    summary = {"text": "".join(e.text for e in events), "last": last.model_dump()}
    assert summary == snapshot
