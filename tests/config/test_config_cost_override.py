"""`cost:` in configuration overrides the catalog's prices, the new kinds of price included."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from modelwire.catalog import load_catalog
from modelwire.config.loader import parse_config_text
from modelwire.errors import ConfigError
from modelwire.registry.model_registry import ModelRegistry
from modelwire.types import PriceTier

CONFIG = """
providers:
  anthropic: {api_key: k}
models:
  anthropic:claude-sonnet-4-5:
    cost:
      input_per_mtok: "2.50"
      cache_write_1h_per_mtok: "5.00"
      input_audio_per_mtok: "4.00"
      tool_use_fees: {web_search: "0.02", code_execution: "0.05"}
      tiers:
        - {above_input_tokens: 100000, input_per_mtok: "5.00", output_per_mtok: "20.00"}
      effective_date: 2026-12-01
      earlier:
        - {input_per_mtok: "3.00", output_per_mtok: "15.00", effective_date: 2025-09-29}
"""


def test_configured_fields_replace_the_catalogs_and_the_rest_is_kept() -> None:
    registry = ModelRegistry.from_config(parse_config_text(CONFIG))
    cost = registry.get_model_info("anthropic:claude-sonnet-4-5").cost
    catalog = load_catalog().entries["anthropic:claude-sonnet-4-5"].cost
    assert cost is not None and catalog is not None
    assert cost.input_per_mtok == Decimal("2.50")
    assert cost.output_per_mtok == catalog.output_per_mtok  # not configured: the catalog's
    assert cost.cache_write_1h_per_mtok == Decimal("5.00")
    assert cost.input_audio_per_mtok == Decimal("4.00")
    assert cost.tool_use_fees == {"web_search": Decimal("0.02"), "code_execution": Decimal("0.05")}
    assert cost.tiers == (
        PriceTier(
            above_input_tokens=100000,
            input_per_mtok=Decimal("5.00"),
            output_per_mtok=Decimal("20.00"),
        ),
    )
    assert cost.effective_date == date(2026, 12, 1)
    assert [e.input_per_mtok for e in cost.earlier] == [Decimal("3.00")]
    assert cost.source == f"configuration (over {catalog.source})"


def test_a_model_without_catalog_prices_says_configuration() -> None:
    text = "providers:\n  mock: {}\nmodels:\n  mock:own:\n    cost: {input_per_mtok: 1}\n"
    registry = ModelRegistry.from_config(parse_config_text(text))
    cost = registry.get_model_info("mock:own").cost
    assert cost is not None and cost.source == "configuration"


@pytest.mark.parametrize(
    ("cost", "message"),
    [
        ("{tool_use_fees: {web_search: null}}", "price per use"),
        ("{tool_use_fees: {web_search: -1}}", "tool_use_fees"),
        (
            "{tiers: [{above_input_tokens: 9}, {above_input_tokens: 5}]}",
            "ascending",
        ),
        ("{tiers: [{above_input_tokens: 9, input_per_mtok: x}]}", "tiers"),
        ("{earlier: [{earlier: []}]}", "earlier"),
    ],
)
def test_bad_new_cost_fields_are_one_clear_problem(cost: str, message: str) -> None:
    text = f"providers:\n  mock: {{}}\nmodels:\n  mock:a:\n    cost: {cost}\n"
    with pytest.raises(ConfigError, match=message):
        parse_config_text(text)
