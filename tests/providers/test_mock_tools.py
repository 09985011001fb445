"""The mock provider speaks tools: deterministic calls with schema-valid arguments, streamed in
pieces, answered with text once the results are in, and malformed on request."""

from __future__ import annotations

import asyncio
import datetime
import enum
import itertools
import json
import math
import random
import re
import sys
import uuid
from decimal import Decimal
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, create_model

from modelwire.content import DocumentPart, ImagePart, TextPart, ToolCall, ToolResultPart
from modelwire.errors import InvalidRequestError, MalformedToolCallError
from modelwire.providers import mock as mock_module
from modelwire.providers.mock_tools import example_arguments, example_value
from modelwire.service.model_service import ModelService
from modelwire.tools import Tool, as_tools
from modelwire.types import ChatRequest, ChatResponse, Message, StreamEvent
from modelwire.usage.events import InMemoryUsageSink
from tests.support.helpers import mock_registry

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_time(zone: str) -> str:
    """The time in a time zone."""
    return "12:00"


def no_arguments() -> str:
    """A tool without parameters."""
    return "done"


class Booking(BaseModel):
    """Book a table."""

    guests: int = Field(ge=1, le=12)
    day: datetime.date
    names: list[str] = Field(min_length=1)


TOOLS = as_tools([get_weather, get_time, no_arguments, Booking])


def model(**settings_: Any) -> Any:
    return mock_registry("mock:m", **settings_).get_model("mock:m")


def request(prompt: Any = "weather in Paris?", **params: Any) -> ChatRequest:
    params.setdefault("tools", TOOLS)
    return ChatRequest.build(prompt, **params)


def second_turn(first: ChatResponse, *results: str, error: bool = False) -> list[Message]:
    """The conversation after ``first``: its message, then one result per call."""
    return [
        Message(role="user", content="weather in Paris?"),
        first.message,
        Message(
            role="tool",
            content=tuple(
                ToolResultPart(call_id=call.id, content=text, is_error=error)
                for call, text in zip(first.tool_calls, results, strict=True)
            ),
        ),
    ]


def valid(tool: Tool, call: ToolCall) -> bool:
    assert tool.model is not None
    tool.model.model_validate(dict(call.arguments))
    return call.name == tool.name and json.loads(call.arguments_json) == call.arguments


# -- which tools are called ----------------------------------------------------------------------


def test_calls_the_first_tool_with_arguments_valid_against_its_schema() -> None:
    resp = model().invoke(request())
    [call] = resp.tool_calls
    assert valid(TOOLS[0], call)
    assert resp.finish_reason == "tool_calls" and resp.text == ""
    assert call.id.startswith("call_") and len(call.id) > len("call_")
    assert resp.parts == resp.tool_calls
    assert resp.message == Message(role="assistant", content=(call,))
    assert resp.request_id and resp.request_id.startswith("mock-")


def test_calls_are_deterministic_per_seed_and_conversation() -> None:
    first = model(seed=1).invoke(request())
    assert model(seed=1).invoke(request()).tool_calls == first.tool_calls
    assert model(seed=2).invoke(request()).tool_calls[0].id != first.tool_calls[0].id
    other = model(seed=1).invoke(request("weather in Rome?"))
    assert other.tool_calls[0].id != first.tool_calls[0].id


def test_a_named_tool_choice_calls_that_tool() -> None:
    for tool in TOOLS:
        [call] = model().invoke(request(tool_choice=tool.name)).tool_calls
        assert valid(tool, call)
    [call] = model().invoke(request(tool_choice="no_arguments")).tool_calls
    assert call.arguments == {} and call.arguments_json == "{}"


def test_parallel_calls_take_the_first_tools_up_to_the_configured_count() -> None:
    resp = model().invoke(request(parallel_tool_calls=True))
    assert [c.name for c in resp.tool_calls] == ["get_weather", "get_time"]
    assert len({c.id for c in resp.tool_calls}) == 2
    assert all(valid(t, c) for t, c in zip(TOOLS, resp.tool_calls, strict=False))
    four = model(max_parallel_tool_calls=9).invoke(request(parallel_tool_calls=True))
    assert [c.name for c in four.tool_calls] == [t.name for t in TOOLS]
    overridden = model().invoke(
        request(parallel_tool_calls=True, provider_params={"max_parallel_tool_calls": 3})
    )
    assert len(overridden.tool_calls) == 3
    assert len(model().invoke(request(parallel_tool_calls=False)).tool_calls) == 1
    assert len(model().invoke(request(parallel_tool_calls=None)).tool_calls) == 1
    single = model().invoke(request(parallel_tool_calls=True, tools=TOOLS[:1]))
    assert len(single.tool_calls) == 1


