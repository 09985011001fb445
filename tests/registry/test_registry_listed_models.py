"""A vendor model the catalog does not know yet is usable when its provider lists it.

On a miss for ``<provider>:<name>`` the registry consults the provider's model list (the
discovery cache, or one listing per TTL) before refusing. Everything runs against the loopback
fake provider; time is an injected clock, and "how often" is the fake server's request log.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from modelwire.config.schema import Config
from modelwire.discovery import ModelDiscoveryService
from modelwire.discovery.cache import DiscoveryCache, cache_key
from modelwire.discovery.lookup import ListingLookup
from modelwire.errors import ModelNotFoundError
from modelwire.providers.openai.model import OpenAIChatModel
from modelwire.registry.model_registry import ModelRegistry
from modelwire.service import ModelService
from modelwire.types import ModelInfo
from modelwire.usage.events import InMemoryUsageSink
from tools.fake_provider import FakeProviderServer
from tools.fake_provider.anthropic_format import CONTEXT_TOKENS as ANTHROPIC_CONTEXT
from tools.fake_provider.gemini_format import CONTEXT_TOKENS as GEMINI_CONTEXT

TTL_S = 600.0

# provider entry, its wire format on the fake server, a name no catalog knows, the listing path
VENDORS = [
    ("openai", "openai", "gpt-9", "/v1/models"),
    ("anthropic", "anthropic", "claude-opus-9-20270101", "/anthropic/v1/models"),
    ("google", "gemini", "gemini-9-pro", "/v1beta/models"),
]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _config(url: str, **extra: Any) -> Config:
    raw: dict[str, Any] = {
        "providers": {
            "openai": {"api_key": "sk-test", "base_url": url + "/v1"},
            "anthropic": {"api_key": "sk-ant-test", "base_url": url + "/anthropic"},
            "google": {"api_key": "g-test", "base_url": url},
        },
        "discovery": {"ttl_s": TTL_S, "timeout_s": 30},
        "retry": {"max_attempts": 1},
    }
    raw.update(extra)
    return Config.model_validate(raw)


def _registry(config: Config, cache_dir: Path, clock: Clock) -> ModelRegistry:
    registry = ModelRegistry.from_config(config)
    registry.listing_lookup = ListingLookup(registry, cache_dir=cache_dir, clock=clock)
    return registry


@pytest.fixture
def registry(
    fake_server: FakeProviderServer, tmp_path: Path, clock: Clock
) -> Iterator[ModelRegistry]:
    with _registry(_config(fake_server.url), tmp_path, clock) as registry:
        yield registry


def _listings(server: FakeProviderServer, path: str = "/v1/models") -> int:
    """How many times the server was asked for a model list at ``path``."""
    return sum(1 for r in server.requests if r.method == "GET" and r.path == path)


@pytest.mark.parametrize(("provider", "fmt", "name", "path"), VENDORS)
def test_a_listed_new_model_is_usable_through_the_service(
    fake_server: FakeProviderServer,
    registry: ModelRegistry,
    provider: str,
    fmt: str,
    name: str,
    path: str,
) -> None:
    fake_server.models[fmt] = [*fake_server.models[fmt], name]
    sink = InMemoryUsageSink()
    service = ModelService(registry, ledger=sink)
    model_id = f"{provider}:{name}"

    resp = service.invoke_model(model_id, "hello there", max_tokens=50)

    assert resp.text == "echo: hello there" and resp.model_id == model_id
    info = registry.get_model_info(model_id)
    assert info.source == "discovered" and info.available
    # the catalog does not know it: unpriced (None, never 0), in the response and the ledger
    assert info.cost is None and resp.cost_usd is None
    (event,) = sink.events
    assert event.status == "ok" and event.cost_usd is None
    if provider != "openai":  # what the listing reported is kept (discovery's merge)
        assert info.context_window == {"anthropic": ANTHROPIC_CONTEXT}.get(provider, GEMINI_CONTEXT)
    assert _listings(fake_server, path) == 1
    # only the name asked for was registered, not the whole listing
    assert [m.id for m in registry.list_models(provider) if m.source == "discovered"] == [model_id]


def test_a_name_the_catalog_knows_is_priced_and_needs_no_listing(
    fake_server: FakeProviderServer, registry: ModelRegistry
) -> None:
    sink = InMemoryUsageSink()
    service = ModelService(registry, ledger=sink)
    resp = service.invoke_model("openai:gpt-4o-2099-01-01", "hello", max_tokens=20)
    assert resp.text == "echo: hello"
    assert resp.cost_usd is not None and resp.cost_usd > 0
    assert sink.events[0].cost_usd == resp.cost_usd
    assert registry.get_model_info("openai:gpt-4o-2099-01-01").source == "catalog"
    assert _listings(fake_server) == 0


def test_an_unlisted_name_fails_with_suggestions_that_include_listed_names(
    fake_server: FakeProviderServer, registry: ModelRegistry
) -> None:
    fake_server.models["openai"] = ["gpt-4o", "gpt-9-turbo"]
    with pytest.raises(ModelNotFoundError) as info:
        registry.get_model("openai:gpt-9-trubo")
    assert "openai:gpt-9-turbo" in info.value.suggestions
    message = str(info.value)
    assert "does not list it" in message and "did you mean" in message
    assert not registry.is_registered("openai:gpt-9-trubo")
    assert not registry.is_registered("openai:gpt-9-turbo")  # suggested, not registered
    assert _listings(fake_server) == 1


def test_the_listing_is_fetched_once_per_ttl_across_misses_and_threads(
    fake_server: FakeProviderServer, registry: ModelRegistry, clock: Clock
) -> None:
    fake_server.models["openai"] = ["gpt-9", "gpt-9-mini"]
    # the first listing answers slowly, so the other threads' misses arrive while it runs
    fake_server.faults.push(delay_ms=300, path="/v1/models")
    names = ["openai:gpt-9", "openai:gpt-9-mini", "openai:nope-1", "openai:nope-2"]
    threads = 8
    barrier = threading.Barrier(threads)
    found: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait(10)
        for name in names:
            try:
                model_id = registry.get_model(name).info.id
            except ModelNotFoundError:
                with lock:
                    refused.append(name)
            else:
                with lock:
                    found.append(model_id)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(30)
    assert not any(t.is_alive() for t in pool)
    assert sorted(found) == sorted(["openai:gpt-9", "openai:gpt-9-mini"] * threads)
    assert sorted(refused) == sorted(["openai:nope-1", "openai:nope-2"] * threads)
    assert _listings(fake_server) == 1

    fake_server.models["openai"] = ["gpt-9", "gpt-9-mini", "nope-1"]
    clock.advance(TTL_S - 1)  # still within the TTL: misses are answered from what is known
    for _ in range(5):
        with pytest.raises(ModelNotFoundError):
            registry.get_model("openai:nope-1")
    assert _listings(fake_server) == 1

    clock.advance(1)  # the TTL is over: the next miss asks again, once
    assert registry.get_model("openai:nope-1").info.id == "openai:nope-1"
    with pytest.raises(ModelNotFoundError):
        registry.get_model("openai:nope-2")
    assert _listings(fake_server) == 2


def test_a_failed_listing_is_remembered_until_the_ttl(
    fake_server: FakeProviderServer, registry: ModelRegistry, clock: Clock
) -> None:
    fake_server.models["openai"] = ["gpt-9"]
    fake_server.faults.push(status=500, path="/v1/models")  # the first listing fails
    for _ in range(4):
        with pytest.raises(ModelNotFoundError) as info:
            registry.get_model("openai:gpt-9")
        assert "does not list it" not in str(info.value)  # it may: the list could not be read
    assert _listings(fake_server) == 1  # one failed request (no retries), then remembered
    known = registry.listing_lookup.known("openai")
    assert known is not None and known.models is None and "500" in (known.error or "")

    clock.advance(TTL_S)
    assert registry.get_model("openai:gpt-9").info.id == "openai:gpt-9"
    assert _listings(fake_server) == 2


def test_a_failed_refresh_falls_back_on_the_older_cached_listing(
    fake_server: FakeProviderServer, tmp_path: Path, clock: Clock
) -> None:
    fake_server.models["openai"] = ["gpt-9"]
    config = _config(fake_server.url)
    with _registry(config, tmp_path, clock) as first:
        first.get_model("openai:gpt-9")  # lists, and writes the cache
    clock.advance(TTL_S + 1)
    fake_server.faults.push(status=503, path="/v1/models")
    with _registry(config, tmp_path, clock) as second:
        assert second.get_model("openai:gpt-9").info.id == "openai:gpt-9"
        known = second.listing_lookup.known("openai")
        assert known is not None and known.error is not None  # the failure is remembered
    assert _listings(fake_server) == 2


def test_a_fresh_cached_listing_is_used_and_a_stale_one_is_refreshed(
    fake_server: FakeProviderServer, tmp_path: Path, clock: Clock
) -> None:
    fake_server.models["openai"] = ["gpt-9"]
    config = _config(fake_server.url)
    with (
        _registry(config, tmp_path, clock) as writer,
        ModelDiscoveryService(
            writer, cache_dir=tmp_path, clock=clock, background=False
        ) as discovery,
    ):
        discovery.discover(providers=["openai"])  # the CLI's `discover` writes this cache
    assert _listings(fake_server) == 1

    clock.advance(TTL_S / 2)
    with _registry(config, tmp_path, clock) as reader:
        assert reader.get_model("openai:gpt-9").info.source == "discovered"
        assert _listings(fake_server) == 1  # served by the cache file

        fake_server.models["openai"] = ["gpt-9", "gpt-10"]
        clock.advance(TTL_S / 2)  # the cached listing is now as old as the TTL
        assert reader.get_model("openai:gpt-10").info.id == "openai:gpt-10"
        assert _listings(fake_server) == 2
        stored = DiscoveryCache(tmp_path, cache_key(reader.providers)).load()["openai"]
    assert {m.id for m in stored.models} == {"openai:gpt-9", "openai:gpt-10"}
    assert stored.fetched_at == clock.now


def test_discovery_disabled_asks_nothing(
    fake_server: FakeProviderServer, tmp_path: Path, clock: Clock
) -> None:
    fake_server.models["openai"] = ["gpt-9"]
    config = _config(fake_server.url, discovery={"enabled": False})
    with _registry(config, tmp_path, clock) as registry:
        for _ in range(3):
            with pytest.raises(ModelNotFoundError):
                registry.get_model("openai:gpt-9")
        assert registry.listing_lookup.known("openai") is None
    assert fake_server.requests == []


def test_an_entry_without_key_base_url_or_headers_is_not_asked(
    tmp_path: Path, clock: Clock
) -> None:
    config = Config.model_validate({"providers": {"openai": {}}})
    with _registry(config, tmp_path, clock) as registry:
        with pytest.raises(ModelNotFoundError):
            registry.get_model("openai:gpt-9")
        assert registry.listing_lookup.known("openai") is None


def test_a_reload_that_replaces_the_entry_asks_its_new_endpoint(
    fake_server: FakeProviderServer, tmp_path: Path, clock: Clock
) -> None:
    fake_server.models["openai"] = ["gpt-9"]
    with _registry(_config(fake_server.url), tmp_path, clock) as registry:
        registry.get_model("openai:gpt-9")
        fake_server.models["openai"] = ["gpt-9", "gpt-10"]
        registry.reload(_config(fake_server.url, discovery={"ttl_s": TTL_S, "timeout_s": 29}))
        with pytest.raises(ModelNotFoundError):
            registry.get_model("openai:gpt-10")  # the entry is unchanged: its listing holds
        assert _listings(fake_server) == 1
        moved = _config(fake_server.url)
        openai = moved.providers["openai"].model_copy(update={"base_url": fake_server.url + "/v1/"})
        registry.reload(
            moved.model_copy(update={"providers": {**moved.providers, "openai": openai}})
        )
        assert registry.get_model("openai:gpt-10").info.id == "openai:gpt-10"
        assert _listings(fake_server) == 2


def test_no_registry_lock_is_held_while_a_listing_runs(
    fake_server: FakeProviderServer, registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing of one provider blocks (gated by the test) while the registry goes on:
    writes, model builds, another provider's miss. A second miss of the same provider waits
    for the listing in flight instead of starting another."""
    fake_server.models["openai"] = ["gpt-9", "gpt-9-mini"]
    fake_server.models["anthropic"] = ["claude-opus-9-20270101"]
    entered = threading.Event()
    release = threading.Event()
    calls: list[str] = []
    list_openai = OpenAIChatModel.list_models

    def gated(cls: type[OpenAIChatModel], provider: Any) -> list[ModelInfo]:
        calls.append(provider.name)
        entered.set()
        assert release.wait(20)
        return list_openai(provider)

    monkeypatch.setattr(OpenAIChatModel, "list_models", classmethod(gated))
    got: dict[str, str] = {}

    def miss(name: str) -> None:
        got[name] = registry.get_model(name).info.id

    first = threading.Thread(target=miss, args=("openai:gpt-9",))
    first.start()
    try:
        assert entered.wait(20)
        second = threading.Thread(target=miss, args=("openai:gpt-9-mini",))
        second.start()
        # meanwhile, with the openai listing still held open:
        registry.register_model(ModelInfo(id="openai:hand-made"))
        assert registry.get_model("openai:gpt-4o").info.id == "openai:gpt-4o"
        assert registry.get_model("anthropic:claude-opus-9-20270101").info.source == "discovered"
        assert not release.is_set() and "openai:gpt-9" not in got
    finally:
        release.set()
        first.join(20)
    second.join(20)
    assert got == {"openai:gpt-9": "openai:gpt-9", "openai:gpt-9-mini": "openai:gpt-9-mini"}
    assert calls == ["openai"]  # one listing for both misses
    assert _listings(fake_server) == 1


def test_an_entry_of_the_real_endpoint_fails_fast_under_the_loopback_guard(
    tmp_path: Path, clock: Clock
) -> None:
    """A keyed entry without ``base_url`` would list the vendor's real endpoint; the test
    suite's loopback guard (tests/support/loopback_only.py) refuses it at once, so the miss
    fails as before and the failure is remembered."""
    config = Config.model_validate({"providers": {"openai": {"api_key": "sk-test"}}})
    with _registry(config, tmp_path, clock) as registry:
        for _ in range(2):
            with pytest.raises(ModelNotFoundError):
                registry.get_model("openai:gpt-9")
        known = registry.listing_lookup.known("openai")
        assert known is not None and known.models is None
        assert "could not reach" in (known.error or "")
