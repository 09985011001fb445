"""``ModelGroup``: several models behind one name, with a strategy, retries and circuit breakers.

How one request runs through a group (``GroupCall``):

1. **Plan** — ``plan_route`` skips members that are unavailable or whose context window cannot
   hold the request, lets the strategy order the rest, and moves members with an open breaker to
   the end.
2. **A pass** — the members are tried in that order, each at most once per pass and without
   waiting in between: a failure moves straight on to the next member (failover). A member whose
   breaker refuses the call is passed over. If no member at all was admitted in a pass (every
   breaker open), the one whose cooldown ends soonest is tried anyway, as the breaker's probe.
3. **Retries** — when a pass ends without success, at least one failure was retryable, and
   fewer than ``retry.max_attempts`` passes have run, the group waits ``retry.delay(...)``
   (exponential backoff with full jitter; the smallest ``Retry-After`` of the pass is the floor)
   and starts a new pass, re-planned. So each member is tried at most ``max_attempts`` times.
   A member that failed with a non-retryable error (authentication, invalid request, a context
   window the estimate missed, an exhausted quota) is not tried again in this call. A failure of
   the provider entry itself (``provider_wide``: a rejected or missing key, a missing SDK, a
   host that cannot be reached) also takes the entry's other members out of this call, so a bad
   key costs one attempt, not one per model.
4. **Health** — successes and member failures feed the member's breaker and latency average.
   Invalid requests and context-window errors say nothing about the member's health: they only
   release its probe slot.
5. **Failure** — ``AllModelsFailedError`` carrying every attempt's error in order; its message
   also lists the members that were skipped and why.

Streams fail over only **before the first text reaches the caller**: once a chunk has been
yielded, a failure is raised to the caller (it cannot be retracted), after being recorded.

A group never calls a provider: ``GroupCall`` only says which step comes next (try a member,
or wait) and takes each outcome; the service's call machine makes and records the attempts.
Group state (breakers, latency averages, strategy counters) is thread-safe and shared by every
call style.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelwire.config.schema import BreakerConfig, GroupConfig, RetryConfig
from modelwire.errors import (
    AllModelsFailedError,
    ContextWindowError,
    InvalidRequestError,
    ModelwireError,
    ProviderError,
)
from modelwire.routing.breaker import CircuitBreaker
from modelwire.routing.health import MemberHealth
from modelwire.routing.retry import RetryPolicy, retry_after_of
from modelwire.routing.strategies import RouteHints, Strategy, make_strategy, plan_route
from modelwire.types import ChatRequest, ModelInfo

__all__ = ["GroupCall", "ModelGroup", "Sleep", "Try", "counts_against_member"]

InfoOf = Callable[[str], ModelInfo]
"""Looks a member id up (the registry's ``get_model_info``); may raise ``ModelwireError``."""


def counts_against_member(error: BaseException) -> bool:
    """Does this error say the member is unhealthy? (Not for the request's own faults.)"""
    return isinstance(error, ProviderError) and not isinstance(
        error, InvalidRequestError | ContextWindowError
    )


@dataclass(frozen=True, slots=True)
class Try:
    """Make attempt number ``attempt`` (1-based, across the whole call) at ``member``."""

    member: ModelInfo
    attempt: int


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait ``seconds`` before the next pass."""

    seconds: float


class GroupCall:
    """The state of one request's way through a group: which step next, what failed so far.

    Drive it with ``next_step()`` and report each ``Try``'s outcome with ``succeeded``,
    ``failed`` or ``aborted``; ``next_step()`` returns ``None`` when nothing is left, and
    ``error()`` then builds the ``AllModelsFailedError``. Not shared between threads.
    """

    def __init__(
        self, group: ModelGroup, request: ChatRequest, info_of: InfoOf, hints: RouteHints | None
    ) -> None:
        self.group = group
        self.request = request
        self.hints = group.strategy.prepare(request, hints)
        self.errors: list[BaseException] = []
        self.skipped: dict[str, str] = {}
        #: The refusals of members whose budgets or rates were hit (not member failures).
        self.refusals: list[BaseException] = []
        #: provider entry → how many of its members were left out after the entry failed
        self.provider_skips: dict[str, int] = {}
        self.attempt = 0
        self.passes = 0
        self._members: list[ModelInfo] = []
        for member_id in group.members:
            try:
                self._members.append(info_of(member_id))
            except ModelwireError as err:
                self.skipped[member_id] = f"not available: {err}"
        self._excluded: set[str] = set()
        self._queue: list[ModelInfo] = []
        self._pass_members: list[ModelInfo] = []
        self._pass_errors: list[BaseException] = []
        self._admitted = False
        self._start_pass()

    def _start_pass(self) -> None:
        self.passes += 1
        plan = plan_route(
            self.group.strategy,
            [m for m in self._members if m.id not in self._excluded],
            self.request,
            self.group.health_map(),
            self.hints,
        )
        for member_id, reason in plan.skipped:
            self.skipped[member_id] = reason
        self._pass_members = list(plan.candidates)
        self._queue = list(plan.candidates)
        self._pass_errors = []
        self._admitted = False

    def next_step(self) -> Try | Sleep | None:
        """The next thing to do, or ``None`` when the call has failed for good."""
        while self._queue:
            member = self._queue.pop(0)
            if self.group.member_health(member.id).breaker.allow():
                return self._try(member)
            self.skipped.setdefault(member.id, "circuit open")
        if not self._admitted and self._pass_members:
            # Every breaker refused: try the member that recovers first rather than nobody.
            member = min(
                self._pass_members,
                key=lambda m: self.group.member_health(m.id).breaker.cooldown_remaining(),
            )
            self.group.member_health(member.id).breaker.allow(force=True)
            return self._try(member)
        policy = self.group.retry
        retryable = [e for e in self._pass_errors if policy.retryable(e)]
        if not retryable or self.passes >= policy.max_attempts:
            return None
        if not [m for m in self._members if m.id not in self._excluded]:
            return None
        floor = min(retryable, key=lambda e: retry_after_of(e) or 0.0)
        wait = policy.delay(floor, self.passes)
        self._start_pass()
        if not self._pass_members:
            return None
        return Sleep(wait)

    def _try(self, member: ModelInfo) -> Try:
        self._admitted = True
        self.attempt += 1
        return Try(member, self.attempt)

    def succeeded(self, member: ModelInfo, latency_ms: float) -> None:
        """The attempt at ``member`` succeeded."""
        self.group.member_health(member.id).succeeded(latency_ms)

    def failed(self, member: ModelInfo, error: BaseException) -> None:
        """The attempt at ``member`` failed with a provider error."""
        health = self.group.member_health(member.id)
        if counts_against_member(error):
            health.failed(error)
        else:
            health.breaker.release()
        self.errors.append(error)
        self._pass_errors.append(error)
        if not self.group.retry.retryable(error):
            self._excluded.add(member.id)
        if getattr(error, "provider_wide", False):  # the entry failed, not the model
            self._excluded.add(member.id)
            others = [
                m
                for m in self._members
                if m.provider == member.provider and m.id not in self._excluded
            ]
            self._excluded.update(m.id for m in others)
            skips = self.provider_skips.get(member.provider, 0) + len(others)
            self.provider_skips[member.provider] = skips
            self._queue = [m for m in self._queue if m.id not in self._excluded]

    def refused(self, member: ModelInfo, error: BaseException) -> None:
        """The limits refused ``member`` before it was called: skip it for the rest of this call
        (it says nothing about the member's health)."""
        self.group.member_health(member.id).breaker.release()
        self.refusals.append(error)
        self.skipped[member.id] = f"limit: {error}"
        self._excluded.add(member.id)

    def aborted(self, member: ModelInfo) -> None:
        """The attempt ended without a verdict (cancelled, or a non-provider exception)."""
        self.group.member_health(member.id).breaker.release()

    def error(self) -> AllModelsFailedError:
        """The error to raise when ``next_step()`` returned ``None``."""
        name = self.group.name
        if self.errors:
            msg = f"all members of group {name!r} failed after {len(self.errors)} attempt(s)"
        else:
            msg = f"no member of group {name!r} can take this request"
        notes = [f"{mid}: {why}" for mid, why in self.skipped.items() if why != "circuit open"]
        if len(notes) > 5:
            notes = [*notes[:5], f"{len(notes) - 5} more"]
        notes += [f"{n} more of {p} after it failed" for p, n in self.provider_skips.items() if n]
        if notes:
            msg += " (skipped " + "; ".join(notes) + ")"
        err = AllModelsFailedError(msg, attempts=self.errors)
        err.skipped = dict(self.skipped)  # type: ignore[attr-defined]
        err.group = name  # type: ignore[attr-defined]
        return err


class ModelGroup:
    """Several models behind one name; usable wherever a model id is (through the service).

    ``strategy`` is a strategy name or object; ``retry`` a ``RetryPolicy``, a ``RetryConfig`` or
    the same settings as a dict (``{"max_attempts": 2}``);
    ``breaker`` the ``BreakerConfig`` each member's circuit breaker is built from;
    ``weights`` feed the ``weighted`` strategy and ``seed`` makes it reproducible.
    """

    def __init__(
        self,
        name: str,
        members: Sequence[str],
        strategy: str | Strategy = "failover",
        retry: RetryPolicy | RetryConfig | Mapping[str, Any] | None = None,
        breaker: BreakerConfig | None = None,
        weights: Mapping[str, float] | None = None,
        *,
        seed: int | None = None,
        aliases: Sequence[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not members:
            raise ValueError(f"group {name!r} needs at least one member")
        if len(set(members)) != len(members):
            raise ValueError(f"group {name!r} lists a member twice")
        self.name = name
        self.members: tuple[str, ...] = tuple(members)
        self.aliases: tuple[str, ...] = tuple(aliases)
        self.weights = dict(weights or {})
        self.strategy = (
            strategy
            if isinstance(strategy, Strategy)
            else make_strategy(strategy, weights=self.weights, seed=seed)
        )
        if retry is None:
            retry = RetryConfig()
        elif isinstance(retry, Mapping):  # the settings as configuration writes them
            retry = RetryConfig.model_validate(retry)
        self.retry = retry if isinstance(retry, RetryPolicy) else RetryPolicy.from_config(retry)
        self.breaker_config = breaker if breaker is not None else BreakerConfig()
        self._clock = clock
        self._lock = threading.Lock()
        self._health: dict[str, MemberHealth] = {}
        for member in self.members:
            self.member_health(member)

    @classmethod
    def from_config(cls, name: str, config: GroupConfig, **kwargs: Any) -> ModelGroup:
        """A group from its ``groups:`` entry (``kwargs``: ``seed``, ``clock``, ``retry``)."""
        kwargs.setdefault("retry", config.retry)
        return cls(
            name,
            config.members,
            strategy=config.strategy,
            breaker=config.circuit_breaker,
            weights=config.weights,
            aliases=config.aliases,
            **kwargs,
        )

    def __repr__(self) -> str:
        return (
            f"ModelGroup({self.name!r}, members={list(self.members)!r}, "
            f"strategy={self.strategy.name!r})"
        )

    # health ---------------------------------------------------------------------------------

    def member_health(self, member_id: str) -> MemberHealth:
        """The breaker and stats of one member (created on first use)."""
        found = self._health.get(member_id)
        if found is not None:
            return found
        with self._lock:
            found = self._health.get(member_id)
            if found is None:
                breaker = CircuitBreaker.from_config(self.breaker_config, clock=self._clock)
                found = MemberHealth(member_id, breaker)
                self._health[member_id] = found
        return found

    def health_map(self) -> Mapping[str, MemberHealth]:
        """Member id → health, for strategies and monitors."""
        return dict(self._health)

    def health(self) -> dict[str, Any]:
        """The group's state for reports: strategy and each member's breaker and stats."""
        members = [self.member_health(m).snapshot() for m in self.members]
        return {
            "name": self.name,
            "strategy": self.strategy.name,
            "healthy_members": sum(1 for m in members if m["healthy"]),
            "members": members,
        }

    # running requests ------------------------------------------------------------------------

    def start(
        self, request: ChatRequest, info_of: InfoOf, hints: RouteHints | None = None
    ) -> GroupCall:
        """Begin one request (for callers that drive the steps themselves)."""
        return GroupCall(self, request, info_of, hints)
