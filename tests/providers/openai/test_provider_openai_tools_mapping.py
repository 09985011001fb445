"""Tools, content parts and tool calls in the OpenAI mapping, as pure functions (no network)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelwire.content import (
    DocumentPart,
    ImagePart,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultPart,
)
from modelwire.errors import InvalidRequestError, MalformedToolCallError, UnsupportedFeatureError
from modelwire.providers.openai.mapping import (
    StreamState,
    build_params,
    finish_reason,
    response_from_completion,
    wire_id,
)
from modelwire.providers.openai.messages import ContentLimits
from modelwire.tools import Tool
from modelwire.types import ChatRequest, Message, ModelInfo, ToolCallDelta

INFO = ModelInfo(id="openai:gpt-4o")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.7 tiny"
WEATHER = Tool(
    name="get_weather",
    description="The weather in a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)
CLOCK = Tool(name="now")
_WIRE_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _messages(*messages: Message, **kw: Any) -> list[dict[str, Any]]:
    request = ChatRequest(messages=messages, **kw)
    return list(build_params(INFO, request)["messages"])


def _call(call_id: str = "call_1", name: str = "get_weather", **arguments: Any) -> ToolCall:
    return ToolCall(id=call_id, name=name, arguments=arguments or {"city": "Paris"})


def _turn(*calls: ToolCall) -> Message:
    return Message(role="assistant", content=calls)


# -- call ids ---------------------------------------------------------------------------------


@given(st.text(min_size=1, max_size=120))
def test_wire_ids_are_deterministic_and_acceptable(call_id: str) -> None:
    wired = wire_id(call_id)
    assert wired == wire_id(call_id)
    assert _WIRE_ID.fullmatch(wired)
    if _WIRE_ID.fullmatch(call_id):
        assert wired == call_id


@given(st.lists(st.text(min_size=41, max_size=80), min_size=2, max_size=5, unique=True))
def test_distinct_foreign_ids_stay_distinct(ids: list[str]) -> None:
    assert len({wire_id(i) for i in ids}) == len(ids)


def test_a_foreign_id_keeps_its_call_and_result_together() -> None:
    foreign = "toolu_01A09q90qw90lq917835lq9/with.dots:and-more-than-forty-characters"
    history = (
        Message(role="user", content="weather?"),
        _turn(_call(foreign)),
        Message(role="tool", content=(ToolResultPart(call_id=foreign, content="sunny"),)),
    )
    _, assistant, tool = _messages(*history, tools=(WEATHER,))
    sent = assistant["tool_calls"][0]["id"]
    assert sent == tool["tool_call_id"] == wire_id(foreign)
    assert sent != foreign and sent.startswith("call_") and len(sent) == 40


# -- requests ---------------------------------------------------------------------------------


def test_tools_choice_and_parallel_calls() -> None:
    request = ChatRequest.build(
        "hi", tools=(WEATHER, CLOCK), tool_choice="required", parallel_tool_calls=False
    )
    params = build_params(INFO, request)
    assert params["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        },
        {"type": "function", "function": {"name": "now", "parameters": CLOCK.parameters}},
    ]
    assert params["tool_choice"] == "required"
    assert params["parallel_tool_calls"] is False


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("now", {"type": "function", "function": {"name": "now"}}),
    ],
)
def test_tool_choice_forms(choice: str, wire: Any) -> None:
    params = build_params(INFO, ChatRequest.build("hi", tools=(WEATHER, CLOCK), tool_choice=choice))
    assert params["tool_choice"] == wire


def test_tool_parameters_are_left_out_without_tools() -> None:
    params = build_params(
        INFO, ChatRequest.build("hi", tool_choice="none", parallel_tool_calls=True)
    )
    assert not {"tools", "tool_choice", "parallel_tool_calls"} & set(params)


@pytest.mark.parametrize(
    ("info", "sent"),
    [
        (ModelInfo(id="openai:gpt-4o"), True),
        (ModelInfo(id="openai:gpt-5-mini"), True),
        (ModelInfo(id="openai:my-model", features=frozenset({"tools"})), False),
        (ModelInfo(id="openai:o3-mini"), False),  # features unknown: by family
        (ModelInfo(id="openrouter:openai/o4-mini"), False),
        (ModelInfo(id="openai:o3", features=frozenset({"tools", "parallel_tools"})), True),
    ],
)
def test_parallel_flag_only_to_models_that_take_it(info: ModelInfo, sent: bool) -> None:
    request = ChatRequest.build("hi", tools=(WEATHER,), parallel_tool_calls=False)
    assert ("parallel_tool_calls" in build_params(info, request)) is sent


def test_plain_messages_stay_strings() -> None:
    sent = _messages(
        Message(role="user", content="a"),
        Message(role="assistant", content="b"),
        Message(role="user", content=(TextPart(text="c"),)),
        system="s",
    )
    assert sent == [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]


def test_user_parts_images_and_documents() -> None:
    message = Message(
        role="user",
        content=(
            TextPart(text="what is this?"),
            ImagePart(url="https://example.com/cat.png", detail="high"),
            ImagePart(data=PNG),
            DocumentPart(data=PDF, name="report.pdf"),
            DocumentPart(data=PDF),
            ThinkingPart(text="dropped"),
        ),
    )
    (sent,) = _messages(message)
    png = "data:image/png;base64," + ImagePart(data=PNG).base64
    pdf = "data:application/pdf;base64," + DocumentPart(data=PDF).base64
    assert sent == {
        "role": "user",
        "content": [
            {"type": "text", "text": "what is this?"},
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/cat.png", "detail": "high"},
            },
            {"type": "image_url", "image_url": {"url": png}},
            {"type": "file", "file": {"filename": "report.pdf", "file_data": pdf}},
            {"type": "file", "file": {"filename": "document.pdf", "file_data": pdf}},
        ],
    }


def test_assistant_text_calls_and_thinking() -> None:
    turn = Message(
        role="assistant",
        content=(
            ThinkingPart(text="let me see", signature="sig", provider="anthropic"),
            TextPart(text="Checking."),
            _call("call_a"),
            ToolCall(
                id="call_b",
                name="now",
                provider_state={"google": {"thought_signature": "abc"}},
            ),
        ),
    )
    results = Message(
        role="tool",
        content=(
            ToolResultPart(call_id="call_a", content="sunny"),
            ToolResultPart(call_id="call_b", content="noon"),
        ),
    )
    _, assistant, first, second = _messages(
        Message(role="user", content="hi"), turn, results, tools=(WEATHER, CLOCK)
    )
    assert assistant == {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {"id": "call_b", "type": "function", "function": {"name": "now", "arguments": "{}"}},
        ],
    }
    assert first == {"role": "tool", "tool_call_id": "call_a", "content": "sunny"}
    assert second == {"role": "tool", "tool_call_id": "call_b", "content": "noon"}


def test_an_assistant_with_only_calls_has_null_content_and_one_with_nothing_empty_text() -> None:
    only_calls = _messages(Message(role="user", content="q"), _turn(_call()), tools=(WEATHER,))[1]
    assert only_calls["content"] is None
    thinking_only = Message(role="assistant", content=(ThinkingPart(text="hmm"),))
    assert _messages(Message(role="user", content="q"), thinking_only)[1] == {
        "role": "assistant",
        "content": "",
    }


def test_tool_results_with_parts_errors_and_images() -> None:
    history = (
        Message(role="user", content="look"),
        _turn(_call("call_a"), _call("call_b"), _call("call_c")),
        Message(
            role="tool",
            content=(
                ToolResultPart(
                    call_id="call_a",
                    content=(TextPart(text="a chart"), ImagePart(data=PNG), ImagePart(data=PNG)),
                ),
                ToolResultPart(call_id="call_b", content="city not found", is_error=True),
            ),
        ),
        Message(
            role="tool",
            content=(
                ToolResultPart(call_id="call_c", content=(ImagePart(data=PNG),), is_error=True),
            ),
        ),
        Message(role="user", content="and now?"),
    )
    sent = _messages(*history, tools=(WEATHER,))
    png = {"type": "image_url", "image_url": {"url": ImagePart(data=PNG).data_url}}
    assert [m["role"] for m in sent] == [
        "user",
        "assistant",
        "tool",
        "tool",
        "tool",
        "user",
        "user",
    ]
    assert sent[2] == {
        "role": "tool",
        "tool_call_id": "call_a",
        "content": [
            {"type": "text", "text": "a chart"},
            {"type": "text", "text": "(the 2 images follow in the next user message)"},
        ],
    }
    assert sent[3]["content"] == "Error: city not found"
    assert sent[4]["content"] == [
        {"type": "text", "text": "Error:"},
        {"type": "text", "text": "(the image follows in the next user message)"},
    ]
    assert sent[5] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "Images returned by call call_a:"},
            png,
            png,
            {"type": "text", "text": "Images returned by call call_c:"},
            png,
        ],
    }
    assert sent[6] == {"role": "user", "content": "and now?"}


def test_tool_result_images_at_the_end_of_the_history_still_follow() -> None:
    history = (
        Message(role="user", content="look"),
        _turn(_call()),
        Message(
            role="tool", content=(ToolResultPart(call_id="call_1", content=(ImagePart(data=PNG),)),)
        ),
    )
    sent = _messages(*history, tools=(WEATHER,))
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "user"]


def test_a_result_for_a_call_no_assistant_made_is_refused() -> None:
    history = (
        Message(role="user", content="hi"),
        _turn(_call("call_1")),
        Message(role="tool", content=(ToolResultPart(call_id="call_9", content="?"),)),
    )
    with pytest.raises(InvalidRequestError, match=r"messages\[2\].content\[0\].*'call_9'"):
        _messages(*history, tools=(WEATHER,))


@pytest.mark.parametrize(
    ("message", "error", "match"),
    [
        (Message(role="tool", content="x"), InvalidRequestError, "ToolResultPart"),
        (
            Message(role="user", content=(ToolResultPart(call_id="c", content="x"),)),
            InvalidRequestError,
            "belongs in a tool message",
        ),
        (Message(role="user", content=(_call(),)), InvalidRequestError, "an assistant message"),
        (
            Message(role="assistant", content=(ImagePart(data=PNG),)),
            UnsupportedFeatureError,
            "no image in an assistant message",
        ),
        (
            Message(role="system", content=(ImagePart(data=PNG),)),
            UnsupportedFeatureError,
            "text only",
        ),
        (
            Message(role="user", content=(DocumentPart(url="https://example.com/a.pdf"),)),
            UnsupportedFeatureError,
            "not by URL",
        ),
        (
            Message(role="user", content=(DocumentPart(data=b"hello", media_type="text/plain"),)),
            UnsupportedFeatureError,
            "PDF documents only",
        ),
    ],
)
def test_what_chat_completions_cannot_take_is_refused_before_sending(
    message: Message, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match) as caught:
        _messages(message)
    assert "messages[0]" in str(caught.value)
    assert getattr(caught.value, "model_id", None) == INFO.id


def test_system_parts_are_joined() -> None:
    system = Message(role="system", content=(TextPart(text="be "), TextPart(text="brief")))
    assert _messages(system)[0] == {"role": "system", "content": "be brief"}


def test_content_limits() -> None:
    limits = ContentLimits(
        image_bytes=30, images=2, request_image_bytes=50, request_document_bytes=20
    )

    def send(*parts: Any) -> None:
        build_params(
            INFO, ChatRequest(messages=(Message(role="user", content=parts),)), limits=limits
        )

    send(ImagePart(data=PNG), ImagePart(url="https://example.com/x.png"))
    with pytest.raises(UnsupportedFeatureError, match=r"content\[0\].*30 bytes per image"):
        send(ImagePart(data=PNG + b"\x00" * 20))
    with pytest.raises(UnsupportedFeatureError, match=r"content\[2\].*more than 2 images"):
        send(ImagePart(data=PNG), ImagePart(data=PNG), ImagePart(url="https://example.com/x.png"))
    with pytest.raises(UnsupportedFeatureError, match="images exceed 50 bytes"):
        send(ImagePart(data=PNG + b"\x00" * 5), ImagePart(data=PNG + b"\x00" * 5))
    with pytest.raises(UnsupportedFeatureError, match="documents exceed 20 bytes"):
        send(DocumentPart(data=PDF), DocumentPart(data=PDF))
    # without limits (an OpenAI-compatible server decides) the same request is built
    build_params(
        INFO,
        ChatRequest(messages=(Message(role="user", content=(ImagePart(data=PNG * 10),)),)),
    )


# -- responses --------------------------------------------------------------------------------


def _completion(message: dict[str, Any], finish: str | None = "tool_calls") -> dict[str, Any]:
    return {
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2},
    }


def _wire_call(call_id: str | None, name: str | None, arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def test_parallel_calls_stay_separate_and_in_order() -> None:
    completion = _completion(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                _wire_call("call_a", "get_weather", '{"city": "Paris"}'),
                _wire_call("call_b", "get_weather", '{"city": "Rome"}'),
                _wire_call("call_c", "now", "{}"),
            ],
        }
    )
    response = response_from_completion(completion, INFO, "req_1")
    assert [(c.id, c.name, dict(c.arguments)) for c in response.tool_calls] == [
        ("call_a", "get_weather", {"city": "Paris"}),
        ("call_b", "get_weather", {"city": "Rome"}),
        ("call_c", "now", {}),
    ]
    assert response.tool_calls[0].arguments_json == '{"city": "Paris"}'
    assert response.finish_reason == "tool_calls" and response.text == ""
    assert response.parts == response.tool_calls
    assert response.message == Message(role="assistant", content=response.tool_calls)


def test_text_with_calls_comes_first_in_the_parts() -> None:
    completion = _completion(
        {"content": "Let me check.", "tool_calls": [_wire_call("call_a", "now", "")]}
    )
    response = response_from_completion(completion, INFO)
    assert response.parts == (TextPart(text="Let me check."), *response.tool_calls)
    assert response.tool_calls[0].arguments == {} and response.tool_calls[0].arguments_json == "{}"


def test_missing_ids_get_unique_ones_and_object_arguments_are_taken() -> None:
    completion = _completion(
        {"tool_calls": [_wire_call(None, "now", None), _wire_call("", "get_weather", {"a": 1})]}
    )
    first, second = response_from_completion(completion, INFO).tool_calls
    assert first.id.startswith("call_") and second.id.startswith("call_") and first.id != second.id
    assert second.arguments == {"a": 1} and json.loads(second.arguments_json) == {"a": 1}


@pytest.mark.parametrize("arguments", ['{"city": "Par', "[1, 2]", '"text"', "null", "nan"])
def test_arguments_that_are_not_an_object_raise_with_the_raw_text(arguments: str) -> None:
    completion = _completion({"tool_calls": [_wire_call("call_a", "get_weather", arguments)]})
    with pytest.raises(MalformedToolCallError, match="get_weather") as caught:
        response_from_completion(completion, INFO, "req_9")
    assert caught.value.raw_text == arguments
    assert caught.value.request_id == "req_9" and caught.value.model_id == INFO.id
    assert not caught.value.retryable


def test_a_call_without_a_name_is_malformed() -> None:
    completion = _completion({"tool_calls": [_wire_call("call_a", "", "{}")]})
    with pytest.raises(MalformedToolCallError, match="without a tool name"):
        response_from_completion(completion, INFO)


def test_legacy_function_call() -> None:
    completion = _completion(
        {"content": None, "function_call": {"name": "now", "arguments": '{"tz": "UTC"}'}},
        finish="function_call",
    )
    response = response_from_completion(completion, INFO)
    (call,) = response.tool_calls
    assert (call.name, dict(call.arguments), response.finish_reason) == (
        "now",
        {"tz": "UTC"},
        "tool_calls",
    )
    assert call.id.startswith("call_")


@pytest.mark.parametrize(
    ("raw", "has_calls", "expected"),
    [
        ("stop", False, "stop"),
        ("length", False, "length"),
        ("tool_calls", True, "tool_calls"),
        ("content_filter", False, "content_filter"),
        ("function_call", True, "tool_calls"),
        ("stop", True, "tool_calls"),  # OpenAI, for a named tool_choice
        ("length", True, "length"),
        ("eos", False, "stop"),
        ("max_tokens", False, "length"),
        ("STOP", False, "stop"),
        ("insufficient_system_resource", False, "error"),
        ("something new", False, "stop"),
        (None, False, None),
        (None, True, "tool_calls"),
    ],
)
def test_finish_reasons(raw: str | None, has_calls: bool, expected: str | None) -> None:
    assert finish_reason(raw, has_calls) == expected


def test_plain_answers_have_no_parts() -> None:
    response = response_from_completion(_completion({"content": "hi"}, "stop"), INFO)
    assert (response.text, response.tool_calls, response.parts) == ("hi", (), ())
    assert response.message == Message(role="assistant", content="hi")


# -- streams ----------------------------------------------------------------------------------


def _chunk(delta: dict[str, Any] | None = None, finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}]}


def _piece(index: int | None, **fields: Any) -> dict[str, Any]:
    piece: dict[str, Any] = {"function": {}}
    if index is not None:
        piece["index"] = index
    for key in ("id", "type"):
        if key in fields:
            piece[key] = fields.pop(key)
    piece["function"] = fields
    return piece


def _feed(state: StreamState, *chunks: dict[str, Any]) -> list[ToolCallDelta]:
    seen: list[ToolCallDelta] = []
    for chunk in chunks:
        state.feed(chunk)
        seen += state.deltas
        state.deltas.clear()
    return seen


def test_interleaved_parallel_calls_are_assembled_by_index() -> None:
    state = StreamState("req_s", INFO)
    deltas = _feed(
        state,
        _chunk({"role": "assistant", "content": "Checking. "}),
        _chunk({"tool_calls": [_piece(0, id="call_a", type="function", name="get_weather")]}),
        _chunk({"tool_calls": [_piece(1, id="call_b", type="function", name="now", arguments="")]}),
        _chunk({"tool_calls": [_piece(0, arguments='{"ci')]}),
        _chunk({"tool_calls": [_piece(1, arguments="{}"), _piece(0, arguments='ty": "Oslo"}')]}),
        _chunk(finish="tool_calls"),
        {"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 9}},
    )
    assert state.finished and state.finish_reason == "tool_calls"
    assert [(c.id, c.name, dict(c.arguments)) for c in state.tool_calls] == [
        ("call_a", "get_weather", {"city": "Oslo"}),
        ("call_b", "now", {}),
    ]
    assert state.parts == (TextPart(text="Checking. "), *state.tool_calls)
    assert deltas == [
        ToolCallDelta(index=0, id="call_a", name="get_weather"),
        ToolCallDelta(index=1, id="call_b", name="now"),
        ToolCallDelta(index=0, arguments_delta='{"ci'),
        ToolCallDelta(index=1, arguments_delta="{}"),
        ToolCallDelta(index=0, arguments_delta='ty": "Oslo"}'),
    ]
    assert state.usage is not None and state.usage.output_tokens == 9


def test_a_reused_index_with_a_new_id_is_a_new_call() -> None:
    state = StreamState(None, INFO)
    _feed(
        state,
        _chunk({"tool_calls": [_piece(0, id="a", name="now", arguments="{}")]}),
        _chunk({"tool_calls": [_piece(0, id="a", arguments="")]}),  # the same id repeated
        _chunk({"tool_calls": [_piece(0, id="b", name="now", arguments="{}")]}),
        _chunk(finish="stop"),
    )
    assert [c.id for c in state.tool_calls] == ["a", "b"]
    assert state.finish_reason == "tool_calls"


def test_pieces_without_an_index_use_their_position() -> None:
    state = StreamState(None, INFO)
    _feed(
        state,
        _chunk(
            {"tool_calls": [_piece(None, id="a", name="now"), _piece(None, id="b", name="now")]}
        ),
        _chunk(finish="tool_calls"),
    )
    assert [(c.id, c.arguments_json) for c in state.tool_calls] == [("a", "{}"), ("b", "{}")]


def test_a_legacy_function_call_stream() -> None:
    state = StreamState(None, INFO)
    _feed(
        state,
        _chunk({"function_call": {"name": "now", "arguments": ""}}),
        _chunk({"function_call": {"arguments": '{"tz": "UTC"}'}}),
        _chunk(finish="function_call"),
    )
    (call,) = state.tool_calls
    assert (call.name, dict(call.arguments), state.finish_reason) == (
        "now",
        {"tz": "UTC"},
        "tool_calls",
    )


def test_a_malformed_streamed_call_raises_at_the_end() -> None:
    state = StreamState("req_m", INFO)
    _feed(
        state,
        _chunk({"tool_calls": [_piece(0, id="a", name="now", arguments='{"tz": ')]}),
        _chunk(finish="tool_calls"),
    )
    with pytest.raises(MalformedToolCallError) as caught:
        _ = state.tool_calls
    assert caught.value.raw_text == '{"tz": ' and caught.value.request_id == "req_m"


def test_a_plain_stream_has_no_calls_or_parts() -> None:
    state = StreamState(None, INFO)
    assert _feed(state, _chunk({"content": "hi"}), _chunk(finish="stop")) == []
    assert (state.tool_calls, state.parts, state.finish_reason) == ((), (), "stop")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@given(
    calls=st.lists(
        st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=4), min_size=1, max_size=3
    ),
    data=st.data(),
)
def test_arguments_split_anywhere_are_reassembled_exactly(
    calls: list[dict[str, Any]], data: st.DataObject
) -> None:
    state = StreamState(None, INFO)
    chunks = []
    for index, arguments in enumerate(calls):
        text = json.dumps(arguments)
        cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=4)))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        chunks.append(_chunk({"tool_calls": [_piece(index, id=f"c{index}", name="f")]}))
        chunks += [_chunk({"tool_calls": [_piece(index, arguments=p)]}) for p in pieces]
    deltas = _feed(state, *chunks, _chunk(finish="tool_calls"))
    assert [dict(c.arguments) for c in state.tool_calls] == calls
    for index, arguments in enumerate(calls):
        streamed = "".join(d.arguments_delta for d in deltas if d.index == index)
        assert streamed == json.dumps(arguments)
