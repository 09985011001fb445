"""Selection strategies: in which order a group tries its members for one request.

Each strategy is a small object with ``order(members, request, stats, hints) -> list`` returning
every member it was given, best first. ``plan_route`` wraps a strategy with the rules that hold
for all of them:

1. members whose context window cannot hold the request's estimated tokens, or that are marked
   unavailable, are **skipped**, each with its reason (the reasons end up in the error when no
   member is left);
2. the strategy orders the rest;
3. members whose circuit breaker is **open go last** (stable, by the time until their cooldown
   ends, soonest first) — not dropped: if every member is open, the group still tries the one
   that will recover first.

Strategies:

* ``failover`` — configuration order.
* ``round_robin`` — configuration order rotated by one per request (a thread-safe counter).
* ``weighted`` — a weighted random order (each member's key is ``u^(1/w)``, highest first, so a
  member with twice the weight is twice as likely to be first); weights come from configuration
  (default 1); a seeded ``random.Random`` makes it reproducible. Weight 0 means "only as a
  fallback": such members follow the others in configuration order.
* ``cost_optimized`` — the estimated cost of this request on each member: catalog prices ×
  (estimated input tokens + expected output tokens); cheapest first, unpriced members last.
* ``latency`` — the moving average of each member's observed latency, fastest first; members
  never observed go first (in configuration order) so they get measured.
* ``task_aware`` — the capability match to the request's task (given in the hints, else detected
  from the prompt) or to explicit capability requirements: best coverage first, then cheapest
  among equals, then the strongest, then configuration order.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from modelwire.capabilities import CapabilityStrength
from modelwire.routing.estimate import estimate_cost, estimate_tokens, fits_context
from modelwire.routing.health import MemberHealth
from modelwire.routing.tasks import (
    TASK_CAPABILITY_REQUIREMENTS,
    TaskType,
    capability_match,
    detect_task_type,
)
from modelwire.types import ChatRequest, ModelInfo

__all__ = [
    "STRATEGIES",
    "CostOptimizedStrategy",
    "FailoverStrategy",
    "LatencyStrategy",
    "RoundRobinStrategy",
    "RouteHints",
    "RoutePlan",
    "Stats",
    "Strategy",
    "TaskAwareStrategy",
    "WeightedStrategy",
    "make_strategy",
    "plan_route",
    "prompt_text",
]

Stats = Mapping[str, MemberHealth]
"""Member id → its health (breaker and latency); members missing from it count as healthy."""


@dataclass(frozen=True, slots=True)
class RouteHints:
    """What the caller told us about the request beyond its messages."""

    task_type: TaskType | None = None
    capabilities: Mapping[str, CapabilityStrength] | None = None


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """The members to try, in order, and those skipped with the reason."""

    candidates: tuple[ModelInfo, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    demoted: tuple[str, ...] = field(default=())  # open breakers moved to the end

    @property
    def ids(self) -> list[str]:
        """The candidates' ids, in order."""
        return [m.id for m in self.candidates]


def prompt_text(request: ChatRequest) -> str:
    """The text task detection looks at: the user messages, newest last."""
    parts = [m.text for m in request.messages if m.role == "user"]
    return "\n".join(parts) if parts else "\n".join(m.text for m in request.messages)


