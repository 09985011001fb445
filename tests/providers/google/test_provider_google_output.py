"""Gemini structured output end to end: the service, the real ``google-genai`` SDK and the
loopback fake server, in each mode and call style; what the fake refuses (so a wrong rewrite
fails a test)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, Field

import modelwire as mw
from modelwire.errors import InvalidRequestError
from modelwire.output import OutputSpec
from tests.support.output_types import Address, Paint, Person, Pet, Profile, Tree
from tools.fake_provider import FakeProviderServer

FLASH = "google:gemini-2.5-flash"
GEMINI_3 = "google:gemini-3-pro-preview"


class Room(BaseModel):
    name: str = Field(min_length=2, max_length=20)
    beds: int = Field(ge=1, le=4)


@pytest.fixture
def server(fake_server_shared: FakeProviderServer) -> FakeProviderServer:
    return fake_server_shared


@pytest.fixture
def service(server: FakeProviderServer) -> Iterator[mw.ModelService]:
    cfg = mw.Config.model_validate(
        {
            "providers": {"google": {"api_key": "AIza-test", "base_url": server.url}},
            "retry": {"max_attempts": 1},
        }
    )
    registry = mw.ModelRegistry.from_config(cfg)
    try:
        yield mw.ModelService(registry)
    finally:
        registry.close()


def _config(server: FakeProviderServer) -> dict[str, Any]:
    body = server.requests[-1].body
    assert isinstance(body, dict)
    config: dict[str, Any] = body.get("generationConfig") or {}
    return config


TYPES = [Person, Profile, Paint, Pet, list[Address], Room, Tree, int]
MODES = [("auto", "native", None), ("prompted", "prompted", None), ("tool", "tool", None)]


@pytest.mark.parametrize(("asked", "mode", "fallback"), MODES)
@pytest.mark.parametrize("kind", TYPES, ids=lambda k: getattr(k, "__name__", str(k)))
def test_invoke_validates_in_each_mode(
    service: mw.ModelService,
    server: FakeProviderServer,
    asked: str,
    mode: str,
    fallback: str | None,
    kind: Any,
) -> None:
    resp = service.invoke_model(FLASH, "fill it in", output=kind, output_mode=asked)
    assert resp.output == OutputSpec.of(kind).validate_json(resp.text)
    assert resp.output_mode == mode
    assert (resp.output_fallback or "").startswith(fallback or "")
    assert bool(resp.output_fallback) == bool(fallback)
    config = _config(server)
    assert ("responseJsonSchema" in config) == (mode == "native")
    assert config.get("responseMimeType") == ("application/json" if mode == "native" else None)
    body = server.requests[-1].body
    assert isinstance(body, dict)
    assert ("toolConfig" in body) == (mode == "tool")
    assert resp.tool_calls == () and resp.finish_reason == "stop"


def test_a_forced_output_call_streams_as_text(service: mw.ModelService) -> None:
    for kind in (Person, list[Address]):
        events = list(service.stream_model(FLASH, "go", output=kind, output_mode="tool"))
        *pieces, last = events
        assert last.output_mode == "tool" and last.tool_calls == ()
        assert all(e.tool_call_delta is None for e in pieces)
        assert last.output == OutputSpec.of(kind).validate_json(last.full_text or "")


def test_tool_mode_beside_the_requests_tools_is_refused(service: mw.ModelService) -> None:
    def lookup(q: str) -> str:
        """Look something up."""
        return q

    with pytest.raises(InvalidRequestError, match='output_mode="tool"'):
        service.invoke_model(FLASH, "go", output=Person, tools=[lookup], output_mode="tool")


def test_stream_and_async(service: mw.ModelService) -> None:
    events = list(service.stream_model(FLASH, "go", output=list[Person]))
    last = events[-1]
    assert last.done and last.output_mode == "native"
    assert last.output == OutputSpec.of(list[Person]).validate_json(last.full_text or "")

    async def both() -> tuple[mw.ChatResponse, list[mw.StreamEvent]]:
        resp = await service.ainvoke_model(FLASH, "go", output=Pet)
        return resp, [e async for e in service.astream_model(FLASH, "go", output=Pet)]

    resp, streamed = asyncio.run(both())
    assert isinstance(resp.output, Pet) and streamed[-1].output == resp.output
    assert streamed[-1].output_mode == "native"


def test_with_the_requests_own_tools(service: mw.ModelService, server: FakeProviderServer) -> None:
    def lookup(q: str) -> str:
        """Look something up."""
        return q

    resp = service.invoke_model(FLASH, "go", output=Person, tools=[lookup], tool_choice="none")
    assert resp.output_mode == "prompted" and isinstance(resp.output, Person)
    assert resp.output_fallback is not None and "Gemini 3" in resp.output_fallback
    resp = service.invoke_model(GEMINI_3, "go", output=Person, tools=[lookup], tool_choice="none")
    assert (resp.output_mode, resp.output_fallback) == ("native", None)
    assert "responseJsonSchema" in _config(server)


NODE = {
    "type": "object",
    "properties": {"next": {"$ref": "#/$defs/N"}},
    "$defs": {
        "N": {
            "type": "object",
            "properties": {"next": {"$ref": "#/$defs/N"}},
            "required": ["next"],
        }
    },
}


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (
            {
                "response_mime_type": "application/json",
                "response_json_schema": {"type": "string", "pattern": "a+"},
            },
            "unsupported keyword 'pattern'",
        ),
        (
            {
                "response_mime_type": "application/json",
                "response_json_schema": {
                    "type": "object",
                    "properties": {"a": {"$ref": "#/$defs/A", "description": "an A"}},
                    "$defs": {"A": {"type": "string"}},
                },
            },
            "no other properties may be set beside \\$ref",
        ),
        (
            {"response_mime_type": "application/json", "response_json_schema": NODE},
            "cyclic references may only be used within non-required properties",
        ),
        (
            {"response_mime_type": "application/json", "response_json_schema": {"enum": [True, 1]}},
            "only strings and numbers",
        ),
        ({"response_json_schema": {"type": "string"}}, "requires responseMimeType"),
    ],
)
def test_the_fake_refuses_what_gemini_refuses(
    service: mw.ModelService, config: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidRequestError, match=problem):
        service.invoke_model(FLASH, "go", provider_params=config)


def test_json_with_function_calling_is_refused_before_gemini_3(service: mw.ModelService) -> None:
    def lookup(q: str) -> str:
        """Look something up."""
        return q

    params = {"response_mime_type": "application/json"}
    with pytest.raises(InvalidRequestError, match="Function calling with a response mime type"):
        service.invoke_model(FLASH, "go", tools=[lookup], provider_params=params)


def test_run_tools_on_gemini_3_ends_with_a_validated_output(
    service: mw.ModelService, server: FakeProviderServer
) -> None:
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    run = service.run_tools(GEMINI_3, "weather in Paris?", tools=[get_weather], output=Person)
    assert isinstance(run.response.output, Person)
    assert run.response.output_mode == "native"
    assert len(run.messages) == 4  # the prompt, the call, its result, the answer
    assert "responseJsonSchema" in _config(server)
