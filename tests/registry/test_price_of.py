"""``modelwire.price_of``: a model's prices from the catalog, or from a registry with its
configuration and aliases."""

from __future__ import annotations

from decimal import Decimal

import pytest

import modelwire as mw
from modelwire.catalog import load_catalog
from modelwire.config.loader import parse_config_text
from modelwire.enums import ModelEnum
from modelwire.errors import ModelNotFoundError
from modelwire.registry import ModelRegistry

CAT = load_catalog()


@pytest.mark.parametrize(
    "name",
    [
        "anthropic:claude-sonnet-4-5",
        "anthropic:claude-sonnet-4-5-20250929",  # a dated snapshot
        "claude-sonnet-4-5",  # a bare name, any vendor
        "mock:claude-sonnet-4-5",  # another provider's id, matched by the model name
        ModelEnum.ANTHROPIC_CLAUDE_SONNET_4_5,
    ],
)
def test_catalog_names_give_the_catalog_price(name: str) -> None:
    assert mw.price_of(name) == CAT.entries["anthropic:claude-sonnet-4-5"].cost


def test_unknown_model_has_no_price() -> None:
    assert mw.price_of("openai:gpt-unknown") is None
    assert mw.price_of("someone:else") is None


def test_a_model_info_gives_its_own_price() -> None:
    info = CAT.entries["openai:o3"]
    assert mw.price_of(info) is info.cost


def test_through_a_registry_configuration_and_aliases_apply() -> None:
    config = parse_config_text(
        "providers:\n  mock: {}\nmodels:\n  mock:gpt-4o-mini:\n    aliases: [mini]\n"
        "    cost: {input_per_mtok: '0.10'}\n"
    )
    registry = ModelRegistry.from_config(config)
    cost = mw.price_of("mini", registry)
    assert cost is not None
    assert cost.input_per_mtok == Decimal("0.10")
    assert cost.output_per_mtok == CAT.entries["openai:gpt-4o-mini"].cost.output_per_mtok  # type: ignore[union-attr]
    with pytest.raises(ModelNotFoundError):
        mw.price_of("maxi", registry)
