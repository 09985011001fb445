"""``modelwire ask`` routing flags and ``modelwire health``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelwire.cli.app import app

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "modelwire.yaml"
    path.write_text(
        "providers:\n"
        "  openai: {type: mock, error_rate: 1.0, error_kinds: [server]}\n"
        "  anthropic: {type: mock}\n"
        "models:\n"
        "  openai:gpt-4o-mini: {aliases: [mini], capabilities: {code: strong}}\n"
        "  anthropic:claude-haiku-4-5: {capabilities: {code: strong, reasoning: strong}}\n"
        "groups:\n"
        "  smart: {strategy: failover, members: [openai:gpt-4o-mini, anthropic:claude-haiku-4-5]}\n"
        "usage: {enabled: false}\n"
        "retry: {base_delay_s: 0, max_delay_s: 0, max_attempts: 1}\n"
    )
    return path


def test_ask_with_providers_builds_a_group_that_fails_over(config_file: Path) -> None:
    result = runner.invoke(
        app,
        [
            "ask",
            "-c",
            str(config_file),
            "--providers",
            "openai",
            "anthropic",
            "--provider-strategy",
            "failover",
            "--capabilities",
            "code:strong",
            "reasoning:moderate",
            "--task-type",
            "code_generation",
            "--json",
            "write a sort function",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["model_id"] == "anthropic:claude-haiku-4-5"  # openai member always fails
    assert body["attempts"] >= 1


def test_ask_auto_with_task_type(config_file: Path) -> None:
    result = runner.invoke(
        app, ["ask", "-c", str(config_file), "--task-type", "code_generation", "--json", "hi"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["model_id"] == "anthropic:claude-haiku-4-5"


def test_ask_group_by_name(config_file: Path) -> None:
    result = runner.invoke(app, ["ask", "-c", str(config_file), "smart", "hello", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["model_id"] == "anthropic:claude-haiku-4-5"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider-strategy", "random", "hi"], "--provider-strategy must be one of"),
        (["mini", "--task-type", "code_generation", "hi"], "need a group"),
        (["--task-type", "cooking", "hi"], "cooking"),
        (["mini", "extra", "hi"], "unexpected argument"),
    ],
)
def test_ask_bad_input_exits_2(config_file: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["ask", "-c", str(config_file), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_health_probe_reports_models_and_breakers(config_file: Path) -> None:
    result = runner.invoke(app, ["health", "-c", str(config_file), "--probe", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["probes"]["anthropic:claude-haiku-4-5"] == "ok"
    assert report["probes"]["openai:gpt-4o-mini"].startswith("ProviderUnavailableError")
    assert report["models"]["openai:gpt-4o-mini"]["errors"] >= 1
    assert [m["model_id"] for m in report["groups"]["smart"]["members"]] == [
        "openai:gpt-4o-mini",
        "anthropic:claude-haiku-4-5",
    ]
    table = runner.invoke(app, ["health", "-c", str(config_file)])
    assert table.exit_code == 0 and "group smart" in table.output


def test_ask_unknown_provider_suggests(config_file: Path) -> None:
    from modelwire.errors import ModelNotFoundError

    result = runner.invoke(app, ["ask", "-c", str(config_file), "--providers", "opnai", "hi"])
    assert isinstance(result.exception, ModelNotFoundError)  # main() maps it to exit 2
    assert "did you mean 'openai'" in str(result.exception)
