"""Pytest plugin: the loopback fake provider server as fixtures.

``fake_server`` is function scoped (a fresh server, always stopped). ``fake_server_shared`` is one
server for the whole session, with its log, faults and paging cleared before each test that uses
it. Registered from tests/conftest.py with ``pytest_plugins = ["tests.support.fake_fixtures"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tools.fake_provider import FakeProviderServer


@pytest.fixture
def fake_server() -> Iterator[FakeProviderServer]:
    """A fake provider server on 127.0.0.1 for one test."""
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="session")
def _fake_server_session() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as server:
        yield server


@pytest.fixture
def fake_server_shared(_fake_server_session: FakeProviderServer) -> FakeProviderServer:
    """The session-wide fake provider server, cleared for this test."""
    _fake_server_session.clear()
    return _fake_server_session


@pytest.fixture
def openai_model(fake_server: FakeProviderServer) -> Iterator[Callable[..., Any]]:
    """A factory of OpenAI provider models pointed at ``fake_server``; contexts closed after.

    ``openai_model("gpt-4o-mini", ptype="openai", key="sk-test", provider="openai", **cfg)``.
    """
    from modelwire.config.schema import ProviderConfig
    from modelwire.providers.base import ProviderContext
    from modelwire.providers.openai.model import OpenAIChatModel, OpenAICompatibleChatModel
    from modelwire.types import ModelInfo

    contexts: list[ProviderContext] = []

    def make(
        name: str = "gpt-4o-mini",
        *,
        ptype: str = "openai",
        key: str | None = "sk-test",
        provider: str | None = None,
        info: dict[str, Any] | None = None,
        **cfg: Any,
    ) -> Any:
        provider = provider or ptype
        cfg.setdefault("base_url", fake_server.url + "/v1")
        ctx = ProviderContext(provider, ProviderConfig(type=ptype, api_key=key, **cfg))
        contexts.append(ctx)
        cls = OpenAIChatModel if ptype == "openai" else OpenAICompatibleChatModel
        return cls(ModelInfo(id=f"{provider}:{name}", **(info or {})), ctx)

    yield make
    for ctx in contexts:
        ctx.close()
