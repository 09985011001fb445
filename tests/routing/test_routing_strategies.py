"""Selection strategies and route planning, with a golden matrix of routing decisions."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from modelwire.capabilities import CapabilityStrength
from modelwire.routing.breaker import CircuitBreaker
from modelwire.routing.health import MemberHealth
from modelwire.routing.strategies import (
    STRATEGIES,
    RoundRobinStrategy,
    RouteHints,
    WeightedStrategy,
    make_strategy,
    plan_route,
    prompt_text,
)
from modelwire.routing.tasks import TaskType
from modelwire.types import ChatRequest, Message, ModelCost, ModelInfo

S = CapabilityStrength


def info(
    id: str, inp: str | None, out: str | None, window: int, caps: dict[str, str], **kw: Any
) -> ModelInfo:
    cost = ModelCost(input_per_mtok=inp, output_per_mtok=out) if inp is not None else None
    return ModelInfo(id=id, cost=cost, context_window=window, capabilities=caps, **kw)


MINI = info(
    "cheap:mini",
    "0.15",
    "0.60",
    16_000,
    {"chat": "strong", "code": "moderate", "creative": "moderate", "inexpensive": "exceptional"},
)
PRO = info(
    "big:pro",
    "3",
    "15",
    200_000,
    {
        "code": "exceptional",
        "reasoning": "exceptional",
        "creative": "strong",
        "math": "strong",
        "chat": "strong",
        "vision": "strong",
        "extraction": "strong",
        "structured": "strong",
    },
)
CODER = info(
    "mid:coder",
    "1",
    "4",
    128_000,
    {"code": "strong", "reasoning": "moderate", "math": "moderate", "structured": "moderate"},
)
LLAMA = info("local:llama", None, None, 8_000, {"chat": "moderate", "creative": "moderate"})
MEMBERS = [MINI, PRO, CODER, LLAMA]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def board(open_for: dict[str, float], latency: dict[str, float]) -> dict[str, MemberHealth]:
    """Member health: ``open_for`` maps an id to seconds of cooldown left (breaker open)."""
    clock = Clock()
    out: dict[str, MemberHealth] = {}
    for m in MEMBERS:
        h = MemberHealth(m.id, CircuitBreaker(failure_threshold=1, cooldown_s=30, clock=clock))
        if m.id in latency:
            h.stats.observe_success(latency[m.id])
        out[m.id] = h
    for mid, left in open_for.items():
        clock.now = -(30 - left)  # open "30 - left" seconds ago
        out[mid].breaker.record_failure()
    clock.now = 0.0
    return out


LATENCY = {"cheap:mini": 300.0, "big:pro": 900.0, "mid:coder": 500.0}
HEALTH = {
    "all_healthy": {},
    "pro_open": {"big:pro": 20.0},
    "two_open": {"cheap:mini": 25.0, "mid:coder": 5.0},
    "all_open": {"cheap:mini": 25.0, "big:pro": 10.0, "mid:coder": 5.0, "local:llama": 15.0},
}
TASK_PROMPTS = {
    "code": "Write a Python function that merges two sorted lists.",
    "creative": "Write a short poem about the sea.",
    "math": "Solve for x: 3x^2 - 12x + 9 = 0.",
    "chat": "Hi! How are you today?",
    "visual": "What is in this image?",
}
LARGE_FILLER = "lorem ipsum " * 14_000  # ~42k tokens: too big for mini (16k) and llama (8k)
SIZES = ("small", "large")


def request(task: str, size: str) -> ChatRequest:
    prompt = TASK_PROMPTS[task]
    if size == "large":
        return ChatRequest.build(prompt + "\n\n" + LARGE_FILLER)
    return ChatRequest.build(prompt, max_tokens=100)


def test_golden_routing_matrix(snapshot: Any) -> None:
    """strategy × member health × request size × task type → the order tried (3 requests)."""
    decisions: dict[str, Any] = {}
    for strategy_name in STRATEGIES:
        for health_name, open_for in HEALTH.items():
            for size in SIZES:
                for task in TASK_PROMPTS:
                    strategy = make_strategy(
                        strategy_name, weights={"big:pro": 3, "local:llama": 0}, seed=7
                    )
                    stats = board(open_for, LATENCY)
                    req = request(task, size)
                    plans = [plan_route(strategy, MEMBERS, req, stats) for _ in range(3)]
                    key = f"{strategy_name} | {health_name} | {size} | {task}"
                    decisions[key] = {
                        "orders": [" > ".join(p.ids) for p in plans],
                        "skipped": [f"{mid}: {why}" for mid, why in plans[0].skipped],
                    }
    assert len(decisions) == 6 * 4 * 2 * 5
    assert decisions == snapshot


def test_failover_keeps_config_order_and_demotes_open_members() -> None:
    plan = plan_route(
        make_strategy("failover"),
        MEMBERS,
        request("chat", "small"),
        board({"cheap:mini": 25.0, "big:pro": 5.0}, {}),
    )
    assert plan.ids == ["mid:coder", "local:llama", "big:pro", "cheap:mini"]
    assert plan.demoted == ("big:pro", "cheap:mini")  # soonest cooldown end first
    assert plan.skipped == ()


def test_all_open_still_yields_every_member_soonest_first() -> None:
    plan = plan_route(
        make_strategy("failover"), MEMBERS, request("chat", "small"), board(HEALTH["all_open"], {})
    )
    assert plan.ids == ["mid:coder", "big:pro", "local:llama", "cheap:mini"]


def test_context_window_skips_with_reason() -> None:
    plan = plan_route(make_strategy("failover"), MEMBERS, request("chat", "large"), {})
    assert plan.ids == ["big:pro", "mid:coder"]
    reasons = dict(plan.skipped)
    assert set(reasons) == {"cheap:mini", "local:llama"}
    assert reasons["cheap:mini"].startswith("context window 16000 < ~")
    gone = ModelInfo(id="x:gone", available=False, unavailable_reason="retired")
    assert plan_route(make_strategy("failover"), [gone], request("chat", "small"), {}).skipped == (
        ("x:gone", "retired"),
    )


def test_round_robin_rotates_and_is_thread_safe() -> None:
    rr = RoundRobinStrategy()
    req = request("chat", "small")
    firsts = [rr.order(MEMBERS, req, {})[0].id for _ in range(8)]
    assert firsts == [m.id for m in MEMBERS] * 2
    assert rr.order([], req, {}) == []

    rr2 = RoundRobinStrategy()
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(100):
            first = rr2.order(MEMBERS, req, {})[0].id
            with lock:
                counts[first] += 1

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert counts == {m.id: 200 for m in MEMBERS}  # no lost or doubled increments


def test_weighted_follows_weights_and_seed() -> None:
    req = request("chat", "small")
    w = WeightedStrategy({"cheap:mini": 3.0, "big:pro": 1.0, "mid:coder": 0.0}, seed=1)
    firsts = Counter(w.order(MEMBERS, req, {})[0].id for _ in range(5000))
    assert "mid:coder" not in firsts  # weight 0: fallback only
    # mini 3, pro 1, llama 1 (default): mini first ~60% of the time
    assert 0.55 < firsts["cheap:mini"] / 5000 < 0.65
    assert w.order(MEMBERS, req, {})[-1].id == "mid:coder"
    a = WeightedStrategy(seed=3)
    b = WeightedStrategy(seed=3)
    assert [a.order(MEMBERS, req, {}) for _ in range(5)] == [
        b.order(MEMBERS, req, {}) for _ in range(5)
    ]
    with pytest.raises(ValueError):
        WeightedStrategy({"x:y": -1})


def test_cost_optimized_uses_prices_and_request_size() -> None:
    cost = make_strategy("cost_optimized")
    # output-heavy request: the output price dominates
    assert [m.id for m in cost.order(MEMBERS, request("chat", "small"), {})] == [
        "cheap:mini",
        "mid:coder",
        "big:pro",
        "local:llama",  # unpriced last
    ]
    # A model cheap on output but dear on input wins small prompts and loses big ones.
    reader = info("r:reader", "0.10", "10", 200_000, {})
    writer = info("w:writer", "2", "2", 200_000, {})
    small = ChatRequest.build("hi", max_tokens=1000)
    big = ChatRequest.build("x" * 400_000, max_tokens=10)
    assert [m.id for m in cost.order([reader, writer], small, {})] == ["w:writer", "r:reader"]
    assert [m.id for m in cost.order([reader, writer], big, {})] == ["r:reader", "w:writer"]


def test_latency_prefers_unmeasured_then_fastest() -> None:
    lat = make_strategy("latency")
    stats = board({}, {"cheap:mini": 300.0, "big:pro": 100.0})
    assert [m.id for m in lat.order(MEMBERS, request("chat", "small"), stats)] == [
        "mid:coder",
        "local:llama",
        "big:pro",
        "cheap:mini",
    ]


def test_task_aware_hints_and_cheapest_among_equals() -> None:
    ta = make_strategy("task_aware")
    req = request("chat", "small")
    code = RouteHints(task_type=TaskType.CODE_GENERATION)
    # coder and pro both fully meet code requirements: the cheaper (coder) wins
    assert [m.id for m in ta.order(MEMBERS, req, {}, code)][:2] == ["mid:coder", "big:pro"]
    vision = RouteHints(capabilities={"vision": S.MODERATE})
    assert ta.order(MEMBERS, req, {}, vision)[0].id == "big:pro"
    # detected from the prompt when no hint is given
    assert ta.order(MEMBERS, request("math", "small"), {})[0].id == "big:pro"
    # equal coverage and price: the stronger model first
    twin_a = info("a:twin", "1", "1", 1000, {"chat": "strong"})
    twin_b = info("b:twin", "1", "1", 1000, {"chat": "exceptional"})
    assert [m.id for m in ta.order([twin_a, twin_b], req, {})] == ["b:twin", "a:twin"]


def test_make_strategy_and_prompt_text() -> None:
    assert set(STRATEGIES) == {
        "failover",
        "round_robin",
        "weighted",
        "cost_optimized",
        "latency",
        "task_aware",
    }
    with pytest.raises(ValueError, match="unknown strategy 'fastest'"):
        make_strategy("fastest")
    req = ChatRequest(
        messages=(
            Message(role="user", content="a"),
            Message(role="assistant", content="b"),
            Message(role="user", content="c"),
        ),
        system="ignored",
    )
    assert prompt_text(req) == "a\nc"
    assert prompt_text(ChatRequest.build({"role": "system", "content": "s"})) == "s"


def test_task_aware_prepare_detects_once_and_keeps_explicit_hints() -> None:
    ta = make_strategy("task_aware")
    req = request("code", "small")
    assert ta.prepare(req, None) == RouteHints(task_type=TaskType.CODE_GENERATION)
    given = RouteHints(capabilities={"chat": S.STRONG})
    assert ta.prepare(req, given) is given
    assert make_strategy("failover").prepare(req, None) is None
