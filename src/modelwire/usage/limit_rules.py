"""What a limit is: its kind, its amount, its window and the calls it applies to (no I/O).

A ``Limit`` is a budget in USD per calendar window (``hour``, ``day``, ``week``, ``month`` or
``total``), or a rate: requests or tokens (input + output) per sliding window of ``window_s``
seconds (a minute unless told otherwise). Its scope is any combination of ``caller``, ``model``,
``provider`` and ``group``: a call is under the limit when every dimension the limit names
matches the call's (``fnmatch`` patterns allowed; one pattern is one shared counter); a limit that
names no dimension applies to every call.

Calendar windows start at the top of the hour, at midnight, on Monday at midnight and on the
first of the month at midnight in the limits' time zone (an IANA name, ``UTC`` by default); a
budget's window is the one its reservation was made in.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "BUDGET_WINDOWS",
    "SCOPE_FIELDS",
    "Limit",
    "LimitKind",
    "Window",
    "window_bounds",
]

LimitKind = Literal["budget", "requests", "tokens"]
Window = Literal["hour", "day", "week", "month", "total", "minute"]
BUDGET_WINDOWS: tuple[Window, ...] = ("hour", "day", "week", "month", "total")
SCOPE_FIELDS = ("caller", "model", "provider", "group")
_BUDGET = re.compile(r"^\$?(\d{1,12}(?:\.\d{1,9})?)\s*/\s*([a-z]+)$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NANOS = Decimal(10) ** 9
MAX_USD = Decimal(10) ** 9
MAX_RATE = 10**12


def _us(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _moment(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def window_bounds(window: Window, now_us: int, tz: ZoneInfo) -> tuple[int, int | None]:
    """The calendar window holding ``now_us``: its start and end (``None`` for ``total``), in
    microseconds since the epoch, with the boundaries at local midnight (etc.) in ``tz``."""
    if window == "total":
        return 0, None
    local = _moment(now_us).astimezone(tz)
    if window == "hour":
        # UTC offsets are whole or half hours: the hour is cut in UTC then shown in tz.
        start_utc = _moment(now_us).replace(minute=0, second=0, microsecond=0)
        return _us(start_utc), _us(start_utc + timedelta(hours=1))
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if window == "day":
        start, end = day, day + timedelta(days=1)
    elif window == "week":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    elif window == "month":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        raise ValueError(f"{window!r} is not a calendar window")
    return _us(start.replace(tzinfo=tz)), _us(end.replace(tzinfo=tz))


@dataclass(frozen=True, slots=True)
class Limit:
    """One budget or rate over the calls in its scope.

    ``kind``: ``"budget"`` (``amount`` in USD per ``window``: hour, day, week, month, total),
    ``"requests"`` or ``"tokens"`` (``amount`` per sliding ``window_s`` seconds; ``window`` is
    ``"minute"``). ``caller``, ``model``, ``provider`` and ``group`` narrow the scope (``None``:
    any). ``name`` identifies the limit's counters in the database (default: derived from its
    kind, window and scope, so changing the amount keeps what was spent).
    """

    kind: LimitKind
    amount: Decimal
    window: Window = "minute"
    caller: str | None = None
    model: str | None = None
    provider: str | None = None
    group: str | None = None
    name: str | None = None
    window_s: float = 60.0
    _key: str = field(default="", init=False, repr=False, compare=False)
    _units: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        amount = self.amount
        if not isinstance(amount, Decimal):
            try:
                amount = Decimal(str(amount))
            except InvalidOperation:
                raise ValueError(f"limit amount {self.amount!r} is not a number") from None
            object.__setattr__(self, "amount", amount)
        if self.kind == "budget":
            if self.window not in BUDGET_WINDOWS:
                raise ValueError(
                    f"budget window {self.window!r}: use one of {', '.join(BUDGET_WINDOWS)}"
                )
            if not (amount.is_finite() and 0 < amount <= MAX_USD):
                raise ValueError(f"budget {amount}: the amount must be above 0 and at most 1e9")
        elif self.kind in ("requests", "tokens"):
            if self.window != "minute":
                raise ValueError(f"a {self.kind} rate is per minute, not per {self.window!r}")
            if not (amount.is_finite() and amount == amount.to_integral() and amount >= 1):
                raise ValueError(f"{self.kind} per minute {amount}: use a whole number from 1")
            if amount > MAX_RATE:
                raise ValueError(f"{self.kind} per minute {amount}: at most {MAX_RATE}")
            if not 0.001 <= self.window_s <= 86_400:
                raise ValueError(f"window_s {self.window_s}: use 0.001 to 86400 seconds")
        else:
            raise ValueError(f"limit kind {self.kind!r}: use budget, requests or tokens")
        ident = self.name or "|".join(
            [self.kind, self.window, f"{self.window_s:g}"]
            + [f"{f}={getattr(self, f) or ''}" for f in SCOPE_FIELDS]
        )
        object.__setattr__(self, "_key", hashlib.sha256(ident.encode()).hexdigest()[:32])
        units = int(amount * NANOS) if self.kind == "budget" else int(amount)
        object.__setattr__(self, "_units", units)

    # -- constructors --------------------------------------------------------------------------

    @classmethod
    def budget(
        cls,
        usd: Decimal | float | str,
        window: Window = "month",
        *,
        caller: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        group: str | None = None,
        name: str | None = None,
    ) -> Limit:
        """A budget: ``Limit.budget("50/month", caller="alice")`` or ``Limit.budget(5, "day")``."""
        if isinstance(usd, str) and "/" in usd:
            usd, window = parse_budget(usd)
        return cls(
            "budget",
            Decimal(str(usd)),
            window,
            caller=caller,
            model=model,
            provider=provider,
            group=group,
            name=name,
        )

    @classmethod
    def requests(
        cls,
        per_minute: int,
        *,
        caller: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        group: str | None = None,
        name: str | None = None,
        window_s: float = 60.0,
    ) -> Limit:
        """At most ``per_minute`` requests in any ``window_s`` seconds (a minute by default)."""
        return cls(
            "requests",
            Decimal(per_minute),
            "minute",
            caller=caller,
            model=model,
            provider=provider,
            group=group,
            name=name,
            window_s=window_s,
        )

    @classmethod
    def tokens(
        cls,
        per_minute: int,
        *,
        caller: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        group: str | None = None,
        name: str | None = None,
        window_s: float = 60.0,
    ) -> Limit:
        """At most ``per_minute`` input + output tokens in any ``window_s`` seconds."""
        return cls(
            "tokens",
            Decimal(per_minute),
            "minute",
            caller=caller,
            model=model,
            provider=provider,
            group=group,
            name=name,
            window_s=window_s,
        )

    # -- what it is ----------------------------------------------------------------------------

    @property
    def is_budget(self) -> bool:
        """Whether this is a USD budget (else a rate)."""
        return self.kind == "budget"

    @property
    def scope(self) -> str:
        """The scope as text: ``caller=alice model=gpt-*``, or ``all calls``."""
        parts = [f"{f}={getattr(self, f)}" for f in SCOPE_FIELDS if getattr(self, f) is not None]
        return " ".join(parts) or "all calls"

    @property
    def rule(self) -> str:
        """The limit as text: ``$50/month``, ``60 requests/min``, ``100000 tokens/min``."""
        if self.is_budget:
            return f"${self.amount.normalize():f}/{self.window}"
        per = "min" if self.window_s == 60 else f"{self.window_s:g}s"
        return f"{self.amount.normalize():f} {self.kind}/{per}"

    @property
    def label(self) -> str:
        """The name when given, else the rule and scope."""
        return self.name or f"{self.rule} for {self.scope}"

    @property
    def key(self) -> str:
        """The id of this limit's rows in the database (32 hex digits)."""
        return self._key

    @property
    def lock_id(self) -> int:
        """A signed 64-bit number for PostgreSQL's advisory lock on this limit."""
        return int.from_bytes(bytes.fromhex(self.key[:16]), "big", signed=True)

    @property
    def amount_units(self) -> int:
        """The amount in stored units: nano-dollars for budgets, requests or tokens for rates."""
        return self._units

    def applies(self, caller: str | None, model: str, provider: str, group: str | None) -> bool:
        """Whether a call with these scope values is under this limit."""
        for want, have in (
            (self.caller, caller),
            (self.model, model),
            (self.provider, provider),
            (self.group, group),
        ):
            if want is None:
                continue
            if have is None or not (want == have or fnmatch.fnmatchcase(have, want)):
                return False
        return True


def parse_budget(value: str) -> tuple[Decimal, Window]:
    """``"50/month"`` (also ``"$12.5/day"``, ``"100/total"``) as ``(usd, window)``."""
    match = _BUDGET.match(value.strip().lower())
    if match is None or match.group(2) not in BUDGET_WINDOWS:
        raise ValueError(
            f"budget {value!r}: write AMOUNT/WINDOW in USD, e.g. 50/month "
            f"(windows: {', '.join(BUDGET_WINDOWS)})"
        )
    window: Window = match.group(2)  # type: ignore[assignment]
    return Decimal(match.group(1)), window
