"""Name matching: exact names, listed snapshots, dated/versioned names by rule, other providers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from syrupy.assertion import SnapshotAssertion

from modelwire.catalog import load_catalog
from modelwire.catalog.matching import candidate_names
from modelwire.types import ModelInfo

CAT = load_catalog()

# (provider type, name asked for) -> catalog family; the table is pinned in the golden file.
LOOKUP_TABLE: list[tuple[str, str]] = [
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-2024-08-06"),
    ("openai", "gpt-4o-2024-11-20"),
    ("openai", "gpt-4o-2024-05-13"),  # priced differently: its own entry
    ("openai", "gpt-4o-2025-03-01"),  # an unknown dated snapshot, matched by rule
    ("openai", "GPT-4o-Mini"),
    ("openai", "gpt-4o-mini-2024-07-18"),
    ("openai", "gpt-4.1-nano-2025-04-14"),
    ("openai", "o3-2025-04-16"),
    ("openai", "o4-mini"),
    ("openai", "gpt-5-latest"),
    ("openai", "gpt-5-chat"),
    ("openai", "gpt-5.1-2025-11-13"),
    ("openai", "gpt-4o-mini-tts"),
    ("openai", "gpt-3.5-turbo-0125"),
    ("openai", "o1-mini"),
    ("openai", "chatgpt-4o-latest"),
    ("openai", "gpt-4o-realtime-preview-2024-12-17"),
    ("openai", "claude-sonnet-4-5"),  # another vendor's model
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-sonnet-4-5-20250929"),
    ("anthropic", "claude-sonnet-4-5@20250929"),
    ("anthropic", "claude-sonnet-4-20250514"),
    ("anthropic", "claude-sonnet-4"),
    ("anthropic", "claude-opus-4-1-20250805"),
    ("anthropic", "claude-haiku-4-5-20251001"),
    ("anthropic", "claude-3-5-haiku-20241022"),
    ("anthropic", "claude-3-5-haiku"),
    ("anthropic", "claude-3-5-sonnet-20240620"),
    ("anthropic", "claude-3-7-sonnet-latest"),
    ("anthropic", "claude-3-haiku-20240307"),
    ("anthropic", "claude-2.1"),
    ("google", "gemini-2.5-flash"),
    ("google", "models/gemini-2.5-pro"),
    ("google", "models/gemini-2.0-flash-001"),
    ("google", "gemini-1.5-pro-latest"),
    ("google", "gemini-1.5-flash-002"),
    ("google", "gemini-2.5-flash-preview-09-2025"),
    ("google", "gemini-2.5-flash-preview-05-20"),  # preview priced differently: no match
    ("google", "gemini-2.5-flash-lite"),
    ("google", "gemini-exp-1206"),
    ("mock", "gpt-4o-mini"),
    ("openai_compatible", "gpt-4o"),
]


def test_lookup_golden_table(snapshot: SnapshotAssertion) -> None:
    table = {f"{ptype}:{name}": CAT.match(ptype, name) for ptype, name in LOOKUP_TABLE}
    assert sum(v is not None for v in table.values()) >= 20
    assert table == snapshot


def test_lookup_returns_the_asked_name_with_family_metadata() -> None:
    info = CAT.lookup("openai", "gpt-4o-2024-08-06")
    assert info is not None
    family = CAT.entries["openai:gpt-4o"]
    assert info.id == "openai:gpt-4o-2024-08-06"
    assert (info.provider, info.name, info.provider_type) == (
        "openai",
        "gpt-4o-2024-08-06",
        "openai",
    )
    assert info.cost == family.cost
    assert info.context_window == family.context_window
    assert info.capabilities == family.capabilities
    assert info.source == "catalog"


def test_lookup_of_a_catalog_name_is_the_entry_itself() -> None:
    assert CAT.lookup("openai", "gpt-4o-mini") is CAT.entries["openai:gpt-4o-mini"]


def test_exact_entry_beats_rule() -> None:
    old = CAT.lookup("openai", "gpt-4o-2024-05-13")
    new = CAT.lookup("openai", "gpt-4o-2024-08-06")
    assert old is not None and new is not None
    assert old.cost is not None and new.cost is not None
    assert old.cost.input_per_mtok == Decimal("5.00")
    assert new.cost.input_per_mtok == Decimal("2.50")


def test_for_provider_rekeys_the_vendor_models() -> None:
    work = CAT.for_provider("work", "openai")
    vendor = [i for i in CAT if i.provider_type == "openai"]
    assert [i.name for i in work] == [i.name for i in vendor]
    assert all(i.id == f"work:{i.name}" and i.provider == "work" for i in work)
    assert all(i.provider_type == "openai" for i in work)
    mini = next(i for i in work if i.name == "gpt-4o-mini")
    assert mini.cost == CAT.entries["openai:gpt-4o-mini"].cost
    assert CAT.for_provider("openai", "openai") == vendor


@pytest.mark.parametrize("ptype", ["mock", "openai_compatible", "huggingface", ""])
def test_for_provider_without_catalog_entries(ptype: str) -> None:
    assert CAT.for_provider("x", ptype) == []
    assert CAT.lookup(ptype, "gpt-4o") is None


def test_find_by_name_across_vendors() -> None:
    for name, vendor in [
        ("gpt-4o-mini", "openai"),
        ("claude-haiku-4-5", "anthropic"),
        ("models/gemini-2.5-flash", "google"),
    ]:
        info = CAT.find_by_name(name)
        assert info is not None
        assert info.provider_type == vendor
        assert info.id == f"{vendor}:{name}"
    assert CAT.find_by_name("llama3.1") is None


def test_price_for_vendor_and_mock_ids() -> None:
    mini = CAT.entries["openai:gpt-4o-mini"].cost
    assert mini is not None
    assert CAT.price_for("openai:gpt-4o-mini") == mini
    assert CAT.price_for("mock:gpt-4o-mini") == mini
    assert CAT.price_for("work:gpt-4o-mini-2024-07-18") == mini
    assert CAT.price_for("gpt-4o-mini") == mini
    assert (
        CAT.price_for("mock:claude-sonnet-4-5") == CAT.entries["anthropic:claude-sonnet-4-5"].cost
    )
    assert CAT.price_for("mock:echo") is None
    assert CAT.price_for("mock:") is None
    # a vendor id is looked up under that vendor only
    assert CAT.price_for("openai:claude-sonnet-4-5") is None
    assert mini.input_per_mtok == Decimal("0.15")
    assert mini.output_per_mtok == Decimal("0.60")
    assert mini.cache_read_per_mtok == Decimal("0.075")


def test_retired_models_are_flagged_unavailable() -> None:
    retired = [i for i in CAT if not i.available]
    assert {i.id for i in retired} >= {
        "anthropic:claude-3-5-sonnet-latest",
        "google:gemini-1.5-pro",
    }
    for info in retired:
        assert info.unavailable_reason is not None
        assert info.unavailable_reason.startswith(f"retired by {info.provider_type} on ")
        assert info.is_priced  # old usage can still be priced
    assert CAT.entries["openai:gpt-4o-mini"].available


names = st.sampled_from(
    [(r.vendor, n) for r in CAT.records.values() for n in (r.name, *r.snapshots)]
)
years = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
suffixes = st.one_of(
    years.map(lambda d: f"-{d:%Y%m%d}"),
    years.map(lambda d: f"-{d:%Y-%m-%d}"),
    st.integers(1, 9999).map(lambda n: f"-{n:03d}"),
    st.just("-latest"),
)


@given(names, suffixes, st.booleans(), st.booleans())
def test_any_versioned_name_finds_its_family(
    pair: tuple[str, str], suffix: str, prefix: bool, upper: bool
) -> None:
    vendor, name = pair
    family = CAT.match(vendor, name)
    assert family is not None
    asked = ("models/" if prefix else "") + name + suffix
    asked = asked.upper() if upper else asked
    assert CAT.match(vendor, asked) == family
    info = CAT.lookup(vendor, asked)
    assert isinstance(info, ModelInfo)
    assert info.name == asked
    assert info.cost == CAT.entries[family].cost


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-./", max_size=30))
def test_candidates_start_with_the_normalised_name(name: str) -> None:
    found = list(candidate_names(f"  {name.upper()} "))
    assert found[0] == name
    assert len(found) <= 5
