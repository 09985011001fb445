"""Golden: how names resolve (ids, aliases, bare names, namespace attributes, enum members)."""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from modelwire.config.schema import Config
from modelwire.enums import ModelEnum
from modelwire.errors import ModelNotFoundError
from modelwire.registry.model_registry import ModelRegistry


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    cfg = Config.model_validate(
        {
            "providers": {
                "openai": {"api_key": "sk-test-not-real"},
                "anthropic": {"api_key": "sk-ant-test"},
                "google": {"api_key": "g-test"},
                "local": {"type": "openai_compatible", "base_url": "http://127.0.0.1:9/v1"},
                "mock": {"type": "mock"},
            },
            "models": {
                "openai:gpt-4o-mini": {"aliases": ["mini"]},
                "local:llama3.1": {"aliases": ["llama"]},
                "local:qwen2.5-coder:7b": {},
            },
            "aliases": {"smart": "anthropic:claude-sonnet-4-5"},
        }
    )
    return ModelRegistry.from_config(cfg)


def _outcome(fn: Any, *args: str) -> str:
    try:
        return str(fn(*args))
    except ModelNotFoundError as exc:
        return f"ModelNotFoundError: {exc}"


NAMES = [
    "openai:gpt-4o-mini",
    "mini",
    "smart",
    "llama",
    "gpt-4o-mini",
    "claude-sonnet-4-5",
    "local:qwen2.5-coder:7b",
    "mock:anything",
    "gpt-4o-mimi",
    "openai:gpt-4o-mimi",
    "antropic:claude-sonnet-4-5",
    "nothing-like-it",
]

ATTRS = [
    ("openai", "gpt_4o_mini"),
    ("openai", "GPT_4O_MINI"),
    ("anthropic", "claude_sonnet_4_5"),
    ("google", "gemini_2_5_flash"),
    ("local", "llama3_1"),
    ("local", "qwen2_5_coder_7b"),
    ("mock", "gpt_4o"),
    ("mock", "brand_new_model"),
    ("openai", "gpt_4o_mimi"),
]


def test_name_resolution(registry: ModelRegistry, snapshot: SnapshotAssertion) -> None:
    assert {n: _outcome(registry.resolve, n) for n in NAMES} == snapshot


def test_namespace_resolution(registry: ModelRegistry, snapshot: SnapshotAssertion) -> None:
    got = {f"{p}.{a}": _outcome(registry.resolve_attribute, p, a) for p, a in ATTRS}
    assert got == snapshot


def test_enum_members_resolve_to_themselves(registry: ModelRegistry) -> None:
    members = [m for m in ModelEnum if m.value.split(":")[0] in ("openai", "anthropic", "google")]
    assert members
    unresolved = [m for m in members if registry.resolve(m) != m.value]
    assert unresolved == []
