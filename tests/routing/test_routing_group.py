"""ModelGroup: failover, retries between passes, breakers, skips and streams (the service's call
machines against scripted members, no providers)."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from modelwire.config.schema import BreakerConfig, GroupConfig, RetryConfig
from modelwire.errors import (
    AllModelsFailedError,
    AuthenticationError,
    InvalidRequestError,
    ModelNotFoundError,
    ProviderUnavailableError,
    RateLimitError,
)
from modelwire.routing.group import ModelGroup, counts_against_member
from modelwire.routing.retry import RetryPolicy
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, StreamEvent
from tests.support.groups import ainvoke, astream, invoke, stream

INFOS = {
    "a:one": ModelInfo(id="a:one", context_window=100_000),
    "b:two": ModelInfo(id="b:two", context_window=100_000),
    "c:small": ModelInfo(id="c:small", context_window=50),
}
REQ = ChatRequest.build("hello", max_tokens=10)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Script:
    """A fake provider side: per member, a list of outcomes consumed in order (then 'ok')."""

    def __init__(self, **plan: list[Any]) -> None:
        self.plan = {k.replace("_", ":"): list(v) for k, v in plan.items()}
        self.calls: list[tuple[str, int]] = []
        self.lock = threading.Lock()

    def outcome(self, member: ModelInfo, attempt: int) -> Any:
        with self.lock:
            self.calls.append((member.id, attempt))
            queue = self.plan.get(member.id, [])
            return queue.pop(0) if queue else "ok"

    def call(self, member: ModelInfo, attempt: int) -> ChatResponse:
        out = self.outcome(member, attempt)
        if isinstance(out, BaseException):
            raise out
        return ChatResponse(text=f"{member.id}#{attempt}", model_id=member.id, latency_ms=5.0)

    async def acall(self, member: ModelInfo, attempt: int) -> ChatResponse:
        await asyncio.sleep(0)
        return self.call(member, attempt)


def group(members: list[str], *, slept: list[float] | None = None, **kw: Any) -> ModelGroup:
    sleeps = slept if slept is not None else []
    kw.setdefault("retry", RetryPolicy(max_attempts=3, base_delay_s=1.0, sleep=sleeps.append))
    return ModelGroup("g", members, **kw)


def err503() -> ProviderUnavailableError:
    return ProviderUnavailableError("503")


def test_fails_over_to_the_next_member_without_waiting() -> None:
    slept: list[float] = []
    g = group(["a:one", "b:two"], slept=slept)
    s = Script(a_one=[err503()])
    resp = invoke(g, REQ, s.call, INFOS.__getitem__)
    assert resp.model_id == "b:two" and resp.text == "b:two#2"
    assert s.calls == [("a:one", 1), ("b:two", 2)]
    assert slept == []
    health = g.health()
    assert [m["calls"] for m in health["members"]] == [1, 1]
    assert [m["errors"] for m in health["members"]] == [1, 0]


def test_all_fail_with_every_attempt_and_backoff_between_passes() -> None:
    slept: list[float] = []
    g = group(["a:one", "b:two"], slept=slept)
    s = Script(a_one=[err503()] * 3, b_two=[err503()] * 3)
    with pytest.raises(AllModelsFailedError) as info:
        invoke(g, REQ, s.call, INFOS.__getitem__)
    assert [c[0] for c in s.calls] == ["a:one", "b:two"] * 3
    assert [c[1] for c in s.calls] == [1, 2, 3, 4, 5, 6]
    assert len(info.value.attempts) == 6
    assert len(slept) == 2  # between passes only
    assert slept[0] <= 1.0 and slept[1] <= 2.0
    assert "after 6 attempt(s)" in str(info.value)


def test_non_retryable_member_is_not_retried_but_others_are() -> None:
    slept: list[float] = []
    g = group(["a:one", "b:two"], slept=slept)
    s = Script(a_one=[AuthenticationError("bad key")], b_two=[err503()])
    resp = invoke(g, REQ, s.call, INFOS.__getitem__)
    assert s.calls == [("a:one", 1), ("b:two", 2), ("b:two", 3)]
    assert resp.model_id == "b:two"
    assert len(slept) == 1


def test_only_non_retryable_errors_end_the_call_at_once() -> None:
    slept: list[float] = []
    g = group(["a:one", "b:two"], slept=slept)
    s = Script(a_one=[AuthenticationError("bad key")], b_two=[InvalidRequestError("bad")])
    with pytest.raises(AllModelsFailedError) as info:
        invoke(g, REQ, s.call, INFOS.__getitem__)
    assert len(s.calls) == 2 and slept == []
    assert [type(e).__name__ for e in info.value.attempts] == [
        "AuthenticationError",
        "InvalidRequestError",
    ]


def test_retry_after_is_the_floor_of_the_wait() -> None:
    slept: list[float] = []
    g = group(["a:one"], slept=slept)
    s = Script(a_one=[RateLimitError("slow", retry_after=7.0)])
    assert invoke(g, REQ, s.call, INFOS.__getitem__).model_id == "a:one"
    assert len(slept) == 1 and slept[0] >= 7.0


def test_retry_after_over_the_cap_fails_over_instead_of_waiting() -> None:
    slept: list[float] = []
    policy = RetryPolicy(max_attempts=3, max_retry_after_s=10, sleep=slept.append)
    g = group(["a:one"], retry=policy)
    s = Script(a_one=[RateLimitError("slow", retry_after=3600.0)])
    with pytest.raises(AllModelsFailedError):
        invoke(g, REQ, s.call, INFOS.__getitem__)
    assert len(s.calls) == 1 and slept == []


def test_open_breaker_goes_last_and_is_probed_after_cooldown() -> None:
    clock = Clock()
    g = group(
        ["a:one", "b:two"],
        breaker=BreakerConfig(failure_threshold=2, cooldown_s=30),
        clock=clock,
    )
    s = Script(a_one=[err503(), err503()])
    invoke(g, REQ, s.call, INFOS.__getitem__)
    invoke(g, REQ, s.call, INFOS.__getitem__)
    assert g.member_health("a:one").breaker.state == "open"
    s.calls.clear()
    # while open: a is passed over (b answers first)
    assert invoke(g, REQ, s.call, INFOS.__getitem__).model_id == "b:two"
    assert s.calls == [("b:two", 1)]
    # after the cooldown a is tried again (never dropped), and its success closes the breaker
    clock.now += 30
    s.calls.clear()
    assert invoke(g, REQ, s.call, INFOS.__getitem__).model_id == "a:one"
    assert g.member_health("a:one").breaker.state == "closed"


def test_when_every_breaker_is_open_the_soonest_to_recover_is_tried() -> None:
    clock = Clock()
    g = group(
        ["a:one", "b:two"],
        breaker=BreakerConfig(failure_threshold=1, cooldown_s=30),
        clock=clock,
    )
    g.member_health("b:two").failed(err503())
    clock.now += 10
    g.member_health("a:one").failed(err503())
    s = Script()
    resp = invoke(g, REQ, s.call, INFOS.__getitem__)
    assert resp.model_id == "b:two"  # 10 s of cooldown left, against 30 for a
    assert s.calls == [("b:two", 1)]
    assert g.member_health("b:two").breaker.state == "closed"


def test_request_faults_do_not_trip_the_breaker() -> None:
    g = group(["a:one"], breaker=BreakerConfig(failure_threshold=1))
    s = Script(a_one=[InvalidRequestError("bad")])
    with pytest.raises(AllModelsFailedError):
        invoke(g, REQ, s.call, INFOS.__getitem__)
    assert g.member_health("a:one").breaker.state == "closed"
    assert not counts_against_member(InvalidRequestError("x"))
    assert counts_against_member(AuthenticationError("x"))
    assert not counts_against_member(ValueError())


def test_context_window_and_unknown_members_are_skipped_with_reasons() -> None:
    def info_of(member_id: str) -> ModelInfo:
        if member_id == "x:gone":
            raise ModelNotFoundError(member_id)
        return INFOS[member_id]

    g = group(["x:gone", "c:small"])
    big = ChatRequest.build("y" * 1000)
    s = Script()
    with pytest.raises(AllModelsFailedError) as info:
        invoke(g, big, s.call, info_of)
    assert s.calls == []
    msg = str(info.value)
    assert "no member of group 'g' can take this request" in msg
    assert "c:small: context window 50 < ~" in msg
    assert "x:gone: not available: unknown model 'x:gone'" in msg
    assert set(info.value.skipped) == {"x:gone", "c:small"}  # type: ignore[attr-defined]


def test_other_exceptions_propagate_and_release_the_probe() -> None:
    clock = Clock()
    g = group(["a:one"], breaker=BreakerConfig(failure_threshold=1, cooldown_s=5), clock=clock)
    g.member_health("a:one").failed(err503())
    clock.now += 5
    s = Script(a_one=[KeyError("bug")])
    with pytest.raises(KeyError):
        invoke(g, REQ, s.call, INFOS.__getitem__)
    assert g.member_health("a:one").breaker.allow()  # the probe slot was given back


def test_async_invoke() -> None:
    slept: list[float] = []

    async def asleep(seconds: float) -> None:
        slept.append(seconds)

    policy = RetryPolicy(max_attempts=2, asleep=asleep)
    g = group(["a:one", "b:two"], retry=policy)
    s = Script(a_one=[err503(), err503()], b_two=[err503()])
    resp = asyncio.run(ainvoke(g, REQ, s.acall, INFOS.__getitem__))
    assert resp.model_id == "b:two"
    assert s.calls == [("a:one", 1), ("b:two", 2), ("a:one", 3), ("b:two", 4)]
    assert len(slept) == 1


# ---- streams ---------------------------------------------------------------------------------


def streamer(script: Script, cut_after: dict[str, int]) -> Any:
    def open_stream(member: ModelInfo, attempt: int) -> Iterator[StreamEvent]:
        out = script.outcome(member, attempt)
        if isinstance(out, BaseException) and member.id not in cut_after:
            raise out
        for i, word in enumerate(["one ", "two ", "three"]):
            if member.id in cut_after and i == cut_after[member.id]:
                raise ProviderUnavailableError("stream cut")
            yield StreamEvent(text=word, model_id=member.id)
        yield StreamEvent(done=True, model_id=member.id, latency_ms=3.0)

    return open_stream


def test_stream_fails_over_before_the_first_token() -> None:
    g = group(["a:one", "b:two"])
    s = Script(a_one=[err503()])
    events = list(stream(g, REQ, streamer(s, {}), INFOS.__getitem__))
    assert "".join(e.text for e in events) == "one two three"
    assert events[-1].done and events[-1].model_id == "b:two"
    # a stream cut before any text also fails over
    s2 = Script(a_one=[err503()])
    events = list(stream(g, REQ, streamer(s2, {"a:one": 0}), INFOS.__getitem__))
    assert events[-1].model_id == "b:two"


def test_stream_does_not_fail_over_after_text_reached_the_caller() -> None:
    g = group(["a:one", "b:two"])
    s = Script(a_one=[err503()])
    seen: list[str] = []
    with pytest.raises(ProviderUnavailableError, match="stream cut"):
        for event in stream(g, REQ, streamer(s, {"a:one": 1}), INFOS.__getitem__):
            seen.append(event.text)
    assert seen == ["one "]
    assert s.calls == [("a:one", 1)]  # b was never asked
    assert g.member_health("a:one").stats.errors == 1


def test_async_stream() -> None:
    s = Script(a_one=[err503()])
    sync_open = streamer(s, {})

    async def open_stream(member: ModelInfo, attempt: int) -> AsyncIterator[StreamEvent]:
        for event in sync_open(member, attempt):
            yield event

    async def collect() -> list[StreamEvent]:
        g = group(["a:one", "b:two"])
        return [e async for e in astream(g, REQ, open_stream, INFOS.__getitem__)]

    events = asyncio.run(collect())
    assert events[-1].model_id == "b:two"
    assert "".join(e.text for e in events) == "one two three"


# ---- construction, health, threads -----------------------------------------------------------


def test_from_config_and_validation() -> None:
    cfg = GroupConfig(
        strategy="weighted",
        members=["a:one", "b:two"],
        weights={"a:one": 2},
        retry=RetryConfig(max_attempts=4),
        circuit_breaker=BreakerConfig(failure_threshold=7),
        aliases=["smart"],
    )
    g = ModelGroup.from_config("g", cfg, seed=1)
    assert g.strategy.name == "weighted"
    assert g.retry.max_attempts == 4
    assert g.member_health("a:one").breaker.failure_threshold == 7
    assert g.aliases == ("smart",)
    assert "weighted" in repr(g)
    h = g.health()
    assert h["healthy_members"] == 2 and [m["model_id"] for m in h["members"]] == [
        "a:one",
        "b:two",
    ]
    with pytest.raises(ValueError, match="at least one member"):
        ModelGroup("g", [])
    with pytest.raises(ValueError, match="twice"):
        ModelGroup("g", ["a:one", "a:one"])


def test_threads_share_group_state_safely() -> None:
    no_trips = BreakerConfig(failure_threshold=10**6, min_calls=10**6, window=10**6)
    g = group(["a:one", "b:two"], strategy="round_robin", breaker=no_trips)

    rng = random.Random(5)
    lock = threading.Lock()

    def call(member: ModelInfo, attempt: int) -> ChatResponse:
        with lock:
            unlucky = rng.random() < 0.3
        if attempt == 1 and unlucky:  # only first attempts fail: a call is never exhausted
            raise ProviderUnavailableError("flaky")
        return ChatResponse(text="ok", model_id=member.id, latency_ms=1.0)

    results: list[str] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(50):
            try:
                results.append(invoke(g, REQ, call, INFOS.__getitem__).model_id)
            except AllModelsFailedError:
                results.append("failed")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 400
    assert "failed" not in results
    assert set(results) == {"a:one", "b:two"}
    total_calls = sum(m["calls"] for m in g.health()["members"])
    total_errors = sum(m["errors"] for m in g.health()["members"])
    assert total_calls - total_errors == 400


def test_task_detection_runs_once_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import modelwire.routing.strategies as strategies

    seen: list[str] = []
    real = strategies.detect_task_type

    def counting(prompt: str) -> Any:
        seen.append(prompt)
        return real(prompt)

    monkeypatch.setattr(strategies, "detect_task_type", counting)
    g = group(["a:one"], strategy="task_aware")
    s = Script(a_one=[err503(), err503()])
    assert invoke(g, REQ, s.call, INFOS.__getitem__).model_id == "a:one"
    assert len(s.calls) == 3  # three passes...
    assert seen == ["hello"]  # ...one detection
