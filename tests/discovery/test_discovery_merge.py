"""The pure merge of discovered listings: golden snapshots and the rules one by one."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from modelwire.capabilities import CapabilityStrength
from modelwire.config.schema import Config
from modelwire.discovery import merge_models
from modelwire.discovery.merge import not_listed_reason
from modelwire.types import ModelInfo
from tests.support.discovery import case_paths, compact, golden_catalog, listing, load_case

CATALOG = golden_catalog()


def _merge(case_name: str) -> tuple[Any, Any, Any]:
    case = load_case(next(p for p in case_paths() if p.stem == case_name))
    registry = case.registry(CATALOG)
    current = registry.list_models()
    plan = merge_models(
        current,
        case.listings,
        config=case.config,
        catalog=CATALOG,
        provider_types=case.provider_types,
    )
    return case, current, plan


@pytest.mark.parametrize("path", case_paths(), ids=lambda p: p.stem)
def test_golden_merge(path: Path, snapshot: Any) -> None:
    case, _, plan = _merge(path.stem)
    assert {
        "models": [compact(m) for m in plan.models],
        "add": [m.id for m in plan.add],
        "remove": list(plan.remove),
        "listed": {p: list(ids) for p, ids in plan.listed.items()},
    } == snapshot
    # Merging the merged state again changes nothing.
    again = merge_models(
        plan.models,
        case.listings,
        config=case.config,
        catalog=CATALOG,
        provider_types=case.provider_types,
    )
    assert again.models == plan.models and not again.changed


def test_catalog_fills_snapshot_prices_and_unknown_is_unpriced() -> None:
    _, _, plan = _merge("01_new_snapshot_unknown")
    models = plan.by_id()
    snap = models["openai:gpt-4o-2024-08-06"]
    assert snap.source == "discovered" and snap.cost is not None
    assert snap.cost.input_per_mtok == Decimal("2.50") and snap.context_window == 128000
    assert models["openai:gpt-4o"].source == "catalog"
    unknown = models["openai:gpt-4.5-experimental"]
    assert unknown.source == "discovered" and unknown.cost is None and unknown.available
    gone = models["openai:gpt-4o-mini"]
    assert not gone.available and gone.unavailable_reason == not_listed_reason("openai")


def test_configuration_wins_field_by_field() -> None:
    _, _, plan = _merge("02_config_wins")
    four = plan.by_id()["openai:gpt-4o"]
    assert four.source == "config"
    assert four.context_window == 64000  # configured, over the provider's 999 and catalog's
    assert four.max_output_tokens == 777  # reported by the provider, not configured
    assert four.cost is not None and four.cost.input_per_mtok == Decimal("2.00")
    assert four.cost.output_per_mtok == Decimal("10.00")  # the catalog's, not configured
    assert four.capabilities["code"] == CapabilityStrength.EXCEPTIONAL  # configured
    assert four.capabilities["chat"] == CapabilityStrength.STRONG  # the catalog's
    assert "four" in four.aliases
    exp = plan.by_id()["openai:gpt-4.5-experimental"]
    assert exp.is_priced and exp.context_window == 131072 and "exp" in exp.aliases


def test_configured_models_never_disappear_and_wire_names_count() -> None:
    _, current, plan = _merge("03_configured_gone")
    models = plan.by_id()
    assert set(m.id for m in current) <= set(models)
    assert not models["openai:my-finetune"].available
    assert models["openai:mini-prod"].available  # listed under its wire name gpt-4o-mini


def test_dated_anthropic_ids_get_family_prices() -> None:
    _, _, plan = _merge("04_anthropic_dated")
    models = plan.by_id()
    for mid in ("anthropic:claude-3-5-sonnet-20241022", "anthropic:claude-sonnet-4-5-20250929"):
        assert models[mid].cost is not None and models[mid].cost.input_per_mtok == Decimal("3.00")
    assert models["anthropic:claude-sonnet-4-5-20250929"].context_window == 1_000_000
    assert models["anthropic:claude-2-1"].available  # retired in the catalog, yet listed


def test_providers_that_did_not_answer_are_untouched() -> None:
    _, current, plan = _merge("05_provider_failed")
    before = {m.id: m for m in current}
    after = plan.by_id()
    for mid, info in before.items():
        if info.provider != "google":
            assert after[mid] == info
    assert all(m.provider == "google" for m in plan.add)


def test_previously_discovered_models_are_removed_when_gone() -> None:
    _, _, plan = _merge("06_local_and_previously_discovered")
    assert plan.remove == ("local:phi3",)
    models = plan.by_id()
    assert models["local:deepseek-r1"].cost is None and models["local:deepseek-r1"].reasoning
    assert models["local:qwen2.5"].context_window is None  # the latest listing replaces it
    assert not models["local:mistral"].available
    assert models["local:llama3.1"].capabilities["chat"] == CapabilityStrength.MODERATE


def test_hand_registered_config_model_keeps_its_fields() -> None:
    config = Config.model_validate({"providers": {"openai": {"api_key": "sk"}}})
    mine = ModelInfo(id="openai:gpt-4o", source="config", context_window=5000, aliases=("x",))
    plan = merge_models(
        [mine],
        {"openai": listing("openai", [{"name": "gpt-4o", "context_window": 1}])},
        config=config,
        catalog=CATALOG,
        provider_types={"openai": "openai"},
    )
    got = plan.by_id()["openai:gpt-4o"]
    assert got.context_window == 5000 and got.aliases == ("x",) and got.source == "config"
    assert got.cost is not None and got.cost.input_per_mtok == Decimal("2.50")  # catalog fills


def test_listing_of_another_provider_is_ignored_and_duplicates_collapse() -> None:
    config = Config.model_validate({"providers": {"a": {"type": "mock"}, "b": {"type": "mock"}}})
    stray = ModelInfo(id="b:zzz", source="discovered")
    dup = listing("a", [{"name": "one"}, {"name": "one"}])
    plan = merge_models([], {"a": [*dup, stray]}, config=config, catalog=None)
    assert [m.id for m in plan.models] == ["a:one"]
