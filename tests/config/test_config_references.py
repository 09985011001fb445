"""Every id a configuration refers to is checked: group members, fallbacks, alias targets and the
default model; ``config check`` also asks the discovery cache about listing providers' models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelwire.cli.app import app
from modelwire.config.loader import load_config, parse_config_text
from modelwire.config.schema import Config
from modelwire.discovery.cache import CachedListing, DiscoveryCache, cache_key
from modelwire.discovery.config_check import check_config
from modelwire.errors import ConfigError
from modelwire.providers.base import ProviderContext, discovered_model

KEYS = {"OPENAI_API_KEY": "sk-refs-test-0001"}
NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def problems_of(text: str, env: dict[str, str] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, "r.yaml", env=KEYS if env is None else env)
    return info.value.problems


def test_everything_that_resolves() -> None:
    text = """
providers:
  local: {type: openai_compatible, base_url: "http://127.0.0.1:9/v1"}
  hf: {type: huggingface_local}
models:
  mock:alpha: {aliases: [a], fallbacks: [mock:beta, local:anything, mini]}
  openai:gpt-4o-mini: {aliases: [mini], fallbacks: [gpt-4o, openai:gpt-4o-2024-08-06]}
  openai:gpt-9-future: {}
groups:
  g:
    members: [a, mini, mock:never-configured, local:x, hf:some/repo, gpt-4o, openai:gpt-9-future]
    aliases: [gee]
aliases:
  fast: mini
  team: g
  team2: gee
  chained: fast
  snap: openai:gpt-4o-2024-08-06
default_model: chained
"""
    cfg = parse_config_text(text, "r.yaml", env=KEYS)
    assert cfg.default_model == "chained"
    for target in ("auto", "team", "g", "gee", "openai:o3"):
        parse_config_text(f"default_model: {target}\n{text.split('default_model')[0]}", env=KEYS)


def test_a_listing_providers_model_the_catalog_does_not_know_passes_load_config() -> None:
    cfg = parse_config_text("groups: {g: {members: [openai:gpt-9-preview]}}\n", env=KEYS)
    assert cfg.groups["g"].members == ["openai:gpt-9-preview"]


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        (
            "groups: {g: {members: [mock:a, gtp-4o]}}\n",
            "r.yaml:1 groups.g.members[1]",
            "member 'gtp-4o' is not a configured model, alias or catalog model of a configured "
            "provider (a model only a provider's list has needs its full '<provider>:<name>' id); "
            "did you mean 'gpt-4o'",
        ),
        (
            "models:\n  mock:a: {fallbacks: [opnai:gpt-4o]}\n",
            "r.yaml:2 models.mock:a.fallbacks[0]",
            "fallback 'opnai:gpt-4o' names provider 'opnai', which is not configured "
            "(configured providers: mock, openai); did you mean 'openai:gpt-4o'",
        ),
        (
            "aliases: {fast: mock-a}\nmodels: {mock:a: {}}\n",
            "r.yaml:1 aliases.fast",
            "alias target 'mock-a' is not a configured model, alias, group or catalog model",
        ),
        (
            "default_model: autoo\n",
            "r.yaml:1 default_model",
            "default model 'autoo' is not a configured model, alias, group or catalog model",
        ),
        (
            "groups:\n  g: {members: [mock:a]}\n  h: {members: [g]}\n",
            "r.yaml:3 groups.h.members[0]",
            "member 'g' is a group; a member must be a model (groups do not nest)",
        ),
        (
            "groups:\n  g: {members: [mock:a]}\naliases: {team: g}\nmodels: {mock:b: {fallbacks: [team]}}\n",
            "r.yaml:4 models.mock:b.fallbacks[0]",
            "fallback 'team' is an alias of the group 'g'; a fallback must be a model",
        ),
        (
            "aliases: {a: b, b: c, c: a}\n",
            "r.yaml:1 aliases.a",
            "alias 'a' leads back to itself (a -> b -> c -> a)",
        ),
        (
            "groups: {g: {members: ['mock:']}}\n",
            "r.yaml:1 groups.g.members[0]",
            "member 'mock:' has no model name after ':'",
        ),
        (
            "providers: {work: {type: openai, api_key: k}}\ngroups: {g: {members: [gpt-4o]}}\n",
            "r.yaml:2 groups.g.members[0]",
            "member 'gpt-4o' is ambiguous: it is the name of 'openai:gpt-4o', 'work:gpt-4o'; "
            "write the full id",
        ),
    ],
)
def test_references_that_cannot_resolve_are_load_config_problems(
    text: str, location: str, message: str
) -> None:
    problems = problems_of(text)
    assert (location, problems[0][1]) == problems[0] and problems[0][1].startswith(message), (
        problems
    )


def test_every_bad_reference_is_reported_at_once() -> None:
    text = (
        "models:\n  mock:a: {fallbacks: [nope1]}\n"
        "groups:\n  g: {members: [nope2, mock:a, nope3]}\n"
        "aliases: {x: nope4}\n"
        "default_model: nope5\n"
    )
    locations = [loc for loc, _ in problems_of(text)]
    assert locations == [
        "r.yaml:2 models.mock:a.fallbacks[0]",
        "r.yaml:4 groups.g.members[0]",
        "r.yaml:4 groups.g.members[2]",
        "r.yaml:5 aliases.x",
        "r.yaml:6 default_model",
    ]


def test_references_from_the_environment_are_located_at_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env={**KEYS, "MODELWIRE_DEFAULT_MODEL": "mini"})
    [(location, message)] = info.value.problems
    assert location == "$MODELWIRE_DEFAULT_MODEL default_model"
    assert message.startswith("default model 'mini' is not a configured model")


# --- the discovery cache (config check) ---------------------------------------------------------

CHECKED = """
models:
  openai:gpt-4o-mini: {fallbacks: [openai:gpt-9-future]}
