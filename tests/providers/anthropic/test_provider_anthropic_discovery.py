"""Discovery over the anthropic and google providers against the fake server (paging, errors)."""

from __future__ import annotations

from modelwire.config.schema import Config
from modelwire.discovery.service import ModelDiscoveryService
from modelwire.registry.model_registry import ModelRegistry
from tools.fake_provider import FakeProviderServer


def _registry(server: FakeProviderServer) -> ModelRegistry:
    config = Config.model_validate(
        {
            "providers": {
                "anthropic": {"api_key": "sk-ant-disc", "base_url": server.url + "/anthropic"},
                "google": {"api_key": "AIza-disc-key", "base_url": server.url},
            },
            "discovery": {"timeout_s": 5},
        }
    )
    return ModelRegistry.from_config(config, catalog=False)


def test_discovery_lists_both_providers_across_pages(fake_server: FakeProviderServer) -> None:
    fake_server.models["anthropic"] = ["claude-x1", "claude-x2", "claude-x3"]
    fake_server.models["gemini"] = ["gemini-y1", "text-embedding-004", "gemini-y2"]
    fake_server.page_size = 1
    registry = _registry(fake_server)
    try:
        result = ModelDiscoveryService(registry, cache=False).discover()
    finally:
        registry.close()
    assert result.errors == {}
    ids = sorted(m.id for m in result.models)
    assert ids == [
        "anthropic:claude-x1",
        "anthropic:claude-x2",
        "anthropic:claude-x3",
        "google:gemini-y1",
        "google:gemini-y2",
    ]
    assert all(m.source == "discovered" for m in result.models)
    assert len(fake_server.requests_to("/anthropic/v1/models")) == 3
    assert len(fake_server.requests_to("/v1beta/models")) == 3


def test_a_failing_provider_is_reported_not_raised(fake_server: FakeProviderServer) -> None:
    fake_server.accepted_keys = {"sk-ant-disc"}  # the google key is refused
    registry = _registry(fake_server)
    try:
        result = ModelDiscoveryService(registry, cache=False).discover()
    finally:
        registry.close()
    assert set(result.errors) == {"google"}
    assert "API key not valid" in result.errors["google"]
    assert "AIza-disc-key" not in result.errors["google"]
    assert {m.provider for m in result.models} == {"anthropic"}


def test_three_formats_list_their_models_at_one_base_url(fake_server: FakeProviderServer) -> None:
    fake_server.models["anthropic"] = ["claude-z1"]
    fake_server.models["gemini"] = ["gemini-z1"]
    config = Config.model_validate(
        {
            "providers": {
                "anthropic": {"api_key": "sk-ant-disc", "base_url": fake_server.url},
                "google": {"api_key": "AIza-disc-key", "base_url": fake_server.url},
                "openai": {"api_key": "sk-disc", "base_url": fake_server.url + "/v1"},
            },
            "discovery": {"timeout_s": 5},
        }
    )
    registry = ModelRegistry.from_config(config, catalog=False)
    try:
        result = ModelDiscoveryService(registry, cache=False).discover()
    finally:
        registry.close()
    assert result.errors == {}
    by_provider = {
        p: sorted(m.id for m in result.models if m.provider == p) for p in result.providers
    }
    assert by_provider["anthropic"] == ["anthropic:claude-z1"]  # not the OpenAI listing
    assert by_provider["google"] == ["google:gemini-z1"]
    assert by_provider["openai"] and "openai:claude-z1" not in by_provider["openai"]
    assert len(fake_server.requests_to("/v1/models")) == 2  # same path, told apart by header
