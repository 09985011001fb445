"""Unit tests of the configuration loader: search order, layers, defaults, locations, secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

import modelwire
from modelwire.config.loader import (
    config_to_dict,
    default_config,
    find_config_file,
    load_config,
    parse_config_text,
)
from modelwire.config.schema import MockProviderConfig, ProviderConfig
from modelwire.errors import ConfigError

SECRET = "sk-unit-test-secret-9876"


def problems_of(text: str, **kw: object) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, "t.yaml", **kw)  # type: ignore[arg-type]
    return info.value.problems


# --- search order ---------------------------------------------------------------------------


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    cwd = tmp_path / "cwd"
    xdg = tmp_path / "xdg"
    (xdg / "modelwire").mkdir(parents=True)
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    return {"cwd": cwd, "user": xdg / "modelwire" / "modelwire.yaml", "tmp": tmp_path}


def test_search_order_user_dir_then_cwd_then_env_var(dirs: dict[str, Path]) -> None:
    assert find_config_file(env={}) is None
    assert load_config(env={}).source is None

    dirs["user"].write_text("caller: from-user-dir\n")
    assert find_config_file(env={}) == dirs["user"]
    assert load_config(env={}).caller == "from-user-dir"

    (dirs["cwd"] / "modelwire.yaml").write_text("caller: from-cwd\n")
    assert load_config(env={}).caller == "from-cwd"

    named = dirs["tmp"] / "named.yaml"
    named.write_text("caller: from-env-var\n")
    cfg = load_config(env={"MODELWIRE_CONFIG": str(named)})
    assert cfg.caller == "from-env-var"
    assert cfg.source == str(named)

    explicit = dirs["tmp"] / "explicit.yaml"
    explicit.write_text("caller: explicit\n")
    assert load_config(explicit, env={"MODELWIRE_CONFIG": str(named)}).caller == "explicit"


def test_env_var_naming_a_missing_file_is_an_error(dirs: dict[str, Path]) -> None:
    (dirs["cwd"] / "modelwire.yaml").write_text("caller: ignored\n")
    with pytest.raises(ConfigError) as info:
        load_config(env={"MODELWIRE_CONFIG": "/nonexistent/mw.yaml"})
    assert info.value.problems == [
        ("/nonexistent/mw.yaml", "file not found (named by MODELWIRE_CONFIG)")
    ]


def test_explicit_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml", env={})
    assert info.value.problems == [(str(tmp_path / "nope.yaml"), "file not found")]


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path, env={})
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"caller: caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(bad, env={})


def test_public_name_and_os_environ_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("caller: ${MW_WHO:-nobody}\n")
    monkeypatch.setenv("MW_WHO", "someone")
    assert modelwire.load_config(path).caller == "someone"


# --- layers and precedence ------------------------------------------------------------------

FILE = """
providers:
  openai: {api_key: from-file, timeout_s: 10}
  mock: {latency_ms: 5, seed: 1}
