"""``Limits``: budgets and rates that hold across threads, processes and machines.

Before a call, ``reserve`` checks every limit that applies to it and records a reservation of
the call's worst-case cost (and tokens, and one request) in ONE short transaction of the ledger's
database (``usage.limits_store``); when the attempt ends, ``settle`` replaces the reservation
with what the attempt actually cost. Two processes on one SQLite file, or two machines on one
PostgreSQL database, see each other's reservations, so together they never pass a limit.

A reservation carries a lease (``lease_s``): the reservation of a process that died before
settling stops counting when the lease ends, so a crash does not hold budget forever. A call
that runs longer than the lease loses its reservation's protection (its actual cost is still
added when it settles): keep the lease above the longest call's timeout.

When the database cannot be reached, ``on_database_error="closed"`` (the default) refuses the
call with ``LimitsUnavailableError`` naming the database error; ``"open"`` lets it through,
logs a warning on the ``modelwire.usage`` logger and counts it (``stats()["failed_open"]``).

Refusals raise ``BudgetExceededError`` or ``RateLimitedError`` (``modelwire.errors``), naming
the limit, its scope, what is spent and what is reserved.
"""

from __future__ import annotations

import builtins
import itertools
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from modelwire.errors import (
    BudgetExceededError,
    ConfigError,
    LimitExceededError,
    LimitsUnavailableError,
    RateLimitedError,
)
from modelwire.usage.limit_rules import NANOS, Limit, _moment, window_bounds

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from modelwire.config.limits import LimitRuleConfig, LimitsConfig

__all__ = [
    "CallScope",
    "Hold",
    "LimitStatus",
    "Limits",
    "OnDatabaseError",
    "Reservation",
    "limit_of",
]

log = logging.getLogger("modelwire.usage")

OnDatabaseError = Literal["closed", "open"]
#: Reservations last this long by default (seconds).
DEFAULT_LEASE_S = 600.0
#: Every this many reservations a process removes the rows that no longer count.
_PRUNE_EVERY = 32


class CallScope(NamedTuple):
    """What a call is, for choosing the limits over it."""

    caller: str | None
    model: str
    provider: str
    group: str | None


@dataclass(frozen=True, slots=True)
class Hold:
    """One limit's part of a reservation."""

    limit: Limit
    window_start_us: int
    amount: int


@dataclass(frozen=True, slots=True)
class Reservation:
    """What ``reserve`` holds for one attempt, until ``settle``."""

    id: str
    holds: tuple[Hold, ...]
    created_us: int
    amount_usd: Decimal
    tokens: int


@dataclass(frozen=True, slots=True)
class LimitStatus:
    """One limit now: its window, what settled attempts spent (``spent``), what running ones
    hold (``reserved``), what is ``left``, and when the window resets (``None``: never)."""

    limit: Limit
    window: str
    spent: Decimal
    reserved: Decimal
    left: Decimal
    resets_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """The status as JSON-ready values (amounts as strings, exact)."""
        lim = self.limit
        return {
            "name": lim.name,
            "kind": lim.kind,
            "scope": lim.scope,
            "limit": lim.rule,
            "amount": str(lim.amount.normalize()),
            "window": self.window,
            "spent": _text(self.spent),
            "reserved": _text(self.reserved),
            "left": _text(self.left),
            "resets_at": self.resets_at.isoformat(timespec="seconds") if self.resets_at else None,
        }


def _text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _usd(nanos: int) -> Decimal:
    return Decimal(nanos) / NANOS


