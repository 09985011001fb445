"""Anthropic content blocks as pure functions: parts out, blocks in, tool-call ids, the stream's
assembly of tool calls and thinking (no network, no SDK)."""

from __future__ import annotations

import itertools
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
from modelwire.providers.anthropic.blocks import (
    MAX_IMAGES,
    response_content,
    wire_id,
    wire_messages,
    wire_tool_choice,
    wire_tools,
)
from modelwire.providers.anthropic.mapping import StreamState, build_body
from modelwire.tools import Tool
from modelwire.types import ChatRequest, Message, ModelInfo, ToolCallDelta

INFO = ModelInfo(id="anthropic:claude-sonnet-4-5")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(8)
WHERE = {"provider": "anthropic", "model_id": INFO.id}
VALID_ID = re.compile(r"^[a-zA-Z0-9_-]+$")


def _wire(*messages: Message) -> list[dict[str, Any]]:
    return wire_messages(messages, "anthropic", INFO.id)[1]


def _call(call_id: str = "toolu_1", name: str = "f", **arguments: Any) -> ToolCall:
    return ToolCall(id=call_id, name=name, arguments=arguments)


# -- call ids -------------------------------------------------------------------------------------


@given(st.text(min_size=1, max_size=80))
def test_wire_ids_are_valid_and_deterministic(call_id: str) -> None:
    out = wire_id(call_id)
    assert VALID_ID.match(out)
    assert wire_id(call_id) == out
    if VALID_ID.match(call_id):
        assert out == call_id


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_different_foreign_ids_stay_different(a: str, b: str) -> None:
    if a != b and not (VALID_ID.match(a) or VALID_ID.match(b)):
        assert wire_id(a) != wire_id(b)


def test_a_call_and_its_result_keep_one_translated_id() -> None:
    call = _call("call:7/x")
    wire = _wire(
        Message(role="user", content="go"),
        Message(role="assistant", content=(call,)),
        Message(role="tool", content=(ToolResultPart(call_id="call:7/x", content="done"),)),
    )
    use_id = wire[1]["content"][0]["id"]
    assert wire[2]["content"][0]["tool_use_id"] == use_id == wire_id("call:7/x")
    assert use_id.startswith("call_7_x_")


# -- requests -------------------------------------------------------------------------------------


def test_tool_results_of_one_turn_share_a_user_message_with_the_text_after_them() -> None:
    wire = _wire(
        Message(role="user", content="go"),
        Message(role="assistant", content=(_call("a"), _call("b"), _call("c"))),
        Message(role="tool", content=(ToolResultPart(call_id="a", content="1"),)),
        Message(
            role="tool",
            content=(
                ToolResultPart(call_id="b", content="2", is_error=True),
                ToolResultPart(call_id="c"),
            ),
        ),
        Message(role="user", content=("and now?", ImagePart(url="https://x.test/i.png"))),
        Message(role="user", content="more"),
    )
    assert [m["role"] for m in wire] == ["user", "assistant", "user", "user"]
    assert wire[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "a", "content": "1"},
        {"type": "tool_result", "tool_use_id": "b", "content": "2", "is_error": True},
        {"type": "tool_result", "tool_use_id": "c"},
        {"type": "text", "text": "and now?"},
        {"type": "image", "source": {"type": "url", "url": "https://x.test/i.png"}},
    ]
    assert wire[3] == {"role": "user", "content": "more"}


def test_thinking_is_sent_back_only_to_anthropic_and_only_signed() -> None:
    wire = _wire(
        Message(role="user", content="q"),
        Message(
            role="assistant",
            content=(
                ThinkingPart(text="mine", signature="s1", provider="anthropic"),
                ThinkingPart(redacted="xx", provider="anthropic"),
                ThinkingPart(text="unsigned", provider="anthropic"),
                ThinkingPart(text="gemini's", signature="g", provider="google"),
                ThinkingPart(text="nobody's", signature="n"),
                TextPart(text=""),
                TextPart(text="answer"),
            ),
        ),
        Message(role="assistant", content=(ThinkingPart(text="x", provider="openai"),)),
    )
    assert wire[1]["content"] == [
        {"type": "thinking", "thinking": "mine", "signature": "s1"},
        {"type": "redacted_thinking", "data": "xx"},
        {"type": "text", "text": "answer"},
    ]
    assert len(wire) == 2  # an assistant message left with no block is left out


