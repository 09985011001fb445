"""tools/check_catalog_prices.py: exact per-token conversion and disagreement reporting."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from modelwire.catalog import load_catalog
from tests.support.paths import ROOT
from tools import check_catalog_prices as check

CAT = load_catalog()


def _entry(provider: str, inp: float, out: float, cr: float | None = None) -> dict[str, Any]:
    e: dict[str, Any] = {
        "litellm_provider": provider,
        "mode": "chat",
        "input_cost_per_token": inp,
        "output_cost_per_token": out,
    }
    if cr is not None:
        e["cache_read_input_token_cost"] = cr
    return e


def test_per_mtok_is_exact() -> None:
    assert check.per_mtok(2.5e-06) == Decimal("2.5")
    assert check.per_mtok(1.5e-07) == Decimal("0.15")
    assert check.per_mtok(7.5e-08) == Decimal("0.075")
    assert check.per_mtok(3.75e-08) == Decimal("0.0375")
    assert check.per_mtok(None) is None


def test_agreeing_and_disagreeing_entries() -> None:
    ref = {
        "gpt-4o-mini": _entry("openai", 1.5e-07, 6e-07, 7.5e-08),  # agrees
        "gpt-4o": _entry("openai", 3e-06, 1e-05, 1.25e-06),  # input disagrees
        "gemini/gemini-2.5-flash": {
            **_entry("gemini", 3e-07, 2.5e-06, 3e-08),
            "max_input_tokens": 1,
        },
        "claude-sonnet-4-5": _entry("bedrock", 3e-06, 1.5e-05),  # not first-party: missing
        "gpt-4o-2024-11-20": _entry("openai", 2.5e-06, 1e-05),  # cache_read absent in reference
    }
    findings = check.check(CAT, ref)
    prices = {(f.model_id, f.name, f.message) for f in findings if f.kind == "price"}
    assert prices == {
        ("openai:gpt-4o", "gpt-4o", "input ours 2.5 vs reference 3"),
        ("openai:gpt-4o", "gpt-4o-2024-11-20", "cache_read ours 1.25 vs reference None"),
    }
    limits = [f for f in findings if f.kind == "limit"]
    assert [(f.model_id, f.name) for f in limits] == [
        ("google:gemini-2.5-flash", "gemini-2.5-flash")
    ]
    missing = {(f.model_id, f.name) for f in findings if f.kind == "missing"}
    assert ("anthropic:claude-sonnet-4-5", "claude-sonnet-4-5") in missing
    assert ("openai:gpt-4o-mini", "gpt-4o-mini") not in missing


def test_mirrors_and_new_models() -> None:
    ref = {
        "anthropic.claude-3-opus-20240229-v1:0": _entry("bedrock", 1.5e-05, 7.5e-05, 1.5e-06),
        "gpt-99": _entry("openai", 1e-06, 2e-06),
    }
    findings = check.check(CAT, ref, mirrors=True, new=True)
    mirror = [f for f in findings if f.kind == "mirror"]
    assert len(mirror) == 1
    assert mirror[0].message.startswith("anthropic.claude-3-opus-20240229-v1:0: cache_write ours")
    new = [f for f in findings if f.kind == "new"]
    assert [(f.model_id, f.message) for f in new] == [("openai:gpt-99", "reference price 1/2")]


def test_command_line_exit_status(tmp_path: Path) -> None:
    ref = tmp_path / "prices.json"
    ref.write_text(json.dumps({"gpt-4o-mini": _entry("openai", 1.5e-07, 6e-07, 7.5e-08)}))
    script = str(ROOT / "tools" / "check_catalog_prices.py")
    ok = subprocess.run(
        [sys.executable, script, str(ref)], capture_output=True, text=True, timeout=60, check=False
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 price" in ok.stdout
    ref.write_text(json.dumps({"gpt-4o-mini": _entry("openai", 1.5e-07, 7e-07, 7.5e-08)}))
    bad = subprocess.run(
        [sys.executable, script, str(ref)], capture_output=True, text=True, timeout=60, check=False
    )
    assert bad.returncode == 1
    assert "output ours 0.6 vs reference 0.7" in bad.stdout
