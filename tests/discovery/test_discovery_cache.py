"""The discovery cache: TTL, stale listings when a refresh fails, no secrets, one file per setup."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from modelwire.config.schema import Config
from modelwire.discovery import ModelDiscoveryService
from modelwire.discovery.cache import DiscoveryCache, cache_key, redact_url
from modelwire.registry.model_registry import ModelRegistry
from tools.fake_provider import FakeProviderServer


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as srv:
        srv.models["openai"] = ["llama3.1", "qwen2.5"]
        yield srv


def _registry(url: str, **provider: Any) -> ModelRegistry:
    entry = {"type": "openai_compatible", "base_url": url + "/v1", **provider}
    return ModelRegistry.from_config(Config.model_validate({"providers": {"local": entry}}))


def _service(registry: ModelRegistry, tmp_path: Path, clock: Clock) -> ModelDiscoveryService:
    return ModelDiscoveryService(
        registry, cache_dir=tmp_path, ttl_s=60, timeout_s=5, clock=clock, background=False
    )


def _listings(server: FakeProviderServer) -> int:
    return len(server.requests_to("/models"))


def test_fresh_cache_is_served_without_asking_and_expires_after_ttl(
    server: FakeProviderServer, tmp_path: Path
) -> None:
    clock = Clock()
    registry = _registry(server.url)
    with _service(registry, tmp_path, clock) as service:
        first = service.discover()
        assert not first.from_cache and _listings(server) == 1
        clock.advance(59)
        second = service.discover()
        assert second.from_cache and second.cached_providers == ("local",)
        assert second.fetched_at == first.fetched_at and _listings(server) == 1
        assert [m.id for m in second.models] == [m.id for m in first.models]
        forced = service.discover(refresh=True)
        assert not forced.from_cache and _listings(server) == 2
        clock.advance(61)
        expired = service.discover()
        assert not expired.from_cache and _listings(server) == 3
    # A new service (another process, say) reads the same file.
    with _service(_registry(server.url), tmp_path, clock) as other:
        assert other.discover().from_cache and _listings(server) == 3


def test_stale_listing_is_used_when_the_refresh_fails(
    server: FakeProviderServer, tmp_path: Path
) -> None:
    clock = Clock()
    registry = _registry(server.url)
    with _service(registry, tmp_path, clock) as service:
        fresh = service.discover()
        clock.advance(3600)
        server.faults.push(status=503, path="/models")
        stale = service.discover()
    assert "status=503" in stale.errors["local"]
    assert stale.from_cache and stale.cached_providers == ("local",)
    assert stale.fetched_at == fresh.fetched_at  # the age of what is shown
    assert [m.id for m in stale.models] == ["local:llama3.1", "local:qwen2.5"]


def test_failure_without_cache_reports_the_error_and_lists_nothing(
    server: FakeProviderServer, tmp_path: Path
) -> None:
    server.faults.push(status=401, path="/models")
    with _service(_registry(server.url), tmp_path, Clock()) as service:
        result = service.discover()
    assert list(result.errors) == ["local"] and result.models == []
    assert not result.from_cache and result.providers == ()
    assert not DiscoveryCache(tmp_path, cache_key(service.registry.providers)).path.exists()


def test_cache_never_holds_secrets(server: FakeProviderServer, tmp_path: Path) -> None:
    url = server.url.replace("http://", "http://user:pw-secret@") + "/v1?key=q-secret"
    config = Config.model_validate(
        {
            "providers": {
                "local": {
                    "type": "openai_compatible",
                    "base_url": server.url + "/v1",
                    "api_key": "sk-key-secret",
                    "headers": {"authorization": "Bearer hdr-secret"},
                },
                "other": {"type": "openai_compatible", "base_url": url, "api_key": "sk-2-secret"},
            }
        }
    )
    registry = ModelRegistry.from_config(config)
    with _service(registry, tmp_path, Clock()) as service:
        result = service.discover()
        path = service.cache.path if service.cache else None
    assert "local" in result.providers
    assert path is not None and path.exists()
    text = path.read_text()
    for secret in ("sk-key-secret", "hdr-secret", "pw-secret", "q-secret", "sk-2-secret"):
        assert secret not in text
    assert json.loads(text)["providers"]["local"]["base_url"] == server.url + "/v1"
    assert redact_url(url) == server.url + "/v1"


def test_key_depends_on_names_types_and_urls_only(server: FakeProviderServer) -> None:
    a = _registry(server.url, api_key="sk-one")
    b = _registry(server.url, api_key="sk-two", timeout_s=3)
    c = _registry(server.url + "/other")
    assert cache_key(a.providers) == cache_key(b.providers)
    assert cache_key(a.providers) != cache_key(c.providers)


def test_corrupt_cache_counts_as_empty_and_is_rewritten(
    server: FakeProviderServer, tmp_path: Path
) -> None:
    registry = _registry(server.url)
    cache = DiscoveryCache(tmp_path, cache_key(registry.providers))
    cache.path.write_text("{not json")
    assert cache.load() == {}
    with _service(registry, tmp_path, Clock()) as service:
        assert not service.discover().from_cache
    assert set(cache.load()) == {"local"}
    cache.path.write_text(json.dumps({"version": 1, "providers": {"local": {"bad": 1}}}))
    assert cache.load() == {}


def test_cache_can_be_turned_off(server: FakeProviderServer, tmp_path: Path) -> None:
    registry = _registry(server.url)
    with ModelDiscoveryService(registry, cache=False, background=False) as service:
        assert service.cache is None
        assert not service.discover().from_cache
        assert not service.discover().from_cache
    assert _listings(server) == 2


def test_naive_clock_is_taken_as_utc_and_unknown_provider_raises(
    server: FakeProviderServer, tmp_path: Path
) -> None:
    from modelwire.errors import ModelNotFoundError

    registry = _registry(server.url)
    naive = datetime(2026, 1, 1, 12, 0)
    with ModelDiscoveryService(
        registry, cache_dir=tmp_path, clock=lambda: naive, background=False
    ) as service:
        first = service.discover()
        assert first.fetched_at == naive.replace(tzinfo=UTC)
        assert service.discover().from_cache
        with pytest.raises(ModelNotFoundError):
            service.discover(providers=["nope"])
