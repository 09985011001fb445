"""``DiscoveryResult``: what one ``ModelDiscoveryService.discover()`` call found."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelwire.types import ModelInfo

__all__ = ["DiscoveryResult"]


class DiscoveryResult(BaseModel):
    """The models the providers listed, and what went wrong.

    ``models``
        every listed model as it will be registered (catalog and configuration merged in),
        sorted by id.
    ``errors``
        provider name → ``"<ErrorType>: <message>"`` for each provider whose listing failed
        (timeouts included). A failed provider's models come from the cache when it has them.
    ``fetched_at``
        when the oldest listing in the result was fetched (timezone-aware UTC).
    ``from_cache``
        true when any listing in the result came from the on-disk cache (a fresh cache hit, or
        a stale listing used because the refresh failed); ``cached_providers`` names them.
    ``providers``
        the providers whose listings are in ``models`` (live or cached).
    ``listings``
        each of those providers' models as the provider reported them (before the merge).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    models: list[ModelInfo] = Field(default_factory=list)
    errors: dict[str, str] = Field(default_factory=dict)
    fetched_at: datetime
    from_cache: bool = False
    providers: tuple[str, ...] = ()
    cached_providers: tuple[str, ...] = ()
    listings: Mapping[str, tuple[ModelInfo, ...]] = Field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """True when every provider asked answered."""
        return not self.errors

    def for_provider(self, provider: str) -> list[ModelInfo]:
        """The listed models of one provider."""
        return [m for m in self.models if m.provider == provider]

    def summary(self) -> dict[str, Any]:
        """Counts for logs: models per provider, errors, cache use."""
        per: dict[str, int] = {p: 0 for p in self.providers}
        for m in self.models:
            per[m.provider] = per.get(m.provider, 0) + 1
        return {
            "models": len(self.models),
            "by_provider": per,
            "errors": dict(self.errors),
            "from_cache": self.from_cache,
            "fetched_at": self.fetched_at.isoformat(),
        }
