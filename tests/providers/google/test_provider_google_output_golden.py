"""Golden tests of Gemini structured output: the request body each mode sends for the
representative output types (captured by the fake server, which checks ``responseJsonSchema`` as
Gemini documents it), and each rewritten schema with what the rewrite removed."""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from modelwire.config.schema import ProviderConfig
from modelwire.output import OutputSpec
from modelwire.providers.base import ProviderContext
from modelwire.providers.google.model import GeminiChatModel
from modelwire.providers.google.schema import native_schema
from modelwire.tools import Tool
from modelwire.types import ChatRequest, ModelInfo
from tests.support.output_types import TYPES, Person
from tools.fake_provider import FakeProviderServer

FLASH = ModelInfo(id="google:gemini-2.5-flash", features=frozenset({"structured_output", "tools"}))
GEMINI_3 = ModelInfo(id="google:gemini-3-pro-preview")
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
        "google", ProviderConfig(type="google", api_key="AIza-golden", base_url=server.url)
    )
    try:
        response = GeminiChatModel(info, ctx).invoke(request)
    finally:
        ctx.close()
    body = server.requests[-1].body
    return {"body": body, "output_mode": response.output_mode, "fallback": response.output_fallback}


def test_native_request_per_type(server: FakeProviderServer, snapshot: SnapshotAssertion) -> None:
    sent = {
        name: _sent(server, FLASH, ChatRequest.build("Go", output=OutputSpec.of(kind)))
        for name, kind in TYPES.items()
    }
    assert sent == snapshot


def test_rewritten_schemas(snapshot: SnapshotAssertion) -> None:
    rewritten = {}
    for name, kind in TYPES.items():
        found = native_schema(OutputSpec.of(kind))
        rewritten[name] = {"schema": found.schema, "removed": list(found.removed)}
    assert rewritten == snapshot


def test_prompted_and_fallback_requests(
    server: FakeProviderServer, snapshot: SnapshotAssertion
) -> None:
    person = OutputSpec.of(Person)
    cases = {
        "prompted": (
            FLASH,
            ChatRequest.build("Go", system="Be brief.", output=person, output_mode="prompted"),
        ),
        "tool_asked": (FLASH, ChatRequest.build("Go", output=person, output_mode="tool")),
        "tools_before_gemini_3": (
            FLASH,
            ChatRequest.build("Go", output=person, tools=[LOOKUP], tool_choice="none"),
        ),
        "tools_on_gemini_3": (
            GEMINI_3,
            ChatRequest.build("Go", output=person, tools=[LOOKUP], tool_choice="none"),
        ),
    }
    sent = {name: _sent(server, info, request) for name, (info, request) in cases.items()}
    assert sent == snapshot