def test_tool_choice_none_and_mode_never_answer_with_text() -> None:
    for resp in (
        model().invoke(request(tool_choice="none")),
        model(tool_calls="never").invoke(request(tool_choice="required")),
        model().invoke(request(provider_params={"tool_calls": "never"})),
    ):
        assert resp.text and resp.tool_calls == () and resp.finish_reason == "stop"
        assert resp.parts == () and resp.message.content == resp.text


def test_tool_results_are_answered_with_text_that_quotes_them() -> None:
    mock = model()
    first = mock.invoke(request(parallel_tool_calls=True))
    final = mock.invoke(request(second_turn(first, "sunny, 21 C", "12:00")))
    assert final.tool_calls == () and final.finish_reason == "stop"
    assert final.text == "get_weather returned sunny, 21 C; get_time returned 12:00"
    failed = mock.invoke(request(second_turn(first, "boom", "bang", error=True)))
    assert failed.text.startswith("get_weather failed with boom")


def test_after_results_required_and_always_call_again_with_new_ids() -> None:
    mock = model()
    first = mock.invoke(request())
    history = second_turn(first, "sunny")
    again = [
        mock.invoke(request(history, tool_choice="required")),
        model(tool_calls="always").invoke(request(history)),
        mock.invoke(request(history, provider_params={"tool_calls": "always"})),
    ]
    for resp in again:
        [call] = resp.tool_calls
        assert call.id != first.tool_calls[0].id


def test_a_result_for_a_call_nobody_made_is_an_invalid_request() -> None:
    history = [
        Message(role="user", content="hi"),
        Message(role="tool", content=(ToolResultPart(call_id="call_nope", content="x"),)),
    ]
    with pytest.raises(InvalidRequestError, match="call_nope"):
        model().invoke(request(history))


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"tool_calls": "sometimes"}, "tool_calls"),
        ({"max_parallel_tool_calls": 0}, "max_parallel_tool_calls"),
        ({"max_parallel_tool_calls": True}, "max_parallel_tool_calls"),
        ({"malformed_tool_calls": 2}, "malformed_tool_calls"),
        ({"malformed_tool_calls": "yes"}, "malformed_tool_calls"),
    ],
)
def test_bad_provider_params_name_the_parameter(params: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidRequestError, match=rf"provider_params\['{name}'\]"):
        model().invoke(request(provider_params=params))


def test_a_schema_without_any_valid_value_is_an_invalid_request() -> None:
    impossible = Tool(
        name="impossible", parameters={"type": "object", "properties": {"x": {"enum": []}}}
    )
    impossible = impossible.model_copy(
        update={"parameters": {**impossible.parameters, "required": ["x"]}}
    )
    with pytest.raises(InvalidRequestError, match="impossible"):
        model().invoke(request(tools=(impossible,)))


# -- usage ----------------------------------------------------------------------------------------


def test_usage_counts_tool_definitions_images_and_documents() -> None:
    mock = model(tool_calls="never")
    text = Message(role="user", content=(TextPart(text="look"),))
    base = mock.invoke(request([text], tools=())).usage.input_tokens
    with_tools = mock.invoke(request([text])).usage.input_tokens
    assert with_tools - base == mock_module._tool_definition_tokens(TOOLS) > 0
    image = Message(role="user", content=(TextPart(text="look"), ImagePart(data=PNG)))
    with_image = mock.invoke(request([image], tools=())).usage.input_tokens
    assert with_image - base == mock_module.IMAGE_TOKENS
    pdf = DocumentPart(data=b"%PDF-1.4" + b"0" * 3000, name="a.pdf")
    document = Message(role="user", content=(TextPart(text="look"), pdf))
    with_document = mock.invoke(request([document], tools=())).usage.input_tokens
    assert with_document - base == 3 * mock_module.DOCUMENT_TOKENS_PER_KIB


