"""Hypothesis properties of the discovery merge: idempotent, configuration wins, nothing lost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelwire.capabilities import CapabilityStrength
from modelwire.config.schema import Config
from modelwire.discovery import merge_models
from modelwire.registry.model_registry import ModelRegistry
from modelwire.types import ModelInfo
from tests.support.discovery import catalog_patched, golden_catalog

CATALOG = golden_catalog()
PROVIDERS = {"openai": "openai", "local": "openai_compatible", "anthropic": "anthropic"}
NAMES = {
    "openai": ["gpt-4o", "gpt-4o-mini", "o3-mini", "gpt-4o-2024-08-06", "x-one", "x-two"],
    "local": ["llama3.1", "qwen2.5", "phi3"],
    "anthropic": ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-2-1", "y-one"],
}
STRENGTHS = ["basic", "moderate", "strong", "exceptional"]

prices = st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2))
entries = st.fixed_dictionaries(
    {},
    optional={
        "aliases": st.lists(st.sampled_from(["a1", "a2", "a3"]), max_size=2, unique=True),
        "cost": st.fixed_dictionaries({}, optional={"input_per_mtok": prices}),
        "context_window": st.integers(1, 2_000_000),
        "max_output_tokens": st.integers(1, 100_000),
        "reasoning": st.booleans(),
        "capabilities": st.dictionaries(
            st.sampled_from(["code", "chat", "math"]), st.sampled_from(STRENGTHS), max_size=2
        ),
    },
)


@st.composite
def scenarios(draw: Any) -> tuple[Config, list[ModelInfo], dict[str, list[ModelInfo]]]:
    configured: dict[str, Any] = {}
    used_aliases: set[str] = set()
    for provider, names in NAMES.items():
        for name in draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
            entry = draw(entries)
            aliases = [a for a in entry.get("aliases", []) if a not in used_aliases]
            used_aliases.update(aliases)
            entry["aliases"] = [f"{a}-{provider}-{name}" for a in aliases]
            if "cost" in entry:
                entry["cost"] = {
                    k: str(v) if v is not None else None for k, v in entry["cost"].items()
                }
            configured[f"{provider}:{name}"] = entry
    config = Config.model_validate(
        {
            "providers": {
                p: {"type": t, "base_url": "http://127.0.0.1:9/v1"} for p, t in PROVIDERS.items()
            },
            "models": configured,
        }
    )
    extra = [
        ModelInfo(id=f"{p}:{n}", source="discovered")
        for p, names in NAMES.items()
        for n in draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
        if f"{p}:{n}" not in configured
    ]
    answered = draw(st.lists(st.sampled_from(sorted(PROVIDERS)), unique=True))
    listings: dict[str, list[ModelInfo]] = {}
    for provider in answered:
        listed = draw(st.lists(st.sampled_from(NAMES[provider]), unique=True))
        listings[provider] = [
            ModelInfo(
                id=f"{provider}:{n}",
                source="discovered",
                context_window=draw(st.one_of(st.none(), st.integers(1, 10**6))),
                reasoning=draw(st.booleans()),
            )
            for n in listed
        ]
    return config, extra, listings


def _current(config: Config, extra: list[ModelInfo]) -> list[ModelInfo]:
    with catalog_patched(CATALOG):
        registry = ModelRegistry.from_config(config)
    registry.update_models([m for m in extra if not registry.is_registered(m.id)])
    return registry.list_models()


def _merge(config: Config, current: list[ModelInfo], listings: dict[str, list[ModelInfo]]) -> Any:
    return merge_models(current, listings, config=config, catalog=CATALOG, provider_types=PROVIDERS)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(scenarios())
def test_merge_is_idempotent(scenario: Any) -> None:
    config, extra, listings = scenario
    first = _merge(config, _current(config, extra), listings)
    second = _merge(config, list(first.models), listings)
    assert second.models == first.models
    assert not second.add and not second.remove


@FAST
@given(scenarios())
def test_configuration_always_wins(scenario: Any) -> None:
    config, extra, listings = scenario
    models = _merge(config, _current(config, extra), listings).by_id()
    for model_id, entry in config.models.items():
        info = models[model_id]
        assert info.source == "config"
        if entry.context_window is not None:
            assert info.context_window == entry.context_window
        if entry.max_output_tokens is not None:
            assert info.max_output_tokens == entry.max_output_tokens
        if entry.reasoning is not None:
            assert info.reasoning == entry.reasoning
        for alias in entry.aliases:
            assert alias in info.aliases
        for cap, strength in entry.capabilities.items():
            assert info.capabilities[cap] == CapabilityStrength.parse(strength)
        if entry.cost is not None and "input_per_mtok" in entry.cost.model_fields_set:
            assert info.cost is not None
            want = entry.cost.input_per_mtok
            assert info.cost.input_per_mtok == (None if want is None else Decimal(want))


@FAST
@given(scenarios())
def test_no_configured_model_disappears(scenario: Any) -> None:
    config, extra, listings = scenario
    current = _current(config, extra)
    plan = _merge(config, current, listings)
    after = plan.by_id()
    for info in current:
        if info.source != "discovered" or info.provider not in listings:
            assert info.id in after, info.id
    assert set(config.models) <= set(after)
    for info in current:  # providers that did not answer are untouched
        if info.provider not in listings:
            assert after[info.id] == info
    for provider, listed in listings.items():  # everything listed is registered and available
        for found in listed:
            assert after[found.id].available and after[found.id].provider == provider
