"""Message content: strings or parts; images and documents; tool calls and results."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from modelwire.content import DocumentPart, ImagePart, TextPart, ToolCall, ToolResultPart
from modelwire.types import ChatRequest, ChatResponse, Message, StreamEvent

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
PDF = b"%PDF-1.7\n" + bytes(16)


def test_plain_strings_and_dicts_keep_working() -> None:
    assert Message(role="user", content="hi").content == "hi"
    assert Message.model_validate({"role": "user", "content": "hi"}).text == "hi"
    mixed = Message(role="user", content=["look:", ImagePart(url="https://x.test/a.png")])
    assert isinstance(mixed.content, tuple) and mixed.content[0] == TextPart(text="look:")
    assert mixed.text == "look:" and mixed.needs() == {"images"}


def test_images_from_files_bytes_and_json(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    image = ImagePart.from_path(path)
    assert image.media_type == "image/png" and image.size == len(PNG)
    assert image.data_url.startswith("data:image/png;base64,")
    again = Message.model_validate_json(Message(role="user", content=[image]).model_dump_json())
    assert again.content[0] == image  # type: ignore[index]
    assert ImagePart(data=base64.b64encode(PNG).decode(), media_type="image/png") == image


def test_unsupported_images_fail_before_any_request() -> None:
    with pytest.raises(ValidationError, match="unsupported image type 'image/tiff'"):
        ImagePart(data=b"II*\x00....", media_type="image/tiff")
    with pytest.raises(ValidationError, match="not given and not recognised"):
        ImagePart(data=b"what is this")
    with pytest.raises(ValidationError, match="exactly one of url or data"):
        ImagePart()


def test_documents(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(PDF)
    doc = DocumentPart.from_path(path)
    assert (doc.media_type, doc.name) == ("application/pdf", "report.pdf")
    assert Message(role="user", content=[doc]).needs() == {"documents"}


@given(st.dictionaries(st.text(min_size=1), st.one_of(st.integers(), st.text(), st.none())))
def test_tool_call_arguments_and_json_agree(arguments: dict[str, object]) -> None:
    call = ToolCall(id="c1", name="f", arguments=arguments)
    assert ToolCall(id="c1", name="f", arguments_json=call.arguments_json).arguments == arguments


def test_tool_call_arguments_must_be_an_object() -> None:
    with pytest.raises(ValidationError, match="JSON object"):
        ToolCall(id="c1", name="f", arguments_json="[1, 2]")
    with pytest.raises(ValidationError):
        ToolCall(id="", name="f")


def test_responses_give_the_assistant_message_to_append() -> None:
    call = ToolCall(id="c1", name="get_weather", arguments={"city": "Paris"})
    resp = ChatResponse(text="Let me look.", model_id="m:x", tool_calls=(call,))
    assert resp.message.role == "assistant"
    assert resp.message.tool_calls == (call,) and resp.message.text == "Let me look."
    assert ChatResponse(text="hi", model_id="m:x").message == Message(
        role="assistant", content="hi"
    )
    last = StreamEvent(done=True, full_text="Let me look.", tool_calls=(call,))
    assert last.message == resp.message
    assert StreamEvent(text="x").message is None


def test_requests_know_what_they_need() -> None:
    from modelwire.tools import Tool

    tool = Tool(name="f")
    result = Message(role="tool", content=[ToolResultPart(call_id="c1", content="18 C")])
    request = ChatRequest.build([result], tools=(tool,), parallel_tool_calls=True)
    assert request.needs() == {"tools", "parallel_tools"}
    assert ChatRequest.build("hi").needs() == set()
    with pytest.raises(ValidationError, match="names no tool"):
        ChatRequest.build("hi", tools=(tool,), tool_choice="other")
    assert ChatRequest.build("hi", tools=(tool,), tool_choice="f").tool_choice == "f"