usage: {database: "sqlite:///file.db", batch_size: 8}
default_model: mock:file
"""


def test_precedence_file_then_env_then_overrides() -> None:
    cfg = parse_config_text(FILE, env={})
    assert cfg.usage.database == "sqlite:///file.db"
    env = {
        "MODELWIRE_USAGE__DATABASE": "sqlite:///env.db",
        "MODELWIRE_DEFAULT_MODEL": "mock:env",
        "MODELWIRE_PROVIDERS__OPENAI__API_KEY": SECRET,
        "MODELWIRE_PROVIDERS__MOCK__SEED": "2",
    }
    cfg = parse_config_text(FILE, env=env)
    assert cfg.usage.database == "sqlite:///env.db"
    assert cfg.usage.batch_size == 8  # untouched by the env layer
    assert cfg.default_model == "mock:env"
    openai = cfg.providers["openai"]
    assert openai.api_key is not None and openai.api_key.get_secret_value() == SECRET
    assert openai.timeout_s == 10
    mock = cfg.providers["mock"]
    assert isinstance(mock, MockProviderConfig) and (mock.seed, mock.latency_ms) == (2, 5)

    cfg = parse_config_text(
        FILE,
        env=env,
        overrides={"usage": {"database": "sqlite:///code.db"}, "providers": {"mock": {"seed": 3}}},
    )
    assert cfg.usage.database == "sqlite:///code.db"
    assert cfg.default_model == "mock:env"
    mock = cfg.providers["mock"]
    assert isinstance(mock, MockProviderConfig) and (mock.seed, mock.latency_ms) == (3, 5)


def test_env_layer_json_values_and_unrelated_variables() -> None:
    env = {
        "MODELWIRE_GROUPS": '{"g": {"members": ["mock:a", "mock:b"]}}',
        "MODELWIRE_MODELS": '{"mock:a": {"aliases": ["a"]}}',
        "MODELWIRE_TEST_POSTGRES_URL": "postgresql://x",  # not a field: ignored
        "MODELWIRE_CONFIG": "",
        "MODELWIRE_CALLER": "",  # empty: ignored
    }
    cfg = parse_config_text("caller: file\n", env=env)
    assert cfg.groups["g"].members == ["mock:a", "mock:b"]
    assert cfg.models["mock:a"].aliases == ["a"]
    assert cfg.caller == "file"


def test_env_layer_problems_name_the_variable() -> None:
    problems = problems_of(
        "usage: {batch_size: 2}\n",
        env={
            "MODELWIRE_USAGE__BATCH_SIZE": "lots",
            "MODELWIRE_DISCOVERY__TTL": "5",
            "MODELWIRE_MODELS": "{not json",
            "MODELWIRE_PROVIDERS__OPENAI__API_KEY": f'["{SECRET}"]',
        },
    )
    assert problems[0] == (
        "$MODELWIRE_MODELS",
        "expected JSON (the value starts with '[' or '{'): "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
    )
    rest = dict(problems[1:])
    assert (
        rest["$MODELWIRE_USAGE__BATCH_SIZE usage.batch_size"] == "expected an integer; got 'lots'"
    )
    assert rest["$MODELWIRE_DISCOVERY__TTL discovery.ttl"].startswith("unknown field 'ttl'")
    assert (
        "(value hidden)" in rest["$MODELWIRE_PROVIDERS__OPENAI__API_KEY providers.openai.api_key"]
    )
    assert SECRET not in repr(problems)


def test_overrides_accept_models_and_report_their_own_location() -> None:
    cfg = parse_config_text(
        "",
        env={},
        overrides={
            "providers": {
                "edge": ProviderConfig(type="openai_compatible", base_url="http://127.0.0.1:1/v1")
            }
        },
    )
    assert cfg.providers["edge"].base_url == "http://127.0.0.1:1/v1"
    problems = problems_of("", env={}, overrides={"usage": {"batch_size": -1}})
    assert problems == [("overrides usage.batch_size", "expected a number >= 1; got -1")]


# --- built-in defaults ----------------------------------------------------------------------


def test_default_config_is_just_mock_without_keys() -> None:
    cfg = default_config(env={})
    assert list(cfg.providers) == ["mock"]
    assert isinstance(cfg.providers["mock"], MockProviderConfig)
    assert load_config(env={}).providers.keys() == {"mock"}


def test_vendor_providers_appear_when_their_keys_are_set() -> None:
    env = {"OPENAI_API_KEY": SECRET, "GEMINI_API_KEY": "g-key", "ANTHROPIC_API_KEY": ""}
    cfg = default_config(env=env)
    assert list(cfg.providers) == ["mock", "openai", "google"]
    key = cfg.providers["openai"].api_key
    assert isinstance(key, SecretStr) and key.get_secret_value() == SECRET
    assert cfg.providers["google"].type == "google"
    # a model of a vendor whose key is set needs no providers: entry
    assert "openai:gpt-4o" in parse_config_text("models: {openai:gpt-4o: {}}", env=env).models


def test_a_file_entry_replaces_the_vendor_default_wholesale() -> None:
    text = "providers:\n  openai: {type: openai_compatible, base_url: http://127.0.0.1:9/v1}\n"
    cfg = parse_config_text(text, env={"OPENAI_API_KEY": SECRET})
    assert cfg.providers["openai"].type == "openai_compatible"
    assert cfg.providers["openai"].api_key is None  # not inherited from the default entry


def test_mock_is_always_present_and_the_file_may_tune_it() -> None:
    cfg = parse_config_text("providers:\n  mock: {seed: 9}\n  other: {type: mock}\n", env={})
    mock = cfg.providers["mock"]
    assert isinstance(mock, MockProviderConfig) and mock.seed == 9 and mock.type == "mock"
    assert parse_config_text("providers: {}\n", env={}).providers.keys() == {"mock"}


def test_x_keys_hold_anchors_and_are_ignored() -> None:
    text = "x-base: &b {type: mock, seed: 4}\nproviders:\n  m2: {<<: *b, seed: 5}\n"
    cfg = parse_config_text(text, env={})
    assert cfg.providers["m2"].type == "mock"
    assert getattr(cfg.providers["m2"], "seed") == 5  # noqa: B009


# --- locations and problems -----------------------------------------------------------------


def test_every_problem_is_reported_in_line_order() -> None:
    text = (
        "usage:\n"
        "  batch_size: 0\n"
        "providers:\n"
        "  openai:\n"
        "    timeout_s: -1\n"
        "    api_key: 5\n"
        "models:\n"
        "  nope: {}\n"
    )
    locations = [loc for loc, _ in problems_of(text, env={})]
    assert locations == [
        "t.yaml:2 usage.batch_size",
        "t.yaml:5 providers.openai.timeout_s",
        "t.yaml:6 providers.openai.api_key",
        "t.yaml:8 models.nope",
    ]


def test_yaml_syntax_error_has_a_line() -> None:
    [(loc, msg)] = problems_of("a: 1\nb: [1, 2\nc: 3\n", env={})
    where, _, field = loc.partition(" ")
    assert where.startswith("t.yaml:") and int(where.split(":")[1]) >= 2
    assert field == "b"  # the field being read when the syntax went wrong
    assert msg.startswith("YAML syntax error:")


def test_several_documents_and_empty_files() -> None:
    [(loc, msg)] = problems_of("a: 1\n---\nb: 2\n", env={})
    assert (loc, "single document" in msg) == ("t.yaml:2", True)
    assert parse_config_text("# only a comment\n", env={}).providers.keys() == {"mock"}


def test_keys_with_dots_are_quoted_in_paths() -> None:
    [(loc, msg)] = problems_of("models:\n  ollama:llama3.1: {}\n", env={})
    assert loc == 't.yaml:2 models["ollama:llama3.1"]'
    assert "'ollama' which is not configured" in msg.replace(",", "")


def test_top_level_source_is_not_a_field() -> None:
    [(loc, msg)] = problems_of("source: elsewhere.yaml\n", env={})
    assert loc == "t.yaml:1 source"
    assert msg.startswith("unknown field 'source'")


def test_config_error_message_lists_every_problem() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text("usage: {batch_size: 0}\nretry: {max_attempts: 0}\n", "t.yaml", env={})
    text = str(info.value)
    assert text.startswith("2 configuration problems:")
    assert "t.yaml:1 usage.batch_size" in text and "t.yaml:2 retry.max_attempts" in text


# --- secrets --------------------------------------------------------------------------------


def test_secrets_never_appear_in_reprs_dumps_or_errors() -> None:
    text = "providers:\n  openai: {api_key: '${K}', headers: {Authorization: 'Bearer ${K}'}}\n"
    cfg = parse_config_text(text, env={"K": SECRET})
    assert SECRET not in repr(cfg) and SECRET not in str(cfg)
    dumped = config_to_dict(cfg)
    assert dumped["providers"]["openai"]["api_key"] == "**********"
    assert dumped["providers"]["openai"]["headers"]["Authorization"] == "**********"
    assert SECRET not in repr(dumped)
    assert config_to_dict(cfg, mask_secrets=False)["providers"]["openai"]["api_key"] == SECRET

    bad = f"providers:\n  openai: {{api_key: {{k: {SECRET}}}, timeout_s: 0}}\n"
    with pytest.raises(ConfigError) as info:
        parse_config_text(bad, "t.yaml", env={})
    assert SECRET not in str(info.value) and SECRET not in repr(info.value.problems)
    assert len(info.value.problems) == 2


def test_loading_does_not_import_yaml_at_import_time() -> None:
    code = (
        "import sys, modelwire, modelwire.config, modelwire.config.loader, modelwire.cli.app;"
        "print('yaml' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_an_empty_api_key_counts_as_unset() -> None:
    cfg = parse_config_text("providers:\n  openai: {api_key: '${NO_KEY:-}'}\n", env={})
    assert cfg.providers["openai"].api_key is None


def test_empty_sections_and_entries_mean_defaults() -> None:
    cfg = parse_config_text("providers:\nmodels:\n  mock:bare:\nusage:\ngroups:\n", env={})
    assert cfg.models["mock:bare"].aliases == []
    assert cfg.usage.enabled and cfg.providers.keys() == {"mock"}


def test_only_credential_fields_hide_their_values() -> None:
    from modelwire.config.problems import is_secret_path

    assert is_secret_path(("providers", "openai", "api_key"))
    assert is_secret_path(("providers", "x", "headers", "X-Anything"))
    assert is_secret_path(("providers", "x", "hf_token"))
    assert not is_secret_path(("models", "mock:a", "max_output_tokens"))
    [(_, msg)] = problems_of("models:\n  mock:a: {max_output_tokens: 0}\n", env={})
    assert msg == "expected a number >= 1; got 0"
