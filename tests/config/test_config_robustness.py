"""No configuration crashes: every malformed file is a ConfigError naming file, line and field,
and every value that validates is usable (no overflow later, in a timer, a window or a ledger)."""

from __future__ import annotations

import asyncio
import math
import re
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from typer.testing import CliRunner

from modelwire.cli.app import app
from modelwire.config.loader import load_config, parse_config_text
from modelwire.config.schema import (
    MAX_COUNT,
    MAX_DELAY_MS,
    MAX_PRICE,
    MAX_SECONDS,
    MAX_TOKENS,
    MAX_TTL_S,
    MAX_WEIGHT,
    BreakerConfig,
    Config,
    CostConfig,
    DiscoveryConfig,
    GroupConfig,
    HuggingFaceLocalConfig,
    LimitRuleConfig,
    MockProviderConfig,
    ModelEntry,
    ProviderConfig,
    RequestDefaults,
    RetryConfig,
    UsageConfig,
)
from modelwire.errors import ConfigError

LOCATED = re.compile(r"^h\.yaml:\d+(?: \S.*)?$")


def problems_of(text: str, **kw: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, "h.yaml", env={}, **kw)
    return info.value.problems


def assert_one_line_each(problems: list[tuple[str, str]]) -> None:
    for location, message in problems:
        assert (location + message).isprintable(), (location, message)
        assert "validation error" not in message and "errors.pydantic.dev" not in message


# --- characters YAML does not allow -------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "described"),
    [
        ("\x00", "control character U+0000 (NUL)"),
        ("\x1b", "control character U+001B (ESC)"),
        ("\x07", "control character U+0007 (BEL)"),
        ("\x7f", "control character U+007F (DEL)"),
        ("\x9b", "control character U+009B"),
        ("\ud800", "unpaired surrogate U+D800"),
        ("\ufffe", "character U+FFFE"),
    ],
)
def test_a_character_yaml_refuses_is_reported_at_its_line_and_field(
    char: str, described: str
) -> None:
    text = f"providers:\n  mock:\n    seed: 1\ncaller: ab{char}cd\n"
    assert problems_of(text) == [
        ("h.yaml:4 caller", f"{described} at column 11 is not allowed in YAML")
    ]


def test_control_characters_on_many_lines_are_summarised() -> None:
    text = "".join(f"x-{i}: a\x00b\n" for i in range(50))
    problems = problems_of(text)
    assert len(problems) == 21
    assert problems[-1][1] == "and 30 more line(s) with characters YAML does not allow"
    assert_one_line_each(problems)


def test_a_control_character_and_a_syntax_error_are_both_reported() -> None:
    problems = problems_of("caller: a\x1bb\nretry: [1, 2\n")
    assert problems[0] == (
        "h.yaml:1",
        "control character U+001B (ESC) at column 10 is not allowed in YAML",
    )
    assert problems[1][0].startswith("h.yaml:3 retry") and "YAML syntax error" in problems[1][1]


@pytest.mark.parametrize(
    ("field", "escaped"),
    [("caller", r"a\0b"), ("default_model", r"mock:a\eb"), ("usage:\n  database", r"x\ny")],
)
def test_escaped_control_characters_in_values_are_refused(field: str, escaped: str) -> None:
    [(location, message)] = problems_of(f'{field}: "{escaped}"\n')
    assert location.endswith(field.rpartition(" ")[2])
    assert "control character" in message and "must not hold control characters" in message


def test_tabs_and_line_breaks_are_fine_in_params_only() -> None:
    cfg = parse_config_text(
        'models:\n  mock:a:\n    params: {system: "one\\ntwo\\tthree", extra: "x\\ny"}\n',
        env={},
    )
    assert cfg.models["mock:a"].params["system"] == "one\ntwo\tthree"
    [(location, _)] = problems_of('models:\n  mock:a:\n    params: {system: "a\\0b"}\n')
    assert location == "h.yaml:3 models.mock:a.params.system"


def test_an_api_key_with_a_line_break_is_refused_without_showing_it() -> None:
    secret = "sk-robust-secret-0001"
    with pytest.raises(ConfigError) as info:
        load_config(env={"OPENAI_API_KEY": secret + "\n"})
    [(location, message)] = info.value.problems
    assert location == "$OPENAI_API_KEY providers.openai.api_key"
    assert "U+000A (LF) at position 22" in message and secret not in str(info.value)


