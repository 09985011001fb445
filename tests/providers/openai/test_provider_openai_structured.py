"""OpenAI structured output at the provider: which mode runs, fallbacks and why, refusals, the
strict rules the fake server enforces, and the rewrite's cache and log."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from modelwire.config.schema import OpenAICompatibleConfig
from modelwire.errors import InvalidRequestError, OutputValidationError, UnsupportedFeatureError
from modelwire.output import OutputSpec
from modelwire.providers.base import ProviderContext
from modelwire.providers.openai.model import OpenAICompatibleChatModel
from modelwire.providers.openai.schema import answer_json, strict_schema
from modelwire.tools import Tool
from modelwire.types import ChatRequest, ModelInfo
from tools.fake_provider import FakeProviderServer
from tools.fake_provider.openai_format import REFUSAL
from tools.fake_provider.openai_strict import strict_problem

MakeModel = Callable[..., Any]
NATIVE = {"features": ("tools", "structured_output")}
TOOLS_ONLY = {"features": ("tools",)}
NEITHER: dict[str, Any] = {"features": ()}
LOOKUP = Tool(
    name="lookup",
    description="Look a city up.",
    parameters={"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
)


class City(BaseModel):
    name: str
    population: int = Field(ge=0)
    country: str | None = None


def _request(output: Any = City, **params: Any) -> ChatRequest:
    return ChatRequest.build("tell me about a city", output=OutputSpec.of(output), **params)


@pytest.mark.parametrize(
    ("info", "mode", "wire_keys", "fallback"),
    [
        (NATIVE, "native", {"response_format"}, None),
        (None, "native", {"response_format"}, None),  # features unknown: native assumed
        (TOOLS_ONLY, "tool", {"tools", "tool_choice"}, "has no native structured output"),
        (NEITHER, "prompted", set(), "has no native structured output or tools"),
    ],
)
def test_auto_picks_the_best_mode_and_says_why_it_fell_back(
    info: dict[str, Any] | None,
    mode: str,
    wire_keys: set[str],
    fallback: str | None,
    openai_model: MakeModel,
    fake_server: FakeProviderServer,
) -> None:
    response = openai_model("gpt-4o-mini", info=info).invoke(_request())
    assert response.output_mode == mode
    assert (response.output_fallback is None) == (fallback is None)
    if fallback:
        assert fallback in str(response.output_fallback)
    body = fake_server.requests[0].body
    assert wire_keys <= set(body) and not {"response_format", "tools"} - wire_keys & set(body)
    City.model_validate_json(response.text)


def test_auto_with_the_requests_own_tools_never_forces_the_output_tool(
    openai_model: MakeModel, fake_server: FakeProviderServer
) -> None:
    model = openai_model("gpt-4o-mini", info=TOOLS_ONLY)
    response = model.invoke(_request(tools=(LOOKUP,)))
    assert response.output_mode == "prompted"
    body = fake_server.requests[0].body
    assert [t["function"]["name"] for t in body["tools"]] == ["lookup"]
    assert "tool_choice" not in body
    native = openai_model("gpt-4o-mini", info=NATIVE).invoke(_request(tools=(LOOKUP,)))
    assert native.output_mode == "native"
    assert "response_format" in fake_server.requests[1].body


def test_tool_mode_with_the_requests_own_tools_is_refused_before_any_request(
    openai_model: MakeModel, fake_server: FakeProviderServer
) -> None:
    with pytest.raises(UnsupportedFeatureError, match="cannot be combined with the request's"):
        openai_model().invoke(_request(tools=(LOOKUP,), output_mode="tool"))
    assert fake_server.requests == []


def test_a_schema_with_no_strict_form_falls_back_or_is_refused(
    openai_model: MakeModel, fake_server: FakeProviderServer
) -> None:
    model = openai_model("gpt-4o-mini", info=NATIVE)
    response = model.invoke(_request(dict[str, int]))
    assert response.output_mode == "prompted"
    assert "a map or an open object" in str(response.output_fallback)
    assert isinstance(json.loads(response.text), dict)
    for mode in ("native", "tool"):
        with pytest.raises(UnsupportedFeatureError, match="a map or an open object"):
            model.invoke(_request(dict[str, int], output_mode=mode))
    assert len(fake_server.requests) == 1


def test_prompted_mode_appends_the_instructions_to_the_system_prompt(
    openai_model: MakeModel, fake_server: FakeProviderServer
) -> None:
    response = openai_model().invoke(_request(output_mode="prompted", system="Be brief."))
    assert response.output_mode == "prompted"
    system = fake_server.requests[0].body["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("Be brief.\n\nAnswer with")
    assert '"population"' in system["content"]
    City.model_validate_json(response.text)


def test_a_refusal_raises_with_its_text(
    openai_model: MakeModel, fake_server: FakeProviderServer
) -> None:
    model = openai_model("gpt-4o-mini", info=NATIVE)
    request = ChatRequest.build("please refuse", output=OutputSpec.of(City))
    with pytest.raises(OutputValidationError, match="refused to answer with City") as caught:
        model.invoke(request)
    assert caught.value.raw_text == REFUSAL
    with pytest.raises(OutputValidationError, match="refused") as streamed:
        list(model.stream(request))
    assert streamed.value.raw_text == REFUSAL


def test_tool_mode_streams_the_arguments_as_text(openai_model: MakeModel) -> None:
    model = openai_model("gpt-4o-mini", info=TOOLS_ONLY)
    events = list(model.stream(_request(list[City])))
    last = events[-1]
    assert last.done and last.output_mode == "tool" and last.tool_calls == ()
    assert "".join(e.text for e in events[:-1]).startswith('{"result"')
    assert isinstance(json.loads(last.full_text or ""), list)  # unwrapped


def _compatible(fake_server: FakeProviderServer, setting: str | None) -> OpenAICompatibleChatModel:
    settings: dict[str, Any] = {"structured_output": setting} if setting else {}
    config = OpenAICompatibleConfig(
        type="openai_compatible", base_url=fake_server.url + "/v1", **settings
    )
    return OpenAICompatibleChatModel(ModelInfo(id="local:llama"), ProviderContext("local", config))


@pytest.mark.parametrize(
    ("setting", "output", "mode", "response_format", "fallback"),
    [
        (None, City, "native", "json_schema", None),
        ("json_schema", dict[str, int], "prompted", "json_object", "no strict schema"),
        ("json_object", City, "prompted", "json_object", None),
        ("json_object", list[City], "prompted", None, "object outputs only"),
        ("prompted", City, "prompted", None, None),
    ],
)
def test_compatible_servers_follow_their_setting_down_the_chain(
    setting: str | None,
    output: Any,
    mode: str,
    response_format: str | None,
    fallback: str | None,
    fake_server: FakeProviderServer,
) -> None:
    model = _compatible(fake_server, setting)
    try:
        response = model.invoke(_request(output))
    finally:
        model.provider.close()
    assert response.output_mode == mode
    assert (response.output_fallback is None) == (fallback is None)
    if fallback:
        assert fallback in str(response.output_fallback)
    body = fake_server.requests[0].body
    assert (body.get("response_format") or {}).get("type") == response_format
    OutputSpec.of(output).validate_json(response.text)


def test_native_on_a_server_configured_below_json_schema_says_so(
    fake_server: FakeProviderServer,
) -> None:
    model = _compatible(fake_server, "json_object")
    try:
        response = model.invoke(_request(output_mode="native"))
    finally:
        model.provider.close()
    assert "configured with structured_output: json_object" in str(response.output_fallback)


def test_the_fake_server_refuses_a_schema_that_is_not_strict(openai_model: MakeModel) -> None:
    raw = {
        "type": "json_schema",
        "json_schema": {"name": "City", "schema": City.model_json_schema(), "strict": True},
    }
    request = ChatRequest.build("hi", provider_params={"response_format": raw})
    with pytest.raises(InvalidRequestError, match="'additionalProperties' is required"):
        openai_model().invoke(request)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "array", "items": {"type": "string"}}, "must be a JSON Schema of 'type"),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            "'additionalProperties' is required",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "required": [],
                "additionalProperties": False,
            },
            "Missing 'a'",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string", "minLength": 2}},
                "required": ["a"],
                "additionalProperties": False,
            },
            "context=('properties', 'a'), 'minLength' is not permitted",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string", "format": "uri"}},
                "required": ["a"],
                "additionalProperties": False,
            },
            "'uri' is not a valid format",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"$ref": "#/$defs/Missing"}},
                "required": ["a"],
                "additionalProperties": False,
            },
            "can't be resolved",
        ),
    ],
)
def test_strict_rules(schema: dict[str, Any], message: str) -> None:
    problem = strict_problem(schema, "response_format 'x'")
    assert problem is not None and message in problem
    assert problem.startswith("Invalid schema for response_format 'x': ")


def test_rewrites_are_cached_and_their_removals_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Code(BaseModel):
        value: str = Field(min_length=4)

    spec = OutputSpec.of(Code)
    with caplog.at_level(logging.INFO, logger="modelwire.output"):
        first = strict_schema(spec)
        again = strict_schema(OutputSpec.of(Code))
    assert first is again
    assert first.removed == ("properties.value: minLength",)
    logged = [r for r in caplog.records if r.name == "modelwire.output"]
    assert len(logged) == 1 and "minLength" in logged[0].getMessage()


def test_a_null_for_an_optional_field_that_takes_none_stays_and_one_that_does_not_goes() -> None:
    class Item(BaseModel):
        label: str | None = None
        size: int = 3

    spec = OutputSpec.of(Item)
    turned = answer_json(spec, '{"label": null, "size": null}')
    assert json.loads(turned) == {"label": None}
    assert spec.validate_json(turned) == Item(label=None, size=3)
    assert answer_json(spec, "not json") == "not json"  # left to validation to report


@pytest.mark.parametrize("output", [dict[str, int], Any, list[Any]])
def test_outputs_with_no_strict_form(output: Any) -> None:
    with pytest.raises(UnsupportedFeatureError, match="output schema"):
        strict_schema(OutputSpec.of(output))


def test_an_empty_model_and_a_model_allowing_extras_have_strict_forms() -> None:
    class Nothing(BaseModel):
        pass

    class Open(BaseModel):
        model_config = ConfigDict(extra="allow")
        a: int

    empty = strict_schema(OutputSpec.of(Nothing))
    assert empty.schema["properties"] == {} and empty.schema["additionalProperties"] is False
    extras = strict_schema(OutputSpec.of(Open))
    assert extras.removed == ("(root): additionalProperties",)
    for rewritten in (empty, extras):
        assert strict_problem(rewritten.schema, "response_format 'x'") is None
