"""The fake server's OpenAI tools: which calls the fake model makes, and what it refuses as
OpenAI does (so end-to-end tests catch a body OpenAI would reject)."""

from __future__ import annotations

from typing import Any

import pytest

from tools.fake_provider.openai_format import content_text, planned_calls, refusal

TOOLS = [
    {"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "b"}},
]


def _body(prompt: Any = "hi", **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": prompt}], **extra}


@pytest.mark.parametrize(
    ("extra", "calls"),
    [
        ({}, [("a", '{"x": 1}'), ("b", "{}")]),
        ({"tool_choice": "auto"}, [("a", '{"x": 1}'), ("b", "{}")]),
        ({"tool_choice": "none"}, []),
        ({"parallel_tool_calls": False}, [("a", '{"x": 1}')]),
        ({"tool_choice": {"type": "function", "function": {"name": "b"}}}, [("b", "{}")]),
    ],
)
def test_call_lines_make_calls(extra: dict[str, Any], calls: list[tuple[str, str]]) -> None:
    body = _body('call a {"x": 1}\n  call b  \nnot a call', tools=TOOLS, **extra)
    assert planned_calls(body) == calls


def test_choices_without_call_lines() -> None:
    assert planned_calls(_body(tools=TOOLS)) == []
    assert planned_calls(_body(tools=TOOLS, tool_choice="required")) == [("a", "{}")]
    named = {"type": "function", "function": {"name": "b"}}
    assert planned_calls(_body(tools=TOOLS, tool_choice=named)) == [("b", "{}")]
    assert planned_calls(_body("call a {}")) == []  # no tools, no calls
    after_results = _body(tools=TOOLS)
    after_results["messages"] += [
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c"}]},
        {"role": "tool", "tool_call_id": "c", "content": "done"},
    ]
    assert planned_calls(after_results) == []


def test_content_text() -> None:
    parts = [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
        {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:..."}},
    ]
    assert content_text(parts) == "look [image] [file a.pdf]"
    assert content_text("plain") == "plain" and content_text(None) == ""


def _history(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": "q"}, *messages]}


def _calls(*ids: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": i, "type": "function", "function": {"name": "a", "arguments": "{}"}} for i in ids
        ],
    }


def _result(call_id: str, content: Any = "ok") -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (_body(tool_choice="auto"), "'tool_choice': only allowed when 'tools'"),
        (_body(parallel_tool_calls=True), "'parallel_tool_calls'"),
        (_history(_calls("x" * 41), _result("x" * 41)), "maximum length 40"),
        (_history(_calls("c1", "c2"), _result("c1")), "did not have response messages: c2"),
        (
            _history(_calls("c1"), {"role": "user", "content": "?"}, _result("c1")),
            "did not have response messages: c1",
        ),
        (_history(_result("c9")), "must be a response to a preceding message"),
        (
            _history(_calls("c1"), _result("c1", [{"type": "image_url", "image_url": {}}])),
            "text parts only",
        ),
        (
            _body([{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]),
            "not a valid URL",
        ),
    ],
)
def test_what_openai_refuses(body: dict[str, Any], match: str) -> None:
    found = refusal(body)
    assert found is not None and match in found


def test_what_openai_takes() -> None:
    assert refusal(_history(_calls("c1", "c2"), _result("c2"), _result("c1"))) is None
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    assert refusal(_body([{"type": "text", "text": "x"}, image])) is None
    text_parts = [{"type": "text", "text": "a"}]
    assert refusal(_history(_calls("c1"), _result("c1", text_parts))) is None