def test_images_by_data_url_and_documents_of_text() -> None:
    data_url = ImagePart(data=PNG).data_url
    (message,) = _wire(
        Message(
            role="user",
            content=(
                ImagePart(url=data_url),
                DocumentPart(data=b"plain words", media_type="text/plain", name="notes.txt"),
            ),
        )
    )
    image, document = message["content"]
    assert image["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": ImagePart(data=PNG).base64,
    }
    assert document == {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "plain words"},
        "title": "notes.txt",
    }


@pytest.mark.parametrize(
    ("messages", "error", "match"),
    [
        (
            [Message(role="user", content=(ImagePart(data=PNG + bytes(4 * 1024 * 1024)),))],
            UnsupportedFeatureError,
            "at most 5.0 MB",
        ),
        (
            [Message(role="user", content=(ImagePart(url="data:image/bmp;base64,Qk0="),))],
            UnsupportedFeatureError,
            "image/bmp",
        ),
        (
            [
                Message(
                    role="user", content=tuple(ImagePart(data=PNG) for _ in range(MAX_IMAGES + 1))
                )
            ],
            UnsupportedFeatureError,
            "at most 100 images",
        ),
        (
            [Message(role="user", content=(DocumentPart(data=b"<x/>", media_type="text/xml"),))],
            UnsupportedFeatureError,
            "not text/xml",
        ),
        (
            [Message(role="assistant", content=(ImagePart(data=PNG),))],
            UnsupportedFeatureError,
            "no image in an assistant message",
        ),
        (
            [Message(role="system", content=("rules", ImagePart(data=PNG)))],
            UnsupportedFeatureError,
            "system prompt takes text only",
        ),
        (
            [Message(role="user", content=(_call(),))],
            InvalidRequestError,
            "cannot hold a tool call",
        ),
        (
            [Message(role="tool", content=(ToolResultPart(call_id="toolu_x"),))],
            InvalidRequestError,
            "no earlier assistant message made",
        ),
        (
            [
                Message(role="tool", content=(ToolResultPart(call_id="a"),)),
                Message(role="assistant", content=(_call("a"),)),
            ],
            InvalidRequestError,
            "'a', which no earlier",
        ),
        (
            [Message(role="assistant", content=(ToolResultPart(call_id="a"),))],
            InvalidRequestError,
            "tool results go in a tool message",
        ),
    ],
)
def test_what_anthropic_cannot_take_fails_before_the_request(
    messages: list[Message], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=re.escape(match)):
        build_body(ChatRequest(messages=tuple(messages)), INFO)


def test_tools_in_the_body() -> None:
    tools = (
        Tool(name="ping"),
        Tool(
            name="find",
            description="Find things.",
            parameters={"properties": {"q": {"type": "string"}}, "required": ["q"]},
        ),
    )
    body = build_body(ChatRequest.build("hi", tools=tools, tool_choice="find"), INFO)
    assert body["tools"] == [
        {"name": "ping", "input_schema": {"type": "object", "properties": {}}},
        {
            "name": "find",
            "description": "Find things.",
            "input_schema": {
                "properties": {"q": {"type": "string"}},
                "required": ["q"],
                "type": "object",
            },
        },
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "find"}
    plain = build_body(ChatRequest.build("hi", tool_choice="auto"), INFO)
    assert "tools" not in plain and "tool_choice" not in plain