class Limits:
    """The limits of one service (or gateway), kept in one database.

    ``engine``: a SQLAlchemy engine, or a function returning the current one (a ``UsageLedger``'s
    ``engine``). ``timezone``: the IANA zone calendar windows are cut in. ``unpriced``: what a
    budget does with a model that has no price (``"refuse"``, the default, or ``"admit"`` at
    zero). ``clock``: seconds since the epoch (injectable for tests).
    """

    def __init__(
        self,
        engine: Engine | Callable[[], Engine] | None = None,
        limits: Iterable[Limit] = (),
        *,
        lease_s: float = DEFAULT_LEASE_S,
        timezone: str = "UTC",
        on_database_error: OnDatabaseError = "closed",
        unpriced: Literal["refuse", "admit"] = "refuse",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not (isinstance(lease_s, int | float) and 0.001 <= lease_s <= 86_400 * 7):
            raise ValueError(f"lease_s {lease_s!r}: use 0.001 to 604800 seconds")
        if on_database_error not in ("closed", "open"):
            raise ValueError(f"on_database_error {on_database_error!r}: use closed or open")
        if unpriced not in ("refuse", "admit"):
            raise ValueError(f"unpriced {unpriced!r}: use refuse or admit")
        try:
            self.tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"limits timezone {timezone!r} is not an IANA time zone") from None
        self.timezone = timezone
        self.lease_s = float(lease_s)
        self.on_database_error: OnDatabaseError = on_database_error
        self.unpriced = unpriced
        self.clock = clock
        self._source: Callable[[], Engine] | None
        self._source = None
        if engine is not None:
            self.attach(engine)
        self._migrated: Any = None
        self._own: Engine | None = None
        self._lock = threading.Lock()
        self._limits: tuple[Limit, ...] = ()
        self._cache: dict[CallScope, tuple[Limit, ...]] = {}
        self._count = itertools.count()
        self._failed_open = 0
        self._settle_errors = 0
        #: Whether any limit is defined (the call path checks this once per call).
        self.active = False
        for limit in limits:
            self.add(limit)

    def __repr__(self) -> str:
        return f"Limits({len(self._limits)} limits, timezone={self.timezone!r})"

    @classmethod
    def from_config(
        cls,
        config: LimitsConfig,
        engine: Engine | Callable[[], Engine] | None = None,
        *,
        lease_s: float = DEFAULT_LEASE_S,
    ) -> Limits:
        """The limits of a configuration's ``limits:`` section."""
        return cls(
            engine,
            [limit_of(rule) for rule in config.rules],
            lease_s=lease_s,
            timezone=config.timezone,
            on_database_error=config.on_database_error,
            unpriced=config.unpriced,
        )

    # -- the set of limits ---------------------------------------------------------------------

    def attach(self, engine: Engine | Callable[[], Engine]) -> None:
        """Keep the limits in this database (when none was given at creation)."""
        if hasattr(engine, "dialect"):
            fixed: Any = engine
            self._source = lambda: fixed
        else:
            self._source = engine
        self._migrated = None

    @property
    def has_database(self) -> bool:
        """Whether the limits know their database (``attach``)."""
        return self._source is not None

    def add(self, limit: Limit) -> Limit:
        """Enforce ``limit`` from the next call on (one with the same key is replaced)."""
        if not isinstance(limit, Limit):
            raise TypeError(f"expected a Limit, not {type(limit).__name__}")
        if self._source is None:
            raise ConfigError(
                "limits are kept in the ledger's database: give the service a UsageLedger "
                "(usage.enabled in configuration, or ModelService(ledger=UsageLedger(...)))"
            )
        with self._lock:
            kept = tuple(x for x in self._limits if x.key != limit.key)
            self._set((*kept, limit))
        return limit

    def remove(self, limit: Limit | str) -> None:
        """Stop enforcing a limit (given, or by name); what it counted stays in the database."""
        with self._lock:
            if isinstance(limit, Limit):
                kept = tuple(x for x in self._limits if x.key != limit.key)
            else:
                kept = tuple(x for x in self._limits if x.name != limit)
            if len(kept) == len(self._limits):
                raise KeyError(f"no such limit: {limit if isinstance(limit, str) else limit.label}")
            self._set(kept)

    def _set(self, limits: tuple[Limit, ...]) -> None:
        self._limits = limits
        self._cache = {}
        self.active = bool(limits)

    def list(self) -> tuple[Limit, ...]:
        """The limits enforced, in the order they were added."""
        return self._limits

    def __len__(self) -> int:
        return len(self._limits)

    def over(self, scope: CallScope) -> tuple[Limit, ...]:
        """The limits that apply to a call (cached per scope), in lock order."""
        cache = self._cache
        found = cache.get(scope)
        if found is None:
            found = tuple(sorted((x for x in self._limits if x.applies(*scope)), key=_key))
            if len(cache) > 4096:
                cache.clear()
            cache[scope] = found
        return found

    # -- the database --------------------------------------------------------------------------

    def engine(self) -> Engine:
        """The engine the limits run on (``limits_store.limits_engine``), their tables created
        on first use."""
        if self._source is None:
            raise ConfigError("these limits have no database")
        engine = self._source()
        if self._migrated is not engine:
            from modelwire.usage import limits_store

            limits_store.migrate(engine)
            own = limits_store.limits_engine(engine)
            if self._own is not None and self._own is not self._migrated:
                self._own.dispose()
            self._own, self._migrated = own, engine
        assert self._own is not None
        return self._own

    def _with_retry(self, work: Callable[[Engine], Any]) -> Any:
        """``work(engine)``, once more on a fresh connection when the pooled one was dead."""
        from modelwire.usage.limits_store import is_disconnect

        engine = self.engine()
        try:
            return work(engine)
        except Exception as exc:
            if not is_disconnect(engine, exc):
                raise
            return work(engine)

    def close(self) -> None:
        """Close the limits' own connections (PostgreSQL); the limits stay usable."""
        own, migrated = self._own, self._migrated
        if own is not None and own is not migrated:
            own.dispose()
        self._own, self._migrated = None, None

    def now_us(self) -> int:
        """The clock, in microseconds since the epoch."""
        return int(self.clock() * 1_000_000)

    # -- reserve and settle --------------------------------------------------------------------

    def reserve(
        self, scope: CallScope, amount_usd: Decimal | None, tokens: int
    ) -> Reservation | None:
        """Check every limit over ``scope`` and hold ``amount_usd`` (the worst case), ``tokens``
        and one request against each, atomically; ``None`` when no limit applies (or the
        database failed and the limits fail open).

        Raises ``BudgetExceededError``, ``RateLimitedError``, or ``LimitsUnavailableError``.
        """
        limits = self.over(scope)
        if not limits:
            return None
        budgets = [x for x in limits if x.is_budget]
        if amount_usd is None and budgets and self.unpriced == "refuse":
            raise BudgetExceededError(
                f"model {scope.model!r} has no price, so budget {budgets[0].label} cannot bound "
                "its cost: refused (give the model a price, or set limits.unpriced: admit)",
                retry_after=86_400.0,
                scope=budgets[0].scope,
                limit=budgets[0].rule,
            )
        usd = amount_usd if amount_usd is not None else Decimal(0)
        nanos = math.ceil(usd * NANOS)
        try:
            held: Reservation = self._with_retry(
                lambda engine: self._reserve(engine, limits, nanos, max(int(tokens), 0))
            )
        except LimitExceededError:
            raise
        except Exception as exc:
            if not _is_database_error(self._own, exc):
                raise
            self._unreachable(exc, scope)
            return None
        return held

    def _unreachable(self, exc: BaseException, scope: CallScope) -> None:
        from modelwire.usage.writer import describe_error

        what = describe_error(exc)
        if self.on_database_error == "closed":
            raise LimitsUnavailableError(
                f"limits' database unreachable, call to {scope.model} refused: {what}"
            ) from exc
        with self._lock:
            self._failed_open += 1
        log.warning(
            "limits: database unreachable, call to %s let through UNCHECKED "
            "(on_database_error: open): %s",
            scope.model,
            what,
        )
        return None

    def _reserve(
        self, engine: Engine, limits: Sequence[Limit], nanos: int, tokens: int
    ) -> Reservation:
        from modelwire.usage.limits_store import sql_for, transaction

        sql = sql_for(engine)
        rid = secrets.token_hex(16)
        prune = next(self._count) % _PRUNE_EVERY == 0
        with transaction(engine) as conn:
            if sql.postgres:  # one advisory lock per limit, in key order: no deadlock
                conn.run(sql.locks(len(limits)), [x.lock_id for x in limits])
            now = self.now_us()  # read once the locks are ours (SQLite: BEGIN IMMEDIATE)
            params: list[Any] = []
            starts = []
            for limit in limits:
                if prune:
                    self._prune(conn, sql, limit, now)
                if limit.is_budget:
                    start, _ = window_bounds(limit.window, now, self.tz)
                    params += (limit.key, start, limit.key, start, now)
                else:
                    start = _first_bucket(limit, now)
                    params += (limit.key, start)
                starts.append(start)
            used = iter(conn.one(sql.check(tuple(x.is_budget for x in limits)), params))
            holds = []
            for limit, start in zip(limits, starts, strict=True):
                if limit.is_budget:
                    spent, reserved = int(next(used) or 0), int(next(used) or 0)
                    self._check_budget(limit, now, nanos, spent, reserved)
                    holds.append(Hold(limit, start, nanos))
                else:
                    amount = 1 if limit.kind == "requests" else tokens
                    count = int(next(used) or 0)
                    bucket = self._check_rate(conn, sql, limit, now, amount, count)
                    holds.append(Hold(limit, bucket, amount))
            expires = now + int(self.lease_s * 1_000_000)
            bumps = [
                (h.limit.key, h.window_start_us, h.amount) for h in holds if not h.limit.is_budget
            ]
            conn.many(sql.bump, bumps)
            conn.many(
                sql.hold,
                [(rid, h.limit.key, h.window_start_us, now, expires, h.amount) for h in holds],
            )
        return Reservation(rid, tuple(holds), now, _usd(nanos), tokens)

    def _prune(self, conn: Any, sql: Any, limit: Limit, now: int) -> None:
        if limit.is_budget:
            conn.run(sql.prune_budget, (limit.key, now))
        else:  # admissions are kept for a lease at least (they show what was let through)
            keep = max(_window_us(limit), int(self.lease_s * 1_000_000))
            conn.run(sql.prune_rate, (limit.key, now - keep))
            conn.run(sql.prune_buckets, (limit.key, _first_bucket(limit, now)))

    def _check_budget(self, limit: Limit, now: int, nanos: int, spent: int, reserved: int) -> None:
        if spent + reserved + nanos <= limit.amount_units:
            return
        _, end = window_bounds(limit.window, now, self.tz)
        resets = _moment(end).astimezone(self.tz) if end is not None else None
        retry = (end - now) / 1_000_000 if end is not None else 86_400.0
        when = f"; resets {resets.isoformat(timespec='seconds')}" if resets else " (never resets)"
        raise BudgetExceededError(
            f"budget {limit.rule} for {limit.scope} would be exceeded: spent "
            f"${_text(_usd(spent))}, reserved ${_text(_usd(reserved))}, this call needs up to "
            f"${_text(_usd(nanos))}{when}",
            retry_after=retry,
            scope=limit.scope,
            limit=limit.rule,
            spent=_usd(spent),
            reserved=_usd(reserved),
            needed=_usd(nanos),
            resets_at=resets,
        )

    def _check_rate(
        self, conn: Any, sql: Any, limit: Limit, now: int, amount: int, used: int
    ) -> int:
        """Refuse when ``amount`` does not fit the last window; the bucket it goes into."""
        first = _first_bucket(limit, now)
        cap = limit.amount_units
        if used + amount <= cap:
            return now // _bucket_us(limit)
        if amount > cap:
            retry = math.inf
        else:  # when enough of the window's oldest buckets have left it
            rows = conn.all(sql.rate_rows, (limit.key, first))
            need, retry = used + amount - cap, _window_us(limit) / 1_000_000
            for bucket, held in rows:
                need -= int(held)
                if need <= 0:
                    leaves = (int(bucket) + 1) * _bucket_us(limit) + _window_us(limit)
                    retry = max((leaves - now) / 1_000_000, 0.001)
                    break
        what = "requests" if limit.kind == "requests" else "tokens"
        detail = (
            f"this call needs ~{amount} tokens, more than the whole limit"
            if amount > cap
            else f"retry in {retry:.3g}s"
        )
        raise RateLimitedError(
            f"rate {limit.rule} for {limit.scope} reached: {used} {what} in the last "
            f"{limit.window_s:g}s; {detail}",
            retry_after=retry if math.isfinite(retry) else limit.window_s,
            scope=limit.scope,
            limit=limit.rule,
            used=used,
            reserved=amount,
        )

    def settle(
        self,
        reservation: Reservation,
        actual_usd: Decimal | None,
        actual_tokens: int,
        status: str = "ok",
    ) -> None:
        """Replace ``reservation`` with what the attempt cost (``None``: nothing billed).

        Budgets get the actual cost added to the window the reservation was made in; rates keep
        the admission, with the actual tokens. ``status`` ("ok", "error", "cancelled") is for the
        log. A database failure here is logged and counted (``stats()["settle_errors"]``): the
        reservation then expires with its lease, and the cost is missing from the counter.
        """
        nanos = math.ceil((actual_usd or Decimal(0)) * NANOS)
        tokens = max(int(actual_tokens), 0)
        try:
            self._with_retry(lambda engine: self._settle(engine, reservation, nanos, tokens))
        except Exception as exc:
            if not _is_database_error(self._own, exc):
                raise
            from modelwire.usage.writer import describe_error

            with self._lock:
                self._settle_errors += 1
            log.warning(
                "limits: could not settle a %s attempt (%s): its reservation expires with the "
                "lease and $%s is missing from the limits' counters",
                status,
                describe_error(exc),
                _text(_usd(nanos)),
            )

    def _settle(self, engine: Engine, reservation: Reservation, nanos: int, tokens: int) -> None:
        from modelwire.usage.limits_store import sql_for, transaction

        sql = sql_for(engine)
        rid = reservation.id
        budgets = [h for h in reservation.holds if h.limit.is_budget]
        rates = [h for h in reservation.holds if not h.limit.is_budget]
        with transaction(engine) as conn:
            if budgets:
                conn.many(sql.release, [(rid, h.limit.key) for h in budgets])
                conn.many(
                    sql.count,
                    [(h.limit.key, h.window_start_us, nanos, tokens, 1) for h in budgets],
                )
            if rates:
                conn.many(
                    sql.settle_rate,
                    [(tokens if h.limit.kind == "tokens" else 1, rid, h.limit.key) for h in rates],
                )
                changed = [
                    (h.limit.key, h.window_start_us, tokens - h.amount)
                    for h in rates
                    if h.limit.kind == "tokens" and tokens != h.amount
                ]
                if changed:  # the estimate replaced by the actual count, in its bucket
                    conn.many(sql.bump, changed)

    # -- looking ------------------------------------------------------------------------------

    def status(self) -> builtins.list[LimitStatus]:
        """Each limit now: window, spent, reserved, left, resets at."""
        from modelwire.usage.limits_store import sql_for, transaction

        limits = self._limits
        if not limits:
            return []
        engine = self.engine()
        sql = sql_for(engine)
        now = self.now_us()
        out = []
        with transaction(engine, write=False) as conn:
            for limit in limits:
                if limit.is_budget:
                    start, end = window_bounds(limit.window, now, self.tz)
                    spent, reserved = conn.one(
                        sql.budget_used, (limit.key, start, limit.key, start, now)
                    )
                    used, held = _usd(int(spent or 0)), _usd(int(reserved or 0))
                    window: str = limit.window
                    resets = _moment(end).astimezone(self.tz) if end is not None else None
                else:
                    rows = conn.all(sql.rate_rows, (limit.key, _first_bucket(limit, now)))
                    used = Decimal(sum(int(a) for _, a in rows))
                    held = Decimal(0)
                    window = f"last {limit.window_s:g}s"
                    oldest = [int(b) for b, a in rows if int(a)]
                    resets = (
                        _moment((oldest[0] + 1) * _bucket_us(limit) + _window_us(limit)).astimezone(
                            self.tz
                        )
                        if oldest
                        else None
                    )
                left = max(limit.amount - used - held, Decimal(0))
                out.append(LimitStatus(limit, window, used, held, left, resets))
        return out

    def stats(self) -> dict[str, int]:
        """``failed_open``: calls let through unchecked because the database failed;
        ``settle_errors``: settlements that could not be written."""
        with self._lock:
            return {"failed_open": self._failed_open, "settle_errors": self._settle_errors}