class Strategy:
    """Base class: ``order`` returns every member given, in the order to try them."""

    name: ClassVar[str] = ""

    def prepare(self, request: ChatRequest, hints: RouteHints | None) -> RouteHints | None:
        """Work out, once per call, what ``order`` needs beyond the request (default: nothing).

        A group calls this once and passes the result to every pass's ``order``.
        """
        return hints

    def order(
        self,
        members: Sequence[ModelInfo],
        request: ChatRequest,
        stats: Stats,
        hints: RouteHints | None = None,
    ) -> list[ModelInfo]:
        """The order to try ``members`` for ``request``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class FailoverStrategy(Strategy):
    """Configuration order: the first member is the primary, the others its fallbacks."""

    name = "failover"

    def order(
        self,
        members: Sequence[ModelInfo],
        request: ChatRequest,
        stats: Stats,
        hints: RouteHints | None = None,
    ) -> list[ModelInfo]:
        return list(members)


class RoundRobinStrategy(Strategy):
    """Rotate the starting member by one per request."""

    name = "round_robin"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0

    def order(
        self,
        members: Sequence[ModelInfo],
        request: ChatRequest,
        stats: Stats,
        hints: RouteHints | None = None,
    ) -> list[ModelInfo]:
        if not members:
            return []
        with self._lock:
            start = self._next % len(members)
            self._next += 1
        return [*members[start:], *members[:start]]


class WeightedStrategy(Strategy):
    """A weighted random order; reproducible with a seed."""

    name = "weighted"

    def __init__(
        self, weights: Mapping[str, float] | None = None, *, seed: int | None = None
    ) -> None:
        self.weights = dict(weights or {})
        if any(w < 0 for w in self.weights.values()):
            raise ValueError("weights must not be negative")
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def order(
        self,
        members: Sequence[ModelInfo],
        request: ChatRequest,
        stats: Stats,
        hints: RouteHints | None = None,
    ) -> list[ModelInfo]:
        weighted: list[tuple[float, int, ModelInfo]] = []
        zero: list[ModelInfo] = []
        with self._lock:
            for i, m in enumerate(members):
                w = self.weights.get(m.id, 1.0)
                if w <= 0:
                    zero.append(m)
                    continue
                u = self._rng.random() or 1e-12
                weighted.append((u ** (1.0 / w), -i, m))
        weighted.sort(key=lambda t: (t[0], t[1]), reverse=True)
        return [m for _, _, m in weighted] + zero


def _cost_key(info: ModelInfo, request: ChatRequest, tokens: int) -> tuple[int, Decimal]:
    cost = estimate_cost(info, request, tokens)
    return (0, cost) if cost is not None else (1, Decimal(0))


class CostOptimizedStrategy(Strategy):
    """Cheapest estimated cost for this request first; unpriced members last."""

    name = "cost_optimized"

    def order(
        self,
        members: Sequence[ModelInfo],
        request: ChatRequest,
        stats: Stats,
        hints: RouteHints | None = None,
    ) -> list[ModelInfo]:
        tokens = estimate_tokens(request)
        keyed = [(_cost_key(m, request, tokens), i, m) for i, m in enumerate(members)]
        keyed.sort(key=lambda t: (t[0], t[1]))
        return [m for _, _, m in keyed]


class LatencyStrategy(Strategy):
    """Fastest moving-average latency first; unmeasured members before all others."""

    name = "latency"

    def order(
        self,
        members: Sequence[ModelInfo],
        request: ChatRequest,
        stats: Stats,
        hints: RouteHints | None = None,
    ) -> list[ModelInfo]:
        def key(item: tuple[int, ModelInfo]) -> tuple[int, float, int]:
            i, m = item
            health = stats.get(m.id)
            ewma = health.stats.ewma_latency_ms if health is not None else None
            return (0, 0.0, i) if ewma is None else (1, ewma, i)

        return [m for _, m in sorted(enumerate(members), key=key)]


class TaskAwareStrategy(Strategy):
    """Best capability match for the task first; cheapest among equals."""

    name = "task_aware"

    def prepare(self, request: ChatRequest, hints: RouteHints | None) -> RouteHints | None:
        """Detect the task once, when neither a task type nor capabilities were given."""
        if hints is not None and (hints.task_type is not None or hints.capabilities):
            return hints
        return RouteHints(task_type=detect_task_type(prompt_text(request)))

    def requirements(
        self, request: ChatRequest, hints: RouteHints | None
    ) -> Mapping[str, CapabilityStrength]:
        """The capabilities this request needs (explicit ones win over the task's)."""
        if hints is not None and hints.capabilities:
            return hints.capabilities
        task = hints.task_type if hints is not None and hints.task_type else None
        if task is None:
            task = detect_task_type(prompt_text(request))
        return TASK_CAPABILITY_REQUIREMENTS[task]

    def order(
        self,
        members: Sequence[ModelInfo],
        request: ChatRequest,
        stats: Stats,
        hints: RouteHints | None = None,
    ) -> list[ModelInfo]:
        reqs = self.requirements(request, hints)
        tokens = estimate_tokens(request)

        def key(item: tuple[int, ModelInfo]) -> tuple[float, tuple[int, Decimal], int, int]:
            i, m = item
            coverage, surplus = capability_match(m.capabilities, reqs)
            return (-coverage, _cost_key(m, request, tokens), -surplus, i)

        return [m for _, m in sorted(enumerate(members), key=key)]


STRATEGIES: Mapping[str, type[Strategy]] = {
    cls.name: cls
    for cls in (
        FailoverStrategy,
        RoundRobinStrategy,
        WeightedStrategy,
        CostOptimizedStrategy,
        LatencyStrategy,
        TaskAwareStrategy,
    )
}


def make_strategy(
    name: str, *, weights: Mapping[str, float] | None = None, seed: int | None = None
) -> Strategy:
    """A fresh strategy by name (``weights`` and ``seed`` apply to ``weighted``)."""
    cls = STRATEGIES.get(name)
    if cls is None:
        known = ", ".join(STRATEGIES)
        raise ValueError(f"unknown strategy {name!r}; expected one of {known}")
    if cls is WeightedStrategy:
        return WeightedStrategy(weights, seed=seed)
    return cls()


def plan_route(
    strategy: Strategy,
    members: Sequence[ModelInfo],
    request: ChatRequest,
    stats: Stats,
    hints: RouteHints | None = None,
) -> RoutePlan:
    """Skip members that cannot serve the request, order the rest, put open breakers last."""
    tokens = estimate_tokens(request)
    needs = request.needs()
    usable: list[ModelInfo] = []
    skipped: list[tuple[str, str]] = []
    for m in members:
        if not m.available:
            skipped.append((m.id, m.unavailable_reason or "marked unavailable"))
            continue
        lacking = [f for f in sorted(needs) if not m.supports(f)]
        if lacking:
            skipped.append((m.id, f"does not take {', '.join(lacking)}"))
            continue
        fits, reason = fits_context(m, request, tokens)
        if not fits:
            skipped.append((m.id, reason or "context window too small"))
            continue
        usable.append(m)
    ordered = strategy.order(usable, request, stats, hints)
    ready: list[ModelInfo] = []
    cooling: list[tuple[float, int, ModelInfo]] = []
    for i, m in enumerate(ordered):
        health = stats.get(m.id)
        if health is not None and health.is_open:
            cooling.append((health.breaker.cooldown_remaining(), i, m))
        else:
            ready.append(m)
    cooling.sort(key=lambda t: (t[0], t[1]))
    return RoutePlan(
        candidates=(*ready, *(m for _, _, m in cooling)),
        skipped=tuple(skipped),
        demoted=tuple(m.id for _, _, m in cooling),
    )
