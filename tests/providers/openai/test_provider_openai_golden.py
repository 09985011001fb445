"""Golden tests of the OpenAI provider.

1. What modelwire sends: the JSON body (and path) the fake server received for a set of requests.
2. What modelwire makes of recorded responses: each payload under golden/payloads/openai/ is
   replayed by a loopback server to the real SDK, and the normalised ``ChatResponse`` (or the
   stream's text and final event) is pinned.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from modelwire.types import ChatRequest, Message
from tests.support.paths import GOLDEN
from tools.fake_provider import FakeProviderServer, FakeRequest, Reply, Route, SseEvent

MakeModel = Callable[..., Any]

REQUESTS: dict[str, tuple[str, dict[str, Any], ChatRequest, bool]] = {
    "plain": ("gpt-4o-mini", {}, ChatRequest.build("Hello"), False),
    "system_and_common_params": (
        "gpt-4o",
        {},
        ChatRequest.build(
            "Summarise the plot of Hamlet.",
            system="You are terse.",
            max_tokens=64,
            temperature=0.2,
            top_p=0.9,
            stop=("\n\n", "END"),
            seed=7,
            timeout=12.0,
        ),
        False,
    ),
    "conversation": (
        "gpt-4o-mini",
        {},
        ChatRequest(
            messages=(
                Message(role="user", content="My name is Ada."),
                Message(role="assistant", content="Hello Ada."),
                Message(role="user", content="What is my name?"),
            )
        ),
        False,
    ),
    "reasoning_family_drops_sampling": (
        "o3-mini",
        {},
        ChatRequest.build("Prove it.", max_tokens=500, temperature=0.7, top_p=0.5, seed=1),
        False,
    ),
    "reasoning_flag_from_catalog": (
        "my-finetuned-reasoner",
        {"reasoning": True},
        ChatRequest.build("Think.", max_tokens=100, temperature=1.0),
        False,
    ),
    "gpt5_family": ("gpt-5-mini", {}, ChatRequest.build("Hi", max_tokens=10), False),
    "provider_params_merged_last": (
        "gpt-4o-mini",
        {},
        ChatRequest.build(
            "Hi",
            temperature=0.5,
            provider_params={
                "temperature": 0.9,
                "logit_bias": {"50256": -100},
                "user": "u-1",
                "extra_body": {"custom_flag": True},
            },
        ),
        False,
    ),
    "reasoning_effort_passthrough": (
        "o4-mini",
        {},
        ChatRequest.build("Hi", provider_params={"reasoning_effort": "low"}),
        False,
    ),
    "stream": (
        "gpt-4o-mini",
        {},
        ChatRequest.build("Stream me", system="sys", max_tokens=5),
        True,
    ),
    "stream_reasoning": ("o1", {}, ChatRequest.build("Stream me", max_tokens=50), True),
}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_what_modelwire_sends(
    name: str,
    fake_server: FakeProviderServer,
    openai_model: MakeModel,
    snapshot: SnapshotAssertion,
) -> None:
    model_name, info, request, stream = REQUESTS[name]
    model = openai_model(model_name, info=info)
    if stream:
        list(model.stream(request))
    else:
        model.invoke(request)
    (seen,) = fake_server.requests
    assert seen.headers["authorization"] == "Bearer sk-test"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers.get("x-stainless-retry-count", "0") == "0"
    sent = {"method": seen.method, "path": seen.path, "body": seen.body}
    assert sent == snapshot


# -- recorded payloads ------------------------------------------------------------------------

PAYLOADS = sorted((GOLDEN / "payloads" / "openai").glob("*.json"))


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


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: p.stem)
def test_recorded_payload_normalisation(
    path: Path,
    replay_server: tuple[FakeProviderServer, dict[str, Any]],
    openai_model: MakeModel,
    snapshot: SnapshotAssertion,
) -> None:
    server, current = replay_server
    payload = json.loads(path.read_text())
    current["payload"] = payload
    model = openai_model("gpt-4o-mini", base_url=server.url + "/v1")
    request = ChatRequest.build("replayed")
    if "chunks" in payload:
        events = list(model.stream(request))
        *parts, final = events
        result: dict[str, Any] = {
            "text": "".join(e.text for e in parts),
            "events": len(parts),
            "final": final.model_dump(mode="json", exclude_none=True),
        }
        usage = next((c["usage"] for c in payload["chunks"] if c.get("usage")), None)
    else:
        response = model.invoke(request)
        result = response.model_dump(mode="json")
        usage = payload["body"].get("usage")
    # the usage normalisation of docs/providers.md, restated independently of the snapshot
    got = result["usage"] if "chunks" not in payload else result["final"].get("usage")
    if usage is None:
        assert got is None
    else:
        assert got["input_tokens"] == usage["prompt_tokens"]
        assert got["output_tokens"] == usage["completion_tokens"]
        details = usage.get("prompt_tokens_details") or {}
        assert got["cache_read_tokens"] == details.get("cached_tokens", 0)
        reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens", 0)
        assert got["reasoning_tokens"] == reasoning
        assert got["cache_write_tokens"] == 0
    assert result == snapshot