@pytest.mark.parametrize(
    ("choice", "parallel", "wire"),
    [
        (None, None, None),
        (None, True, None),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("auto", None, {"type": "auto"}),
        ("auto", False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("none", False, {"type": "none"}),
        ("required", None, {"type": "any"}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        ("lookup", True, {"type": "tool", "name": "lookup"}),
    ],
)
def test_tool_choice(choice: str | None, parallel: bool | None, wire: Any) -> None:
    assert wire_tool_choice(choice, parallel) == wire


# -- responses ------------------------------------------------------------------------------------


def test_response_blocks_become_parts_in_order() -> None:
    content = [
        {"type": "thinking", "thinking": "t", "signature": "s"},
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": [1, {"b": None}]}},
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
        {"type": "redacted_thinking", "data": "zz"},
        {"type": "tool_use", "id": "toolu_2", "name": "g", "input": {}},
    ]
    text, calls, parts = response_content(content, WHERE)
    assert text == "Let me look."
    assert [c.id for c in calls] == ["toolu_1", "toolu_2"]
    assert calls[0].arguments == {"a": [1, {"b": None}]}
    assert json.loads(calls[0].arguments_json) == {"a": [1, {"b": None}]}
    assert [p.type for p in parts] == ["thinking", "text", "tool_call", "thinking", "tool_call"]
    assert parts[3] == ThinkingPart(redacted="zz", provider="anthropic")


def test_a_text_answer_has_no_parts() -> None:
    assert response_content(
        [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], WHERE
    ) == (
        "ab",
        (),
        (),
    )


@pytest.mark.parametrize("arguments", ["[1, 2]", None, [1], "oops"])
def test_arguments_that_are_not_an_object_are_malformed(arguments: Any) -> None:
    content = [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": arguments}]
    with pytest.raises(MalformedToolCallError) as caught:
        response_content(content, WHERE)
    assert caught.value.raw_text == json.dumps(arguments)
    assert caught.value.model_id == INFO.id


# -- streams --------------------------------------------------------------------------------------


def _events(blocks: list[dict[str, Any]], stop_reason: str = "tool_use") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"type": "message_start", "message": {"id": "m", "usage": {}}}]
    for index, block in enumerate(blocks):
        start = dict(block)
        pieces = start.pop("pieces", [])
        out.append({"type": "content_block_start", "index": index, "content_block": start})
        out += [{"type": "content_block_delta", "index": index, "delta": p} for p in pieces]
        out.append({"type": "content_block_stop", "index": index})
    out.append({"type": "message_delta", "delta": {"stop_reason": stop_reason}, "usage": {}})
    out.append({"type": "message_stop"})
    return out


def _json_pieces(raw: str, cuts: list[int]) -> list[dict[str, Any]]:
    points = sorted({0, len(raw), *(c % (len(raw) + 1) for c in cuts)})
    return [
        {"type": "input_json_delta", "partial_json": raw[a:b]}
        for a, b in itertools.pairwise(points)
    ]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(
    arguments=st.dictionaries(st.text(max_size=6), JSON, max_size=4),
    cuts=st.lists(st.integers(0, 400), max_size=8),
)
def test_a_streamed_call_is_rebuilt_however_its_json_is_split(
    arguments: dict[str, Any], cuts: list[int]
) -> None:
    raw = json.dumps(arguments)
    state = StreamState("req", provider="anthropic", model_id=INFO.id)
    emitted: list[ToolCallDelta] = []
    texts = []
    for event in _events(
        [
            {"type": "text", "text": "", "pieces": [{"type": "text_delta", "text": "On it."}]},
            {
                "type": "tool_use",
                "id": "toolu_9",
                "name": "f",
                "input": {},
                "pieces": [
                    {"type": "input_json_delta", "partial_json": ""},
                    *_json_pieces(raw, cuts),
                ],
            },
        ]
    ):
        texts.append(state.feed(event))
        emitted += state.deltas
        state.deltas.clear()
    assert "".join(texts) == "On it." and state.finished
    (call,) = state.tool_calls
    assert call == ToolCall(id="toolu_9", name="f", arguments=arguments, arguments_json=raw)
    assert emitted[0] == ToolCallDelta(index=0, id="toolu_9", name="f")
    assert "".join(d.arguments_delta for d in emitted[1:]) == raw
    assert state.parts == (TextPart(text="On it."), call)
    assert state.finish_reason == "tool_calls"


def test_a_stream_of_thinking_parallel_calls_and_a_call_without_arguments() -> None:
    state = StreamState()
    for event in _events(
        [
            {
                "type": "thinking",
                "thinking": "",
                "signature": "",
                "pieces": [
                    {"type": "thinking_delta", "thinking": "Two "},
                    {"type": "thinking_delta", "thinking": "calls."},
                    {"type": "signature_delta", "signature": "EqQB"},
                ],
            },
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "tool_use", "id": "toolu_a", "name": "a", "input": {}},
            {
                "type": "tool_use",
                "id": "toolu_b",
                "name": "b",
                "input": {},
                "pieces": [{"type": "input_json_delta", "partial_json": '{"x": 1}'}],
            },
        ]
    ):
        state.feed(event)
    assert [d.index for d in state.deltas] == [0, 1, 1]
    assert state.parts == (
        ThinkingPart(text="Two calls.", signature="EqQB", provider="anthropic"),
        ThinkingPart(redacted="opaque", provider="anthropic"),
        ToolCall(id="toolu_a", name="a", arguments={}, arguments_json="{}"),
        ToolCall(id="toolu_b", name="b", arguments={"x": 1}, arguments_json='{"x": 1}'),
    )


