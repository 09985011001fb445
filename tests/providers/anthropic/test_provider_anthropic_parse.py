"""The anthropic provider reads answers through ``messages.with_raw_response.create``.

The body is validated into the SDK's own ``anthropic.types.Message`` by pydantic (see
``modelwire.providers.anthropic.model._validated_message``) instead of the SDK's field-by-field
``parse()``. These tests pin that this changes nothing a user can see: ``ChatResponse.raw`` equals
the message ``messages.create`` returns for the same body (fields, set fields, request id), a body
the validator rejects still gets through the SDK's lenient parser, and the request on the wire is
``create``'s.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pydantic
import pytest

from modelwire.config.schema import ProviderConfig
from modelwire.errors import ProviderUnavailableError
from modelwire.providers.anthropic.mapping import build_body
from modelwire.providers.anthropic.model import AnthropicChatModel, sync_client
from modelwire.providers.base import ProviderContext
from modelwire.types import ChatRequest, ModelInfo
from tests.support.helpers import route_format
from tests.support.paths import GOLDEN
from tools.fake_provider import FakeProviderServer, FakeRequest, Reply, Route, anthropic_format

PAYLOADS = GOLDEN / "payloads" / "anthropic"

#: A body from an API newer than the installed SDK: a block type and a stop reason it lacks.
FUTURE_BODY: dict[str, Any] = {
    "id": "msg_future",
    "type": "message",
    "role": "assistant",
    "model": "claude-future",
    "content": [
        {"type": "hologram", "payload": {"x": 1}},
        {"type": "text", "text": "still here"},
    ],
    "stop_reason": "entangled",
    "stop_sequence": None,
    "usage": {"input_tokens": 5, "output_tokens": 2, "brand_new_count": 1},
}

BODIES: dict[str, Any] = {
    **{p.stem: json.loads(p.read_text())["body"] for p in sorted(PAYLOADS.glob("message_*.json"))},
    "future": FUTURE_BODY,
    "a_list": ["not", "a", "message"],
}


def _serve(request: FakeRequest, server: FakeProviderServer) -> Reply:
    body = BODIES[str(request.body["model"])]
    return Reply(body=body, headers={"request-id": f"req_{request.body['model']}"})


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with FakeProviderServer(
        formats=[
            route_format(
                "anthropic-bodies", [Route("POST", r"/v1/messages", _serve)], anthropic_format
            )
        ]
    ) as srv:
        yield srv.url


def _context(url: str, **headers: str) -> ProviderContext:
    return ProviderContext(
        "anthropic",
        ProviderConfig(
            type="anthropic", api_key="sk-ant-parse", base_url=url, timeout_s=5.0, headers=headers
        ),
    )


@pytest.fixture
def ctx(url: str) -> Iterator[ProviderContext]:
    context = _context(url)
    yield context
    context.close()


def _tree(value: Any) -> Any:
    """A model as nested dicts of (type name, set fields, values) — what equality does not see."""
    if isinstance(value, pydantic.BaseModel):
        return (
            type(value).__name__,
            sorted(value.model_fields_set),
            {k: _tree(v) for k, v in value},
            value.model_extra,
        )
    if isinstance(value, list):
        return [_tree(v) for v in value]
    return value


@pytest.mark.parametrize("name", [n for n in BODIES if n.startswith("message_")] + ["future"])
def test_raw_is_the_message_create_returns(name: str, ctx: ProviderContext) -> None:
    model = AnthropicChatModel(ModelInfo(id=f"anthropic:{name}"), ctx)
    request = ChatRequest.build("hello")
    answer = model.invoke(request)
    again = asyncio.run(model.ainvoke(request))
    sdk = sync_client(ctx).messages.create(**build_body(request, model.info))

    for got in (answer.raw, again.raw):
        assert type(got) is anthropic.types.Message
        assert got == sdk
        assert _tree(got) == _tree(sdk)
        assert got._request_id == sdk._request_id == f"req_{name}"
    assert answer.request_id == f"req_{name}"
    assert again.model_dump() == answer.model_dump()


def test_a_body_the_validator_rejects_still_parses(ctx: ProviderContext) -> None:
    with pytest.raises(pydantic.ValidationError):
        anthropic.types.Message.model_validate(FUTURE_BODY)
    answer = AnthropicChatModel(ModelInfo(id="anthropic:future"), ctx).invoke(
        ChatRequest.build("hello")
    )
    assert answer.text == "still here"
    assert answer.finish_reason == "stop"  # a stop reason newer than the mapping
    assert answer.raw.stop_reason == "entangled"
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (5, 2)


@pytest.mark.parametrize("body", ["a_list", "cut_json"])
def test_a_body_that_is_no_message_is_a_malformed_response(url: str, body: str) -> None:
    # cut_json: the fake server sends half of message_basic's JSON
    context = _context(url, **({"x-fake-fault": "malformed"} if body == "cut_json" else {}))
    name = "message_basic" if body == "cut_json" else body
    model = AnthropicChatModel(ModelInfo(id=f"anthropic:{name}"), context)
    try:
        for call in (model.invoke, lambda r: asyncio.run(model.ainvoke(r))):
            with pytest.raises(ProviderUnavailableError, match="malformed response body"):
                call(ChatRequest.build("hello"))
    finally:
        context.close()


def test_the_request_on_the_wire_is_creates(fake_server: FakeProviderServer) -> None:
    context = ProviderContext(
        "anthropic",
        ProviderConfig(
            type="anthropic",
            api_key="sk-ant-wire",
            base_url=fake_server.url + "/anthropic",
            headers={"x-team": "blue"},
        ),
    )
    model = AnthropicChatModel(ModelInfo(id="anthropic:claude-fake-1"), context)
    request = ChatRequest.build(
        "hi", system="be brief", max_tokens=20, temperature=0.5, stop=["END"], timeout=9.5
    )
    try:
        model.invoke(request)
        sync_client(context).messages.create(**model._kwargs(request, stream=False))
    finally:
        context.close()
    mine, sdk = fake_server.requests_to("/v1/messages")[-2:]
    assert mine.body == sdk.body
    # the one difference: the SDK marks a raw-response call (it changes nothing server-side)
    assert mine.headers.pop("x-stainless-raw-response") == "raw"
    assert mine.headers == sdk.headers
