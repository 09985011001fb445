"""Hot swap: replace_model, reload(config), capability queries, per-model health and stats."""

from __future__ import annotations

import contextlib
import threading

import pytest

from modelwire.config.schema import Config
from modelwire.errors import ModelNotFoundError, RateLimitError
from modelwire.registry.model_registry import ModelRegistry
from modelwire.service.model_service import ModelService
from modelwire.types import ModelInfo


def cfg(latency: float = 0, **models: dict[str, object]) -> Config:
    return Config.model_validate(
        {
            "providers": {
                "mock": {"type": "mock", "latency_ms": latency},
                "other": {"type": "mock"},
            },
            "models": {"mock:keep": {"aliases": ["k"]}, **models},
        }
    )


def test_reload_swaps_models_and_keeps_unchanged_objects() -> None:
    registry = ModelRegistry.from_config(cfg(**{"mock:old": {"context_window": 100}}))
    keep = registry.get_model("k")
    registry.register_model(ModelInfo(id="mock:by-hand"))
    registry.reload(cfg(**{"mock:new": {"aliases": ["n"]}}))
    assert registry.get_model("k") is keep  # same provider settings, same definition
    assert registry.resolve("n") == "mock:new"
    assert registry.is_registered("mock:by-hand")  # registered in code: kept
    assert "mock:old" not in [i.id for i in registry.list_models()]


def test_reload_with_changed_provider_rebuilds_its_models() -> None:
    registry = ModelRegistry.from_config(cfg())
    before = registry.get_model("k")
    old_ctx = registry.provider("mock")
    registry.reload(cfg(latency=1))
    after = registry.get_model("k")
    assert after is not before and registry.provider("mock") is not old_ctx
    assert registry.provider("mock").config.latency_ms == 1  # type: ignore[attr-defined]


def test_reload_drops_models_of_removed_providers() -> None:
    registry = ModelRegistry.from_config(cfg())
    registry.register_model(ModelInfo(id="other:x"))
    registry.reload(Config.model_validate({"providers": {"mock": {"type": "mock"}}}))
    assert not registry.is_registered("other:x")
    assert "other" not in registry.providers


def test_readers_never_miss_a_model_during_reloads() -> None:
    registry = ModelRegistry.from_config(cfg())
    stop = threading.Event()
    misses: list[str] = []

    def read() -> None:
        while not stop.is_set():
            try:
                registry.get_model("k")
            except ModelNotFoundError as exc:
                misses.append(str(exc))

    readers = [threading.Thread(target=read) for _ in range(4)]
    for t in readers:
        t.start()
    for i in range(200):
        registry.reload(cfg(latency=i % 2, **{f"mock:m{i % 3}": {}}))
    stop.set()
    for t in readers:
        t.join(10)
    assert misses == []


def test_in_flight_call_finishes_on_replaced_model() -> None:
    registry = ModelRegistry.from_config(cfg(latency=60))
    service = ModelService(registry)
    out: list[str] = []
    t = threading.Thread(target=lambda: out.append(service.invoke_model("k", "hi").model_id))
    t.start()
    registry.replace_model(ModelInfo(id="mock:keep", aliases=("k",), context_window=9))
    t.join(5)
    assert out == ["mock:keep"]
    assert registry.get_model_info("k").context_window == 9
    with pytest.raises(ModelNotFoundError):
        registry.replace_model(ModelInfo(id="mock:never-registered"))


def test_capability_queries() -> None:
    registry = ModelRegistry(config=cfg())
    for mid, code, price in (
        ("mock:a", "strong", "1"),
        ("mock:b", "exceptional", "5"),
        ("mock:c", "strong", "0.5"),
        ("other:d", "basic", "0.1"),
    ):
        registry.register_model(
            ModelInfo(
                id=mid,
                capabilities={"code": code, "chat": "moderate"},
                cost={"input_per_mtok": price, "output_per_mtok": price},
            )
        )
    assert [i.id for i in registry.get_models_by_capability("code", "strong")] == [
        "mock:b",
        "mock:c",
        "mock:a",
    ]
    grouped = registry.find_models_with_capabilities({"code": "basic", "chat": "moderate"})
    assert {p: [i.id for i in v] for p, v in grouped.items()} == {
        "other": ["other:d"],
        "mock": ["mock:c", "mock:a", "mock:b"],
    }
    assert str(registry.get_capabilities_for_model("mock:a")["code"]) == "strong"


