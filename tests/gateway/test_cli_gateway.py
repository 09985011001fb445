"""``modelwire keys`` and ``modelwire serve`` as a user runs them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modelwire.cli.app import app
from modelwire.gateway.keys import KeyStore
from modelwire.usage.ledger import UsageLedger

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "modelwire.yaml"
    db = tmp_path / "usage.db"
    config.write_text(f"providers: {{mock: {{type: mock}}}}\nusage: {{database: '{db}'}}\n")
    return {"config": str(config), "db": str(db)}


def keys(paths: dict[str, str], *args: str) -> Any:
    return runner.invoke(app, ["keys", *args, "-c", paths["config"]])


def test_create_prints_the_key_once_alone_on_stdout(paths: dict[str, str]) -> None:
    created = keys(paths, "create", "web")
    assert created.exit_code == 0, created.output
    (token,) = created.stdout.splitlines()
    assert token.startswith("mwk_")
    assert "shown this once" in created.stderr and token not in created.stderr
    with UsageLedger(paths["db"]) as ledger:
        (key,) = KeyStore(lambda: ledger.engine).list()
    assert key.name == "web" and key.verify(token)


def test_limits_are_stored_and_said_to_be_enforced(paths: dict[str, str]) -> None:
    created = keys(
        paths, "create", "batch", "--budget", "50/month", "--rpm", "60", "-m", "mock:*,mini"
    )
    assert created.exit_code == 0, created.output
    assert "the gateway enforces the budget and request rate" in created.stderr
    listed = keys(paths, "list", "--json")
    (row,) = json.loads(listed.stdout)
    assert row["budget"] == "50/month" and row["rpm"] == 60
    assert row["models"] == ["mock:*", "mini"] and row["revoked"] is None
    assert created.stdout.strip() not in listed.stdout


def test_list_and_revoke(paths: dict[str, str]) -> None:
    token = keys(paths, "create", "web").stdout.strip()
    keys(paths, "create", "batch")
    table = keys(paths, "list")
    assert table.exit_code == 0 and "web" in table.stdout and "batch" in table.stdout
    assert token not in table.stdout and token[:16] in table.stdout  # its public start only
    revoked = keys(paths, "revoke", "web")
    assert revoked.exit_code == 0 and "revoked key 'web'" in revoked.stderr
    assert "web" not in keys(paths, "list").stdout
    everything = keys(paths, "list", "--all", "--json")
    states = {r["name"]: r["revoked"] is not None for r in json.loads(everything.stdout)}
    assert states == {"web": True, "batch": False}
    again = keys(paths, "create", "web")
    assert again.exit_code == 0 and again.stdout.strip() != token


def test_an_empty_list_says_how_to_make_a_key(paths: dict[str, str]) -> None:
    listed = keys(paths, "list")
    assert listed.exit_code == 0 and "modelwire keys create" in listed.stderr
    assert json.loads(keys(paths, "list", "--json").stdout) == []


def test_serve_help_has_examples() -> None:
    shown = runner.invoke(app, ["serve", "--help"])
    assert shown.exit_code == 0
    assert "Examples" in shown.stdout and "modelwire serve --workers 4" in shown.stdout


def test_serve_without_the_extra_names_it(
    paths: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a)
    )
    refused = runner.invoke(app, ["serve", "-c", paths["config"]])
    assert refused.exit_code == 2
    assert "modelwire[gateway]" in refused.stderr
