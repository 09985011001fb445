"""Who is calling: the virtual key a request presents, checked against the keys in the ledger.

Each process keeps the active keys in memory and reads them again every ``refresh_s`` seconds
(and, at most once a second, when a token names a key it does not know yet), so a request costs
one dictionary lookup and one HMAC, not a database round trip. A key created by ``modelwire keys
create`` works on every gateway process as soon as one of them reads it; a revoked key stops
working within ``refresh_s``. When the database cannot be read, the keys last read stay in use
(and the failure is logged); before any read succeeded, requests get a 503.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping

from modelwire.errors import GatewayError
from modelwire.gateway.errors import clean
from modelwire.gateway.keys import KeyStore, VirtualKey, compare_nothing, key_id_of

__all__ = ["KeyRing", "token_from"]

log = logging.getLogger("modelwire.gateway")

#: How soon an unknown key id may make the ring read the keys again.
MISS_REFRESH_S = 1.0


def token_from(headers: Mapping[str, str]) -> str | None:
    """The key in ``Authorization: Bearer <key>`` or ``x-api-key: <key>`` (lower-case names)."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


class KeyRing:
    """The active virtual keys of one process, refreshed from a ``KeyStore``."""

    def __init__(
        self,
        store: KeyStore,
        refresh_s: float = 5.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.refresh_s = refresh_s
        self._clock = clock
        self._keys: dict[str, VirtualKey] = {}
        self._loaded_at = -math.inf
        self._loaded = False
        self._missed_at = -math.inf
        self._lock: asyncio.Lock | None = None

    def keys(self) -> list[VirtualKey]:
        """The active keys as last read."""
        return list(self._keys.values())

    def load(self) -> None:
        """Read the keys now, blocking (at start-up)."""
        self._keys = self.store.active()
        self._loaded_at = self._clock()
        self._loaded = True

    async def refresh(self, older_than: float) -> None:
        """Read the keys again unless a read started after ``older_than`` (one read at a time;
        the database is read in a worker thread)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._loaded_at >= older_than:
                return  # another request refreshed them meanwhile
            started = self._clock()
            try:
                keys = await asyncio.to_thread(self.store.active)
            except Exception as exc:
                self._loaded_at = started  # retry after refresh_s, not on every request
                log.warning("gateway: cannot read the virtual keys: %s", clean(str(exc)))
                if not self._loaded:
                    raise GatewayError(
                        "unavailable", "the gateway cannot read its keys now", retry_after=1.0
                    ) from None
                return
            self._keys, self._loaded_at, self._loaded = keys, started, True

    async def authenticate(self, token: str | None) -> VirtualKey:
        """The key ``token`` is, or a 401."""
        if token is None:
            raise GatewayError(
                "authentication",
                "no API key: send Authorization: Bearer <key> or x-api-key: <key>",
                code="missing_api_key",
            )
        now = self._clock()
        if now - self._loaded_at >= self.refresh_s:
            await self.refresh(now - self.refresh_s)
        key_id = key_id_of(token)
        key = self._keys.get(key_id) if key_id else None
        if key is None and key_id and now - self._missed_at >= MISS_REFRESH_S:
            self._missed_at = now
            await self.refresh(now)
            key = self._keys.get(key_id)
        if key is None:
            compare_nothing(token)
        elif key.verify(token):
            return key
        raise GatewayError("authentication", "invalid API key", code="invalid_api_key")