@pytest.mark.parametrize(
    ("raw", "stop_reason", "match"),
    [
        ('{"city": "Par', "max_tokens", "cut off by max_tokens"),
        ("[1, 2]", "tool_use", "not a JSON object"),
        ('{"a": 1}}', "tool_use", "not valid JSON"),
    ],
)
def test_a_streamed_call_that_is_no_object_is_malformed(
    raw: str, stop_reason: str, match: str
) -> None:
    state = StreamState("req_9", provider="anthropic", model_id=INFO.id)
    events = _events(
        [
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "f",
                "input": {},
                "pieces": [{"type": "input_json_delta", "partial_json": raw}],
            }
        ],
        stop_reason,
    )
    for event in events[:-1]:
        state.feed(event)
    with pytest.raises(MalformedToolCallError, match=re.escape(match)) as caught:
        state.feed(events[-1])
    assert caught.value.raw_text == raw
    assert (caught.value.request_id, caught.value.model_id) == ("req_9", INFO.id)
    assert not state.finished


def test_a_plain_text_stream_has_no_parts_or_calls() -> None:
    state = StreamState()
    for event in _events(
        [{"type": "text", "text": "", "pieces": [{"type": "text_delta", "text": "hi"}]}], "end_turn"
    ):
        state.feed(event)
    assert (state.tool_calls, state.parts, state.deltas) == ((), (), [])
    assert state.finish_reason == "stop"


def test_wire_tools_follow_each_tool_object() -> None:
    first = Tool(name="f", parameters={"type": "object", "properties": {"a": {"type": "string"}}})
    second = Tool(name="f", parameters={"type": "object", "properties": {"b": {"type": "number"}}})
    for _ in range(2):  # the second round reads the cache
        (a,) = wire_tools([first])
        (b,) = wire_tools([second])
        assert a["input_schema"]["properties"] == {"a": {"type": "string"}}
        assert b["input_schema"]["properties"] == {"b": {"type": "number"}}
    for n in range(600):  # the cache is bounded, and stays right when it is cleared
        tool = Tool(name=f"t{n}", description=str(n))
        assert wire_tools([tool]) == [
            {
                "name": f"t{n}",
                "description": str(n),
                "input_schema": {"type": "object", "properties": {}},
            }
        ]
