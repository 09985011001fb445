"""Every catalog entry is well-typed, and the schema refuses malformed records."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from modelwire.capabilities import CapabilityStrength
from modelwire.catalog import Catalog, CatalogError, load_catalog, read_bundled_catalog
from modelwire.catalog.schema import KNOWN_CAPABILITIES, VENDORS
from modelwire.types import ModelCost, ModelInfo

RAW: dict[str, Any] = json.loads(read_bundled_catalog())
CAT = load_catalog()
PRICE_KEYS = ("input", "output", "cache_read", "cache_write")


def test_catalog_size_and_vendors() -> None:
    # every chat model of the three vendors that genai-prices 0.2.5 prices (85), give or take
    # what an upgrade of the pin adds
    assert 80 <= len(CAT) <= 150
    per_vendor = {v: sum(i.provider_type == v for i in CAT) for v in VENDORS}
    assert all(n >= 8 for n in per_vendor.values()), per_vendor


def test_prices_are_written_as_strings() -> None:
    for model in RAW["models"]:
        for key in PRICE_KEYS:
            value = model["price"].get(key)
            assert value is None or isinstance(value, str), (model["name"], key, value)


@pytest.mark.parametrize("model_id", list(CAT.entries))
def test_entry_types(model_id: str) -> None:
    info = CAT.entries[model_id]
    record = CAT.records[model_id]
    assert isinstance(info, ModelInfo)
    assert info.id == model_id == f"{info.provider_type}:{info.name}"
    assert info.provider == info.provider_type
    assert info.provider_type in VENDORS
    assert info.source == "catalog"
    assert info.aliases == ()
    cost = info.cost
    assert isinstance(cost, ModelCost)
    assert cost.is_priced
    for price in (
        cost.input_per_mtok,
        cost.output_per_mtok,
        cost.cache_read_per_mtok,
        cost.cache_write_per_mtok,
    ):
        assert price is None or (isinstance(price, Decimal) and price.is_finite() and price >= 0)
    if cost.effective_date is None:  # the source does not date it: no history before it
        assert cost.earlier == ()
    elif cost.effective_date > CAT.catalog_date:  # a scheduled price: the one before is dated
        assert cost.earlier, "a price that starts later needs the price in force until then"
    assert cost.source is not None and cost.source.startswith("genai-prices ")
    assert isinstance(info.context_window, int) and info.context_window > 0
    assert isinstance(info.max_output_tokens, int) and info.max_output_tokens > 0
    assert info.max_output_tokens <= info.context_window
    assert "text" in info.modalities
    assert set(info.modalities) <= {"text", "image", "audio", "video"}
    assert info.capabilities, "every model states at least one capability"
    assert set(info.capabilities) <= KNOWN_CAPABILITIES
    assert all(isinstance(s, CapabilityStrength) for s in info.capabilities.values())
    assert info.available == (record.retired_on is None)
    if info.provider_type == "anthropic":
        assert cost.cache_write_per_mtok is not None  # Anthropic publishes cache-write prices
    elif info.provider_type == "google":
        assert cost.cache_write_per_mtok is None  # Google bills cache storage, not writes
    if info.reasoning:
        assert info.provider_type == "openai"


def test_reasoning_flag_marks_the_max_completion_tokens_models() -> None:
    reasoning = {i.name for i in CAT if i.reasoning}
    assert {"o1", "o3", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5-nano"} <= reasoning
    assert not reasoning & {"gpt-4o", "gpt-4.1", "gpt-5-chat-latest", "claude-sonnet-4-5"}


def test_known_prices() -> None:
    """A few prices spelled out, so a typo in the data file cannot pass unnoticed."""
    expect = {
        "openai:gpt-4o-mini": ("0.15", "0.60"),
        "openai:gpt-4o": ("2.50", "10.00"),
        "openai:gpt-5": ("1.25", "10.00"),
        "anthropic:claude-sonnet-4-5": ("3.00", "15.00"),
        "anthropic:claude-haiku-4-5": ("1.00", "5.00"),
        "google:gemini-2.5-pro": ("1.25", "10.00"),
    }
    for model_id, (inp, out) in expect.items():
        cost = CAT.entries[model_id].cost
        assert cost is not None
        assert (cost.input_per_mtok, cost.output_per_mtok) == (Decimal(inp), Decimal(out))


def _bad(mutate: Any) -> str:
    raw = copy.deepcopy(RAW)
    mutate(raw)
    with pytest.raises(CatalogError) as info:
        Catalog.from_mapping(raw, source="models.json")
    return str(info.value)


def _set(path: str, value: Any) -> Any:
    def mutate(raw: dict[str, Any]) -> None:
        target: Any = raw["models"][0]
        *head, last = path.split(".")
        for key in head:
            target = target[key]
        target[last] = value

    return mutate


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("price.input", 0.15, "write prices as strings"),
        ("price.output", "-1", "non-negative"),
        ("price.cache_read", "abc", "decimal string"),
        ("price.effective_date", "yesterday", "effective_date"),
        ("capabilities", {"telepathy": "strong"}, "unknown capabilities"),
        ("capabilities", {"code": "superb"}, "expected one of"),
        ("status", "retired", "retired_on is required"),
        ("vendor", "mistral", "vendor"),
        ("name", "GPT 5", "is not a model name"),
        ("modalities", ["image"], "must include 'text'"),
        ("max_output_tokens", 10_000_000, "exceeds context_window"),
        ("context_window", 0, "context_window"),
        ("surprise", 1, "Extra inputs are not permitted"),
    ],
)
def test_schema_rejects(path: str, value: Any, message: str) -> None:
    text = _bad(_set(path, value))
    assert message in text
    assert "models.json models.0" in text


def test_schema_rejects_duplicate_names() -> None:
    def dup(raw: dict[str, Any]) -> None:
        raw["models"].append(copy.deepcopy(raw["models"][0]))

    assert "appears more than once" in _bad(dup)

    def snapshot_clash(raw: dict[str, Any]) -> None:
        first = raw["models"][0]
        other = next(m for m in raw["models"][1:] if m["vendor"] == first["vendor"])
        other["snapshots"] = [*other["snapshots"], first["name"]]

    assert "appears more than once" in _bad(snapshot_clash)


def test_schema_rejects_retirement_after_catalog_date() -> None:
    def late(raw: dict[str, Any]) -> None:
        raw["models"][0]["status"] = "retired"
        raw["models"][0]["retired_on"] = "2999-01-01"

    assert "after catalog_date" in _bad(late)
