"""The one place a key's budget and request rate are enforced: ``KeyLimits.admit``.

The gateway calls ``admit(key, model)`` once per request, after the key is authenticated and
its model allowed, before any provider is called. An implementation refuses by raising
``LimitExceededError`` (the client gets a 429 with ``Retry-After``, in its API's error shape) and
admits by returning.

The default, ``LedgerKeyLimits``, turns each key's ``--budget`` and ``--rpm`` into limits of the
service (``modelwire.usage.limits``, scope ``caller=<key name>``): every request of the key then
reserves its worst case before the provider is called and settles after, in the ledger's
database, so several gateway processes (on one SQLite file, or on one PostgreSQL database across
machines) enforce one budget and one rate per key together. A refusal is raised by the call
itself (``BudgetExceededError``, ``RateLimitedError``: both ``LimitExceededError``), before
anything is sent. ``LimitsNotEnforced`` admits every request and says so.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Protocol

from modelwire.errors import LimitExceededError
from modelwire.usage.limit_rules import Limit

if TYPE_CHECKING:
    from modelwire.gateway.keys import VirtualKey
    from modelwire.usage.limits import Limits

__all__ = ["KeyLimits", "LedgerKeyLimits", "LimitExceededError", "LimitsNotEnforced", "limits_of"]


class KeyLimits(Protocol):
    """Enforces keys' budgets and request rates."""

    #: Whether budgets and rates are enforced at all (false: stored only).
    enforced: bool

    async def admit(self, key: VirtualKey, model: str) -> None:
        """Return to let ``key`` call ``model`` now; raise ``LimitExceededError`` to refuse."""
        ...


class LimitsNotEnforced:
    """Admits every request: budgets and rates are stored with the keys, not enforced."""

    enforced = False

    async def admit(self, key: VirtualKey, model: str) -> None:
        """Admit."""
        return None


def limits_of(key: VirtualKey) -> tuple[Limit, ...]:
    """The limits a key's settings stand for (named after the key's id, scoped to its name)."""
    out = []
    if key.budget is not None:
        out.append(
            Limit.budget(
                key.budget.usd, key.budget.window, caller=key.name, name=f"key-{key.id}-budget"
            )
        )
    if key.rpm is not None:
        out.append(Limit.requests(key.rpm, caller=key.name, name=f"key-{key.id}-rpm"))
    return tuple(out)


class LedgerKeyLimits:
    """Keys' budgets and rates as limits of the service, shared through the ledger's database.

    ``admit`` only keeps the service's limits in step with the key (a key created, changed,
    revoked and created again under its name): the request's own reservation, made by the call,
    is what admits or refuses it.
    """

    enforced = True

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._by_name: dict[str, tuple[str, tuple[Limit, ...]]] = {}
        self._seen: dict[str, VirtualKey] = {}

    def sync(self, keys: list[VirtualKey]) -> None:
        """Enforce the settings of ``keys`` (the active ones) from now on."""
        for key in keys:
            self._apply(key)

    def _apply(self, key: VirtualKey) -> None:
        if self._seen.get(key.name) is key:  # the same key object as last time: nothing new
            return
        wanted = limits_of(key)
        with self._lock:
            current = self._by_name.get(key.name)
            if current != (key.id, wanted):
                if current is not None:
                    for old in current[1]:
                        if old not in wanted:
                            with contextlib.suppress(KeyError):  # removed in code meanwhile
                                self.limits.remove(old)
                for limit in wanted:
                    self.limits.add(limit)
                self._by_name[key.name] = (key.id, wanted)
            self._seen[key.name] = key

    async def admit(self, key: VirtualKey, model: str) -> None:
        """Make sure the key's limits are the service's; the call reserves against them."""
        self._apply(key)
