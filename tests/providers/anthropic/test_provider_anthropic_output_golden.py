"""Golden tests of Anthropic structured output: the request body each mode sends for the
representative output types (captured by the fake server, which checks ``output_config.format``
schemas as the API does), and each rewritten schema with what the rewrite removed."""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from modelwire.config.schema import ProviderConfig
from modelwire.output import OutputSpec
from modelwire.providers.anthropic.model import AnthropicChatModel
from modelwire.providers.anthropic.schema import native_schema
from modelwire.providers.base import ProviderContext
from modelwire.tools import Tool
from modelwire.types import ChatRequest, ModelInfo
from tests.support.output_types import TYPES, Address, Person
from tools.fake_provider import FakeProviderServer

NATIVE = ModelInfo(id="anthropic:claude-sonnet-4-5", features=frozenset({"structured_output"}))
OLDER = ModelInfo(id="anthropic:claude-3-5-haiku-20241022", features=frozenset({"tools"}))
LOOKUP = Tool(
    name="lookup",
    description="Look a street up.",
    parameters={"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
)


@pytest.fixture
def server(fake_server_shared: FakeProviderServer) -> FakeProviderServer:
    return fake_server_shared


def _sent(server: FakeProviderServer, info: ModelInfo, request: ChatRequest) -> Any:
    ctx = ProviderContext(
        "anthropic",
        ProviderConfig(type="anthropic", api_key="sk-ant-golden", base_url=server.url),
    )
    try:
        response = AnthropicChatModel(info, ctx).invoke(request)
    finally:
        ctx.close()
    body = server.requests_to("/v1/messages")[-1].body
    return {"body": body, "output_mode": response.output_mode, "fallback": response.output_fallback}


def test_native_request_per_type(server: FakeProviderServer, snapshot: SnapshotAssertion) -> None:
    sent = {
        name: _sent(server, NATIVE, ChatRequest.build("Go", output=OutputSpec.of(kind)))
        for name, kind in TYPES.items()
    }
    assert sent == snapshot


def test_rewritten_schemas(snapshot: SnapshotAssertion) -> None:
    rewritten = {}
    for name, kind in TYPES.items():
        found = native_schema(OutputSpec.of(kind))
        rewritten[name] = (
            None
            if found is None
            else {"schema": found.schema, "removed": list(found.removed), "wrapped": found.wrapped}
        )
    assert rewritten == snapshot


def test_tool_prompted_and_fallback_requests(
    server: FakeProviderServer, snapshot: SnapshotAssertion
) -> None:
    person, addresses = OutputSpec.of(Person), OutputSpec.of(list[Address])
    cases = {
        "auto_without_the_feature": (OLDER, ChatRequest.build("Go", output=person)),
        "tool_for_a_list": (NATIVE, ChatRequest.build("Go", output=addresses, output_mode="tool")),
        "prompted": (
            NATIVE,
            ChatRequest.build("Go", system="Be brief.", output=person, output_mode="prompted"),
        ),
        "native_with_tools": (NATIVE, ChatRequest.build("Go", output=person, tools=[LOOKUP])),
        "auto_with_tools_without_the_feature": (
            OLDER,
            ChatRequest.build("Go", output=person, tools=[LOOKUP], tool_choice="none"),
        ),
    }
    sent = {name: _sent(server, info, request) for name, (info, request) in cases.items()}
    assert sent == snapshot