def test_usage_counts_the_calls_as_output() -> None:
    resp = model().invoke(request(parallel_tool_calls=True))
    expected = sum(
        mock_module.estimate_tokens_from_text(c.name + c.arguments_json) for c in resp.tool_calls
    )
    assert resp.usage.output_tokens == expected


# -- streams -----------------------------------------------------------------------------------


def _assembled(events: list[StreamEvent]) -> dict[int, dict[str, str]]:
    calls: dict[int, dict[str, str]] = {}
    for event in events:
        delta = event.tool_call_delta
        if delta is None:
            continue
        call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
        if delta.id is not None:
            assert call["id"] == "", "id sent twice"
            call["id"], call["name"] = delta.id, delta.name or ""
        call["arguments"] += delta.arguments_delta
    return calls


def test_a_stream_sends_the_calls_in_pieces_and_ends_with_them_whole() -> None:
    mock = model()
    req = request(parallel_tool_calls=True, tools=(TOOLS[3], TOOLS[0]))
    whole = mock.invoke(req)
    events = list(mock.stream(req))
    *pieces, last = events
    assert sum(e.tool_call_delta is not None for e in pieces) > len(whole.tool_calls)
    assert all(
        len(e.tool_call_delta.arguments_delta) <= mock_module.ARGUMENT_CHUNK_CHARS
        for e in pieces
        if e.tool_call_delta is not None
    )
    calls = _assembled(pieces)
    assert [(c["id"], c["name"], c["arguments"]) for _, c in sorted(calls.items())] == [
        (c.id, c.name, c.arguments_json) for c in whole.tool_calls
    ]
    assert last.done and last.tool_calls == whole.tool_calls and last.parts == whole.tool_calls
    assert last.finish_reason == "tool_calls" and last.usage == whole.usage

    async def collect() -> list[StreamEvent]:
        return [e async for e in mock.astream(req)]

    assert asyncio.run(collect())[-1].tool_calls == whole.tool_calls


def test_a_text_answer_after_results_streams_as_text() -> None:
    mock = model()
    first = mock.invoke(request())
    req = request(second_turn(first, "sunny"))
    events = list(mock.stream(req))
    assert "".join(e.text for e in events) == mock.invoke(req).text
    assert events[-1].finish_reason == "stop" and events[-1].tool_calls == ()


# -- malformed calls -----------------------------------------------------------------------------


def test_a_malformed_call_on_request_raises_with_the_raw_text() -> None:
    req = request(provider_params={"malformed_tool_calls": True})
    with pytest.raises(MalformedToolCallError) as info:
        model().invoke(req)
    raw = info.value.raw_text
    assert raw and raw == model().invoke(request()).tool_calls[0].arguments_json[: len(raw)]
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    seen: list[StreamEvent] = []
    with pytest.raises(MalformedToolCallError):
        seen.extend(model().stream(req))
    assert "".join(e.tool_call_delta.arguments_delta for e in seen if e.tool_call_delta) == raw

    async def consume() -> None:
        [e async for e in model().astream(req)]

    with pytest.raises(MalformedToolCallError):
        asyncio.run(consume())
    with pytest.raises(MalformedToolCallError):
        model(malformed_tool_calls=1.0).invoke(request(tool_choice="no_arguments"))


def test_the_malformed_rate_is_seeded() -> None:
    def outcomes(seed: int) -> list[bool]:
        mock = model(malformed_tool_calls=0.4, seed=seed)
        out = []
        for _ in range(40):
            try:
                mock.invoke(request())
                out.append(False)
            except MalformedToolCallError:
                out.append(True)
        return out

    assert outcomes(3) == outcomes(3)
    assert 4 <= sum(outcomes(3)) <= 30
    default = model()  # rate 0
    assert all(default.invoke(request()).tool_calls for _ in range(20))


# -- through the service --------------------------------------------------------------------------


def _service() -> tuple[ModelService, InMemoryUsageSink]:
    sink = InMemoryUsageSink()
    return ModelService(mock_registry("mock:mini"), sink), sink


