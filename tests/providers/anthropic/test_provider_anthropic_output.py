"""Anthropic structured output end to end: the service, the real SDK and the loopback fake
server, in each mode and call style; what the fake refuses (so a wrong rewrite fails a test)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, Field

import modelwire as mw
from modelwire.errors import InvalidRequestError
from modelwire.output import OutputSpec
from modelwire.providers.anthropic.mapping import StreamState
from modelwire.providers.anthropic.schema import plan_output
from modelwire.types import ChatRequest, ModelInfo
from tests.support.output_types import Address, Paint, Person, Pet, Profile, Tree
from tools.fake_provider import FakeProviderServer
from tools.fake_provider.anthropic_format import Answer, text_block, tool_use

NATIVE = "anthropic:claude-sonnet-4-5"  # the catalog gives it structured_output
OLDER = "anthropic:claude-3-5-haiku-20241022"  # and not this one


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
            "providers": {
                "anthropic": {"api_key": "sk-ant-test", "base_url": server.url, "max_retries": 0}
            },
            "retry": {"max_attempts": 1},
        }
    )
    registry = mw.ModelRegistry.from_config(cfg)
    try:
        yield mw.ModelService(registry)
    finally:
        registry.close()


def _last(server: FakeProviderServer) -> dict[str, Any]:
    body = server.requests_to("/v1/messages")[-1].body
    assert isinstance(body, dict)
    return body


CASES = [
    (NATIVE, "auto", "native"),
    (NATIVE, "tool", "tool"),
    (NATIVE, "prompted", "prompted"),
    (OLDER, "auto", "tool"),
]
TYPES = [Person, Profile, Paint, Pet, list[Address], Room]


@pytest.mark.parametrize(("model", "asked", "mode"), CASES)
@pytest.mark.parametrize("kind", TYPES, ids=lambda k: getattr(k, "__name__", str(k)))
def test_invoke_validates_in_each_mode(
    service: mw.ModelService,
    server: FakeProviderServer,
    model: str,
    asked: str,
    mode: str,
    kind: Any,
) -> None:
    resp = service.invoke_model(model, "fill it in", output=kind, output_mode=asked)
    assert resp.output == OutputSpec.of(kind).validate_json(resp.text)
    assert (resp.output_mode, resp.output_fallback) == (mode, None)
    assert resp.finish_reason == "stop" and resp.tool_calls == ()
    body = _last(server)
    assert ("output_config" in body) == (mode == "native")
    assert ("tool_choice" in body) == (mode == "tool")


@pytest.mark.parametrize(("model", "asked", "mode"), CASES)
def test_stream_and_async_stream_assemble_the_output(
    service: mw.ModelService, model: str, asked: str, mode: str
) -> None:
    for kind in (Person, list[Address]):
        events = list(service.stream_model(model, "go", output=kind, output_mode=asked))
        *pieces, last = events
        assert last.done and last.output_mode == mode
        assert last.output == OutputSpec.of(kind).validate_json(last.full_text or "")
        assert all(e.tool_call_delta is None for e in pieces)  # the output tool is not a call
        assert last.tool_calls == () and last.finish_reason == "stop"

        async def collect(kind: Any = kind) -> list[mw.StreamEvent]:
            return [e async for e in service.astream_model(model, "go", output=kind)]

        assert asyncio.run(collect())[-1].output == last.output


def test_ainvoke_and_a_recursive_type_falls_back_to_the_tool(service: mw.ModelService) -> None:
    resp = asyncio.run(service.ainvoke_model(NATIVE, "a tree", output=Tree, output_mode="native"))
    assert isinstance(resp.output, Tree)
    assert resp.output_mode == "tool"
    assert resp.output_fallback == "native: Anthropic's structured outputs refuse recursive schemas"


def test_a_streamed_tool_answer_arrives_in_pieces(
    service: mw.ModelService, server: FakeProviderServer
) -> None:
    events = list(service.stream_model(OLDER, "go", output=Person))
    texts = [e.text for e in events[:-1] if e.text]
    assert len(texts) > 2  # the tool's JSON, piece by piece, as text
    assert isinstance(events[-1].output, Person)


def test_with_the_requests_own_tools(service: mw.ModelService, server: FakeProviderServer) -> None:
    def lookup(q: str) -> str:
        """Look something up."""
        return q

    resp = service.invoke_model(NATIVE, "go", output=Person, tools=[lookup], tool_choice="none")
    assert isinstance(resp.output, Person) and resp.output_mode == "native"
    assert [t["name"] for t in _last(server)["tools"]] == ["lookup"]
    resp = service.invoke_model(OLDER, "go", output=Person, tools=[lookup], tool_choice="none")
    assert isinstance(resp.output, Person) and resp.output_mode == "prompted"
    assert resp.output_fallback is not None and "tool" in resp.output_fallback
    with pytest.raises(InvalidRequestError, match='output_mode="tool"'):
        service.invoke_model(NATIVE, "go", output=Person, tools=[lookup], output_mode="tool")


def test_a_scripted_wrong_answer_is_an_output_validation_error(
    service: mw.ModelService, server: FakeProviderServer
) -> None:
    server.script("anthropic", Answer(tool_use("Person", {"name": "Ann"})))
    with pytest.raises(mw.OutputValidationError) as caught:
        service.invoke_model(OLDER, "go", output=Person)
    assert caught.value.raw_text == '{"name": "Ann"}'
    server.script("anthropic", Answer(text_block('{"result": [{"street": "a", "city": "b"}]}')))
    resp = service.invoke_model(NATIVE, "go", output=list[Address])  # a wrapped native answer
    assert resp.output == [Address(street="a", city="b")]
    assert resp.text == '[{"street": "a", "city": "b"}]'


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"n": {"type": "integer", "minimum": 1}},
            },
            "keyword 'minimum' is not supported",
        ),
        ({"type": "object", "properties": {}}, "additionalProperties must be false"),
        (
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"n": {"$ref": "#/$defs/N"}},
                "$defs": {
                    "N": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"next": {"$ref": "#/$defs/N"}},
                    }
                },
            },
            "recursive schemas are not supported",
        ),
        (
            {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "minItems: only 0 and 1",
        ),
        ({"type": "string", "format": "color"}, "'color' is not a supported string format"),
    ],
)
def test_the_fake_refuses_what_the_api_refuses(
    service: mw.ModelService, schema: dict[str, Any], problem: str
) -> None:
    config = {"format": {"type": "json_schema", "schema": schema}}
    with pytest.raises(InvalidRequestError, match=problem):
        service.invoke_model(NATIVE, "go", provider_params={"output_config": config})


def test_stream_state_unwraps_a_held_answer() -> None:
    info = ModelInfo(id="anthropic:claude-x", features=frozenset({"structured_output"}))
    state = StreamState()
    state.output = plan_output(ChatRequest.build("go", output=OutputSpec.of(list[int])), info)
    pieces = ['{"res', 'ult": [1,', " 2]}"]
    out = [
        state.feed(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            }
        )
    ]
    for piece in pieces:
        delta = {"type": "text_delta", "text": piece}
        out.append(state.feed({"type": "content_block_delta", "index": 0, "delta": delta}))
    out.append(state.feed({"type": "message_stop"}))
    assert out == ["", "", "", "", "[1, 2]"]


def test_extended_thinking_rules_out_the_forced_tool(
    service: mw.ModelService, server: FakeProviderServer
) -> None:
    thinking = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    resp = service.invoke_model(OLDER, "go", output=Person, provider_params=thinking)
    assert resp.output_mode == "prompted" and isinstance(resp.output, Person)
    assert resp.output_fallback is not None and "extended thinking" in resp.output_fallback
    with pytest.raises(InvalidRequestError, match="extended thinking"):
        service.invoke_model(
            NATIVE, "go", output=Person, output_mode="tool", provider_params=thinking
        )
    tool = {"name": "f", "input_schema": {"type": "object"}}
    forced = {**thinking, "tools": [tool], "tool_choice": {"type": "any"}}
    with pytest.raises(InvalidRequestError, match="Thinking may not be enabled"):  # the fake too
        service.invoke_model(NATIVE, "go", provider_params=forced)


def test_prompted_instructions_join_system_blocks(
    service: mw.ModelService, server: FakeProviderServer
) -> None:
    blocks = [{"type": "text", "text": "Be brief."}]
    resp = service.invoke_model(
        NATIVE, "go", output=Person, output_mode="prompted", provider_params={"system": blocks}
    )
    assert isinstance(resp.output, Person)
    system = _last(server)["system"]
    assert system[0] == blocks[0] and "JSON schema (Person)" in system[1]["text"]


def test_run_tools_with_an_output_type(service: mw.ModelService) -> None:
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    for model, mode in ((NATIVE, "native"), (OLDER, "prompted")):
        run = service.run_tools(model, "weather?", tools=[get_weather], output=Person)
        assert isinstance(run.response.output, Person)
        assert run.response.output_mode == mode


class Scores(BaseModel):
    by_name: dict[str, int]
    pair: tuple[int, str]


def test_values_the_native_subset_cannot_hold_use_the_tool(
    service: mw.ModelService, server: FakeProviderServer
) -> None:
    resp = service.invoke_model(NATIVE, "scores", output=Scores)
    assert isinstance(resp.output, Scores)
    assert resp.output_mode == "tool"
    assert resp.output_fallback == (
        "native: Anthropic's structured outputs cannot express additionalProperties"
    )
    schema = _last(server)["tools"][0]["input_schema"]
    assert schema["properties"]["by_name"]["additionalProperties"] == {"type": "integer"}
