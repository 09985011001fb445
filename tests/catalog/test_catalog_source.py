"""The bundled catalog is genai-prices' data (pinned) plus modelwire's flags, and nothing else.

- drift: regenerating ``models.json`` from the pinned genai-prices and ``flags.json`` gives the
  committed file byte for byte;
- existence: every flags model has a price in the source, and every OpenAI, Anthropic and Gemini
  model the source knows is in the catalog or skipped with a reason;
- golden: the generated price entries of a representative subset, one per kind of charge.
"""

from __future__ import annotations

import json
import subprocess
import sys
from copy import deepcopy
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from syrupy.assertion import SnapshotAssertion

from modelwire.catalog import load_catalog, read_bundled_catalog
from tests.support.paths import ROOT
from tools import gen_catalog_prices as gen

pytest.importorskip("genai_prices")

PROVIDERS = gen.source_providers()
FLAGS = gen.load_flags()
CAT = load_catalog()


def test_pinned_version_is_installed() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"genai-prices=={gen.source_version()}"' in pyproject
    assert CAT.source == f"genai-prices {gen.source_version()}"


def test_committed_catalog_is_what_the_source_generates() -> None:
    expected = gen.generate()
    assert read_bundled_catalog().decode("utf-8") == expected, (
        "src/modelwire/catalog/models.json is stale: run `python tools/gen_catalog_prices.py`"
    )


def test_source_and_flags_agree_about_which_models_exist() -> None:
    result = gen.audit(FLAGS, PROVIDERS)
    assert result.problems == ()
    for (vendor, source_id), name in result.records.items():
        assert f"{vendor}:{name}" in CAT, (vendor, source_id)
    for reason in result.skipped.values():
        assert len(reason) > 20, "say why a model is skipped"
    every = {(v, m.id) for v, p in PROVIDERS.items() for m in p.models}
    assert every == set(result.records) | set(result.skipped)


def _with(flags: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = deepcopy(flags)
    out.update(changes)
    return out


def test_a_flags_model_the_source_does_not_price_is_a_problem() -> None:
    ghost = {**FLAGS["models"][0], "name": "gpt-9-imaginary", "snapshots": []}
    ghost.pop("source_model", None)
    result = gen.audit(_with(FLAGS, models=[*FLAGS["models"], ghost]), PROVIDERS)
    assert result.problems == (
        "openai:gpt-9-imaginary has flags but genai-prices has no price for it",
    )


def test_a_source_model_neither_catalogued_nor_skipped_is_a_problem() -> None:
    skip = deepcopy(FLAGS["skip"])
    group = next(g for g in skip if "whisper-1" in g["models"])
    group["models"].remove("whisper-1")
    result = gen.audit(_with(FLAGS, skip=skip), PROVIDERS)
    assert len(result.problems) == 1
    assert result.problems[0].startswith("openai/whisper-1 is in genai-prices but neither")
    with pytest.raises(gen.SourceError, match="whisper-1"):
        gen.build(_with(FLAGS, skip=skip), PROVIDERS, "0")


def test_a_stale_skip_entry_is_a_problem() -> None:
    skip = [*FLAGS["skip"], {"vendor": "google", "reason": "gone", "models": ["gemini-0"]}]
    result = gen.audit(_with(FLAGS, skip=skip), PROVIDERS)
    assert result.problems == ("skip list names google/gemini-0, which the source lacks",)


def test_check_mode_exit_status(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "tools" / "gen_catalog_prices.py"), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert run("--check").returncode == 0
    stale = tmp_path / "models.json"
    stale.write_text(read_bundled_catalog().decode().replace('"0.15"', '"0.16"', 1))
    result = run("--check", "--output", str(stale))
    assert result.returncode == 1
    assert "out of date" in result.stdout


def test_prices_are_the_sources_exact_decimals() -> None:
    """Every catalog price equals the source's price for the same name, as a Decimal."""
    from datetime import UTC, datetime

    for record in CAT.records.values():
        source_id = next(
            (m.get("source_model") for m in FLAGS["models"] if m["name"] == record.name), None
        )
        provider = PROVIDERS[record.vendor]
        model = (
            next(m for m in provider.models if m.id == source_id)
            if source_id
            else provider.find_model(record.name)
        )
        assert model is not None, record.id
        when = record.price.effective_date
        at = datetime(when.year, when.month, when.day, tzinfo=UTC) if when else None
        source_price = model.get_prices(at) if at else gen.dated_prices(model, "")[-1][1]
        base = source_price.input_mtok
        base = getattr(base, "base", base)
        assert isinstance(base, Decimal)
        assert record.price.input == base, record.id
        fee = source_price.web_searches_kcount
        if fee is not None:
            assert record.price.tool_fees["web_search"] * 1000 == fee, record.id


GOLDEN = {
    "anthropic:claude-sonnet-4-5": "tiers, 1-hour cache writes, web-search fee",
    "anthropic:claude-opus-4-6": "dated history (a tier dropped on a date)",
    "openai:o3": "dated history (the June 2025 price cut), file- and web-search fees",
    "openai:gpt-5.5": "input-size tier",
    "google:gemini-2.5-flash": "audio input price (audio cache reads not modelled)",
    "google:gemini-2.5-pro": "input-size tier",
    "google:gemini-3.6-flash": "a price scheduled after the catalog date",
    "google:gemini-1.5-flash-8b": "priced from a source entry named explicitly in the flags",
}


def test_generated_price_entries_golden(snapshot: SnapshotAssertion) -> None:
    raw = json.loads(read_bundled_catalog())
    by_id = {f"{m['vendor']}:{m['name']}": m for m in raw["models"]}
    picked = {
        model_id: {
            "why": why,
            "price": by_id[model_id]["price"],
            "derived": by_id[model_id]["derived"],
        }
        for model_id, why in GOLDEN.items()
    }
    assert picked == snapshot


prices = st.decimals(min_value=0, max_value=10**6, places=6, allow_nan=False, allow_infinity=False)


@given(prices)
def test_written_prices_keep_their_value(value: Decimal) -> None:
    text = gen._money(value)
    assert Decimal(text) == value
    assert "E" not in text and "e" not in text
    cents = text.partition(".")[2]
    assert len(cents) >= 2


@given(prices)
def test_fees_per_thousand_become_exact_fees_per_use(per_thousand: Decimal) -> None:
    out = gen.convert_price(
        SimpleNamespace(web_searches_kcount=per_thousand, input_mtok=Decimal(1)), "test"
    )
    assert Decimal(out["tool_fees"]["web_search"]) * 1000 == per_thousand
