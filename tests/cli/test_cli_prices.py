"""``modelwire prices``: every model's prices at 80 columns, one model in full, configuration
overrides, JSON for scripts, and one clear line (exit 2) for an unknown model or provider."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelwire.catalog import load_catalog
from modelwire.cli.prices_cmd import in_force
from modelwire.types import ModelCost

runner = CliRunner()
NARROW = {"COLUMNS": "80", "OPENAI_API_KEY": None, "ANTHROPIC_API_KEY": None}
CAT = load_catalog()

CONFIG = """\
providers:
  mock: {type: mock}
  anthropic: {api_key: test-key}
models:
  mock:gpt-4o-mini: {aliases: [mini]}
  mock:own: {cost: {input_per_mtok: "1.00", output_per_mtok: "2.00"}}
  anthropic:claude-sonnet-4-5:
    cost: {input_per_mtok: "2.00", tool_use_fees: {web_search: "0.02"}}
usage: {enabled: false}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "modelwire.yaml"
    path.write_text(CONFIG)
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    from modelwire.cli.app import app

    result = runner.invoke(app, ["prices", *args], env=NARROW)
    return result.exit_code, result.stdout, result.stderr


def test_every_catalog_model_in_80_columns(config: Path) -> None:
    code, out, _ = invoke("-c", str(config))
    assert code == 0
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80, out
    names = {line.split()[0] for line in out.splitlines() if line.strip()}
    for info in CAT:
        assert info.name in names, info.id
    assert "own" in names  # a configured model with its own price
    assert f"Source: {CAT.source}" in out


def test_provider_filter_and_override_note(config: Path) -> None:
    code, out, _ = invoke("-c", str(config), "-p", "anthropic")
    assert code == 0
    assert "gpt-4o" not in out
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["claude-sonnet-4-5"])
    assert lines[at].split()[1:3] == ["$2", "$15"]  # configured input, catalog output
    notes = lines[at].split()[6:]  # the notes column wraps onto the lines below
    for line in lines[at + 1 :]:
        if line[:30].strip():
            break
        notes += line.split()
    assert notes == ["1h", "tools", "tier", "conf"]


def test_one_model_in_full(config: Path) -> None:
    code, out, _ = invoke("-c", str(config), "anthropic:claude-opus-4-6")
    assert code == 0
    assert "from 2026-03-13:" in out
    assert "1h cache write $10" in out
    assert "web_search: $0.01 per use" in out
    assert "before that, from the start:" in out
    assert "above 200,000 input tokens: input $10  output $37.5" in out
    assert "source: genai-prices 0.2.5: anthropic/claude-opus-4-6" in out


def test_one_model_overridden_by_configuration(config: Path) -> None:
    code, out, _ = invoke("-c", str(config), "claude-sonnet-4-5")
    assert code == 0
    assert "input $2  output $15" in out
    assert "web_search: $0.02 per use" in out
    assert "source: configuration (over genai-prices 0.2.5: anthropic/claude-sonnet-4-5)" in out
    tail = out.split("configuration overrides the catalog price:")[1]
    assert "input $3  output $15" in tail and "web_search: $0.01 per use" in tail


def test_an_alias_and_a_catalog_snapshot_resolve(config: Path) -> None:
    code, out, _ = invoke("-c", str(config), "mini")
    assert code == 0 and out.startswith("mock:gpt-4o-mini ")
    assert "input $0.15  output $0.6" in out
    code, out, _ = invoke("-c", str(config), "claude-haiku-4-5-20251001")
    assert code == 0 and "input $1  output $5" in out


def test_json_for_scripts(config: Path) -> None:
    code, out, _ = invoke("-c", str(config), "--json", "-p", "anthropic")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)}
    sonnet = rows["anthropic:claude-sonnet-4-5"]
    assert sonnet["overridden_by_configuration"] is True
    assert sonnet["prices"]["input_per_mtok"] == "2.00"
    assert sonnet["catalog_prices"]["input_per_mtok"] == "3.00"
    assert sonnet["prices"]["tiers"][0]["above_input_tokens"] == 200000
    opus = rows["anthropic:claude-opus-4-6"]
    assert opus["overridden_by_configuration"] is False and opus["catalog_prices"] is None
    assert opus["in_force_today"]["effective_date"] == "2026-03-13"
    assert Decimal(opus["prices"]["cache_write_1h_per_mtok"]) == Decimal(10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("gpt-4o-mimi",), "unknown model 'gpt-4o-mimi' (did you mean 'mock:gpt-4o-mini', "),
        (("-p", "anthropc"), "no provider 'anthropc' (did you mean 'anthropic'?)"),
    ],
)
def test_unknown_names_are_one_line_exit_2(
    config: Path, args: tuple[str, ...], message: str
) -> None:
    code, out, err = invoke("-c", str(config), *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err


def test_in_force_picks_the_price_by_date() -> None:
    cost = CAT.entries["google:gemini-3.6-flash"].cost
    assert cost is not None and cost.effective_date is not None
    before = in_force(cost, cost.effective_date.replace(day=1, month=1, year=2026))
    assert before.input_per_mtok == Decimal("0.75")
    assert in_force(cost, cost.effective_date) is cost
    undated = ModelCost(input_per_mtok=Decimal(1))
    assert in_force(undated, cost.effective_date) is undated
