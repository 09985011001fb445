"""Per-model features in the catalog data file: how the schema checks them, and that they reach
``ModelInfo`` (the OpenAI entries; the rule is the same for every vendor's)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modelwire.catalog import load_catalog
from modelwire.catalog.catalog import Catalog
from modelwire.catalog.schema import CatalogError


def _raw(**changes: Any) -> dict[str, Any]:
    model = {
        "vendor": "openai",
        "name": "gpt-test",
        "price": {"input": "1", "output": "2", "effective_date": "2025-01-01"},
        "context_window": 1000,
        "max_output_tokens": 100,
        "modalities": ["text", "image"],
        **changes,
    }
    return {"version": 1, "catalog_date": "2025-06-01", "models": [model]}


def test_features_reach_model_info() -> None:
    catalog = Catalog.from_mapping(_raw(features=["tools", "images"]), source="t.json")
    (info,) = list(catalog)
    assert info.features == frozenset({"tools", "images"})
    assert info.supports("tools") and not info.supports("documents")
    (unknown,) = list(Catalog.from_mapping(_raw(), source="t.json"))
    assert unknown.features is None and unknown.supports("documents")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"features": ["parallel_tools"]}, "'parallel_tools' needs 'tools'"),
        ({"features": ["images"], "modalities": ["text"]}, "'images' needs the 'image' modality"),
        ({"features": ["telepathy"]}, "features"),
    ],
)
def test_schema_checks_features(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogError) as caught:
        Catalog.from_mapping(copy.deepcopy(_raw(**changes)), source="t.json")
    assert message in str(caught.value) and "t.json" in str(caught.value)


def test_every_openai_entry_records_its_features() -> None:
    openai = [info for info in load_catalog() if info.provider == "openai"]
    assert openai and all(info.features is not None for info in openai)