# --- nesting, dates, numbers, tags --------------------------------------------------------------


def test_flow_nesting_500_deep_in_a_small_file() -> None:
    text = "caller: " + "[" * 500 + "]" * 500 + "\n"
    assert len(text) < 1100
    [(location, message)] = problems_of(text)
    assert location == "h.yaml:1 caller"
    assert message == "YAML syntax error: nested more than 64 levels deep"


def test_mapping_nesting_and_alias_loops() -> None:
    [(location, message)] = problems_of(
        "models:\n  mock:a:\n    params: " + "{a: " * 300 + "}" * 300
    )
    assert location == "h.yaml:3 models.mock:a.params.a.a.a" and "nested more than 64" in message
    [(location, message)] = problems_of("caller: &a [*a]\n")
    assert location == "h.yaml:1 caller" and "too deep or too large" in message
    chain = "".join(
        f"x-{i}: &a{i} {{<<: *a{i - 1}}}\n" if i else "x-0: &a0 {k: 1}\n" for i in range(600)
    )
    assert parse_config_text(chain, env={}).caller is None  # x-* keys are ignored


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        (
            "models:\n  mock:a:\n    cost: {effective_date: 2024-13-45}\n",
            "h.yaml:3 models.mock:a.cost.effective_date",
            "not a valid date: '2024-13-45' (month must be in 1..12)",
        ),
        (
            "caller: 2024-02-30 10:00:00\n",
            "h.yaml:1 caller",
            "not a valid date: '2024-02-30 10:00:00' (day is out of range for month)",
        ),
        (
            "retry:\n  max_attempts: " + "7" * 5000 + "\n",
            "h.yaml:2 retry.max_attempts",
            "an integer of 5000 characters is too long to read",
        ),
        ("caller: !!int abc\n", "h.yaml:1 caller", None),
        ("caller: !!float abc\n", "h.yaml:1 caller", None),
        ("caller: !!binary 'a'\n", "h.yaml:1 caller", None),
        ("caller: !!python/name:os.system x\n", "h.yaml:1 caller", None),
        ("caller: {<<: [1]}\n", "h.yaml:1 caller", None),
        ('caller: "\\U00999999"\n', "h.yaml:1", None),  # PyYAML's own ValueError, at a key
    ],
)
def test_values_yaml_cannot_build(text: str, location: str, message: str | None) -> None:
    [(where, what)] = problems_of(text)
    assert where == location
    if message is not None:
        assert what == message


def test_an_unreadable_secret_is_not_shown() -> None:
    [(location, message)] = problems_of("providers:\n  openai: {api_key: !!int sk-hidden-77}\n")
    assert location == "h.yaml:2 providers.openai.api_key"
    assert "sk-hidden-77" not in message and "(value hidden)" in message


def test_load_config_with_unreadable_paths(tmp_path: Path) -> None:
    for path in ("bad\x00name.yaml", str(tmp_path)):
        with pytest.raises(ConfigError) as info:
            load_config(path, env={})
        [(location, message)] = info.value.problems
        assert message.startswith("cannot read the file")
        assert location.isprintable()


def test_env_json_and_overrides_nested_too_deeply() -> None:
    deep = "[" * 5000 + "]" * 5000
    with pytest.raises(ConfigError) as info:
        load_config(env={"MODELWIRE_GROUPS": deep})
    assert info.value.problems == [("$MODELWIRE_GROUPS", "JSON nested more than 64 levels deep")]
    selfish: dict[str, Any] = {}
    selfish["usage"] = selfish
    with pytest.raises(ConfigError, match="nested more than 64 levels deep"):
        load_config(env={}, overrides=selfish)


# --- bounds ---------------------------------------------------------------------------------------

