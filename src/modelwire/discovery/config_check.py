"""What ``modelwire config check`` adds to loading: references checked against the discovery cache.

:func:`~modelwire.config.loader.load_config` decides from the configuration and the bundled
catalog alone, so it gives the same answer on every machine. :func:`check_config` also reads the
providers' model lists that ``modelwire discover`` cached on this machine (no network): a model of
a provider that lists its models, unknown to the catalog, is a problem when a list younger than
``discovery.ttl_s`` does not have it, and a warning when no list is cached or the list is older.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwire.config.loader import LoadOutcome, load_checked
from modelwire.config.references import Listing, ListingSource
from modelwire.config.validate import ListingLoader

if TYPE_CHECKING:
    from modelwire.config.schema import ProviderConfig

__all__ = ["cached_listings", "check_config"]


def check_config(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cache_dir: str | Path | None = None,
    now: datetime | None = None,
) -> LoadOutcome:
    """Load the configuration like ``load_config`` and check its references against the cached
    model lists too; never raises for bad input: problems and warnings come back in the outcome.

    ``cache_dir`` is the discovery cache directory (default: the user cache dir, as
    ``modelwire discover`` uses); ``now`` is the time freshness is judged at (default: now).
    """
    return load_checked(path, env=env, listings=cached_listings(cache_dir, now))


def cached_listings(
    cache_dir: str | Path | None = None, now: datetime | None = None
) -> ListingLoader:
    """A :data:`~modelwire.config.validate.ListingLoader` reading the discovery cache file of the
    configured provider set; an unreadable cache counts as empty."""

    def load(providers: Mapping[str, ProviderConfig], ttl_s: float) -> ListingSource:
        try:
            stored, contexts = _read_cache(providers, cache_dir)
        except Exception:  # the cache only helps: a broken one must not break the check
            stored, contexts = {}, {}
        when = now if now is not None else datetime.now(UTC)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)

        def listing(name: str) -> Listing | None:
            entry, ctx = stored.get(name), contexts.get(name)
            if entry is None or ctx is None or not entry.matches(ctx):
                return None
            age = when - entry.fetched_at
            return Listing(
                names=frozenset(m.name for m in entry.models),
                fetched_at=entry.fetched_at,
                fresh=timedelta(0) <= age < timedelta(seconds=ttl_s),
            )

        return listing

    return load


def _read_cache(
    providers: Mapping[str, ProviderConfig], cache_dir: str | Path | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    from modelwire.discovery.cache import DiscoveryCache, cache_key
    from modelwire.discovery.service import default_cache_dir
    from modelwire.providers.base import ProviderContext

    contexts = {name: ProviderContext(name, cfg) for name, cfg in providers.items()}
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return DiscoveryCache(directory, cache_key(contexts)).load(), contexts
