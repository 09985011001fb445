"""``modelwire config check`` and ``modelwire config show`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from modelwire.cli.app import app

SECRET = "sk-cli-test-secret-5555"
runner = CliRunner()

GOOD = """
providers:
  openai: {api_key: "${MW_CLI_KEY}"}
  local: {type: openai_compatible, base_url: "http://127.0.0.1:8000/v1"}
models:
  openai:gpt-4o-mini: {aliases: [mini]}
groups:
  g: {members: [openai:gpt-4o-mini, local:x]}
"""

BAD = """
providers:
  openai: {api_key: 12345678, timeout_s: 0}
models:
  gpt-4o: {}
groups:
  g: {strategy: fastest, members: [x:y]}
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MW_CLI_KEY", SECRET)
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(BAD)
    return {"good": tmp_path / "good.yaml", "bad": tmp_path / "bad.yaml"}


def test_check_ok(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["config", "check", str(files["good"])])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"OK {files['good']}: 3 providers, 1 model, 1 group"


def test_check_lists_every_problem_and_exits_2(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["config", "check", "bad.yaml"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: 5 configuration problems"
    assert lines[1:] == [
        "bad.yaml:3 providers.openai.api_key: expected a string; got an integer (value hidden)",
        "bad.yaml:3 providers.openai.timeout_s: expected a number > 0.0; got 0",
        "bad.yaml:5 models.gpt-4o: a model key must look like '<provider>:<model>' "
        "(e.g. 'openai:gpt-4o-mini'); got 'gpt-4o'",
        "bad.yaml:7 groups.g.members[0]: member 'x:y' names provider 'x', which is not "
        "configured (configured providers: mock, openai)",
        "bad.yaml:7 groups.g.strategy: expected one of 'failover', 'round_robin', 'weighted', "
        "'cost_optimized', 'latency' or 'task_aware'; got 'fastest'",
    ]
    assert "Traceback" not in result.output and "12345678" not in result.output


def test_check_missing_file_and_defaults(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["config", "check", "nope.yaml"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["error: nope.yaml: file not found"]
    result = runner.invoke(app, ["config", "check"])  # no ./modelwire.yaml, no user file
    assert result.exit_code == 0
    assert result.stdout.startswith(
        "OK built-in defaults (no configuration file found): 1 provider"
    )


def test_check_searches_the_current_directory(files: dict[str, Path]) -> None:
    Path("modelwire.yaml").write_text("caller: here\n")
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 0
    assert result.stdout.startswith("OK ") and "modelwire.yaml: 1 provider" in result.stdout


def test_show_yaml_masks_secrets_and_names_the_source(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["config", "show", str(files["good"])])
    assert result.exit_code == 0, result.output
    first, _, body = result.stdout.partition("\n")
    assert first == f"# source: {files['good']}"
    data = yaml.safe_load(body)
    assert data["providers"]["openai"]["api_key"] == "**********"
    assert data["models"]["openai:gpt-4o-mini"]["aliases"] == ["mini"]
    assert data["providers"]["mock"]["type"] == "mock"
    assert SECRET not in result.output


def test_show_json(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELWIRE_USAGE__DATABASE", "sqlite:///from-env.db")
    result = runner.invoke(app, ["config", "show", "good.yaml", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["source"] == "good.yaml"
    assert payload["config"]["usage"]["database"] == "sqlite:///from-env.db"
    assert payload["config"]["providers"]["openai"]["api_key"] == "**********"
    assert SECRET not in result.output


def test_show_with_problems_exits_2(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["config", "show", "bad.yaml", "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "error: 5 configuration problems" in result.stderr


def test_config_without_subcommand_shows_help() -> None:
    result = runner.invoke(app, ["config"])
    assert "check" in result.output and "show" in result.output
