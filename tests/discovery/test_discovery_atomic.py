"""Readers never see a registry with models missing while discovery applies; background refresh."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from modelwire.config.schema import Config
from modelwire.discovery import DiscoveryResult, ModelDiscoveryService
from modelwire.discovery.merge import MergePlan
from modelwire.errors import ModelNotFoundError
from modelwire.registry.model_registry import ModelRegistry
from modelwire.types import ModelInfo

CONFIG = {
    "providers": {"openai": {"api_key": "sk-test"}, "mock": {"type": "mock"}},
    "models": {"openai:my-tuned": {"aliases": ["tuned"]}, "mock:tiny": {}},
}


def _result(listings: dict[str, list[str]]) -> DiscoveryResult:
    return DiscoveryResult(
        fetched_at=datetime.now(UTC),
        providers=tuple(listings),
        listings={
            p: tuple(ModelInfo(id=f"{p}:{n}", source="discovered") for n in names)
            for p, names in listings.items()
        },
    )


def test_readers_never_see_missing_models_during_updates() -> None:
    registry = ModelRegistry.from_config(Config.model_validate(CONFIG))
    watched = [m.id for m in registry.list_models()] + ["tuned"]
    assert len(watched) > 10
    service = ModelDiscoveryService(registry, cache=False, background=False)
    # Alternate listings: models flip available/unavailable, discovered extras come and go.
    rounds = [
        _result({"openai": ["gpt-4o", "brand-new-1", "brand-new-2"], "mock": ["echo"]}),
        _result({"openai": ["my-tuned", "gpt-4o-mini"], "mock": ["tiny", "extra"]}),
        _result({"openai": [], "mock": []}),
    ]
    stop = threading.Event()
    problems: list[str] = []
    reads = [0]

    def reader() -> None:
        while not stop.is_set():
            for name in watched:
                try:
                    registry.get_model_info(name)
                except ModelNotFoundError as exc:
                    problems.append(str(exc))
            ids = {m.id for m in registry.list_models()}
            problems.extend(n for n in watched if n != "tuned" and n not in ids)
            reads[0] += 1

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(4)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often so a non-atomic update would show
    for t in threads:
        t.start()
    applied = 0
    deadline = time.monotonic() + 1.5
    try:
        while time.monotonic() < deadline:
            plan = service.apply(rounds[applied % len(rounds)])
            applied += 1
            assert set(watched) - {"tuned"} <= {m.id for m in plan.models}
    finally:
        stop.set()
        sys.setswitchinterval(switch)
        for t in threads:
            t.join(5)
    assert not problems, problems[:5]
    assert applied >= 30 and reads[0] >= 30
    # The extras of the last round are there or gone as a whole, never half-applied.
    assert registry.get_model_info("tuned").id == "openai:my-tuned"


def test_background_refresh_applies_and_stops_on_close() -> None:
    config = Config.model_validate(
        {"providers": {"mock": {"type": "mock"}}, "discovery": {"refresh_interval_s": 0.05}}
    )
    registry = ModelRegistry.from_config(config)
    assert not registry.is_registered("mock:echo")
    service = ModelDiscoveryService(registry, cache=False)
    try:
        assert service.background_running
        deadline = time.monotonic() + 5
        while not registry.is_registered("mock:echo") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert registry.get_model_info("mock:echo").source == "discovered"
    finally:
        service.close()
    assert not service.background_running
    assert not any(t.name == "modelwire-discovery-refresh" for t in threading.enumerate())


def test_background_is_off_unless_configured_or_asked() -> None:
    registry = ModelRegistry.from_config(Config.model_validate({"providers": {"mock": {}}}))
    with ModelDiscoveryService(registry, cache=False) as service:
        assert not service.background_running
        service.start_background(0.05)
        assert service.background_running
    assert not service.background_running
    disabled = Config.model_validate(
        {
            "providers": {"mock": {}},
            "discovery": {"enabled": False, "refresh_interval_s": 0.05},
        }
    )
    with ModelDiscoveryService(ModelRegistry.from_config(disabled), cache=False) as service:
        assert not service.background_running


def test_apply_plans_under_the_write_lock_so_a_racing_registration_waits_or_is_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = ModelRegistry.from_config(Config.model_validate(CONFIG))
    service = ModelDiscoveryService(registry, cache=False, background=False)
    by_hand = ModelInfo(id="openai:brand-new-1", source="config", context_window=1234)
    real_merge = service._merge
    planning = threading.Event()
    raced = threading.Event()

    def merge_while_another_thread_registers(*args: Any) -> MergePlan:
        planning.set()
        raced.wait(0.2)  # the racer is blocked on the write lock, so this times out
        return real_merge(*args)

    def racer() -> None:
        planning.wait(5)
        registry.register_model(by_hand, replace=True)
        raced.set()

    monkeypatch.setattr(service, "_merge", merge_while_another_thread_registers)
    thread = threading.Thread(target=racer)
    thread.start()
    service.apply(_result({"openai": ["brand-new-1", "brand-new-2"]}))
    thread.join(5)
    assert raced.is_set()  # the registration went through, after the swap
    info = registry.get_model_info("openai:brand-new-1")
    assert (info.source, info.context_window) == ("config", 1234)  # hand-registered fields kept
    assert registry.get_model_info("openai:brand-new-2").source == "discovered"


def test_apply_never_gives_up_while_other_threads_keep_registering() -> None:
    registry = ModelRegistry.from_config(Config.model_validate(CONFIG))
    service = ModelDiscoveryService(registry, cache=False, background=False)
    stop = threading.Event()
    numbers = itertools.count(1)
    registered: list[int] = []

    def churn() -> None:
        while not stop.is_set():
            n = next(numbers)
            registry.register_model(ModelInfo(id=f"mock:churn-{n}"))
            registered.append(n)

    threads = [threading.Thread(target=churn) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(20):
            service.apply(_result({"openai": [f"brand-new-{i}"]}))
            assert registry.is_registered(f"openai:brand-new-{i}")
    finally:
        stop.set()
        for t in threads:
            t.join(5)
    assert registered
    assert all(registry.is_registered(f"mock:churn-{n}") for n in registered)


def test_update_models_with_a_stale_version_changes_nothing() -> None:
    registry = ModelRegistry.from_config(Config.model_validate(CONFIG))
    seen = registry.version
    registry.register_model(ModelInfo(id="mock:first"))
    assert registry.version > seen
    assert not registry.update_models([ModelInfo(id="mock:second")], if_version=seen)
    assert not registry.is_registered("mock:second")
    assert registry.update_models([ModelInfo(id="mock:second")], if_version=registry.version)
    assert registry.is_registered("mock:second")
