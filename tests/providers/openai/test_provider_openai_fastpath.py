"""The OpenAI provider's direct ``client.post`` path sends exactly what ``create`` would.

A request without ``provider_params`` skips the SDK's argument transformation (see
``modelwire.providers.openai.model._post_args``); these tests pin that the request on the wire — path,
body and every header — is the one ``chat.completions.create`` sends for the same arguments,
sync and async, plain and streaming, with tools, tool calls, tool results, images and documents
too, and that requests with ``provider_params`` (or a tool schema that is not plain JSON) still
use ``create``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from modelwire.content import DocumentPart, ImagePart, TextPart, ToolCall, ToolResultPart
from modelwire.providers.openai.mapping import build_params
from modelwire.providers.openai.model import is_plain_json
from modelwire.tools import Tool
from modelwire.types import ChatRequest, Message
from tools.fake_provider import FakeProviderServer

MakeModel = Callable[..., Any]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


def _request_of(fake_server: FakeProviderServer, index: int) -> tuple[str, Any, dict[str, str]]:
    """Path, body and headers (``x-stainless-read-timeout`` carries the call's timeout)."""
    seen = fake_server.requests[index]
    return seen.path, seen.body, seen.headers


REQUESTS = {
    "plain": ChatRequest.build("hello there world"),
    "every_field": ChatRequest.build(
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
        system="be brief",
        max_tokens=20,
        temperature=0.5,
        top_p=0.9,
        stop=("END", "STOP"),
        seed=7,
        timeout=9.5,
    ),
    "tools": ChatRequest(
        messages=(
            Message(
                role="user",
                content=(
                    TextPart(text="call get_weather {}\ncall now {}"),
                    ImagePart(data=PNG, detail="low"),
                    DocumentPart(data=b"%PDF-1.4 x", name="a.pdf"),
                ),
            ),
            Message(
                role="assistant",
                content=(
                    TextPart(text="checking"),
                    ToolCall(
                        id="toolu_" + "x" * 40, name="get_weather", arguments={"city": "Oslo"}
                    ),
                ),
            ),
            Message(
                role="tool",
                content=(
                    ToolResultPart(
                        call_id="toolu_" + "x" * 40,
                        content=(TextPart(text="snow"), ImagePart(data=PNG)),
                        is_error=True,
                    ),
                ),
            ),
            Message(role="user", content='call get_weather {"city": "Rome"}'),
        ),
        tools=(
            Tool(
                name="get_weather",
                description="The weather.",
                parameters={
                    "type": "object",
                    "properties": {"city": {"type": "string", "enum": ["Oslo", "Rome"]}},
                    "required": ["city"],
                    "additionalProperties": False,
                },
            ),
            Tool(name="now"),
        ),
        tool_choice="required",
        parallel_tool_calls=True,
        max_tokens=50,
        timeout=8.0,
    ),
}


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
@pytest.mark.parametrize("name", list(REQUESTS))
def test_same_request_as_create(
    fake_server: FakeProviderServer, openai_model: MakeModel, name: str, stream: bool
) -> None:
    request = REQUESTS[name]
    model = openai_model("gpt-4o-mini")
    client = model.sync_client(model.provider)
    options = {"timeout": request.timeout} if request.timeout is not None else {}
    if stream:
        events = list(model.stream(request))
        assert events[-1].done and events[-1].usage is not None
        assert bool(events[-1].tool_calls) is bool(request.tools)
        params = build_params(model.info, request, stream=True)
        list(client.chat.completions.create(**params, **options))
    else:
        response = model.invoke(request)
        assert response.text.startswith("echo: ") or response.tool_calls
        client.chat.completions.create(**build_params(model.info, request), **options)
    mine, sdk = _request_of(fake_server, 0), _request_of(fake_server, 1)
    assert mine == sdk
    assert mine[0] == "/v1/chat/completions"


def test_async_same_request_as_create(
    fake_server: FakeProviderServer, openai_model: MakeModel
) -> None:
    request = REQUESTS["every_field"]
    model = openai_model("gpt-4o-mini")

    async def main() -> None:
        assert (await model.ainvoke(request)).text.startswith("echo: ")
        client = model.async_client(model.provider)
        params = build_params(model.info, request)
        await client.chat.completions.create(**params, timeout=request.timeout)
        events = [e async for e in model.astream(request)]
        assert events[-1].done

    asyncio.run(main())
    assert _request_of(fake_server, 0) == _request_of(fake_server, 1)
    assert fake_server.requests[2].body["stream"] is True


def test_async_tool_request_same_as_create(
    fake_server: FakeProviderServer, openai_model: MakeModel
) -> None:
    request = REQUESTS["tools"]
    model = openai_model("gpt-4o-mini")

    async def main() -> None:
        assert len((await model.ainvoke(request)).tool_calls) == 1
        client = model.async_client(model.provider)
        params = build_params(model.info, request)
        await client.chat.completions.create(**params, timeout=request.timeout)

    asyncio.run(main())
    assert _request_of(fake_server, 0) == _request_of(fake_server, 1)


def test_tools_with_a_schema_that_is_not_plain_json_go_through_create(
    fake_server: FakeProviderServer, openai_model: MakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = openai_model("gpt-4o-mini")
    completions = model.sync_client(model.provider).chat.completions
    calls: list[dict[str, Any]] = []
    real_create = completions.create

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real_create(**kwargs)

    monkeypatch.setattr(completions, "create", spy)
    plain = Tool(name="pick", parameters={"type": "object", "properties": {}, "required": []})
    odd = Tool(name="pick", parameters={"type": "object", "properties": {}, "required": ()})
    model.invoke(ChatRequest.build("call pick {}", tools=(plain,)))
    assert calls == []
    model.invoke(ChatRequest.build("call pick {}", tools=(odd,)))
    assert len(calls) == 1
    bodies = [r.body for r in fake_server.requests]
    assert bodies[0] == bodies[1]  # the SDK sends the tuple as a list


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        ({"a": [1, 2.5, "x", True, None, {"b": []}]}, True),
        ({"a": (1, 2)}, False),
        ({1: "x"}, False),
        ({"a": {"b": b"bytes"}}, False),
        ([{"a": object()}], False),
    ],
)
def test_plain_json(value: Any, plain: bool) -> None:
    assert is_plain_json(value) is plain


def test_create_is_used_only_with_provider_params(
    fake_server: FakeProviderServer, openai_model: MakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = openai_model("gpt-4o-mini")
    completions = model.sync_client(model.provider).chat.completions
    calls: list[dict[str, Any]] = []
    real_create = completions.create

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real_create(**kwargs)

    monkeypatch.setattr(completions, "create", spy)
    model.invoke(ChatRequest.build("direct"))
    assert calls == []
    model.invoke(ChatRequest.build("through create", provider_params={"user": "u-1"}))
    assert [c["user"] for c in calls] == ["u-1"]
    assert [r.body.get("user") for r in fake_server.requests] == [None, "u-1"]


def test_admin_key_in_the_environment_is_never_sent(
    fake_server: FakeProviderServer, openai_model: MakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-do-not-send")
    model = openai_model("gpt-4o-mini")
    model.invoke(ChatRequest.build("hello"))
    (seen,) = fake_server.requests
    assert seen.headers["authorization"] == "Bearer sk-test"
    assert "sk-admin-do-not-send" not in repr(seen.headers)