def test_a_tool_conversation_through_every_call_style() -> None:
    service, sink = _service()
    tools = [get_weather, get_time]
    first = service.invoke_model("mock:mini", "weather?", tools=tools)
    assert [c.name for c in first.tool_calls] == ["get_weather"] and first.cost_usd is not None
    again = asyncio.run(service.ainvoke_model("mock:mini", "weather?", tools=tools))
    assert again.tool_calls == first.tool_calls
    events = list(service.stream_model("mock:mini", "weather?", tools=tools))
    assert events[-1].tool_calls == first.tool_calls and events[-1].message == first.message

    async def astream() -> list[StreamEvent]:
        return [e async for e in service.astream_model("mock:mini", "weather?", tools=tools)]

    assert asyncio.run(astream())[-1].tool_calls == first.tool_calls
    [call] = first.tool_calls
    result = ToolResultPart(call_id=call.id, content=get_weather(**call.arguments))
    history = [
        Message(role="user", content="weather?"),
        first.message,
        Message(role="tool", content=(result,)),
    ]
    final = service.invoke_model("mock:mini", history, tools=tools)
    assert final.text == f"get_weather returned sunny in {call.arguments['city']}"
    assert [e.status for e in sink.events] == ["ok"] * 5


def test_a_malformed_call_through_the_service_is_recorded_as_a_failed_attempt() -> None:
    service, sink = _service()
    params = {"malformed_tool_calls": True}
    with pytest.raises(MalformedToolCallError):
        service.invoke_model("mock:mini", "weather?", tools=[get_weather], provider_params=params)
    with pytest.raises(MalformedToolCallError):
        list(
            service.stream_model(
                "mock:mini", "weather?", tools=[get_weather], provider_params=params
            )
        )
    assert [(e.status, e.error_type, e.stream) for e in sink.events] == [
        ("error", "MalformedToolCallError", False),
        ("error", "MalformedToolCallError", True),
    ]


# -- arguments from JSON schemas ----------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Node(BaseModel):
    name: str
    children: list[Node] = []
    parent: Node | None = None


class Everything(BaseModel):
    count: int = Field(ge=3, lt=7)
    ratio: float = Field(gt=0, le=0.001)
    kind: Literal["x", "y"]
    color: Color
    zip_code: str = Field(pattern=r"^\d{5}$")
    short: str = Field(min_length=3, max_length=4)
    scores: dict[str, int]
    when: datetime.date | None = None
    at: datetime.datetime
    spent: datetime.timedelta
    key: uuid.UUID
    amount: Decimal
    tags: set[int] = Field(min_length=2)
    pair: tuple[int, str]
    tree: Node
    step: int = Field(multiple_of=7, gt=100)
    quarter: float = Field(multiple_of=0.25, ge=-3, le=-1)
    flag: bool


def test_arguments_for_a_rich_pydantic_schema_validate() -> None:
    schema = Everything.model_json_schema()
    for seed in range(200):
        Everything.model_validate(example_arguments(schema, random.Random(seed)))


def test_arguments_are_stable_for_a_seed() -> None:
    schema = Everything.model_json_schema()
    assert example_arguments(schema, random.Random(5)) == example_arguments(
        schema, random.Random(5)
    )
    assert example_arguments(schema, random.Random(5)) != example_arguments(
        schema, random.Random(6)
    )


