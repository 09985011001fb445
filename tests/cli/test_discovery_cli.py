"""``modelwire discover``: tables, JSON, provider errors (exit 0) and configuration errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelwire.cli.app import app
from tools.fake_provider import FakeProviderServer

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_server: FakeProviderServer
) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fake_server.models["openai"] = ["served-model", "gpt-4o-mini"]
    path = tmp_path / "modelwire.yaml"
    path.write_text(
        "providers:\n"
        "  mock: {type: mock}\n"
        f"  local: {{type: openai_compatible, base_url: '{fake_server.url}/v1'}}\n"
        "  broken: {type: openai_compatible, base_url: 'http://127.0.0.1:9/v1'}\n"
        "models:\n"
        "  mock:gpt-4o-mini: {aliases: [mini]}\n"
        "  mock:tiny: {capabilities: {code: basic}}\n"
        "  local:retired-model: {}\n"
        "discovery: {timeout_s: 5}\n"
        "usage: {enabled: false}\n"
    )
    return path


def test_table_shows_new_gone_unpriced_and_errors(config_file: Path) -> None:
    result = runner.invoke(app, ["discover", "-c", str(config_file)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "mock:echo" in out and "new" in out
    assert "local:retired-model" in out and "gone" in out and "not listed by provider" in out
    assert "unpriced" in out
    assert "error" in out and "broken" in out
    # configured and listed: neither new nor gone
    assert not [line for line in out.splitlines() if "mock:gpt-4o-mini " in line]


def test_json_and_cache(config_file: Path) -> None:
    first = runner.invoke(app, ["discover", "--json", "-c", str(config_file)])
    assert first.exit_code == 0, first.output
    body = json.loads(first.output)
    assert body["from_cache"] is False and body["providers"] == ["local", "mock"]
    assert "mock:echo" in body["new"] and "mock:gpt-4o-mini" not in body["new"]
    assert "local:served-model" in body["new"]
    # the mock serves any name, so a configured mock model it does not list is not gone
    assert body["gone"] == ["local:retired-model"]
    assert body["unavailable"]["local:retired-model"].startswith("not listed")
    assert "mock:echo" in body["unpriced"]
    assert list(body["errors"]) == ["broken"]
    assert {m["id"] for m in body["models"]} >= {"mock:echo", "mock:gpt-4o-mini"}
    assert "mock:tiny" not in body["unavailable"]
    second = runner.invoke(app, ["discover", "--json", "-p", "mock", "-c", str(config_file)])
    assert json.loads(second.output)["from_cache"] is True
    third = runner.invoke(
        app, ["discover", "--json", "-p", "mock", "--refresh", "-c", str(config_file)]
    )
    body3 = json.loads(third.output)
    assert body3["from_cache"] is False and body3["errors"] == {}


def test_configuration_errors_exit_2(config_file: Path, tmp_path: Path) -> None:
    unknown = runner.invoke(app, ["discover", "-p", "nope", "-c", str(config_file)])
    assert unknown.exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("providers:\n  mock: {type: mock, latency_ms: -1}\n")
    broken = runner.invoke(app, ["discover", "-c", str(bad)])
    assert broken.exit_code == 2
    assert "latency_ms" in broken.output
    missing = runner.invoke(app, ["discover", "-c", str(tmp_path / "missing.yaml")])
    assert missing.exit_code == 2


def test_missing_sdk_names_the_extra(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a core install (simulated: importing openai fails) the provider's error says which
    extra to install, as ``ask`` does, instead of a bare ModuleNotFoundError."""
    import sys

    monkeypatch.setitem(sys.modules, "openai", None)
    result = runner.invoke(app, ["discover", "--json", "--refresh", "-c", str(config_file)])
    assert result.exit_code == 0, result.output
    errors = json.loads(result.stdout)["errors"]
    assert set(errors) == {"broken", "local"}
    for message in errors.values():
        assert message.startswith("MissingDependencyError: ")
        assert "pip install 'modelwire[openai]'" in message
        assert "ModuleNotFoundError" not in message
    table = runner.invoke(app, ["discover", "--refresh", "-c", str(config_file)])
    assert "pip install 'modelwire[openai]'" in table.stdout.replace("\n", " ")
    asked = runner.invoke(app, ["ask", "-c", str(config_file), "local:served-model", "hi"])
    assert asked.exit_code != 0 and "pip install 'modelwire[openai]'" in str(asked.exception)
