"""The fake server's Anthropic tools on the raw wire (no SDK): what it refuses as the API does,
the tool call ``tool_choice`` forces, scripted answers and their streams."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from tools.fake_provider import FakeProviderServer
from tools.fake_provider.anthropic_format import (
    JSON_PIECE,
    Answer,
    redacted_block,
    stub_arguments,
    text_block,
    thinking_block,
    tool_use,
)

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json"}
WEATHER = {
    "name": "get_weather",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer"},
            "unit": {"enum": ["c", "f"]},
            "detail": {"type": "boolean"},
        },
        "required": ["city", "days", "unit"],
    },
}


def _post(server: FakeProviderServer, body: dict[str, Any]) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("POST", "/v1/messages", body=json.dumps(body), headers=HEADERS)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def _body(messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"model": "claude-x", "max_tokens": 50, "messages": messages, **extra}


def _events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


USE = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Rome"}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}


@pytest.mark.parametrize(
    ("messages", "extra", "message"),
    [
        (
            [
                {"role": "user", "content": "x"},
                {"role": "assistant", "content": [{**USE, "id": "call:1"}]},
            ],
            {},
            "messages.1.content.0.tool_use.id: String should match pattern",
        ),
        (
            [
                {"role": "user", "content": "x"},
                {"role": "assistant", "content": [USE]},
                {"role": "user", "content": "no result"},
            ],
            {},
            "messages.2: `tool_use` ids were found without `tool_result` blocks",
        ),
        (
            [{"role": "user", "content": [RESULT]}],
            {},
            "unexpected `tool_use_id` found in `tool_result` blocks: toolu_1",
        ),
        (
            [
                {"role": "user", "content": "x"},
                {"role": "assistant", "content": [USE]},
                {"role": "user", "content": [{"type": "text", "text": "here"}, RESULT]},
            ],
            {},
            "messages.2.content.1: tool_result blocks must come first",
        ),
        (
            [
                {"role": "user", "content": "x"},
                {"role": "assistant", "content": [{"type": "thinking", "thinking": "t"}]},
            ],
            {},
            "thinking.signature: Field required",
        ),
        (
            [{"role": "user", "content": [{"type": "text", "text": ""}]}],
            {},
            "text content blocks must be non-empty",
        ),
        (
            [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/bmp", "data": "Qk0="},
                        }
                    ],
                }
            ],
            {},
            "image.source.media_type",
        ),
        ([{"role": "user", "content": [USE]}], {}, "user messages take"),
        (
            [{"role": "user", "content": "x"}],
            {"tools": [{"name": "bad name", "input_schema": {"type": "object"}}]},
            "tools.0.name",
        ),
        (
            [{"role": "user", "content": "x"}],
            {"tools": [WEATHER], "tool_choice": {"type": "tool", "name": "other"}},
            "tool_choice.name",
        ),
    ],
)
def test_what_the_api_refuses_is_refused(
    fake_server_shared: FakeProviderServer,
    messages: list[dict[str, Any]],
    extra: dict[str, Any],
    message: str,
) -> None:
    status, text = _post(fake_server_shared, _body(messages, **extra))
    assert status == 400
    error = json.loads(text)["error"]
    assert error["type"] == "invalid_request_error" and message in error["message"]


def test_a_valid_tool_turn_is_answered_from_its_results(
    fake_server_shared: FakeProviderServer,
) -> None:
    messages = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": [USE]},
        {"role": "user", "content": [RESULT, {"type": "text", "text": "thanks"}]},
    ]
    status, text = _post(fake_server_shared, _body(messages, tools=[WEATHER]))
    assert status == 200
    reply = json.loads(text)
    assert reply["content"][0]["text"] == "echo: sunny thanks"
    assert reply["stop_reason"] == "end_turn"


def test_tool_choice_any_forces_a_call_with_stub_arguments(
    fake_server_shared: FakeProviderServer,
) -> None:
    body = _body(
        [{"role": "user", "content": "Oslo"}], tools=[WEATHER], tool_choice={"type": "any"}
    )
    status, text = _post(fake_server_shared, body)
    reply = json.loads(text)
    assert status == 200 and reply["stop_reason"] == "tool_use"
    (call,) = reply["content"]
    assert call["type"] == "tool_use" and call["name"] == "get_weather"
    assert call["input"] == {"city": "Oslo", "days": 1, "unit": "c"}
    assert call["id"].startswith("toolu_fake")
    assert reply["usage"]["output_tokens"] > 0
    # auto leaves the choice to the (echoing) model
    _, text = _post(fake_server_shared, {**body, "tool_choice": {"type": "auto"}})
    assert json.loads(text)["content"][0]["type"] == "text"


def test_stub_arguments_by_type() -> None:
    schema = {
        "properties": {"s": {"type": "string"}, "n": {"type": "number"}, "a": {"type": "array"}},
        "required": ["s", "n", "a", "missing"],
    }
    assert stub_arguments(schema, "p") == {"s": "p", "n": 1, "a": [], "missing": "p"}
    assert stub_arguments(None, "p") == {}


def test_scripted_answers_come_in_order_then_the_default(
    fake_server: FakeProviderServer,
) -> None:
    fake_server.script(
        "anthropic",
        Answer(thinking_block("hm", "s"), redacted_block("d"), tool_use("f", {"a": 1})),
        Answer(text_block("done"), stop_reason="max_tokens"),
    )
    body = _body([{"role": "user", "content": "hi"}])
    replies = [json.loads(_post(fake_server, body)[1]) for _ in range(3)]
    first, second, third = replies
    assert [b["type"] for b in first["content"]] == ["thinking", "redacted_thinking", "tool_use"]
    assert first["content"][2]["input"] == {"a": 1} and first["stop_reason"] == "tool_use"
    assert first["content"][2]["id"].startswith("toolu_fake")
    assert (second["content"][0]["text"], second["stop_reason"]) == ("done", "max_tokens")
    assert third["content"][0]["text"] == "echo: hi"
    fake_server.script("anthropic", Answer(text_block("left over")))
    fake_server.clear()
    assert json.loads(_post(fake_server, body)[1])["content"][0]["text"] == "echo: hi"


def test_a_scripted_stream_sends_each_block_in_its_events(
    fake_server: FakeProviderServer,
) -> None:
    arguments = {"city": "Reykjavik", "days": [1, 2, 3]}
    fake_server.script(
        "anthropic",
        Answer(
            text_block("Checking."), tool_use("get_weather", arguments, id="toolu_s"), tool_use("g")
        ),
    )
    status, text = _post(fake_server, _body([{"role": "user", "content": "x"}], stream=True))
    assert status == 200
    events = _events(text)
    starts = [e for e in events if e["type"] == "content_block_start"]
    assert [s["content_block"]["type"] for s in starts] == ["text", "tool_use", "tool_use"]
    assert starts[1]["content_block"] == {
        "type": "tool_use",
        "id": "toolu_s",
        "name": "get_weather",
        "input": {},
    }
    pieces = [
        e["delta"]["partial_json"]
        for e in events
        if e["type"] == "content_block_delta" and e["index"] == 1
    ]
    assert len(pieces) > 1 and all(len(p) <= JSON_PIECE for p in pieces)
    assert json.loads("".join(pieces)) == arguments
    assert [e["type"] for e in events if e.get("index") == 2] == [
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
    ]
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    assert events[2]["type"] == "ping"  # after the first text block starts


def test_a_malformed_scripted_call(fake_server: FakeProviderServer) -> None:
    fake_server.script("anthropic", Answer(tool_use("f", "[1, 2]")), Answer(tool_use("f", "{oops")))
    body = _body([{"role": "user", "content": "x"}])
    first = json.loads(_post(fake_server, body)[1])
    assert first["content"][0]["input"] == [1, 2]
    second = json.loads(_post(fake_server, body)[1])
    assert second["content"][0].get("input") == "{oops", second
