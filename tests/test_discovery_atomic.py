"""Readers never see a registry with models missing while discovery applies; background refresh."""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime

from modelwire.config.schema import Config
from modelwire.discovery import DiscoveryResult, ModelDiscoveryService
from modelwire.errors import ModelNotFoundError
from modelwire.registry import ModelRegistry
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
