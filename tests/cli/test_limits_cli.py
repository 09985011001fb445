"""``modelwire limits`` and the limits part of ``usage summary``, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelwire.cli.app import app
from modelwire.errors import ConfigError

runner = CliRunner(env={"COLUMNS": "80"})


@pytest.fixture
def config(tmp_path: Path) -> Path:
    db = tmp_path / "usage.db"
    path = tmp_path / "modelwire.yaml"
    path.write_text(
        "providers: {mock: {type: mock}}\n"
        'models: {"mock:gpt-4o-mini": {}}\n'
        f"usage: {{database: '{db}'}}\n"
        "limits:\n"
        "  timezone: Europe/Berlin\n"
        "  rules:\n"
        "    - {budget: 5/month, caller: alice}\n"
        "    - {requests_per_minute: 60, model: 'mock:*'}\n"
    )
    return path


def test_limits_shows_spent_reserved_left_and_resets(config: Path) -> None:
    asked = runner.invoke(
        app, ["ask", "mock:gpt-4o-mini", "hello", "--caller", "alice", "-c", str(config)]
    )
    assert asked.exit_code == 0, asked.output
    made = runner.invoke(app, ["keys", "create", "web", "--rpm", "30", "-c", str(config)])
    assert made.exit_code == 0, made.output
    shown = runner.invoke(app, ["limits", "-c", str(config)])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == "limits · resets in Europe/Berlin (month-day hour:minute)"
    assert all(len(line) <= 80 for line in lines)
    assert any(line.split()[:2] == ["$5/month", "caller=alice"] for line in lines)
    assert any("30 req/min" in line and "caller=web" in line for line in lines)
    rows = json.loads(runner.invoke(app, ["limits", "--json", "-c", str(config)]).stdout)
    budget = next(r for r in rows if r["scope"] == "caller=alice")
    assert budget["resets_at"].endswith("+01:00") or budget["resets_at"].endswith("+02:00")
    assert float(budget["spent"]) > 0 and budget["reserved"] == "0"
    rate = next(r for r in rows if r["scope"] == "model=mock:*")
    assert (rate["spent"], rate["left"]) == ("1", "59")
    summary = runner.invoke(app, ["usage", "summary", "-c", str(config)])
    assert summary.exit_code == 0, summary.output
    assert "what is left of the limits" in summary.stdout and "caller=alice" in summary.stdout


def test_no_limits_says_how_to_add_one(tmp_path: Path) -> None:
    path = tmp_path / "modelwire.yaml"
    path.write_text(
        f"providers: {{mock: {{type: mock}}}}\nusage: {{database: '{tmp_path}/u.db'}}\n"
    )
    shown = runner.invoke(app, ["limits", "-c", str(path)])
    assert shown.exit_code == 0 and "no limits" in shown.stderr


def test_a_bad_limit_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "modelwire.yaml"
    path.write_text(
        "providers: {mock: {type: mock}}\nlimits:\n  rules:\n    - {budget: 5/fortnight}\n"
    )
    shown = runner.invoke(app, ["limits", "-c", str(path)])
    assert isinstance(shown.exception, ConfigError)  # the command line prints it, exit 2
    assert "modelwire.yaml:4 limits.rules[0].budget" in str(shown.exception)
    assert "AMOUNT/WINDOW" in str(shown.exception)
