"""Shared set-up for the examples: mock providers standing in for the real ones, no API keys.

Each example calls ``demo_service()``; to use real providers instead, build the service from your
own configuration: ``ModelService(ModelRegistry.from_config("modelwire.yaml"), UsageLedger())``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
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


def mock_service(
    providers: dict[str, dict[str, Any]],
    *,
    groups: dict[str, Any] | None = None,
    ledger: UsageSink | None = None,
    caller: str = "examples",
) -> ModelService:
    """A service over mock provider entries with their own settings (latency, error rate, ...).

    ``providers`` maps an entry name to mock settings; ``<entry>:<catalog model>`` ids get that
    model's catalog prices and capabilities. Retries wait no time, so examples stay fast.
    """
    config = load_config(
        overrides={
            "providers": {
                name: {**MOCK, "retry_after_s": 0.0, **s} for name, s in providers.items()
            },
            "groups": groups or {},
            "retry": {"max_attempts": 2, "base_delay_s": 0.0, "max_delay_s": 0.0},
            "usage": {"enabled": False},
            "discovery": {"enabled": False},
        }
    )
    return ModelService(ModelRegistry.from_config(config), ledger, caller=caller)


def output_dir() -> Path:
    """Where examples save files: ``$MODELWIRE_EXAMPLE_OUT``, or a fresh temporary directory."""
    configured = os.environ.get("MODELWIRE_EXAMPLE_OUT")
    path = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="modelwire-example-"))
    path.mkdir(parents=True, exist_ok=True)
    return path
