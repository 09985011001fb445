"""``modelwire models --recommend CAP --tier T``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from modelwire.cli.app import app

runner = CliRunner()


def test_recommend_exact_match() -> None:
    result = runner.invoke(app, ["models", "--recommend", "code", "--tier", "small"])
    assert result.exit_code == 0, result.output
    assert "Qwen/Qwen2.5-Coder-3B-Instruct" in result.output
    assert "recommended for this capability and tier" in result.output
    assert "requirements not checked" in result.output


def test_recommend_falls_back_to_a_smaller_tier_json() -> None:
    args = ["models", "--recommend", "chat", "--tier", "xlarge", "--gpu-memory", "80", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["model"] == "Qwen/Qwen2.5-32B-Instruct"
    assert (data["via"], data["found_tier"]) == ("smaller_tier", "large")
    assert data["system"]["gpu_memory_gb"] == 80
    assert "needs 150 GB" in data["skipped"][0]


def test_recommend_other_capability() -> None:
    args = ["models", "--recommend", "code", "--tier", "xlarge", "--gpu-memory", "192"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "meta-llama/Llama-3.3-70B-Instruct" in result.output
    assert "found under chat / xlarge" in result.output


def test_recommend_errors_are_one_line() -> None:
    unknown = runner.invoke(app, ["models", "--recommend", "poetry"])
    assert unknown.exit_code == 2
    assert "no recommended model for 'poetry'" in unknown.output
    bad_tier = runner.invoke(app, ["models", "--recommend", "chat", "--tier", "huge"])
    assert bad_tier.exit_code == 2 and "unknown size tier 'huge'" in bad_tier.output
    assert "Traceback" not in unknown.output + bad_tier.output
