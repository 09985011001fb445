"""Gemini tools, images, documents and thinking as pure mapping (no network, no SDK)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
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
from modelwire.providers.google import parts as google_parts
from modelwire.providers.google.mapping import (
    StreamState,
    build_config,
    build_contents,
    read_response,
)
from modelwire.providers.google.parts import SKIP_SIGNATURE, legacy_model
from modelwire.tools import Tool
from modelwire.types import ChatRequest, Message, ModelInfo, ToolCallDelta, assistant_message

GEMINI_3 = ModelInfo(id="google:gemini-3-flash-preview")
GEMINI_2 = ModelInfo(id="google:gemini-2.5-flash")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(8)
PDF = b"%PDF-1.7\n"
MADE_ID = re.compile(r"^call_[0-9a-f]{32}$")

WEATHER = Tool(
    name="get_weather",
    description="Weather in a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
CLOCK = Tool(name="get_time")


def _call(call_id: str, name: str = "get_weather", signature: str | None = None) -> ToolCall:
    state = {"google": {"thought_signature": signature}} if signature else {}
    return ToolCall(id=call_id, name=name, arguments={"city": call_id}, provider_state=state)


def _response(*parts: dict[str, Any], reason: str = "STOP", **candidate: Any) -> dict[str, Any]:
    content = {"parts": list(parts), "role": "model"} if parts else None
    return {"candidates": [{"content": content, "finish_reason": reason, **candidate}]}


# -- tools and tool choice ----------------------------------------------------------------------


def test_tools_are_function_declarations_with_their_json_schema() -> None:
    config = build_config(ChatRequest.build("hi", tools=[WEATHER, CLOCK]), None)
    assert config == {
        "tools": [
            {
                "function_declarations": [
                    {
                        "name": "get_weather",
                        "description": "Weather in a city.",
                        "parameters_json_schema": dict(WEATHER.parameters),
                    },
                    {
                        "name": "get_time",
                        "parameters_json_schema": {"type": "object", "properties": {}},
                    },
                ]
            }
        ]
    }


@pytest.mark.parametrize(
    ("choice", "calling"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        ("get_time", {"mode": "ANY", "allowed_function_names": ["get_time"]}),
    ],
)
def test_tool_choice_is_the_function_calling_mode(choice: str, calling: dict[str, Any]) -> None:
    request = ChatRequest.build("hi", tools=[WEATHER, CLOCK], tool_choice=choice)
    assert build_config(request, None)["tool_config"] == {"function_calling_config": calling}


def test_no_tool_config_without_a_choice_and_no_parallel_switch() -> None:
    config = build_config(ChatRequest.build("hi", tools=[WEATHER], parallel_tool_calls=False), None)
    assert "tool_config" not in config
    assert "parallel" not in json.dumps(config)
    assert "tools" not in build_config(ChatRequest.build("hi", tool_choice="none"), None)


def test_provider_params_tools_come_after_the_request_tools() -> None:
    search = {"google_search": {}}
    request = ChatRequest.build("hi", tools=[CLOCK], provider_params={"tools": [search]})
    tools = build_config(request, None)["tools"]
    assert tools[1:] == [search] and tools[0]["function_declarations"][0]["name"] == "get_time"
    alone = build_config(ChatRequest.build("hi", provider_params={"tools": [search]}), None)
    assert alone["tools"] == [search]


# -- images and documents -----------------------------------------------------------------------


def test_images_and_documents_by_bytes_and_by_url() -> None:
    message = Message(
        role="user",
        content=(
            TextPart(text="look"),
            ImagePart(data=PNG),
            ImagePart(url="https://example.com/a/cat.webp?size=2"),
            ImagePart(url="https://example.com/photo", media_type="image/jpeg"),
            ImagePart(url="https://example.com/no-extension"),
            DocumentPart(data=PDF, name="r.pdf"),
            DocumentPart(url="gs://bucket/paper"),
        ),
    )
    contents, _ = build_contents(ChatRequest.build(message), GEMINI_3)
    assert contents == [
        {
            "role": "user",
            "parts": [
                {"text": "look"},
                {"inline_data": {"mime_type": "image/png", "data": PNG}},
                {
                    "file_data": {
                        "file_uri": "https://example.com/a/cat.webp?size=2",
                        "mime_type": "image/webp",
                    }
                },
                {"file_data": {"file_uri": "https://example.com/photo", "mime_type": "image/jpeg"}},
                {"file_data": {"file_uri": "https://example.com/no-extension"}},
                {"inline_data": {"mime_type": "application/pdf", "data": PDF}},
                {"file_data": {"file_uri": "gs://bucket/paper", "mime_type": "application/pdf"}},
            ],
        }
    ]


def test_inline_limits_are_checked_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(google_parts, "INLINE_LIMIT", 2 * len(PNG))
    monkeypatch.setattr(google_parts, "DOCUMENT_LIMIT", len(PDF) - 1)
    images = Message(role="user", content=(ImagePart(data=PNG), ImagePart(data=PNG)))
    build_contents(ChatRequest.build(images), GEMINI_3)  # exactly at the limit
    more = Message(role="user", content=(*images.parts, ImagePart(url="https://x/y.png")))
    build_contents(ChatRequest.build(more), GEMINI_3)  # URLs are not inline
    over = Message(role="user", content=(*images.parts, ImagePart(data=b"GIF89a")))
    with pytest.raises(UnsupportedFeatureError, match="inline data") as caught:
        build_contents(ChatRequest.build(over), GEMINI_3)
    assert caught.value.model_id == GEMINI_3.id
    document = Message(role="user", content=(DocumentPart(data=PDF),))
    with pytest.raises(UnsupportedFeatureError, match="document of 9 bytes"):
        build_contents(ChatRequest.build(document), GEMINI_3)
    result_image = ToolResultPart(call_id="a", content=(ImagePart(data=PNG * 3),))
    history = [
        Message(role="user", content="q"),
        Message(role="assistant", content=(_call("a"),)),
        Message(role="tool", content=(result_image,)),
    ]
    with pytest.raises(UnsupportedFeatureError):
        build_contents(ChatRequest.build(history), GEMINI_3)


# -- assistant turns ----------------------------------------------------------------------------


def test_assistant_calls_keep_their_signatures_and_foreign_thinking_is_dropped() -> None:
    assistant = Message(
        role="assistant",
        content=(
            ThinkingPart(text="theirs", signature="sig-a", provider="anthropic"),
            ThinkingPart(text="unknown origin"),
            ThinkingPart(text="ours", signature="c2ln", provider="google"),
            TextPart(text="Checking."),
            ThinkingPart(signature="dGV4dA==", provider="google"),
            _call("a", signature="Y2FsbA=="),
            _call("b"),
        ),
    )
    request = ChatRequest.build(
        [
            Message(role="user", content="q"),
            assistant,
            Message(role="tool", content=(ToolResultPart(call_id="a", content="1"),)),
            Message(role="tool", content=(ToolResultPart(call_id="b", content="2"),)),
        ]
    )
    contents, _ = build_contents(request, GEMINI_3)
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"text": "ours", "thought": True, "thought_signature": "c2ln"},
            {"text": "Checking.", "thought_signature": "dGV4dA=="},
            {
                "function_call": {"name": "get_weather", "args": {"city": "a"}},
                "thought_signature": "Y2FsbA==",
            },
            {"function_call": {"name": "get_weather", "args": {"city": "b"}}},
        ],
    }


def test_an_assistant_message_of_foreign_thinking_only_sends_nothing() -> None:
    request = ChatRequest.build(
        [
            Message(role="user", content="q"),
            Message(role="assistant", content=(ThinkingPart(text="x", provider="openai"),)),
            Message(role="user", content="again"),
        ]
    )
    contents, _ = build_contents(request, GEMINI_3)
    assert [c["role"] for c in contents] == ["user", "user"]


def test_parts_that_do_not_belong_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="assistant message cannot hold tool results"):
        build_contents(
            ChatRequest.build(
                Message(role="assistant", content=(ToolResultPart(call_id="a", content="x"),))
            ),
            GEMINI_3,
        )
    with pytest.raises(InvalidRequestError, match="tool call belongs in an assistant"):
        build_contents(ChatRequest.build(Message(role="user", content=(_call("a"),))), GEMINI_3)
    with pytest.raises(InvalidRequestError, match="holds ToolResultPart"):
        build_contents(
            ChatRequest.build(Message(role="tool", content=(TextPart(text="x"),))), GEMINI_3
        )


# -- tool results -------------------------------------------------------------------------------


def _history(*results: Message, calls: tuple[ToolCall, ...] | None = None) -> ChatRequest:
    made = calls or (_call("a"), _call("b", "get_time"))
    return ChatRequest.build(
        [Message(role="user", content="q"), Message(role="assistant", content=made), *results]
    )


def test_results_are_one_content_in_call_order_named_from_the_history() -> None:
    request = _history(
        Message(role="tool", content=(ToolResultPart(call_id="b", content="noon", is_error=True),)),
        Message(role="tool", content=(ToolResultPart(call_id="a", content="sunny"),)),
        Message(role="user", content="thanks"),
    )
    contents, _ = build_contents(request, GEMINI_3)
    assert contents[2:] == [
        {
            "role": "user",
            "parts": [
                {"function_response": {"name": "get_weather", "response": {"output": "sunny"}}},
                {"function_response": {"name": "get_time", "response": {"error": "noon"}}},
            ],
        },
        {"role": "user", "parts": [{"text": "thanks"}]},
    ]


def test_a_result_for_a_call_nobody_made_is_refused() -> None:
    request = _history(Message(role="tool", content=(ToolResultPart(call_id="zz", content="x"),)))
    with pytest.raises(InvalidRequestError, match="'zz', which no assistant message"):
        build_contents(request, GEMINI_3)


def test_results_in_a_user_message_join_the_responses_and_its_text_follows() -> None:
    request = _history(
        Message(role="tool", content=(ToolResultPart(call_id="b", content="noon"),)),
        Message(
            role="user",
            content=(ToolResultPart(call_id="a", content="sunny"), TextPart(text="and now?")),
        ),
    )
    contents, _ = build_contents(request, GEMINI_3)
    assert contents[2]["parts"] == [
        {"function_response": {"name": "get_weather", "response": {"output": "sunny"}}},
        {"function_response": {"name": "get_time", "response": {"output": "noon"}}},
        {"text": "and now?"},
    ]
    assert len(contents) == 3


def test_images_in_results_go_into_the_response_on_gemini_3_and_after_it_before() -> None:
    result = ToolResultPart(
        call_id="a", content=(TextPart(text="a chart"), ImagePart(data=PNG)), name="wrong"
    )
    request = _history(
        Message(role="tool", content=(result, ToolResultPart(call_id="b", content="x")))
    )
    image = {"inline_data": {"mime_type": "image/png", "data": PNG}}
    new, _ = build_contents(request, GEMINI_3)
    assert new[2]["parts"][0] == {
        "function_response": {
            "name": "get_weather",  # the call's: Gemini pairs the two by name
            "response": {"output": "a chart"},
            "parts": [image],
        }
    }
    old, _ = build_contents(request, GEMINI_2)
    assert old[2]["parts"] == [
        {"function_response": {"name": "get_weather", "response": {"output": "a chart"}}},
        {"function_response": {"name": "get_time", "response": {"output": "x"}}},
        image,
    ]


def test_legacy_models_are_gemini_1_and_2() -> None:
    assert legacy_model("gemini-2.5-flash") and legacy_model("gemini-1.5-pro-002")
    assert legacy_model("models/gemini-2.0-flash") and legacy_model("gemini-2-flash")
    assert not legacy_model("gemini-3-pro-preview") and not legacy_model("gemini-flash-latest")
    assert not legacy_model("gemini-25-custom") and not legacy_model("gemma-2-9b")


# -- histories from other vendors ---------------------------------------------------------------


def test_unsigned_calls_of_the_current_turn_get_the_documented_skip_signature() -> None:
    earlier = (_call("old1"), _call("old2"))
    first_step = (TextPart(text="first"), _call("c1"), _call("c2"))
    second_step = (_call("c3", signature="cmVhbA=="),)
    request = ChatRequest.build(
        [
            Message(role="user", content="before"),
            Message(role="assistant", content=earlier),
            Message(
                role="tool",
                content=tuple(ToolResultPart(call_id=c.id, content="r") for c in earlier),
            ),
            Message(role="user", content="now"),
            Message(role="assistant", content=first_step),
            Message(
                role="tool",
                content=(
                    ToolResultPart(call_id="c1", content="r"),
                    ToolResultPart(call_id="c2", content="r"),
                ),
            ),
            Message(role="assistant", content=second_step),
            Message(role="tool", content=(ToolResultPart(call_id="c3", content="r"),)),
        ]
    )

    def signatures(contents: list[dict[str, Any]]) -> list[list[str | None]]:
        return [
            [p.get("thought_signature") for p in c["parts"] if "function_call" in p]
            for c in contents
            if c["role"] == "model"
        ]

    new, _ = build_contents(request, GEMINI_3)
    # the earlier turn is not validated; each step of this turn has its first call signed
    assert signatures(new) == [[None, None], [SKIP_SIGNATURE, None], ["cmVhbA=="]]
    old, _ = build_contents(request, GEMINI_2)
    assert signatures(old) == [[None, None], [None, None], ["cmVhbA=="]]


call_ids = st.text(min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(call_ids, min_size=1, max_size=6, unique=True),
    order=st.randoms(use_true_random=False),
    split=st.booleans(),
    legacy=st.booleans(),
)
def test_any_history_replays_without_ids_and_in_call_order(
    ids: list[str], order: Any, split: bool, legacy: bool
) -> None:
    """Calls with any ids (another vendor's) and their results, in any order and grouping:
    Gemini gets one response per call, named and ordered as the calls, and no ids at all."""
    calls = [
        ToolCall(id=i, name=f"tool_{n}", arguments={"n": n}, provider_state={"openai": {"x": 1}})
        for n, i in enumerate(ids)
    ]
    results = [ToolResultPart(call_id=c.id, content=f"r{n}") for n, c in enumerate(calls)]
    order.shuffle(results)
    tool_messages = (
        [Message(role="tool", content=(r,)) for r in results]
        if split
        else [Message(role="tool", content=tuple(results))]
    )
    request = ChatRequest.build(
        [
            Message(role="user", content="go"),
            Message(role="assistant", content=tuple(calls)),
            *tool_messages,
        ]
    )
    contents, _ = build_contents(request, GEMINI_2 if legacy else GEMINI_3)
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    responses = [p["function_response"] for p in contents[2]["parts"]]
    assert [r["name"] for r in responses] == [c.name for c in calls]
    assert [r["response"] for r in responses] == [{"output": f"r{n}"} for n in range(len(calls))]
    wire = json.dumps(contents, default=repr)
    assert '"id"' not in wire and "openai" not in wire


# -- responses ----------------------------------------------------------------------------------


def test_parallel_calls_without_ids_stay_separate_with_their_own_ids() -> None:
    answer = read_response(
        _response(
            {
                "function_call": {"name": "get_weather", "args": {"city": "Paris"}},
                "thought_signature": b"\x01\x02",
            },
            {"function_call": {"name": "get_weather", "args": {"city": "Rome"}}},
            {"function_call": {"name": "get_time"}},
        ),
        GEMINI_3,
    )
    assert answer.finish_reason == "tool_calls" and answer.text == ""
    first, second, third = answer.tool_calls
    assert all(MADE_ID.match(c.id) for c in answer.tool_calls)
    assert len({first.id, second.id, third.id}) == 3
    assert (first.arguments, second.arguments, third.arguments) == (
        {"city": "Paris"},
        {"city": "Rome"},
        {},
    )
    assert third.arguments_json == "{}"
    assert first.provider_state == {"google": {"thought_signature": "AQI="}}
    assert second.provider_state == {} and answer.parts == answer.tool_calls


def test_gemini_ids_are_kept_and_a_repeated_one_is_replaced() -> None:
    answer = read_response(
        _response(
            {"function_call": {"id": "fc-1", "name": "a", "args": {}}},
            {"function_call": {"id": "fc-1", "name": "b", "args": {}}},
        ),
        GEMINI_3,
    )
    assert answer.tool_calls[0].id == "fc-1"
    assert MADE_ID.match(answer.tool_calls[1].id)


@pytest.mark.parametrize("args", [[1, 2], "city=Paris", 3])
def test_arguments_that_are_not_an_object_are_a_malformed_call(args: Any) -> None:
    with pytest.raises(MalformedToolCallError) as caught:
        read_response(
            _response({"function_call": {"name": "get_weather", "args": args}}),
            GEMINI_3,
            "req-9",
        )
    err = caught.value
    assert json.loads(err.raw_text) == {"name": "get_weather", "args": args}
    assert (err.model_id, err.request_id) == (GEMINI_3.id, "req-9")


@pytest.mark.parametrize("reason", ["MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL"])
def test_gemini_malformed_call_signals_raise_with_the_raw_text(reason: str) -> None:
    raw = "Malformed function call: print(default_api.get_weather(city=Paris))"
    with pytest.raises(MalformedToolCallError, match=reason) as caught:
        read_response(_response(reason=reason, finish_message=raw), GEMINI_2)
    assert caught.value.raw_text == raw
    with pytest.raises(MalformedToolCallError) as bare:
        read_response(_response(reason=reason), GEMINI_2)
    assert bare.value.raw_text == ""


def test_finish_reasons_with_tool_calls() -> None:
    call = {"function_call": {"name": "get_time"}}
    assert read_response(_response(call), GEMINI_3).finish_reason == "tool_calls"
    assert read_response(_response(call, reason="MAX_TOKENS"), GEMINI_3).finish_reason == "length"
    assert read_response(_response(call, reason="SAFETY"), GEMINI_3).finish_reason == (
        "content_filter"
    )
    assert read_response(_response({"text": "hi"}), GEMINI_3).finish_reason == "stop"
    assert read_response(_response(reason="OTHER"), GEMINI_3).finish_reason == "error"


def test_plain_text_answers_have_no_parts() -> None:
    answer = read_response(_response({"text": "Hel"}, {"text": "lo"}), GEMINI_3)
    assert (answer.text, answer.parts, answer.tool_calls) == ("Hello", (), ())


# -- round trip ---------------------------------------------------------------------------------

signatures = st.one_of(st.none(), st.binary(min_size=1, max_size=12))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
gemini_parts = st.one_of(
    st.builds(
        lambda text, sig: {"text": text, "thought_signature": sig},
        st.text(min_size=1, max_size=10),
        signatures,
    ),
    st.builds(
        lambda text, sig: {"text": text, "thought": True, "thought_signature": sig},
        st.text(min_size=1, max_size=10),
        signatures,
    ),
    st.builds(
        lambda name, args, sig: {
            "function_call": {"name": name, "args": args},
            "thought_signature": sig,
        },
        st.sampled_from(["get_weather", "get_time", "search"]),
        st.dictionaries(st.text(max_size=6), json_values, max_size=4),
        signatures,
    ),
)


def _expected_wire(parts: list[dict[str, Any]], legacy: bool) -> list[dict[str, Any]]:
    """What Gemini should get back: its own parts, consecutive unsigned text merged the way a
    stream splits it, signatures in base64 on the part they came with, calls without ids."""
    import base64

    out: list[dict[str, Any]] = []
    run_kind: str | None = None
    for part in parts:
        sig = part["thought_signature"]
        sig_text = base64.b64encode(sig).decode() if sig else None
        if "function_call" in part:
            item: dict[str, Any] = {"function_call": dict(part["function_call"])}
            if sig_text:
                item["thought_signature"] = sig_text
            out.append(item)
            run_kind = None
            continue
        kind = "thought" if part.get("thought") else "text"
        if run_kind == kind:
            out[-1]["text"] += part["text"]
        else:
            out.append({"text": part["text"], **({"thought": True} if kind == "thought" else {})})
        run_kind = kind
        if sig_text:
            out[-1]["thought_signature"] = sig_text
            run_kind = None
    if not legacy:
        first = next((p for p in out if "function_call" in p), None)
        if first is not None:
            first.setdefault("thought_signature", SKIP_SIGNATURE)
    return out


@settings(max_examples=80, deadline=None)
@given(parts=st.lists(gemini_parts, min_size=1, max_size=7), legacy=st.booleans())
def test_an_answer_goes_back_to_gemini_as_it_came(
    parts: list[dict[str, Any]], legacy: bool
) -> None:
    info = GEMINI_2 if legacy else GEMINI_3
    answer = read_response(_response(*parts), info)
    assert answer.text == "".join(p["text"] for p in parts if "text" in p and not p.get("thought"))
    message = assistant_message(answer.text, answer.parts, answer.tool_calls)
    results = [ToolResultPart(call_id=c.id, content="ok") for c in answer.tool_calls]
    history: list[Message] = [Message(role="user", content="go"), message]
    if results:
        history.append(Message(role="tool", content=tuple(results)))
    contents, _ = build_contents(ChatRequest.build(history), info)
    assert contents[1] == {"role": "model", "parts": _expected_wire(parts, legacy)}


# -- streams ------------------------------------------------------------------------------------


def _chunk(*parts: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": list(parts), "role": "model"}}
    if reason is not None:
        candidate["finish_reason"] = reason
    return {"candidates": [candidate], "response_id": "r1"}


def test_stream_emits_one_delta_per_whole_call_and_collects_them() -> None:
    state = StreamState(GEMINI_3)
    assert state.feed(_chunk({"text": "Let me "})) == "Let me "
    assert state.feed(_chunk({"text": "check."})) == "check."
    assert state.deltas == []
    state.feed(
        _chunk(
            {
                "function_call": {"name": "get_weather", "args": {"city": "Oslo"}},
                "thought_signature": b"s",
            },
            {"function_call": {"name": "get_time"}},
        )
    )
    first, second = state.tool_calls
    assert state.deltas == [
        ToolCallDelta(index=0, id=first.id, name="get_weather", arguments_delta='{"city": "Oslo"}'),
        ToolCallDelta(index=1, id=second.id, name="get_time", arguments_delta="{}"),
    ]
    state.deltas.clear()  # what the base class does after emitting them
    state.feed(_chunk({"function_call": {"name": "get_time", "args": {}}}))
    assert [d.index for d in state.deltas] == [2]
    assert not state.finished
    state.feed(_chunk({"text": "", "thought_signature": b"end"}, reason="STOP"))
    assert state.finished and state.finish_reason == "tool_calls"
    assert [type(p).__name__ for p in state.parts] == [
        "TextPart",
        "ToolCall",
        "ToolCall",
        "ToolCall",
        "ThinkingPart",
    ]
    assert state.parts[0] == TextPart(text="Let me check.")
    assert state.chars == len("Let me check.")


def test_stream_text_with_a_final_signature_keeps_it_after_the_text() -> None:
    state = StreamState(GEMINI_3)
    state.feed(_chunk({"text": "It is "}))
    state.feed(_chunk({"text": "sunny."}))
    state.feed(_chunk({"text": "", "thought_signature": "c2ln"}, reason="STOP"))
    assert state.finish_reason == "stop" and state.tool_calls == ()
    assert state.parts == (
        TextPart(text="It is sunny."),
        ThinkingPart(signature="c2ln", provider="google"),
    )


def test_a_malformed_call_in_a_stream_raises() -> None:
    state = StreamState(GEMINI_2)
    state.feed({**_chunk({"text": "Checking"}), "sdk_http_response": {"headers": {}}})
    chunk = {
        "candidates": [
            {"finish_reason": "MALFORMED_FUNCTION_CALL", "finish_message": "get_weather(city="}
        ]
    }
    with pytest.raises(MalformedToolCallError) as caught:
        state.feed(chunk)
    assert caught.value.raw_text == "get_weather(city=" and caught.value.request_id == "r1"
    assert not state.finished


def test_a_stream_cut_after_a_call_is_not_finished() -> None:
    state = StreamState(GEMINI_3)
    state.feed(_chunk({"function_call": {"name": "get_time"}}))
    assert not state.finished and len(state.tool_calls) == 1 and len(state.deltas) == 1