@pytest.mark.parametrize(
    ("schema", "check"),
    [
        ({"type": "integer", "minimum": 5, "exclusiveMinimum": True}, lambda v: v > 5),
        ({"type": "number", "maximum": -2, "exclusiveMaximum": True}, lambda v: v < -2),
        ({"type": "integer", "exclusiveMaximum": -1000}, lambda v: v < -1000),
        ({"type": "number", "minimum": 1e300}, lambda v: v >= 1e300),
        ({"type": "number", "exclusiveMaximum": 0}, lambda v: -1e6 < v < 0),
        ({"type": "number", "exclusiveMaximum": -0.0}, lambda v: -1e6 < v < 0),
        ({"type": "number", "exclusiveMinimum": 1.0, "exclusiveMaximum": 1.0 + 2 * 2**-52},
         lambda v: v == 1.0 + 2**-52),
        ({"type": ["null", "string"], "maxLength": 2}, lambda v: isinstance(v, str)),
        ({"const": {"a": [1]}}, lambda v: v == {"a": [1]}),
        ({"allOf": [{"type": "integer"}, {"minimum": 40}]}, lambda v: v >= 40),
        ({"oneOf": [{"type": "boolean"}]}, lambda v: isinstance(v, bool)),
        ({"type": "array", "items": {"enum": [1, 2, 3]}, "minItems": 3, "uniqueItems": True},
         lambda v: sorted(v) == [1, 2, 3]),
        ({"type": "array", "prefixItems": [{"type": "integer"}], "items": False},
         lambda v: len(v) == 1 and isinstance(v[0], int)),
        ({"type": "object", "properties": {"a": {"type": "integer"}}, "minProperties": 1},
         lambda v: set(v) == {"a"}),
        ({"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 0},
         lambda v: v == {}),
        ({"type": "object", "propertyNames": {"pattern": "^k[0-9]$"},
          "additionalProperties": {"type": "boolean"}},
         lambda v: v and all(k[0] == "k" and k[1].isdigit() and len(k) == 2 for k in v)),
        ({"type": "string", "pattern": "^(ab|cd)+-[A-F]{2}\\1?$"},
         lambda v: re.search(r"^(ab|cd)+-[A-F]{2}\1?$", v)),
        ({"type": "string", "format": "email"}, lambda v: v.endswith("@example.com")),
        ({}, lambda v: isinstance(v, str)),
    ],
)  # fmt: skip
def test_schema_keywords(schema: dict[str, Any], check: Any) -> None:
    for seed in range(30):
        assert check(example_value(schema, random.Random(seed))), schema


_finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300)
@given(st.none() | _finite, st.none() | _finite, st.booleans(), st.booleans(), st.integers(0, 9))
def test_a_number_lies_within_any_bounds_that_admit_one(
    low: float | None, high: float | None, strict_low: bool, strict_high: bool, seed: int
) -> None:
    schema: dict[str, Any] = {"type": "number"}
    if low is not None:
        schema["exclusiveMinimum" if strict_low else "minimum"] = low
    if high is not None:
        schema["exclusiveMaximum" if strict_high else "maximum"] = high
    biggest = sys.float_info.max
    if (
        (strict_low and low == biggest)
        or (strict_high and high == -biggest)
        or (low is not None and high is not None and (
            low > high
            or (low == high and (strict_low or strict_high))
            or (strict_low and strict_high and math.nextafter(low, high) == high)
        ))
    ):  # fmt: skip
        with pytest.raises(ValueError, match="admit no value"):
            example_value(schema, random.Random(seed))
        return
    value = example_value(schema, random.Random(seed))
    assert math.isfinite(value)
    assert low is None or (value > low if strict_low else value >= low)
    assert high is None or (value < high if strict_high else value <= high)


def test_impossible_schemas_are_value_errors() -> None:
    forever = {
        "$defs": {"Loop": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Loop"}},
                           "required": ["next"]}},
        "$ref": "#/$defs/Loop",
    }  # fmt: skip
    for schema in ({"enum": []}, {"anyOf": []}, {"type": "tensor"}, forever, {"$ref": "#/x"}):
        with pytest.raises(ValueError):
            example_value(schema, random.Random(0))


# -- the property: generated models, generated tools, valid arguments ----------------------------

_names = itertools.count()


def _model_from(fields: dict[str, tuple[Any, Any]]) -> type[BaseModel]:
    return create_model(f"Generated{next(_names)}", **fields)  # type: ignore[call-overload,no-any-return]


@st.composite
def _string_field(draw: st.DrawFn) -> Any:
    low = draw(st.integers(0, 12))
    high = draw(st.none() | st.integers(low, 20))
    pattern = draw(st.none() | st.sampled_from([r"^[a-z]+$", r"^\d{3}-\d{2}$", r"x+y?z*"]))
    if pattern is not None:
        return Field(pattern=pattern)
    return Field(min_length=low, max_length=high)


