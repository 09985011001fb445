"""``ModelDiscoveryService``: list every configured provider's models, cache them, merge them in.

``discover()`` serves fresh listings from the on-disk cache and asks the other providers
concurrently (``listing``), each with its own timeout; ``apply()`` merges a result into the
registry (``merge``) in one ``update_models`` call. Nothing here runs inside a model call.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from modelwire.config.secrets import scrub
from modelwire.discovery.cache import CachedListing, DiscoveryCache, cache_key, redact_url
from modelwire.discovery.listing import ConcurrentLister, ListingOutcome
from modelwire.discovery.merge import MergePlan, merge_models
from modelwire.discovery.result import DiscoveryResult
from modelwire.types import ModelInfo

if TYPE_CHECKING:
    from modelwire.catalog import Catalog
    from modelwire.config.schema import Config
    from modelwire.discovery.background import BackgroundRefresher
    from modelwire.providers.base import ProviderContext
    from modelwire.providers.factory import ModelFactory

__all__ = ["DiscoveryTarget", "ModelDiscoveryService", "utc_now"]


class DiscoveryTarget(Protocol):
    """What discovery reads and updates: ``ModelRegistry`` is one. (Discovery sits below the
    registry, which offers ``discover_models()`` on top of it, so it names no registry class.)"""

    config: Config
    factory: ModelFactory

    @property
    def providers(self) -> Mapping[str, ProviderContext]: ...

    @property
    def version(self) -> int: ...

    def provider(self, name: str) -> ProviderContext: ...

    def list_models(self, provider: str | None = None) -> list[ModelInfo]: ...

    def update_models_from(self, plan: Callable[[list[ModelInfo]], MergePlan]) -> MergePlan: ...


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the default clock)."""
    return datetime.now(UTC)


