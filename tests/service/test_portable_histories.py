"""A tool conversation started on one vendor fails over to each of the others: the history made
by one vendor (its call ids, thinking, signatures) replays on another, through the real SDKs
against the loopback fake server."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

import modelwire as mw
from modelwire.content import ToolResultPart
from tools.fake_provider import FakeProviderServer

MODELS = {
    "openai": "openai:gpt-4o-mini",
    "anthropic": "anthropic:claude-sonnet-4-5",
    "google": "google:gemini-3-pro-preview",  # the fake signs its calls: signatures travel
}
KEYS = {"openai": "sk-test", "anthropic": "sk-ant-test", "google": "AIza-fake"}


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _base(server: FakeProviderServer, vendor: str) -> str:
    return server.url + "/v1" if vendor == "openai" else server.url


@pytest.fixture
def service(fake_server: FakeProviderServer) -> Iterator[mw.ModelService]:
    down = f"http://127.0.0.1:{_closed_port()}"
    providers = {
        vendor: {"api_key": KEYS[vendor], "base_url": _base(fake_server, vendor), "timeout_s": 5}
        for vendor in MODELS
    }
    for vendor in MODELS:  # each vendor's type again, unreachable: a failover's first member
        providers[f"{vendor}_down"] = {
            "type": vendor,
            "api_key": KEYS[vendor],
            "base_url": down + ("/v1" if vendor == "openai" else ""),
            "timeout_s": 5,
            "max_retries": 0,
        }
    models = {f"{v}_down:{m.split(':', 1)[1]}": {} for v, m in MODELS.items()}
    cfg = mw.Config.model_validate(
        {"providers": providers, "models": models, "retry": {"max_attempts": 1}}
    )
    registry = mw.ModelRegistry.from_config(cfg)
    try:
        yield mw.ModelService(registry, ledger=mw.InMemoryUsageSink())
    finally:
        registry.close()


PAIRS = [(a, b) for a in MODELS for b in MODELS if a != b]


@pytest.mark.parametrize(("first", "then"), PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
def test_a_tool_conversation_fails_over_to_another_vendor(
    service: mw.ModelService, first: str, then: str
) -> None:
    question = mw.Message(role="user", content='call get_weather {"city": "Paris"}')
    started = service.invoke_model(
        MODELS[first], question, tools=[get_weather], tool_choice="required"
    )
    assert started.tool_calls, started
    results = mw.Message(
        role="tool",
        content=tuple(
            ToolResultPart(call_id=c.id, content=get_weather(**c.arguments), name=c.name)
            for c in started.tool_calls
        ),
    )
    history = [question, started.message, results]
    down = MODELS[first].replace(f"{first}:", f"{first}_down:")
    group = mw.ModelGroup(f"{first}-then-{then}", [down, MODELS[then]], retry={"max_attempts": 1})
    service.groups.add(group)
    final = service.invoke_model(group.name, history, tools=[get_weather])
    assert final.model_id == MODELS[then]
    assert final.tool_calls == () and "sunny in" in final.text
