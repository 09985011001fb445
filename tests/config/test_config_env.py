"""``${VAR}`` / ``${VAR:-default}`` substitution and the ``MODELWIRE_*`` layer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelwire.config.env import builtin_defaults, env_layer, substitute
from modelwire.config.loader import parse_config_text
from modelwire.errors import ConfigError

FIELDS = frozenset({"usage", "providers", "default_model", "groups"})
plain = st.text().filter(lambda s: "$" not in s)
defaults = st.text().filter(lambda s: "}" not in s)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(name=names, value=st.text(), default=defaults, before=plain, after=plain)
def test_substitution_handles_arbitrary_values(
    name: str, value: str, default: str, before: str, after: str
) -> None:
    with_default = f"{before}${{{name}:-{default}}}{after}"
    bare = f"{before}${{{name}}}{after}"
    # set and non-empty: the value, verbatim and never expanded again (even if it holds ${...})
    expected = value if value else default
    assert substitute(with_default, {name: value}) == (before + expected + after, [])
    assert substitute(bare, {name: value}) == (before + value + after, [])
    # unset: the default; ${NAME} alone is a problem naming the variable
    assert substitute(with_default, {}) == (before + default + after, [])
    text, problems = substitute(bare, {})
    assert text == before + after
    assert len(problems) == 1 and f"environment variable {name} is not set" in problems[0]


@settings(max_examples=100, deadline=None)
@given(value=st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1))
def test_substituted_values_survive_the_whole_loader(value: str) -> None:
    cfg = parse_config_text('caller: "${MW_CALLER:-fallback}"\n', env={"MW_CALLER": value})
    assert cfg.caller == value


@settings(max_examples=50, deadline=None)
@given(
    before=st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=5),
    control=st.characters(categories=["Cc"]),
)
def test_substituted_control_characters_are_refused_by_position(before: str, control: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text('caller: "${MW_CALLER}"\n', env={"MW_CALLER": before + control})
    [(where, message)] = info.value.problems
    assert where == "<string>:1 caller"
    assert f"U+{ord(control):04X}" in message and f"at position {len(before) + 1}" in message


def test_substitution_syntax_details() -> None:
    env = {"A": "1", "EMPTY": ""}
    assert substitute("$A ${A} $${A} $$ $", env) == ("$A 1 ${A} $$ $", [])
    assert substitute("${EMPTY}|${EMPTY:-d}|${UNSET:-}", env) == ("|d|", [])
    assert substitute("${A:-x:-y}", {}) == ("x:-y", [])
    _, problems = substitute("${A", env)
    assert problems == ["unclosed '${' in a string value (expected ${NAME} or ${NAME:-default})"]
    _, problems = substitute("${} ${1X} ${A B}", env)
    assert len(problems) == 3 and all(
        p.startswith("malformed variable reference") for p in problems
    )


def test_substitution_applies_to_values_not_keys() -> None:
    text = "providers:\n  ${P}:\n    type: mock\n    base_url: http://${P}/v1\n"
    cfg = parse_config_text(text, env={"P": "x"})
    assert cfg.providers["${P}"].base_url == "http://x/v1"


def test_missing_variables_are_all_reported_with_locations() -> None:
    from modelwire.errors import ConfigError

    text = "caller: ${NOPE_1}\ndefault_model: mock:${NOPE_2}\nusage: {database: '${NOPE_1}'}\n"
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, "s.yaml", env={})
    assert [(loc, msg.split(" (")[0]) for loc, msg in info.value.problems] == [
        ("s.yaml:1 caller", "environment variable NOPE_1 is not set"),
        ("s.yaml:2 default_model", "environment variable NOPE_2 is not set"),
        ("s.yaml:3 usage.database", "environment variable NOPE_1 is not set"),
    ]


def test_env_layer_mapping() -> None:
    env = {
        "MODELWIRE_DEFAULT_MODEL": "mock:a",
        "MODELWIRE_USAGE__DATABASE": "sqlite:///x.db",
        "MODELWIRE_PROVIDERS__OPENAI__API_KEY": "k",
        "MODELWIRE_PROVIDERS__OPENAI__TIMEOUT_S": "5",
        "MODELWIRE_GROUPS__G__MEMBERS": '["mock:a"]',
        "MODELWIRE_UNRELATED": "x",
        "OTHER": "y",
    }
    layer, setters, problems = env_layer(env, FIELDS)
    assert problems == []
    assert layer == {
        "default_model": "mock:a",
        "usage": {"database": "sqlite:///x.db"},
        "providers": {"openai": {"api_key": "k", "timeout_s": "5"}},
        "groups": {"g": {"members": ["mock:a"]}},
    }
    assert setters[("providers", "openai", "api_key")] == "MODELWIRE_PROVIDERS__OPENAI__API_KEY"


def test_env_layer_conflicts_and_malformed_names() -> None:
    env = {
        "MODELWIRE_USAGE": '{"enabled": false}',
        "MODELWIRE_USAGE__DATABASE": "x",
        "MODELWIRE_PROVIDERS____KEY": "x",
    }
    layer, _, problems = env_layer(env, FIELDS)
    assert layer == {"usage": {"enabled": False, "database": "x"}}  # a JSON mapping merges
    assert problems == [
        ("MODELWIRE_PROVIDERS____KEY", "malformed name: '__' separates non-empty field names")
    ]
    _, _, problems = env_layer({"MODELWIRE_USAGE": "x", "MODELWIRE_USAGE__DATABASE": "y"}, FIELDS)
    assert problems == [
        ("MODELWIRE_USAGE__DATABASE", "conflicts with MODELWIRE_USAGE, which sets the same field")
    ]


def test_builtin_defaults() -> None:
    assert builtin_defaults({}) == {"providers": {"mock": {"type": "mock"}}}
    both = builtin_defaults({"GOOGLE_API_KEY": "g1", "GEMINI_API_KEY": "g2"})
    assert both["providers"]["google"] == {"type": "google", "api_key": "g1"}
    assert builtin_defaults({"GEMINI_API_KEY": "g2"})["providers"]["google"]["api_key"] == "g2"