def default_cache_dir() -> Path:
    """``platformdirs.user_cache_dir("modelwire")``."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("modelwire"))


@dataclass
class _Gathered:
    """The listings one ``discover()`` collects, and where they came from."""

    listings: dict[str, tuple[ModelInfo, ...]] = field(default_factory=dict)
    times: list[datetime] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    new_entries: dict[str, CachedListing] = field(default_factory=dict)

    def use(
        self, name: str, models: tuple[ModelInfo, ...], fetched_at: datetime, *, cached: bool
    ) -> None:
        self.listings[name] = models
        self.times.append(fetched_at)
        if cached:
            self.cached.append(name)


class ModelDiscoveryService:
    """Asks the registry's providers which models they serve and merges the answers in.

    ``ttl_s``, ``timeout_s`` and ``refresh_interval_s`` default to the ``discovery:`` section of
    the registry's configuration. A provider gets ``min(timeout_s, its own timeout_s)`` to answer
    and one attempt (no retries). ``cache_dir=None`` uses the user cache dir; ``cache=False``
    turns the disk cache off. ``clock`` returns the current time (timezone-aware). With a refresh
    interval (and ``background`` not false, and ``discovery.enabled``) a daemon thread runs
    ``refresh()`` every interval until ``close()``.
    """

    def __init__(
        self,
        registry: DiscoveryTarget,
        *,
        cache_dir: str | Path | None = None,
        ttl_s: float | None = None,
        timeout_s: float | None = None,
        clock: Callable[[], datetime] = utc_now,
        refresh_interval_s: float | None = None,
        background: bool | None = None,
        cache: bool = True,
        catalog: Catalog | None = None,
    ) -> None:
        settings = registry.config.discovery
        self.registry = registry
        self.ttl_s = settings.ttl_s if ttl_s is None else float(ttl_s)
        self.timeout_s = settings.timeout_s if timeout_s is None else float(timeout_s)
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.clock = clock
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._use_cache = cache
        self._catalog = catalog
        self._lister = ConcurrentLister()
        self._contexts: dict[str, ProviderContext] = {}
        self._prepared: set[str] = set()
        self._contexts_lock = threading.Lock()
        self._last: DiscoveryResult | None = None
        self._loaded: tuple[tuple[str, int, int], dict[str, CachedListing]] | None = None
        self._refresher: BackgroundRefresher | None = None
        interval = settings.refresh_interval_s if refresh_interval_s is None else refresh_interval_s
        self.refresh_interval_s = interval
        if interval and (background or (background is None and settings.enabled)):
            self.start_background(interval)

    def __repr__(self) -> str:
        return (
            f"ModelDiscoveryService(providers={sorted(self.registry.providers)}, "
            f"ttl_s={self.ttl_s:g}, timeout_s={self.timeout_s:g})"
        )

    # -- pieces ---------------------------------------------------------------------------

    @property
    def cache(self) -> DiscoveryCache | None:
        """The cache file of the registry's provider set (``None`` when caching is off)."""
        if not self._use_cache:
            return None
        directory = self._cache_dir or default_cache_dir()
        return DiscoveryCache(directory, cache_key(self.registry.providers))

    @property
    def catalog(self) -> Catalog:
        """The catalog used to fill in prices and metadata (the bundled one by default)."""
        if self._catalog is None:
            from modelwire.catalog import load_catalog

            self._catalog = load_catalog()
        return self._catalog

    @property
    def last_result(self) -> DiscoveryResult | None:
        """The result of the latest ``discover()`` of this service, if any."""
        return self._last

    def provider_timeout(self, name: str) -> float:
        """The seconds provider ``name`` gets to list its models."""
        return min(self.timeout_s, self.registry.provider(name).config.timeout_s)

    def _context(self, name: str) -> ProviderContext:
        """A discovery-only context of provider ``name``: its timeout, no retries."""
        with self._contexts_lock:
            ctx = self._contexts.get(name)
            if ctx is None:
                from modelwire.providers.base import ProviderContext

                source = self.registry.provider(name)
                config = source.config.model_copy(
                    update={"timeout_s": self.provider_timeout(name), "max_retries": 0}
                )
                ctx = ProviderContext(name, config)
                self._contexts[name] = ctx
            return ctx

    def _lister_for(self, name: str) -> Callable[[], list[ModelInfo]]:
        """The listing function of provider ``name``, prepared before its timeout starts.

        Loading a vendor SDK can take seconds the first time, and building a client (no network
        I/O, by the ``ProviderContext`` contract) tens of milliseconds; neither is the provider
        being slow, so both happen here, once per service, through the provider class's
        ``prepare_client`` hook. Errors (an unknown type, a missing SDK or key) surface when the
        returned function runs, as that provider's error.
        """
        ctx = self._context(name)
        try:
            factory = self.registry.factory
            cls = factory.provider_class(ctx.type)
            factory.check_installed(cls, ctx)
            for module in cls.requires:
                importlib.import_module(module)
            if name not in self._prepared:
                cls.prepare_client(ctx)
                self._prepared.add(name)
        except Exception as exc:
            failure = exc

            def failed() -> list[ModelInfo]:
                raise failure

            return failed

        def list_models() -> list[ModelInfo]:
            return cls.list_models(ctx)

        return list_models

    # -- discovery ------------------------------------------------------------------------

    def discover(
        self, refresh: bool = False, *, providers: Iterable[str] | None = None
    ) -> DiscoveryResult:
        """List the models of every provider (or of ``providers``); see ``DiscoveryResult``.

        Listings younger than ``ttl_s`` come from the cache unless ``refresh`` is true. The other
        providers are asked concurrently; one that fails or times out is reported in ``errors``
        and, when the cache has an older listing of it, that listing is used. The registry is
        not changed: ``apply(result)`` (or ``registry.discover_models()``) does that.
        """
        names = list(dict.fromkeys(providers)) if providers is not None else None
        if names is None:
            names = sorted(self.registry.providers)
        for name in names:
            self.registry.provider(name)  # unknown names raise ModelNotFoundError
        now = self._now()
        cache = self.cache
        stored = self._load(cache) if cache is not None else {}
        usable = {n: stored[n] for n in names if n in stored and stored[n].matches(self._source(n))}
        fresh = {} if refresh else {n: c for n, c in usable.items() if self._is_fresh(c, now)}
        todo = [n for n in names if n not in fresh]
        outcomes: dict[str, ListingOutcome] = {}
        if todo:
            outcomes = self._lister.run(
                {n: (self._lister_for(n), self.provider_timeout(n)) for n in todo}
            )
        got = _Gathered()
        for name in names:
            if name in fresh:
                got.use(name, fresh[name].models, fresh[name].fetched_at, cached=True)
            elif outcomes[name].models is not None:
                models = tuple(m for m in outcomes[name].models or () if m.provider == name)
                got.use(name, models, now, cached=False)
                ctx = self._source(name)
                got.new_entries[name] = CachedListing(
                    name, ctx.type, redact_url(ctx.config.base_url), now, models
                )
            else:
                error = outcomes[name].error or "Error: no answer"
                got.errors[name] = scrub(error, self._source(name).secrets())
                stale = usable.get(name)
                if stale is not None:
                    got.use(name, stale.models, stale.fetched_at, cached=True)
        if cache is not None and got.new_entries:
            cache.store(got.new_entries)
        merged = self.plan(got.listings).by_id()
        found = {m.id: merged[m.id] for ms in got.listings.values() for m in ms if m.id in merged}
        result = DiscoveryResult(
            models=[found[i] for i in sorted(found)],
            errors=got.errors,
            fetched_at=min(got.times) if got.times else now,
            from_cache=bool(got.cached),
            providers=tuple(n for n in names if n in got.listings),
            cached_providers=tuple(got.cached),
            listings=got.listings,
        )
        self._last = result
        return result

    def _now(self) -> datetime:
        """The clock's time; a naive time is taken as UTC."""
        now = self.clock()
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)

    def _load(self, cache: DiscoveryCache) -> dict[str, CachedListing]:
        """The cache file's listings, parsed again only when the file changed."""
        try:
            st = cache.path.stat()
        except OSError:
            return {}
        stamp = (str(cache.path), st.st_mtime_ns, st.st_size)
        memo = self._loaded
        if memo is not None and memo[0] == stamp:
            return memo[1]
        stored = cache.load()
        self._loaded = (stamp, stored)
        return stored

    def _source(self, name: str) -> ProviderContext:
        return self.registry.provider(name)

    def _is_fresh(self, entry: CachedListing, now: datetime) -> bool:
        age = now - entry.fetched_at
        return timedelta(0) <= age < timedelta(seconds=self.ttl_s)

    def plan(self, listings: Mapping[str, Iterable[ModelInfo]]) -> MergePlan:
        """The merge of ``listings`` into the registry as it is now (nothing is changed)."""
        listed = {name: tuple(models) for name, models in listings.items()}
        return self._merge(self.registry.list_models(), listed, self.catalog)

    def _merge(
        self,
        models: list[ModelInfo],
        listings: Mapping[str, tuple[ModelInfo, ...]],
        catalog: Catalog,
    ) -> MergePlan:
        return merge_models(
            models,
            listings,
            config=self.registry.config,
            catalog=catalog,
            provider_types={n: c.type for n, c in self.registry.providers.items()},
        )

    def apply(self, result: DiscoveryResult) -> MergePlan:
        """Merge ``result`` into the registry in one atomic update.

        The merge is planned against the registry's models under its write lock
        (``update_models_from``): no registration, replacement or reload can come between the
        plan and the swap, so a concurrent change is never overwritten by a stale plan, and
        however busy the registry is, apply never has to give up. Planning is pure (the catalog
        is loaded before the lock).
        """
        catalog = self.catalog
        listings = {name: tuple(models) for name, models in result.listings.items()}
        return self.registry.update_models_from(
            lambda models: self._merge(models, listings, catalog)
        )

    def refresh(self) -> DiscoveryResult:
        """``discover(refresh=True)`` and ``apply`` it (what the background thread runs)."""
        result = self.discover(refresh=True)
        self.apply(result)
        return result

    # -- background refresh and lifetime ----------------------------------------------------

    @property
    def background_running(self) -> bool:
        """True while the background refresh thread runs."""
        return self._refresher is not None and self._refresher.running

    def start_background(self, interval_s: float | None = None) -> None:
        """Refresh and apply every ``interval_s`` seconds on a daemon thread until ``close()``."""
        from modelwire.discovery.background import BackgroundRefresher

        interval = interval_s or self.refresh_interval_s
        if not interval:
            raise ValueError("no refresh interval: pass interval_s or set refresh_interval_s")
        if self._refresher is not None:
            self._refresher.stop()
        self._refresher = BackgroundRefresher(self.refresh, interval)
        self._refresher.start()

    def stop_background(self) -> None:
        """Stop the background refresh thread (a no-op when none runs)."""
        refresher, self._refresher = self._refresher, None
        if refresher is not None:
            refresher.stop(join_timeout_s=self.timeout_s + 5)

    def close(self) -> None:
        """Stop the background thread and close the discovery clients."""
        self.stop_background()
        with self._contexts_lock:
            contexts, self._contexts = list(self._contexts.values()), {}
            self._prepared.clear()
        for ctx in contexts:
            ctx.close()

    def __enter__(self) -> ModelDiscoveryService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        """Settings and state, for ``repr``-like diagnostics (no secrets)."""
        cache = self.cache
        return {
            "providers": sorted(self.registry.providers),
            "ttl_s": self.ttl_s,
            "timeout_s": self.timeout_s,
            "cache": str(cache.path) if cache is not None else None,
            "background": self.background_running,
            "still_running": self._lister.running(),
        }
