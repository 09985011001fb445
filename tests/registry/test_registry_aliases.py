"""Top-level aliases reach what configuration allows them to name: a model, a group, another
alias, a bare name, an open provider's model or a catalog model's dated snapshot."""

from __future__ import annotations

from modelwire.config.schema import Config
from modelwire.registry import ModelRegistry
from modelwire.service import ModelService


def _service() -> ModelService:
    config = Config.model_validate(
        {
            "providers": {"mock": {"type": "mock"}, "openai": {"api_key": "sk-test"}},
            "models": {"mock:alpha": {}, "mock:beta": {}},
            "groups": {"pair": {"members": ["mock:alpha", "mock:beta"]}},
            "aliases": {
                "a": "mock:alpha",
                "a2": "a",
                "g": "pair",
                "g2": "g",
                "open": "mock:never-configured",
                "bare": "beta",
                "snap": "openai:gpt-4o-2024-08-06",
            },
        }
    )
    return ModelService(ModelRegistry.from_config(config))


def test_every_kind_of_alias_target_resolves() -> None:
    service = _service()
    registry = service.registry
    assert registry.resolve("a") == registry.resolve("a2") == "mock:alpha"
    assert registry.resolve("open") == "mock:never-configured"
    assert registry.resolve("bare") == "mock:beta"
    assert registry.resolve("snap") == "openai:gpt-4o-2024-08-06"
    assert registry.get_model_info("snap").cost is not None  # the catalog's prices
    for alias in ("g", "g2"):
        assert service.groups.get(alias) is service.groups.get("pair")
        assert service.invoke_model(alias, "hi").model_id in ("mock:alpha", "mock:beta")
    assert service.invoke_model("open", "hi").model_id == "mock:never-configured"