groups:
  g: {members: [openai:gpt-4o, openai:gpt-9-futur]}
"""


def _write_cache(cfg: Config, directory: Path, names: list[str], fetched_at: datetime) -> None:
    contexts = {name: ProviderContext(name, p) for name, p in cfg.providers.items()}
    ctx = contexts["openai"]
    listing = CachedListing(
        provider="openai",
        type="openai",
        base_url=None,
        fetched_at=fetched_at,
        models=tuple(discovered_model(ctx, n) for n in names),
    )
    DiscoveryCache(directory, cache_key(contexts)).store({"openai": listing})


@pytest.fixture
def checked_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "modelwire.yaml"
    path.write_text(CHECKED)
    return path


def test_without_a_cached_list_an_unknown_listing_model_is_a_warning(
    checked_file: Path, tmp_path: Path
) -> None:
    outcome = check_config(checked_file, env=KEYS, cache_dir=tmp_path / "cache", now=NOW)
    assert outcome.problems == [] and outcome.config is not None
    assert [loc for loc, _ in outcome.warnings] == [
        f"{checked_file}:3 models.openai:gpt-4o-mini.fallbacks[0]",
        f"{checked_file}:5 groups.g.members[1]",
    ]
    assert "no model list of 'openai' is cached" in outcome.warnings[0][1]
    assert "did you mean 'openai:gpt-4o'" not in outcome.warnings[0][1]


def test_a_fresh_cached_list_decides(checked_file: Path, tmp_path: Path) -> None:
    cfg = load_config(checked_file, env=KEYS)
    _write_cache(cfg, tmp_path / "cache", ["gpt-4o", "gpt-9-future"], NOW - timedelta(minutes=5))
    outcome = check_config(checked_file, env=KEYS, cache_dir=tmp_path / "cache", now=NOW)
    assert outcome.warnings == [] and outcome.config is None
    [(location, message)] = outcome.problems
    assert location == f"{checked_file}:5 groups.g.members[1]"
    assert message.startswith(
        "member 'openai:gpt-9-futur': 'openai' does not list a model 'gpt-9-futur' (model "
        "list cached 2026-01-10 11:55 UTC) and the catalog does not know it; did you mean "
        "'openai:gpt-9-future'"
    )


def test_an_old_cached_list_only_warns(checked_file: Path, tmp_path: Path) -> None:
    cfg = load_config(checked_file, env=KEYS)
    _write_cache(cfg, tmp_path / "cache", ["gpt-4o"], NOW - timedelta(days=3))
    outcome = check_config(checked_file, env=KEYS, cache_dir=tmp_path / "cache", now=NOW)
    assert outcome.problems == [] and len(outcome.warnings) == 2
    assert all("older than discovery.ttl_s" in message for _, message in outcome.warnings)


def test_a_cached_list_of_another_provider_set_is_not_used(
    checked_file: Path, tmp_path: Path
) -> None:
    other = parse_config_text("providers: {local: {type: openai_compatible}}\n", env=KEYS)
    _write_cache(other, tmp_path / "cache", ["gpt-9-futur"], NOW)
    outcome = check_config(checked_file, env=KEYS, cache_dir=tmp_path / "cache", now=NOW)
    assert outcome.problems == [] and len(outcome.warnings) == 2


def test_a_corrupt_cache_counts_as_none(checked_file: Path, tmp_path: Path) -> None:
    cfg = load_config(checked_file, env=KEYS)
    _write_cache(cfg, tmp_path / "cache", ["gpt-4o"], NOW)
    for path in (tmp_path / "cache").iterdir():
        path.write_bytes(b"\x00not json")
    outcome = check_config(checked_file, env=KEYS, cache_dir=tmp_path / "cache", now=NOW)
    assert outcome.problems == [] and len(outcome.warnings) == 2


def test_cli_config_check_prints_warnings_and_problems(checked_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["config", "check", "modelwire.yaml"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK modelwire.yaml:")
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 2 and all(w.startswith("warning: modelwire.yaml:") for w in warnings)

    from modelwire.discovery.service import default_cache_dir

    cfg = load_config(checked_file, env=KEYS)
    # the user cache dir is a temporary one in tests (tests/conftest.py)
    _write_cache(cfg, default_cache_dir(), ["gpt-4o", "gpt-9-future"], datetime.now(UTC))
    result = runner.invoke(app, ["config", "check", "modelwire.yaml"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()  # one problem: one line
    line = line.removeprefix("error: ")
    assert line.startswith(
        "modelwire.yaml:5 groups.g.members[1]: member 'openai:gpt-9-futur': 'openai' does not "
        "list a model 'gpt-9-futur' (model list cached "
    )
    assert "did you mean 'openai:gpt-9-future'" in line