BOUNDED: list[tuple[type[BaseModel], str, dict[str, Any]]] = [
    (ProviderConfig, "timeout_s", {}),
    (ProviderConfig, "max_retries", {}),
    (MockProviderConfig, "latency_ms", {}),
    (MockProviderConfig, "latency_jitter_ms", {}),
    (MockProviderConfig, "error_rate", {}),
    (MockProviderConfig, "retry_after_s", {}),
    (MockProviderConfig, "seed", {}),
    (MockProviderConfig, "stream_chunk_words", {}),
    (MockProviderConfig, "max_parallel_tool_calls", {}),
    (MockProviderConfig, "malformed_tool_calls", {}),
    (HuggingFaceLocalConfig, "max_batch_size", {}),
    (HuggingFaceLocalConfig, "batch_wait_ms", {}),
    (RetryConfig, "max_attempts", {}),
    (RetryConfig, "base_delay_s", {}),
    (RetryConfig, "max_delay_s", {}),
    (RetryConfig, "max_retry_after_s", {}),
    (ModelEntry, "context_window", {}),
    (ModelEntry, "max_output_tokens", {}),
    (BreakerConfig, "failure_threshold", {}),
    (BreakerConfig, "failure_rate", {}),
    (BreakerConfig, "min_calls", {}),
    (BreakerConfig, "window", {}),
    (BreakerConfig, "cooldown_s", {}),
    (UsageConfig, "batch_size", {}),
    (UsageConfig, "flush_interval_ms", {}),
    (UsageConfig, "reservation_lease_s", {}),
    (LimitRuleConfig, "requests_per_minute", {}),
    (LimitRuleConfig, "tokens_per_minute", {}),
    (LimitRuleConfig, "window_s", {"requests_per_minute": 1}),
    (DiscoveryConfig, "ttl_s", {}),
    (DiscoveryConfig, "timeout_s", {}),
    (DiscoveryConfig, "refresh_interval_s", {}),
    (RequestDefaults, "max_tokens", {}),
    (RequestDefaults, "temperature", {}),
    (RequestDefaults, "top_p", {}),
    (RequestDefaults, "seed", {}),
    (RequestDefaults, "timeout", {}),
]


def _numeric_fields(cls: type[BaseModel]) -> set[str]:
    """The int and float fields ``cls`` declares (a provider type's own, not the common ones)."""
    inherited = set(ProviderConfig.model_fields) if cls is not ProviderConfig else set()
    out = set()
    for name, info in cls.model_fields.items():
        if issubclass(cls, ProviderConfig) and name in inherited:
            continue
        text = str(info.annotation)
        if re.search(r"\b(int|float)\b", text) and "dict" not in text and "list" not in text:
            out.add(name)
    return out


def test_every_numeric_field_is_in_the_bounded_table() -> None:
    classes = {cls for cls, _, _ in BOUNDED}
    assert {(cls.__name__, name) for cls in classes for name in _numeric_fields(cls)} == {
        (cls.__name__, name) for cls, name, _ in BOUNDED
    }
    # the sections without numbers of their own, and the group weights, are covered below
    assert not _numeric_fields(Config) and not _numeric_fields(GroupConfig)


@pytest.mark.parametrize(
    ("cls", "name", "base"), BOUNDED, ids=[f"{c.__name__}.{n}" for c, n, _ in BOUNDED]
)
@pytest.mark.parametrize("value", [10**30, -(10**30), 1e300, -1e300, math.inf, -math.inf, math.nan])
def test_every_numeric_field_has_bounds_and_refuses_non_finite(
    cls: type[BaseModel], name: str, base: dict[str, Any], value: float
) -> None:
    with pytest.raises(ValidationError) as info:
        cls.model_validate({**base, name: value})
    assert {err["loc"][0] for err in info.value.errors()} == {name}


@pytest.mark.parametrize("value", [MAX_WEIGHT * 2, -1, math.inf, math.nan])
def test_group_weights_are_bounded(value: float) -> None:
    with pytest.raises(ValidationError):
        GroupConfig(members=["mock:a"], weights={"mock:a": value})
    assert (
        GroupConfig(members=["mock:a"], weights={"mock:a": MAX_WEIGHT}).weights["mock:a"]
        == MAX_WEIGHT
    )


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("-1", True),
        ("1000000.000000000001", True),
        ("1e7", True),
        ("0.0000000000001", True),
        ("NaN", True),
        ("Infinity", True),
        ("1e-999999999", True),
        ("1000000", False),
        ("0.000000000001", False),
    ],
)
def test_price_bounds(written: str, problem: bool) -> None:
    text = f"models:\n  mock:a:\n    cost: {{input_per_mtok: '{written}'}}\n"
    if problem:
        [(location, message)] = problems_of(text)
        assert location == "h.yaml:3 models.mock:a.cost.input_per_mtok"
        assert message.startswith("expected a price from 0 to 1000000 USD per million tokens")
    else:
        cost = parse_config_text(text, env={}).models["mock:a"].cost
        assert cost is not None and cost.input_per_mtok == Decimal(written)


