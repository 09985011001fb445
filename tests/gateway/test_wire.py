"""The two wire translations, pure: requests to modelwire messages and parameters, answers and
stream events back, usage figures that add up to the ledger's."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelwire.content import DocumentPart, ImagePart, TextPart, ToolCall, ToolResultPart
from modelwire.errors import GatewayError
from modelwire.gateway import anthropic_wire, openai_wire
from modelwire.output import OutputSpec
from modelwire.types import ChatResponse, Message, StreamEvent, ToolCallDelta, Usage

PDF = b"%PDF-1.4 tiny"


def openai(**body: Any) -> Any:
    body.setdefault("model", "m")
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    return openai_wire.parse_request(body)


def anthropic(**body: Any) -> Any:
    body.setdefault("model", "m")
    body.setdefault("max_tokens", 10)
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    return anthropic_wire.parse_request(body)


def test_a_lone_user_string_is_a_plain_prompt() -> None:
    call = openai()
    assert (call.model, call.prompt, call.params, call.stream) == ("m", "hi", {}, False)
    assert anthropic().prompt == "hi"


def test_openai_messages_and_parameters() -> None:
    call = openai(
        messages=[
            {"role": "developer", "content": "rule one"},
            {"role": "system", "content": [{"type": "text", "text": "rule two"}]},
            {"role": "user", "content": "q"},
            {"role": "system", "content": "late"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"x": 1}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "done"},
        ],
        max_tokens=5,
        max_completion_tokens=7,
        stop="END",
        seed=3,
        temperature=0.5,
        top_p=1,
        response_format={"type": "json_object"},
        user="someone",
        metadata={"a": "b"},
        stream=True,
        stream_options={"include_usage": True},
    )
    assert call.params == {
        "system": "rule one\n\nrule two",
        "max_tokens": 7,
        "stop": ("END",),
        "seed": 3,
        "temperature": 0.5,
        "top_p": 1.0,
        "output": OutputSpec.of({"type": "object"}),
        "output_mode": "prompted",
    }
    assert call.stream and call.include_usage
    user, late, assistant, tool = call.prompt
    assert (user.role, late.role, late.content) == ("user", "system", "late")
    assert assistant.tool_calls == (ToolCall(id="c1", name="f", arguments={"x": 1}),)
    assert tool.parts == (ToolResultPart(call_id="c1", content="done", name="f"),)


def test_openai_documents_and_images() -> None:
    pdf_url = "data:application/pdf;base64," + base64.b64encode(PDF).decode()
    call = openai(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "file", "file": {"file_data": pdf_url, "filename": "a.pdf"}},
                    {"type": "image_url", "image_url": {"url": "http://x/y.png"}},
                ],
            }
        ]
    )
    (message,) = call.prompt
    assert message.parts == (
        DocumentPart(data=PDF, media_type="application/pdf", name="a.pdf"),
        ImagePart(url="http://x/y.png"),
    )


def test_anthropic_tool_results_become_tool_messages_in_order() -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n rest").decode()
    call = anthropic(
        system="be brief",
        stop_sequences=["X"],
        top_k=5,
        metadata={"user_id": "u"},
        tool_choice={"type": "auto", "disable_parallel_tool_use": True},
        tools=[{"name": "f", "input_schema": {"type": "object", "properties": {}}}],
        messages=[
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "before"},
                    {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "r"}]},
                    {"type": "tool_result", "tool_use_id": "t9", "content": "x", "is_error": True},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
                ],
            },
        ],
    )  # fmt: skip
    roles = [m.role for m in call.prompt]
    assert roles == ["user", "assistant", "user", "tool", "user"]
    results = call.prompt[3].parts
    assert results[0] == ToolResultPart(call_id="t1", content=(TextPart(text="r"),), name="f")
    assert results[1] == ToolResultPart(call_id="t9", content="x", is_error=True)
    assert isinstance(call.prompt[4].parts[0], ImagePart)
    assert call.params["system"] == "be brief" and call.params["stop"] == ("X",)
    assert call.params["tool_choice"] == "auto" and call.params["parallel_tool_calls"] is False
    assert call.params["provider_params"] == {"top_k": 5}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "any"}, "required"),
        ({"type": "none"}, "none"),
        ({"type": "tool", "name": "f"}, "f"),
    ],
)
def test_anthropic_tool_choices(choice: dict[str, Any], expected: str) -> None:
    tools = [{"name": "f", "input_schema": {"type": "object"}}]
    assert anthropic(tools=tools, tool_choice=choice).params["tool_choice"] == expected


def test_tool_choice_without_tools_is_dropped_or_refused() -> None:
    assert "tool_choice" not in openai(tool_choice="auto").params
    with pytest.raises(GatewayError, match="tool_choice: required needs tools"):
        openai(tool_choice="required")
    with pytest.raises(GatewayError, match="tool_choice: any needs tools"):
        anthropic(tool_choice={"type": "any"})


@pytest.mark.parametrize(
    ("reason", "openai_reason", "anthropic_reason"),
    [
        ("stop", "stop", "end_turn"),
        ("length", "length", "max_tokens"),
        ("tool_calls", "tool_calls", "tool_use"),
        ("content_filter", "content_filter", "refusal"),
        ("error", "stop", "end_turn"),
        (None, "stop", "end_turn"),
    ],
)
def test_finish_reasons(reason: str | None, openai_reason: str, anthropic_reason: str) -> None:
    assert openai_wire.finish_reason(reason) == openai_reason
    assert anthropic_wire.stop_reason(reason) == anthropic_reason


usages = st.builds(
    lambda i, o, r, w, t: Usage(
        input_tokens=i + r + w,
        output_tokens=o + t,
        cache_read_tokens=r,
        cache_write_tokens=w,
        reasoning_tokens=t,
    ),
    *(st.integers(0, 10**9) for _ in range(5)),
)


@given(usages)
def test_the_usage_figures_a_client_reads_give_back_the_ledgers(usage: Usage) -> None:
    o = openai_wire.usage_body(usage)
    assert o["prompt_tokens"] == usage.input_tokens
    assert o["completion_tokens"] == usage.output_tokens
    assert o["total_tokens"] == usage.total_tokens
    assert o["prompt_tokens_details"]["cached_tokens"] == usage.cache_read_tokens
    assert o["completion_tokens_details"]["reasoning_tokens"] == usage.reasoning_tokens
    a = anthropic_wire.usage_body(usage)
    total = a["input_tokens"] + a["cache_read_input_tokens"] + a["cache_creation_input_tokens"]
    assert total == usage.input_tokens
    assert a["output_tokens"] == usage.output_tokens


def test_answers_with_tool_calls() -> None:
    call = ToolCall(id="c1", name="f", arguments={"x": 1})
    response = ChatResponse(
        text="", model_id="p:m", tool_calls=(call,), finish_reason="tool_calls", usage=Usage()
    )
    body = openai_wire.completion_body(response, "chatcmpl-1", 5)
    message = body["choices"][0]["message"]
    assert message["content"] is None
    assert message["tool_calls"] == [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
    ]
    content = anthropic_wire.message_body(response, "msg_1")["content"]
    assert content == [{"type": "tool_use", "id": "c1", "name": "f", "input": {"x": 1}}]


def sse(data: bytes) -> list[tuple[str | None, Any]]:
    """(event name, decoded data) of each server-sent event."""
    out: list[tuple[str | None, Any]] = []
    for block in data.decode().split("\n\n"):
        if not block:
            continue
        name = None
        payload = ""
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                payload = line[6:]
        out.append((name, payload if payload == "[DONE]" else json.loads(payload)))
    return out


# a stream: text pieces and tool calls (each announced with its id and name, then arguments)
pieces = st.lists(
    st.one_of(
        st.text(min_size=1, max_size=8).map(lambda t: ("text", t)),
        st.lists(st.text(max_size=6), min_size=1, max_size=3).map(lambda a: ("tool", a)),
    ),
    max_size=8,
)


def events_of(script: list[tuple[str, Any]]) -> tuple[list[StreamEvent], str, list[str]]:
    events: list[StreamEvent] = []
    text = ""
    arguments: list[str] = []
    for kind, value in script:
        if kind == "text":
            events.append(StreamEvent(text=value))
            text += value
            continue
        index = len(arguments)
        first, *rest = value
        events.append(
            StreamEvent(
                tool_call_delta=ToolCallDelta(
                    index=index, id=f"c{index}", name="f", arguments_delta=first
                )
            )
        )
        events += [
            StreamEvent(tool_call_delta=ToolCallDelta(index=index, arguments_delta=piece))
            for piece in rest
        ]
        arguments.append("".join(value))
    usage = Usage(input_tokens=9, output_tokens=4)
    events.append(StreamEvent(done=True, model_id="p:m", usage=usage, finish_reason="stop"))
    return events, text, arguments


@given(pieces)
def test_anthropic_streams_are_well_formed(script: list[tuple[str, Any]]) -> None:
    events, text, arguments = events_of(script)
    renderer = anthropic_wire.AnthropicStream("msg_1", "p:m")
    out = sse(renderer.start() + b"".join(renderer.event(e) for e in events))
    names = [n for n, _ in out]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    open_index: int | None = None
    next_index = 0
    blocks: list[dict[str, Any]] = []
    for name, data in out:
        assert data["type"] == name
        if name == "content_block_start":
            assert open_index is None and data["index"] == next_index
            open_index, next_index = data["index"], next_index + 1
            blocks.append({**data["content_block"], "json": ""})
        elif name == "content_block_delta":
            assert data["index"] == open_index
            delta = data["delta"]
            if delta["type"] == "text_delta":
                blocks[-1]["text"] += delta["text"]
            else:
                blocks[-1]["json"] += delta["partial_json"]
        elif name == "content_block_stop":
            assert data["index"] == open_index
            open_index = None
    assert open_index is None
    assert "".join(b["text"] for b in blocks if b["type"] == "text") == text
    assert [b["json"] for b in blocks if b["type"] == "tool_use"] == arguments
    assert out[-2][1]["usage"]["input_tokens"] == 9


@given(pieces, st.booleans())
def test_openai_streams_carry_every_piece(script: list[tuple[str, Any]], usage: bool) -> None:
    events, text, arguments = events_of(script)
    renderer = openai_wire.OpenAIStream("chatcmpl-1", 0, "p:m", usage)
    out = sse(renderer.start() + b"".join(renderer.event(e) for e in events))
    assert out[-1] == (None, "[DONE]")
    chunks = [d for _, d in out[:-1]]
    with_choices = [c for c in chunks if c["choices"]]
    deltas = [c["choices"][0]["delta"] for c in with_choices]
    assert "".join(d.get("content") or "" for d in deltas) == text
    calls: dict[int, str] = {}
    for d in deltas:
        for piece in d.get("tool_calls", []):
            calls[piece["index"]] = calls.get(piece["index"], "") + piece["function"]["arguments"]
    assert [calls[i] for i in sorted(calls)] == arguments
    assert with_choices[-1]["choices"][0]["finish_reason"] == "stop"
    if usage:
        assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 9
    else:
        assert all("usage" not in c for c in chunks)


def test_tool_calls_a_provider_did_not_stream_arrive_at_the_end() -> None:
    call = ToolCall(id="c1", name="f", arguments={"x": 1})
    final = StreamEvent(done=True, model_id="p:m", usage=Usage(), tool_calls=(call,))
    o = sse(openai_wire.OpenAIStream("chatcmpl-1", 0, "p:m", False).event(final))
    assert o[0][1]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] == '{"x": 1}'
    renderer = anthropic_wire.AnthropicStream("msg_1", "p:m")
    a = sse(renderer.event(final))
    assert a[0][1]["content_block"] == {"type": "tool_use", "id": "c1", "name": "f", "input": {}}
    assert a[1][1]["delta"]["partial_json"] == '{"x": 1}'


def test_messages_keep_their_types() -> None:
    call = openai(messages=[{"role": "user", "content": [{"type": "text", "text": "a"}]}])
    assert call.prompt == (Message(role="user", content=(TextPart(text="a"),)),)


CITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}},
    "required": ["name"],
    "additionalProperties": False,
}


def test_response_format_is_modelwires_own_output() -> None:
    def fmt(value: Any) -> dict[str, Any]:
        params = dict(openai(response_format=value).params)
        assert "provider_params" not in params
        if "output" in params:
            assert isinstance(params["output"], OutputSpec)
            params["output"] = dict(params["output"].schema)
        return params

    named = {"type": "json_schema", "json_schema": {"name": "city", "schema": CITY_SCHEMA}}
    assert fmt(named) == {"output": {"title": "city", **CITY_SCHEMA}}
    titled = {"title": "City", **CITY_SCHEMA}
    strict = {
        "type": "json_schema",
        "json_schema": {"name": "c", "schema": titled, "strict": True, "description": "A city."},
    }
    assert fmt(strict) == {"output": {**titled, "description": "A city."}}
    no_schema = {"type": "json_schema", "json_schema": {"name": "any"}}
    assert fmt(no_schema) == {"output": {"title": "any", "type": "object"}}
    assert fmt({"type": "json_object"}) == {"output": {"type": "object"}, "output_mode": "prompted"}
    assert fmt({"type": "text"}) == {}


@pytest.mark.parametrize(
    ("value", "param"),
    [
        ("json", "response_format"),
        ({"type": "xml"}, "response_format.type"),
        ({"type": "json_schema"}, "response_format.json_schema"),
        (
            {"type": "json_schema", "json_schema": {"schema": {}}},
            "response_format.json_schema.name",
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "a", "schema": []}},
            "response_format.json_schema.schema",
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "a", "strict": "yes"}},
            "response_format.json_schema.strict",
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "bogus"}}},
            "response_format.json_schema.schema",
        ),
    ],
)
def test_a_bad_response_format_is_a_400_naming_the_field(value: Any, param: str) -> None:
    with pytest.raises(GatewayError) as info:
        openai(response_format=value)
    assert info.value.status == 400 and info.value.param == param


def test_structured_answers_carry_the_json_without_a_fence() -> None:
    fenced = ChatResponse(text='```json\n{"name": "Oslo"}\n```', model_id="p:m", output={})
    body = openai_wire.completion_body(fenced, "chatcmpl-1", 0, structured=True)
    assert body["choices"][0]["message"]["content"] == '{"name": "Oslo"}'
    plain = openai_wire.completion_body(fenced, "chatcmpl-1", 0)
    assert plain["choices"][0]["message"]["content"] == fenced.text


def test_an_invalid_answer_is_a_502_invalid_output() -> None:
    from modelwire.errors import OutputValidationError
    from modelwire.gateway.errors import classify, openai_body

    error = classify(OutputValidationError("the answer is not valid JSON: x", raw_text="x"))
    assert error.status == 502 and error.code == "invalid_output"
    assert openai_body(error)["error"]["type"] == "api_error"
    assert "not valid JSON" in error.message
