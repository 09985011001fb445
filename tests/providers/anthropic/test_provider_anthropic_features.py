"""What the catalog says Claude models take (tools, parallel tools, images, documents), and a
call that needs what a model lacks failing before any request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelwire.catalog import load_catalog
from modelwire.config.schema import Config
from modelwire.content import DocumentPart, ImagePart
from modelwire.errors import UnsupportedFeatureError
from modelwire.registry.model_registry import ModelRegistry
from modelwire.service.model_service import ModelService
from modelwire.types import Message
from modelwire.usage.events import InMemoryUsageSink
from tools.fake_provider import FakeProviderServer

PNG = b"\x89PNG\r\n\x1a\n" + bytes(8)


def test_every_claude_model_says_what_it_takes() -> None:
    claude = [info for info in load_catalog() if info.provider == "anthropic"]
    assert len(claude) >= 8
    for info in claude:
        assert info.features is not None, info.id
        assert {"tools", "parallel_tools"} <= info.features, info.id
        assert ("images" in info.features) == ("image" in info.modalities), info.id
        if info.available:  # Anthropic: every active model reads PDFs
            assert "documents" in info.features, info.id


@pytest.fixture
def service(fake_server_shared: FakeProviderServer) -> Iterator[ModelService]:
    config = Config.model_validate(
        {
            "providers": {
                "anthropic": {"api_key": "sk-ant-features", "base_url": fake_server_shared.url}
            }
        }
    )
    registry = ModelRegistry.from_config(config)  # with the bundled catalog
    yield ModelService(registry, ledger=InMemoryUsageSink())
    registry.close()


def test_an_image_for_a_text_only_model_fails_before_any_request(
    fake_server_shared: FakeProviderServer, service: ModelService
) -> None:
    look = [Message(role="user", content=("what is this?", ImagePart(data=PNG)))]
    with pytest.raises(UnsupportedFeatureError, match="does not take images"):
        service.invoke_model("anthropic:claude-3-5-haiku-latest", look)
    assert fake_server_shared.requests_to("/v1/messages") == []
    resp = service.invoke_model("anthropic:claude-haiku-4-5", look)
    assert resp.text == "echo: what is this?"
    read = [Message(role="user", content=("summarise", DocumentPart(data=b"%PDF-1.4 x")))]
    with pytest.raises(UnsupportedFeatureError, match="does not take documents"):
        service.invoke_model("anthropic:claude-3-opus-latest", read)