def test_prices_stay_exact_decimals_past_twelve_places_only_zeros_are_dropped() -> None:
    zeros = "2.50" + "0" * 40
    cfg = parse_config_text(
        f"models:\n  mock:a:\n    cost: {{input_per_mtok: 0.15, output_per_mtok: '{zeros}',"
        " cache_read_per_mtok: '-0'}\n",
        env={},
    )
    cost = cfg.models["mock:a"].cost
    assert cost is not None
    assert str(cost.input_per_mtok) == "0.15"
    assert str(cost.output_per_mtok) == "2.5"
    assert str(cost.cache_read_per_mtok) == "0"
    assert CostConfig(input_per_mtok=MAX_PRICE).input_per_mtok == MAX_PRICE


def test_params_request_fields_are_bounded_and_the_rest_plain_data() -> None:
    text = (
        "models:\n  mock:a:\n    params:\n      max_tokens: 0\n      temperature: .nan\n"
        "      timeout: 1.0e+300\n      top_p: 2\n      extra: [1, .inf]\n      when: 2024-01-01\n"
    )
    problems = dict(problems_of(text))
    assert problems == {
        "h.yaml:4 models.mock:a.params.max_tokens": "expected a number >= 1; got 0",
        "h.yaml:5 models.mock:a.params.temperature": "expected a finite number; got nan",
        "h.yaml:6 models.mock:a.params.timeout": "expected a number <= 86400.0; got 1e+300",
        "h.yaml:7 models.mock:a.params.top_p": "expected a number <= 1.0; got 2",
        "h.yaml:8 models.mock:a.params.extra[1]": "expected a finite number; got inf",
        "h.yaml:9 models.mock:a.params.when": "expected plain data (a string, number, boolean, "
        "null, list or mapping) to send to the provider; got datetime.date(2024, 1, 1)",
    }


@pytest.mark.parametrize(
    "url",
    [
        "x",
        "ftp://host/v1",
        "http://[::1",
        "http://host:99999/v1",
        "http://host:abc/v1",
        "http:///v1",
    ],
)
def test_base_urls_that_would_fail_at_call_time_are_refused(url: str) -> None:
    [(location, message)] = problems_of(
        f"providers:\n  local: {{type: openai_compatible, base_url: '{url}'}}\n"
    )
    assert location == "h.yaml:2 providers.local.base_url"
    assert message.startswith("expected an http:// or https:// URL")


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("usage: {flush_interval_ms: 1.0e+20}\n", "h.yaml:1 usage.flush_interval_ms"),
        ("usage: {flush_interval_ms: 100000000000000000000}\n", "h.yaml:1 usage.flush_interval_ms"),
        ("retry: {base_delay_s: 1.0e+300}\n", "h.yaml:1 retry.base_delay_s"),
        ("retry: {max_delay_s: 1.0e+300}\n", "h.yaml:1 retry.max_delay_s"),
        ("providers: {mock: {timeout_s: 1.0e+300}}\n", "h.yaml:1 providers.mock.timeout_s"),
        ("providers: {mock: {latency_ms: 1.0e+300}}\n", "h.yaml:1 providers.mock.latency_ms"),
        ("retry: {base_delay_s: .inf}\n", "h.yaml:1 retry.base_delay_s"),
        (
            "groups: {g: {members: [mock:a], circuit_breaker: {window: 1.0e+20}}}\n",
            "h.yaml:1 groups.g.circuit_breaker.window",
        ),
    ],
)
def test_the_values_from_the_issue_are_refused_at_their_field(text: str, location: str) -> None:
    [(where, message)] = problems_of(text)
    assert where == location and message.startswith("expected")


# --- what validates does not crash later ---------------------------------------------------------


def test_duration_bounds_fit_every_timer() -> None:
    for seconds in (MAX_SECONDS, MAX_DELAY_MS / 1000, MAX_TTL_S):
        lock = threading.Lock()
        assert lock.acquire(timeout=seconds)  # a timeout over TIMEOUT_MAX raises OverflowError
        lock.release()
        assert timedelta(seconds=seconds).total_seconds() == seconds
    from collections import deque

    assert deque(range(3), maxlen=MAX_COUNT).maxlen == MAX_COUNT
    # a whole context window in and out at the highest price, in nano-dollars, fits a BIGINT
    assert 2 * MAX_TOKENS * MAX_PRICE / 10**6 * 10**9 < 2**63


