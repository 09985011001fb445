"""``ListingLookup``: is a model nobody registered one its provider lists?

The registry asks this on a miss (``openai:gpt-9``, released after the bundled catalog) before it
refuses the name. The answer comes from the provider's listing: the discovery cache while it is
younger than ``discovery.ttl_s``, otherwise one listing through ``ModelDiscoveryService`` (the
discovery timeout, no retries), which writes the cache. Each provider entry is asked at most once
per TTL by one lookup — a failed listing is remembered as long as a good one — and concurrent
misses of one provider share a single listing: the first asks, the others wait for its answer.
No lock of the registry is held meanwhile; the only lock held across the listing is the
provider's own lookup lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from modelwire.catalog.matching import normalise
from modelwire.discovery.merge import merge_models
from modelwire.discovery.service import DiscoveryTarget, ModelDiscoveryService, utc_now
from modelwire.types import ModelInfo

if TYPE_CHECKING:
    from modelwire.catalog import Catalog
    from modelwire.providers.base import ProviderContext

__all__ = ["Listing", "ListingLookup", "can_list"]

log = logging.getLogger("modelwire.discovery")


def can_list(ctx: ProviderContext) -> bool:
    """Whether asking ``ctx``'s provider for its models can succeed: the entry has a key, a base
    URL or headers. Every vendor's model list needs at least a key, so a bare entry is not asked
    (its calls would fail the same way)."""
    config = ctx.config
    return config.api_key is not None or bool(config.base_url) or bool(config.headers)


@dataclass(frozen=True, slots=True)
class Listing:
    """What one provider entry listed, as the lookup last learnt it.

    ``models`` is ``None`` when the listing failed and no older one was cached; ``error`` says
    why the last attempt failed. ``as_of`` is when it was fetched (or, for a failure, attempted):
    the lookup asks again once it is ``ttl_s`` old. ``entry`` is the provider entry it is for; a
    reload that replaces the entry makes it stale.
    """

    entry: ProviderContext
    as_of: datetime
    models: tuple[ModelInfo, ...] | None
    error: str | None = None

    def ids(self) -> list[str]:
        """The listed ids (none after a failure)."""
        return [m.id for m in self.models or ()]


class ListingLookup:
    """Finds unregistered models in their providers' listings, for a registry's misses.

    ``cache_dir``, ``cache`` and ``clock`` mean what they mean for ``ModelDiscoveryService``
    (``clock`` returns the current time, timezone-aware); the TTL, the timeout and ``enabled``
    are read from the target's ``discovery:`` configuration at each miss, so a reload applies.
    """

    def __init__(
        self,
        target: DiscoveryTarget,
        *,
        cache_dir: str | Path | None = None,
        cache: bool = True,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.target = target
        self.clock = clock
        self._cache_dir = cache_dir
        self._use_cache = cache
        self._known: dict[str, Listing] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ListingLookup(known={sorted(self._known)})"

    # -- answers ---------------------------------------------------------------------------

    def find(self, provider: str, name: str) -> ModelInfo | None:
        """The model to register for ``<provider>:<name>`` when the provider lists it, else
        ``None``.

        The listed model is merged by discovery's rules (``merge_models``): the catalog fills
        in what it knows of it, prices included, and configuration wins. ``None`` without any
        listing when discovery is disabled or the entry cannot list (``can_list``). A name
        matches a listed one exactly, or else as the one listed name equal to it ignoring case
        and a ``models/`` prefix.
        """
        listing = self.listing(provider)
        if listing is None or not listing.models:
            return None
        found = _match(listing.models, provider, name)
        if found is None:
            return None
        from modelwire.catalog import load_catalog

        return self._merged(provider, found, load_catalog())

    def listing(self, provider: str) -> Listing | None:
        """Provider ``provider``'s listing, asking for it when the one known is missing or older
        than the TTL; ``None`` when discovery is disabled or the entry cannot list.

        Blocks while the provider is asked (at most the discovery timeout, plus loading its
        SDK the first time), whether this thread asks or waits for another that does.
        """
        settings = self.target.config.discovery
        entry = self.target.providers.get(provider)
        if not settings.enabled or entry is None or not can_list(entry):
            return None
        known = self._current(provider, entry, settings.ttl_s)
        if known is not None:
            return known
        with self._lock_for(provider):
            known = self._current(provider, entry, settings.ttl_s)
            if known is None:  # no other thread asked meanwhile: ask now
                known = self._fetch(provider, entry)
                self._known[provider] = known
            return known

    def known(self, provider: str) -> Listing | None:
        """The last listing learnt of ``provider``'s current entry, however old (no I/O)."""
        known = self._known.get(provider)
        entry = self.target.providers.get(provider)
        return known if known is not None and known.entry is entry else None

    def forget(self, provider: str | None = None) -> None:
        """Drop what is known of one provider's listing (or of all): the next miss asks again,
        or reads the cache."""
        if provider is None:
            self._known.clear()
        else:
            self._known.pop(provider, None)

    # -- pieces ----------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self.clock()
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)

    def _current(self, provider: str, entry: ProviderContext, ttl_s: float) -> Listing | None:
        """The known listing of ``provider`` while it is for ``entry`` and younger than the TTL."""
        known = self._known.get(provider)
        if known is None or known.entry is not entry:
            return None
        age = self._now() - known.as_of
        return known if timedelta(0) <= age < timedelta(seconds=ttl_s) else None

    def _lock_for(self, provider: str) -> threading.Lock:
        with self._locks_lock:
            lock = self._locks.get(provider)
            if lock is None:
                lock = self._locks[provider] = threading.Lock()
            return lock

    def _fetch(self, provider: str, entry: ProviderContext) -> Listing:
        """Ask through a discovery service: the cache when fresh, else the provider (written to
        the cache). A failed refresh falls back on an older cached listing, as ``discover()``
        does; the failure is logged once and remembered for a TTL either way."""
        now = self._now()
        with ModelDiscoveryService(
            self.target,
            cache_dir=self._cache_dir,
            cache=self._use_cache,
            clock=self.clock,
            background=False,
        ) as service:
            result = service.discover(providers=[provider])
        models = result.listings.get(provider)
        error = result.errors.get(provider)
        if error is not None:
            log.warning("could not list the models of provider %r: %s", provider, error)
            return Listing(entry, now, tuple(models) if models is not None else None, error)
        fresh_from_cache = provider in result.cached_providers
        as_of = result.fetched_at if fresh_from_cache else now
        return Listing(entry, as_of, tuple(models or ()))

    def _merged(self, provider: str, found: ModelInfo, catalog: Catalog) -> ModelInfo:
        """``found`` as discovery would register it (``merge_models`` of it alone)."""
        plan = merge_models(
            [],
            {provider: (found,)},
            config=self.target.config,
            catalog=catalog,
            provider_types={provider: self.target.providers[provider].type},
        )
        return plan.by_id()[found.id]


def _match(models: tuple[ModelInfo, ...], provider: str, name: str) -> ModelInfo | None:
    wanted = f"{provider}:{name}"
    for info in models:
        if info.id == wanted:
            return info
    folded = normalise(name).removeprefix("models/")
    hits = [m for m in models if normalise(m.name).removeprefix("models/") == folded]
    return hits[0] if len(hits) == 1 else None
