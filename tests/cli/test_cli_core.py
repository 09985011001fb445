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
        "  mock: {type: mock, seed: 3}\n"
        "models:\n"
        "  mock:gpt-4o-mini: {aliases: [mini], capabilities: {code: strong}}\n"
        "  mock:tiny: {capabilities: {code: basic}}\n"
        "usage: {enabled: false}\n"
    )
    return path


def test_models_table_and_json(config_file: Path) -> None:
    result = runner.invoke(app, ["models", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert "mock:gpt-4o-mini" in result.output and "$0.15" in result.output
    result = runner.invoke(
        app, ["models", "--config", str(config_file), "--json", "--capability", "code:strong"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == ["mock:gpt-4o-mini"]
    assert rows[0]["cost"]["input_per_mtok"] == "0.15"


def test_ask_plain_stream_and_json(config_file: Path) -> None:
    plain = runner.invoke(app, ["ask", "mini", "hello", "--config", str(config_file)])
    assert plain.exit_code == 0, plain.output
    assert "mock:gpt-4o-mini" in plain.output and "tokens" in plain.output
    streamed = runner.invoke(app, ["ask", "mini", "hello", "--stream", "-c", str(config_file)])
    assert streamed.exit_code == 0, streamed.output
    assert plain.output.splitlines()[0] == streamed.output.splitlines()[0]
    as_json = runner.invoke(app, ["ask", "mini", "hello", "--json", "-c", str(config_file)])
    body = json.loads(as_json.output)
    assert body["model_id"] == "mock:gpt-4o-mini" and body["usage"]["input_tokens"] > 0


def test_user_errors_are_one_line_and_exit_2(config_file: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "modelwire.cli", "ask", "nope:zzz", "hi", "-c", str(config_file)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(config_file.parent)},
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "unknown model 'nope:zzz'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