def test_health_and_stats_count_every_attempt() -> None:
    config = Config.model_validate(
        {
            "providers": {
                "mock": {
                    "type": "mock",
                    "error_rate": 1.0,
                    "error_kinds": ["rate_limit"],
                    "retry_after_s": 0,
                },
                "ok": {"type": "mock"},
            },
            "retry": {"base_delay_s": 0, "max_delay_s": 0},
        }
    )
    registry = ModelRegistry.from_config(config)
    service = ModelService(registry)
    service.invoke_model("ok:fine", "hi")
    with pytest.raises(RateLimitError):
        service.invoke_model("mock:flaky", "hi")
    health = registry.health()
    assert health["ok:fine"]["calls"] == 1 and health["ok:fine"]["errors"] == 0
    assert health["mock:flaky"]["calls"] == 3 and health["mock:flaky"]["error_rate"] == 1.0
    assert health["mock:flaky"]["last_error"] == "RateLimitError"
    stats = registry.stats()
    assert stats["calls"] == {"mock:flaky": 3, "ok:fine": 1}
    assert stats["errors"] == {"mock:flaky": 3}
    assert service.health()["models"] == health


def test_a_replaced_entry_closes_at_once_when_no_call_uses_it() -> None:
    registry = ModelRegistry.from_config(cfg())
    old = registry.provider("mock")
    closed: list[str] = []
    old.client("probe", lambda: object(), lambda _: closed.append("closed"))
    registry.reload(cfg(latency=1))
    assert closed == ["closed"]
    assert registry.provider("mock") is not old


def test_a_replaced_entry_closes_when_its_last_in_flight_call_finishes() -> None:
    registry = ModelRegistry.from_config(cfg(latency=150))
    service = ModelService(registry)
    old = registry.provider("mock")
    closed: list[int] = []
    old.client("probe", lambda: object(), lambda _: closed.append(old.in_flight))
    started = threading.Event()
    out: list[str] = []

    def call() -> None:
        started.set()
        out.append(service.invoke_model("k", "hi").text)

    t = threading.Thread(target=call)
    t.start()
    started.wait(5)
    while old.in_flight == 0 and t.is_alive():  # the call holds the entry once it has started
        threading.Event().wait(0.001)
    registry.reload(cfg(latency=0))
    assert closed == []  # the call still uses the old entry's clients
    t.join(10)
    assert out and closed == [0]  # closed right after the call, with nothing in flight


def _open_sockets() -> int:
    import os

    fds = os.listdir("/proc/self/fd")
    count = 0
    for fd in fds:
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self/fd"), reason="needs /proc")
def test_repeated_reloads_keep_open_sockets_flat(fake_server: object) -> None:
    url = fake_server.url  # type: ignore[attr-defined]

    def openai_cfg(timeout: float) -> Config:
        return Config.model_validate(
            {"providers": {"openai": {"api_key": "sk-test", "base_url": url, "timeout_s": timeout}}}
        )

    registry = ModelRegistry.from_config(openai_cfg(30), catalog=False)
    service = ModelService(registry)
    service.invoke_model("openai:gpt-4o-mini", "warm up")
    before = _open_sockets()
    held = []  # model objects kept alive (as a long-lived caller would) keep their old entries
    for i in range(60):
        held.append(registry.get_model("openai:gpt-4o-mini"))
        registry.reload(openai_cfg(30 + (i % 2) + 1), catalog=False)
        service.invoke_model("openai:gpt-4o-mini", f"call {i}")
    assert _open_sockets() <= before + 2
    assert len(held) == 60
    registry.close()
