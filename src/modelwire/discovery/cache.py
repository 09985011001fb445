"""The on-disk cache of provider model listings.

One JSON file per set of configured providers, under the user cache dir
(``platformdirs.user_cache_dir("modelwire")``), named by a hash of the providers' names, types and
base URLs (credentials and query strings stripped first). For each provider it holds the raw
listing and when it was fetched. It never holds API keys or headers: only model metadata, the
provider's name and type, and the redacted base URL.

Writes go to a temporary file that replaces the old one, so a reader (another process too) sees
the old file or the new one, never half of one. An unreadable or corrupt file counts as empty.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from modelwire.types import ModelInfo

if TYPE_CHECKING:
    from modelwire.providers.base import ProviderContext

__all__ = ["CACHE_VERSION", "CachedListing", "DiscoveryCache", "cache_key", "redact_url"]

CACHE_VERSION = 1


def redact_url(url: str | None) -> str | None:
    """``url`` without user info, query or fragment (where credentials could hide)."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _identity(ctx: ProviderContext) -> dict[str, Any]:
    return {"name": ctx.name, "type": ctx.type, "base_url": redact_url(ctx.config.base_url)}


def cache_key(providers: Mapping[str, ProviderContext]) -> str:
    """A stable hash of the providers' names, types and (redacted) base URLs."""
    ids = [_identity(providers[name]) for name in sorted(providers)]
    raw = json.dumps(ids, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class CachedListing:
    """One provider's listing as stored: the models and when they were fetched."""

    provider: str
    type: str
    base_url: str | None
    fetched_at: datetime
    models: tuple[ModelInfo, ...]

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored in the cache file."""
        return {
            "type": self.type,
            "base_url": self.base_url,
            "fetched_at": self.fetched_at.isoformat(),
            "models": [m.model_dump(mode="json", exclude_defaults=True) for m in self.models],
        }

    @classmethod
    def from_json(cls, provider: str, raw: Mapping[str, Any]) -> CachedListing:
        """Parse one stored listing (raises on anything malformed)."""
        fetched = datetime.fromisoformat(str(raw["fetched_at"]))
        if fetched.tzinfo is None:
            raise ValueError("fetched_at must carry a timezone")
        return cls(
            provider=provider,
            type=str(raw["type"]),
            base_url=raw.get("base_url"),
            fetched_at=fetched,
            models=tuple(ModelInfo.model_validate(m) for m in raw["models"]),
        )

    def matches(self, ctx: ProviderContext) -> bool:
        """True when this listing was made for the provider entry ``ctx`` describes."""
        return self.type == ctx.type and self.base_url == redact_url(ctx.config.base_url)


class DiscoveryCache:
    """The cache file of one provider set: ``load()`` and ``store(listings)``."""

    def __init__(self, directory: str | Path, key: str) -> None:
        self.directory = Path(directory)
        self.key = key
        self.path = self.directory / f"discovery-{key}.json"

    def __repr__(self) -> str:
        return f"DiscoveryCache({str(self.path)!r})"

    def load(self) -> dict[str, CachedListing]:
        """Every readable provider listing in the file (an unusable file or entry is skipped)."""
        try:
            raw = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(raw, dict) or raw.get("version") != CACHE_VERSION:
            return {}
        providers = raw.get("providers")
        if not isinstance(providers, dict):
            return {}
        out: dict[str, CachedListing] = {}
        for name, entry in providers.items():
            try:
                out[str(name)] = CachedListing.from_json(str(name), entry)
            except Exception:  # one corrupt entry must not spoil the others
                continue
        return out

    def store(self, listings: Mapping[str, CachedListing]) -> None:
        """Write ``listings`` over the entries of the same providers, atomically.

        Failures to write (a read-only cache dir, a full disk) are ignored: the cache only
        speeds things up.
        """
        if not listings:
            return
        merged = {**self.load(), **listings}
        body = {
            "version": CACHE_VERSION,
            "key": self.key,
            "providers": {name: merged[name].to_json() for name in sorted(merged)},
        }
        data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        with contextlib.suppress(OSError):
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".discovery-", suffix=".tmp", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise

    def clear(self) -> None:
        """Delete the cache file (missing is fine)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