def test_the_mock_at_its_largest_latency_sleeps_instead_of_overflowing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import modelwire.providers.mock as mock_module
    from modelwire.registry import ModelRegistry
    from modelwire.service import ModelService

    slept: list[float] = []
    monkeypatch.setattr(mock_module.time, "sleep", slept.append)

    async def fake_asleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(mock_module.asyncio, "sleep", fake_asleep)
    cfg = parse_config_text(
        f"providers: {{mock: {{latency_ms: {MAX_DELAY_MS}, latency_jitter_ms: {MAX_DELAY_MS}, "
        f"timeout_s: {MAX_SECONDS}}}}}\n",
        env={},
    )
    service = ModelService(ModelRegistry.from_config(cfg))
    assert service.bind("mock:a").invoke("hello").text
    assert asyncio.run(service.bind("mock:a").ainvoke("hello")).text
    assert len(slept) == 2 and all(3600.0 <= s <= 7200.0 for s in slept)


def test_the_ledger_writer_at_its_largest_interval_and_batch(tmp_path: Path) -> None:
    from modelwire.registry import ModelRegistry
    from modelwire.service import ModelService
    from modelwire.usage.ledger import UsageLedger

    cfg = parse_config_text(
        f"usage: {{flush_interval_ms: {int(MAX_DELAY_MS)}, batch_size: {MAX_COUNT}}}\n", env={}
    )
    ledger = UsageLedger(
        f"sqlite:///{tmp_path / 'u.db'}",
        batch_size=cfg.usage.batch_size,
        flush_interval_ms=cfg.usage.flush_interval_ms,
    )
    service = ModelService(ModelRegistry.from_config(cfg), ledger)
    try:
        service.bind("mock:a").invoke("hello")
        ledger.flush(timeout=60)
        assert len(list(ledger.records())) == 1
    finally:
        service.close()


def test_a_provider_timeout_at_its_bound_reaches_the_server(fake_server: Any) -> None:
    from modelwire.registry import ModelRegistry
    from modelwire.service import ModelService

    cfg = parse_config_text(
        "providers:\n  local: {type: openai_compatible, api_key: k, "
        f"base_url: '{fake_server.url}/v1', timeout_s: {MAX_SECONDS}, max_retries: 20}}\n"
        f"models:\n  local:m:\n    params: {{timeout: {MAX_SECONDS}, max_tokens: {MAX_TOKENS}}}\n",
        env={},
    )
    service = ModelService(ModelRegistry.from_config(cfg))
    try:
        assert service.bind("local:m").invoke("hi there").text == "echo: hi there"
    finally:
        service.close()


# --- generated documents ---------------------------------------------------------------------------

FIELD_NAMES = sorted(
    {
        *Config.model_fields,
        *MockProviderConfig.model_fields,
        *HuggingFaceLocalConfig.model_fields,
        *ModelEntry.model_fields,
        *GroupConfig.model_fields,
        *BreakerConfig.model_fields,
        *RetryConfig.model_fields,
        *UsageConfig.model_fields,
        *DiscoveryConfig.model_fields,
        *CostConfig.model_fields,
        *RequestDefaults.model_fields,
        "mock",
        "openai",
        "local",
        "mock:a",
        "openai:gpt-4o",
        "g",
        "x-anchor",
        "<<",
    }
)
RAW_TOKENS = [
    "2024-13-45",
    "2024-02-30 25:61:00",
    "9" * 5000,
    "1.0e+300",
    "-1.0e+300",
    ".inf",
    ".nan",
    "0x1F",
    "1:30:00",
    "~",
    "!!binary x",
    "!!int x",
    "!!float x",
    "!!timestamp 2024-99-01",
    "!!python/object:os.system x",
    "!!set {a, b}",
    "*nowhere",
    "&anchor",
    "&a [*a]",
    "<<: *a",
    "{",
    "[",
    "]",
    "}",
    ": ",
    "\n- ",
    "\n  ",
    "? ",
    "%YAML 1.1\n",
    "\n---\n",
    "\n...\n",
    "'",
    '"',
    '"\\e\\0\\x07"',
    "|\n",
    "\t",
    "[" * 200 + "]" * 200,
    "{a: " * 100 + "}" * 100,
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["mock:a", "openai:gpt-4o", "gpt-4o", "g", "auto", "sqlite://", "http://h/v1"]),
)
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=6))
trees = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)
insertions = st.one_of(
    st.sampled_from(RAW_TOKENS),
    st.characters(categories=["Cc", "Cs", "Co"]),
    st.text(max_size=4),
)


numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.sampled_from([0, 1, -1, 0.5, 1e300, 10**30, "12", "1e5", "nan"]),
)
model_ids = st.one_of(
    st.sampled_from(
        [
            *("mock:a", "mock:", "openai:gpt-4o", "openai:gpt-4o-2024-08-06", "openai:gpt-9"),
            *("gpt-4o", "gpt4o", "nope:x", "g", "auto", "a1", "mini", ""),
        ]
    ),
    st.text(max_size=8),
)


def _section(fields: Any, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    names = sorted(fields)
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names))


structured = st.fixed_dictionaries(
    {},
    optional={
        "providers": st.dictionaries(
            st.sampled_from(["mock", "openai", "local", "other"]),
            _section(MockProviderConfig.model_fields, st.one_of(numbers, scalars)),
            max_size=3,
        ),
        "models": st.dictionaries(
            model_ids,
            st.fixed_dictionaries(
                {},
                optional={
                    "aliases": st.lists(model_ids, max_size=2),
                    "fallbacks": st.lists(model_ids, max_size=3),
                    "context_window": numbers,
                    "cost": _section(CostConfig.model_fields, st.one_of(numbers, scalars)),
                    "params": _section(RequestDefaults.model_fields, st.one_of(numbers, scalars)),
                },
            ),
            max_size=3,
        ),
        "groups": st.dictionaries(
            st.sampled_from(["g", "h", "a:b"]),
            st.fixed_dictionaries(
                {"members": st.lists(model_ids, max_size=3)},
                optional={
                    "weights": st.dictionaries(model_ids, numbers, max_size=2),
                    "circuit_breaker": _section(BreakerConfig.model_fields, numbers),
                    "retry": _section(RetryConfig.model_fields, numbers),
                    "aliases": st.lists(model_ids, max_size=2),
                },
            ),
            max_size=2,
        ),
        "aliases": st.dictionaries(model_ids, model_ids, max_size=3),
        "default_model": model_ids,
        "retry": _section(RetryConfig.model_fields, numbers),
        "usage": _section(UsageConfig.model_fields, st.one_of(numbers, scalars)),
        "discovery": _section(DiscoveryConfig.model_fields, numbers),
    },
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    generic = st.dictionaries(st.sampled_from(sorted(Config.model_fields)), trees, max_size=6)
    sections = draw(st.one_of(generic, structured))
    text = yaml.safe_dump(
        sections,
        default_flow_style=draw(st.sampled_from([False, True, None])),
        allow_unicode=draw(st.booleans()),
        sort_keys=False,
    )
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(insertions) + text[at:]
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=documents())
def test_generated_documents_give_a_config_or_located_problems(text: str) -> None:
    try:
        cfg = parse_config_text(text, "h.yaml", env={})
    except ConfigError as exc:
        assert exc.problems
        for location, message in exc.problems:
            assert LOCATED.match(location), (location, message)
            assert (location + message).isprintable(), (location, message)
            assert message and "errors.pydantic.dev" not in message
    else:
        assert isinstance(cfg, Config)


# --- the CLI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "caller: a\x00b\n",
        "caller: a\x1bb\n",
        "caller: " + "[" * 500 + "]" * 500 + "\n",
        "models:\n  mock:a:\n    cost: {effective_date: 2024-13-45}\n",
        "retry: {max_attempts: " + "1" * 5000 + "}\n",
        "usage: {flush_interval_ms: 1.0e+20}\nretry: {base_delay_s: 1.0e+300}\n",
    ],
)
def test_config_check_prints_one_line_per_problem_and_exits_2(
    content: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text(content, encoding="utf-8", errors="surrogatepass")
    result = CliRunner().invoke(app, ["config", "check", "bad.yaml"])
    assert result.exit_code == 2, result.output
    head, *lines = result.stderr.strip().splitlines()
    if not lines:  # one problem: one line
        lines = [head.removeprefix("error: ")]
    else:
        assert re.fullmatch(r"error: \d+ configuration problems", head)
        assert len(lines) == int(head.split()[1])
    assert all(re.match(r"^bad\.yaml:\d+ \S+: ", line) for line in lines), lines
    assert "Traceback" not in result.output and "unexpected" not in result.output
