"""Small builders shared by tests (not a fixture module: import what you need)."""

from __future__ import annotations

from types import ModuleType, SimpleNamespace
from typing import Any

from modelwire.config.schema import Config
from modelwire.registry.model_registry import ModelRegistry
from modelwire.types import ModelCost, ModelInfo
from tools.fake_provider import Route


def mock_config(**mock: Any) -> Config:
    """A configuration with one mock provider entry named ``mock``."""
    return Config.model_validate({"providers": {"mock": {"type": "mock", **mock}}})


def mock_registry(*ids: str, **mock: Any) -> ModelRegistry:
    """A registry over a mock provider, with ``ids`` registered (priced like gpt-4o-mini)."""
    registry = ModelRegistry(config=mock_config(**mock))
    for model_id in ids:
        registry.register_model(
            ModelInfo(
                id=model_id,
                cost=ModelCost(input_per_mtok="0.15", output_per_mtok="0.60"),
                context_window=128_000,
            )
        )
    return registry


def route_format(
    name: str, routes: list[Route], like: ModuleType, request_id_header: str = "x-unused"
) -> Any:
    """A fake-server wire format of ``routes`` alone, with the error bodies of the format ``like``.

    For a server that answers what a test chooses (recorded payloads, odd bodies):
    ``FakeProviderServer(formats=[route_format("replay", [Route(...)], anthropic_format)])``.
    """
    return SimpleNamespace(
        NAME=name, ROUTES=routes, REQUEST_ID_HEADER=request_id_header, error_body=like.error_body
    )