def limit_of(rule: LimitRuleConfig) -> Limit:
    """The ``Limit`` a configuration rule describes."""
    scope: dict[str, Any] = {
        "caller": rule.caller,
        "model": rule.model,
        "provider": rule.provider,
        "group": rule.group,
        "name": rule.name,
    }
    if rule.budget is not None:
        return Limit.budget(rule.budget, **scope)
    if rule.requests_per_minute is not None:
        return Limit.requests(rule.requests_per_minute, window_s=rule.window_s, **scope)
    assert rule.tokens_per_minute is not None
    return Limit.tokens(rule.tokens_per_minute, window_s=rule.window_s, **scope)


def _is_database_error(engine: Engine | None, exc: BaseException) -> bool:
    from modelwire.usage.limits_store import is_database_error

    return is_database_error(engine, exc)


def _key(limit: Limit) -> str:
    return limit.key


def _window_us(limit: Limit) -> int:
    return int(limit.window_s * 1_000_000)


def _bucket_us(limit: Limit) -> int:
    """A rate's window is counted in 60 buckets (1 s each for a minute)."""
    return max(_window_us(limit) // 60, 1)


def _first_bucket(limit: Limit, now: int) -> int:
    """The oldest bucket overlapping the window that ends now (counted whole)."""
    return (now - _window_us(limit)) // _bucket_us(limit)
