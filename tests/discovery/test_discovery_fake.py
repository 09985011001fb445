"""Discovery against the loopback fake provider: paging, errors, a hang, a malformed body."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelwire.config.schema import Config
from modelwire.discovery import ModelDiscoveryService
from modelwire.discovery.listing import ConcurrentLister
from modelwire.registry.model_registry import ModelRegistry
from modelwire.types import ModelInfo
from tools.fake_provider import FakeProviderServer

HANG_TIMEOUT_S = 0.6
HANG_SERVER_DELAY_MS = 10_000  # far beyond HANG_TIMEOUT_S


@pytest.fixture(scope="module", autouse=True)
def _sdks_loaded() -> None:
    """Load the vendor SDKs once so timings measure the providers, not first imports."""
    for module in ("openai", "anthropic", "google.genai"):
        importlib.import_module(module)


def _config(url: str, **extra: Any) -> Config:
    fault = "x-fake-fault"
    compatible = {"type": "openai_compatible", "base_url": url + "/v1"}
    return Config.model_validate(
        {
            "providers": {
                "openai": {"api_key": "sk-test", "base_url": url + "/v1"},
                "anthropic": {"api_key": "sk-ant-test", "base_url": url + "/anthropic"},
                "google": {"api_key": "g-test", "base_url": url},
                "mock": {"type": "mock"},
                "broken": {**compatible, "headers": {fault: "status=500"}},
                # Each provider has its own timeout: the hung one gives up after HANG_TIMEOUT_S.
                "hung": {
                    **compatible,
                    "timeout_s": HANG_TIMEOUT_S,
                    "headers": {fault: f"delay_ms={HANG_SERVER_DELAY_MS}"},
                },
                "garbled": {**compatible, "headers": {fault: "malformed"}},
            },
            **extra,
        }
    )


@pytest.fixture
def server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as srv:
        srv.page_size = 2
        yield srv


def _service(registry: ModelRegistry, tmp_path: Path, **kw: Any) -> ModelDiscoveryService:
    kw.setdefault("timeout_s", 10)
    return ModelDiscoveryService(registry, cache_dir=tmp_path, background=False, **kw)


def test_paging_errors_hang_and_malformed_body_leave_the_others_intact(
    server: FakeProviderServer, tmp_path: Path
) -> None:
    server.models["openai"] = ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small", "o3-mini", "x9"]
    server.models["anthropic"] = [
        "claude-sonnet-4-5-20250929",
        "claude-3-5-haiku-20241022",
        "claude-opus-4-1-20250805",
    ]
    registry = ModelRegistry.from_config(_config(server.url))
    with _service(registry, tmp_path) as service:
        result = service.discover(refresh=True)

    assert set(result.errors) == {"broken", "hung", "garbled"}, result.errors
    assert "500" in result.errors["broken"] or "internal" in result.errors["broken"]
    assert "malformed" in result.errors["garbled"] or "JSON" in result.errors["garbled"]
    # The hung provider was cut off by its own deadline (HANG_TIMEOUT_S, not the service's 10 s)
    # although its request reached the server, which would have answered only after 10 s: the
    # result did not wait for it, and the other providers' listings are whole (below).
    assert result.errors["hung"].startswith("TimeoutError")
    assert f"{HANG_TIMEOUT_S:g}s" in result.errors["hung"], result.errors["hung"]
    hung_requests = [r for r in server.requests if r.fault.delay_ms == HANG_SERVER_DELAY_MS]
    assert len(hung_requests) == 1 and hung_requests[0].path == "/v1/models"
    ids = {m.id for m in result.models}
    # Every page of every paged listing arrived; the embedding model was left out.
    assert {"openai:gpt-4o", "openai:gpt-4o-mini", "openai:o3-mini", "openai:x9"} <= ids
    assert "openai:text-embedding-3-small" not in ids
    assert {f"anthropic:{n}" for n in server.models["anthropic"]} <= ids
    assert {"google:gemini-2.5-pro", "google:gemini-2.5-flash-lite"} <= ids
    assert not any("embedding" in i for i in ids)  # Gemini: generateContent models only
    assert "mock:gpt-4o-mini" in ids
    assert len(server.requests_to("/anthropic/v1/models")) == 2
    assert any(r.query.get("after_id") for r in server.requests_to("/anthropic/v1/models"))
    assert any(r.query.get("pageToken") for r in server.requests_to("/v1beta/models"))
    assert set(result.providers) == {"openai", "anthropic", "google", "mock"}
    assert not result.from_cache
    # Catalog prices were filled in for dated ids; unknown ids are unpriced (None, not 0).
    by_id = {m.id: m for m in result.models}
    assert by_id["anthropic:claude-sonnet-4-5-20250929"].is_priced
    assert by_id["openai:x9"].cost is None and by_id["openai:x9"].source == "discovered"


def test_discover_models_applies_one_update_and_keeps_configured_models(
    server: FakeProviderServer, tmp_path: Path
) -> None:
    server.models["openai"] = ["gpt-4o", "gpt-4o-2024-08-06", "brand-new-model"]
    config = _config(
        server.url,
        models={"openai:gpt-4o": {"aliases": ["four"]}, "openai:retired-one": {}},
    )
    registry = ModelRegistry.from_config(config)
    version = registry.stats()["version"]
    result = registry.discover_models(refresh=True, cache_dir=tmp_path, timeout_s=10)
    assert registry.stats()["version"] == version + 1  # exactly one atomic swap
    assert registry.resolve("four") == "openai:gpt-4o"
    gone = registry.get_model_info("openai:retired-one")
    assert not gone.available and "not listed" in (gone.unavailable_reason or "")
    new = registry.get_model_info("openai:brand-new-model")
    assert new.source == "discovered" and new.cost is None
    assert registry.get_model_info("openai:gpt-4o-2024-08-06").is_priced
    assert "hung" in result.errors
    # A provider that failed leaves its models as they were.
    assert registry.list_models("hung") == []


def test_one_thread_per_hung_provider_and_the_deadline_holds() -> None:
    release = threading.Event()
    calls: list[str] = []

    def hang() -> list[ModelInfo]:
        calls.append("hang")
        release.wait(10)
        return []

    def quick() -> list[ModelInfo]:
        return [ModelInfo(id="q:one")]

    lister = ConcurrentLister()
    try:
        for _ in range(3):
            out = lister.run({"h": (hang, 0.2), "q": (quick, 5.0)})
            # run() came back while the hung function was still blocked (it is released only
            # at the end of the test): the deadline, not the function, ended the wait
            assert lister.running() == ["h"] and not release.is_set()
            assert out["h"].error == "TimeoutError: no answer within 0.2s"
            assert out["q"].models == (ModelInfo(id="q:one"),)
        assert calls == ["hang"]  # the later calls waited on the same thread
    finally:
        release.set()


def test_errors_of_the_listing_function_are_reported_not_raised() -> None:
    def boom() -> list[ModelInfo]:
        raise RuntimeError("kaput\nsecond line")

    out = ConcurrentLister().run({"x": (boom, 1.0)})
    assert out["x"].error == "RuntimeError: kaput second line"
    assert out["x"].models is None and not out["x"].ok