@st.composite
def _number_field(draw: st.DrawFn, integral: bool) -> Any:
    values = st.integers(-(10**6), 10**6) if integral else st.floats(-1e6, 1e6)
    spans = st.integers(0, 3) | st.integers(0, 10**6) if integral else st.floats(0, 3)
    low = draw(st.none() | values)
    span = draw(st.none() | spans)
    high = None if span is None else draw(values) if low is None else low + span
    strict_low, strict_high = draw(st.booleans()), draw(st.booleans())
    if low is not None and high is not None and (strict_low or strict_high):
        high = max(high, low + (2 if integral else 1e-3))  # room for a value between
    kwargs: dict[str, Any] = {}
    if low is not None:
        kwargs["gt" if strict_low else "ge"] = low
    if high is not None:
        kwargs["lt" if strict_high else "le"] = high
    if integral and (low is None or high is None) and draw(st.booleans()):
        kwargs["multiple_of"] = draw(st.integers(1, 50))
    return Field(**kwargs)


_scalars: st.SearchStrategy[tuple[Any, Any]] = st.one_of(
    st.tuples(st.just(str), _string_field()),
    st.tuples(st.just(int), _number_field(True)),
    st.tuples(st.just(float), _number_field(False)),
    st.tuples(st.just(bool), st.just(Field())),
    st.tuples(st.sampled_from([datetime.date, datetime.datetime, uuid.UUID, Decimal, Color]),
              st.just(Field())),
    st.lists(st.text("abc", min_size=1, max_size=3) | st.integers(-5, 5), min_size=1,
             max_size=4, unique=True).map(lambda vs: (Literal[tuple(vs)], Field())),
)  # fmt: skip


def _containers(inner: st.SearchStrategy[tuple[Any, Any]]) -> st.SearchStrategy[tuple[Any, Any]]:
    def listed(item: tuple[Any, Any], low: int, extra: int) -> tuple[Any, Any]:
        return list[item[0]], Field(min_length=low, max_length=low + extra)  # type: ignore[valid-type]

    return st.one_of(
        st.builds(listed, inner, st.integers(0, 3), st.integers(0, 3)),
        inner.map(lambda item: (dict[str, item[0]], Field())),  # type: ignore[valid-type]
        inner.map(lambda item: (item[0] | None, Field())),
        st.tuples(inner, inner).map(lambda p: (tuple[p[0][0], p[1][0]], Field())),  # type: ignore[valid-type]
        st.sampled_from([(set[int], Field(min_length=1)), (frozenset[str], Field())]),
        st.dictionaries(
            st.from_regex(r"f_[a-z0-9]{1,6}", fullmatch=True), inner, min_size=1, max_size=4
        ).map(lambda fields: (_model_from(dict(fields)), Field())),
    )


_fields = st.recursive(_scalars, _containers, max_leaves=8)


@st.composite
def _tool_models(draw: st.DrawFn) -> type[BaseModel]:
    names = draw(
        st.lists(st.from_regex(r"f_[a-z0-9]{1,6}", fullmatch=True), min_size=0, max_size=6,
                 unique=True)
    )  # fmt: skip
    fields: dict[str, tuple[Any, Any]] = {}
    for name in names:
        kind, info = draw(_fields)
        if draw(st.booleans()):  # optional: left out or given
            kind, info = kind | None, Field(default=None)
        fields[name] = (kind, info)
    return _model_from(fields)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tool_models(), st.integers(0, 2**32), st.booleans())
def test_generated_tools_get_arguments_their_models_accept(
    tool_model: type[BaseModel], seed: int, parallel: bool
) -> None:
    tool = Tool.from_model(tool_model, name="generated")
    tools = (tool, Tool.from_model(tool_model, name="twin"))
    mock = model(seed=seed, max_parallel_tool_calls=2)
    resp = mock.invoke(ChatRequest.build("go", tools=tools, parallel_tool_calls=parallel))
    assert len(resp.tool_calls) == (2 if parallel else 1)
    for call in resp.tool_calls:
        tool_model.model_validate(dict(call.arguments))
        assert json.loads(call.arguments_json) == call.arguments
    stream = list(mock.stream(ChatRequest.build("go", tools=tools, parallel_tool_calls=parallel)))
    assert stream[-1].tool_calls == resp.tool_calls
