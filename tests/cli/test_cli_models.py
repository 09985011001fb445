"""``modelwire models``: aliases, discovered models (from the cache, no network), why a list is
empty, the whole catalog, and tables that never cut an id or a number at 80 columns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelwire.cli.app import app
from modelwire.discovery.cache import CachedListing, DiscoveryCache, cache_key
from modelwire.registry import ModelRegistry
from modelwire.types import ModelInfo

NARROW = {"COLUMNS": "80"}
runner = CliRunner()

CONFIG = """\
providers:
  mock: {type: mock}
  local: {type: openai_compatible, base_url: "http://127.0.0.1:9/v1"}
models:
  mock:gpt-4o-mini: {aliases: [mini, fast], capabilities: {code: strong}}
  mock:tiny: {capabilities: {code: basic}}
aliases:
  cheap: mock:tiny
groups:
  smart: {strategy: failover, members: [mock:gpt-4o-mini, mock:tiny]}
usage: {enabled: false}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "modelwire.yaml"
    path.write_text(CONFIG)
    return path


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["models", *args], env=env or NARROW)
    return result.exit_code, result.stdout, result.stderr


def assert_narrow_and_whole(out: str) -> None:
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80, out


def test_aliases_groups_and_80_columns(config: Path) -> None:
    code, out, _ = invoke("-c", str(config))
    assert code == 0
    assert_narrow_and_whole(out)
    (row,) = [line.split() for line in out.splitlines() if line.split()[:1] == ["mock:gpt-4o-mini"]]
    assert row[:3] == ["mock:gpt-4o-mini", "mini,", "fast"]
    assert "cheap" in out  # an alias from the top-level aliases: map
    assert "group smart (failover): mock:gpt-4o-mini, mock:tiny" in out


def test_discovered_models_come_from_the_cache_without_network(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelwire.providers.openai import OpenAIChatModel

    def no_network(*_args: object, **_kw: object) -> list[ModelInfo]:
        raise AssertionError("models must not ask the providers")

    monkeypatch.setattr(OpenAIChatModel, "list_models", classmethod(no_network))
    registry = ModelRegistry.from_config(config)
    import platformdirs

    cache = DiscoveryCache(platformdirs.user_cache_dir("modelwire"), cache_key(registry.providers))
    served = ModelInfo(id="local:served-model", provider="local", source="discovered")
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    elsewhere = CachedListing(
        "local", "openai_compatible", "http://127.0.0.2:9/v1", when, (served,)
    )
    cache.store({"local": elsewhere})
    code, out, _ = invoke("-c", str(config))
    assert code == 0 and "served-model" not in out  # listed by another server: not shown
    here = CachedListing("local", "openai_compatible", "http://127.0.0.1:9/v1", when, (served,))
    cache.store({"local": here})
    code, out, _ = invoke("-c", str(config))
    assert code == 0
    assert "local:served-model" in out
    assert "1 discovered (listings cached 2026-03-01 09:30 UTC" in out
    code, out, _ = invoke("-c", str(config), "--json")
    found = {m["id"]: m for m in json.loads(out)}
    assert found["local:served-model"]["source"] == "discovered"
    code, out, _ = invoke("-c", str(config), "--wide")
    (row,) = [line.split() for line in out.splitlines() if "local:served-model" in line]
    assert "discovered" in row


def test_no_keys_says_why_and_how_to_see_the_catalog() -> None:
    code, out, _ = invoke()
    assert code == 0
    (line,) = out.splitlines()
    assert "no provider API key is set" in line and "OPENAI_API_KEY" in line
    assert "modelwire models --catalog" in line


def test_with_a_key_the_vendor_catalog_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-real")
    code, out, _ = invoke()
    assert code == 0
    assert_narrow_and_whole(out)
    assert "anthropic:claude-sonnet-4-5" in out and "openai:" not in out
    assert "unavailable: anthropic:claude-3-5-sonnet-latest (retired" in out.replace("\n", " ")


def test_whole_catalog_at_80_columns_and_wide() -> None:
    from modelwire.catalog import load_catalog

    ids = [i.id for i in load_catalog()]
    code, out, _ = invoke("--catalog")
    assert code == 0
    assert_narrow_and_whole(out)
    for model_id in ids:
        assert model_id in out  # available in the table, retired ones in a line under it
    code, out, _ = invoke("--catalog", "--wide")
    assert code == 0 and "…" not in out
    rows = [line.split() for line in out.splitlines()]
    assert {r[0] for r in rows if r and ":" in r[0] and not r[0].endswith(":")} >= set(ids)
    code, out, _ = invoke("--catalog", "-p", "google", "--json")
    assert {m["provider"] for m in json.loads(out)} == {"google"}


def test_piped_output_without_columns_is_80_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = invoke("--catalog", env={"COLUMNS": ""})
    assert code == 0
    assert_narrow_and_whole(out)


def test_capability_filter_cheapest_first(config: Path) -> None:
    code, out, _ = invoke("-c", str(config), "--capability", "code", "--json")
    assert code == 0
    assert [m["id"] for m in json.loads(out)] == ["mock:gpt-4o-mini", "mock:tiny"]
    code, out, _ = invoke("-c", str(config), "--capability", "code:strong", "--json")
    assert [m["id"] for m in json.loads(out)] == ["mock:gpt-4o-mini"]
    code, out, _ = invoke("-c", str(config), "--capability", "math:exceptional")
    assert code == 0 and out.startswith("no model matches math:exceptional")
