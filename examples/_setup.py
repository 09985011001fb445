"""Shared set-up for the examples: mock providers standing in for the real ones, no API keys.

Each example calls ``demo_service()``; to use real providers instead, build the service from your
own configuration: ``ModelService(ModelRegistry.from_config("modelwire.yaml"), UsageLedger())``.
"""

from __future__ import annotations

from typing import Any

from modelwire import ModelRegistry, ModelService, load_config
from modelwire.usage.events import UsageSink

MOCK: dict[str, Any] = {"type": "mock", "latency_ms": 5, "seed": 1}


def demo_service(ledger: UsageSink | None = None, **mock: Any) -> ModelService:
    """A service whose ``openai``, ``anthropic`` and ``google`` providers are mocks."""
    settings = {**MOCK, **mock}
    config = load_config(
        overrides={
            "providers": {"openai": settings, "anthropic": settings, "google": settings},
            "models": {"openai:gpt-4o-mini": {"aliases": ["mini"]}},
            "usage": {"enabled": False},
        }
    )
    return ModelService(ModelRegistry.from_config(config), ledger, caller="examples")
