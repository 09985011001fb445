"""The one place a key's budget and request rate are enforced: ``KeyLimits.admit``.

The gateway calls ``admit(key, model)`` once per request, after the key is authenticated and
its model allowed, before any provider is called. An implementation refuses by raising
``LimitExceededError`` (the client gets a 429 with ``Retry-After``, in its API's error shape) and
admits by returning.

This version of modelwire stores each key's ``--budget`` and ``--rpm`` with the key but has no
shared limits engine yet: the default, ``LimitsNotEnforced``, admits every request and says so
(``enforced`` is false; the gateway logs a warning at start for every key that has settings it
does not enforce). Budgets and rate limits that hold across processes, reserved and settled in
the ledger's database, plug in here by passing another ``KeyLimits`` to ``create_app``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from modelwire.errors import LimitExceededError

if TYPE_CHECKING:
    from modelwire.gateway.keys import VirtualKey

__all__ = ["KeyLimits", "LimitExceededError", "LimitsNotEnforced"]


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
