"""Fault injection end to end: groups over the loopback fake provider (OpenAI wire format).

Each member is its own provider entry pointed at the fake server; an entry's ``headers`` carry
an ``x-fake-fault`` so every request of that member fails the chosen way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import modelwire as mw
from modelwire.routing.group import ModelGroup
from modelwire.routing.retry import RetryPolicy
from tools.fake_provider import FakeProviderServer

Svc = tuple[mw.ModelService, mw.InMemoryUsageSink]


def entry(server: FakeProviderServer, fault: str | None = None, **kw: Any) -> dict[str, Any]:
    headers = {"x-fake-fault": fault} if fault else {}
    return {
        "type": "openai_compatible",
        "base_url": server.url + "/v1",
        "headers": headers,
        "max_retries": 0,
        **kw,
    }


@pytest.fixture
def make(fake_server: FakeProviderServer) -> Iterator[Any]:
    registries: list[mw.ModelRegistry] = []

    def build(primary_fault: str | None, *, slept: list[float] | None = None, **kw: Any) -> Svc:
        cfg = mw.Config(
            providers={
                "primary": entry(fake_server, primary_fault, **kw),
                "backup": entry(fake_server),
            }
        )
        registry = mw.ModelRegistry.from_config(cfg)
        registries.append(registry)
        sink = mw.InMemoryUsageSink()
        svc = mw.ModelService(registry, ledger=sink)
        policy = RetryPolicy(
            max_attempts=3, base_delay_s=0.0, sleep=(slept if slept is not None else []).append
        )
        svc.groups.add(ModelGroup("pair", ["primary:m", "backup:m"], retry=policy))
        svc.groups.add(ModelGroup("solo", ["primary:m"], retry=policy))
        return svc, sink

    yield build
    for registry in registries:
        registry.close()


def outcomes(sink: mw.InMemoryUsageSink) -> list[tuple[str, int, str, str | None]]:
    return [(e.model_id, e.attempt, e.status, e.error_type) for e in sink.events]


def test_500s_fail_over_to_the_backup(make: Any, fake_server: FakeProviderServer) -> None:
    svc, sink = make("status=500")
    resp = svc.invoke_model("pair", "hello")
    assert resp.model_id == "backup:m" and resp.text
    assert outcomes(sink) == [
        ("primary:m", 1, "error", "ProviderUnavailableError"),
        ("backup:m", 2, "ok", None),
    ]
    assert len(fake_server.requests) == 2  # one HTTP request per attempt
    assert all(e.group == "pair" for e in sink.events)


def test_429_retry_after_is_honoured_between_passes(make: Any) -> None:
    slept: list[float] = []
    svc, sink = make("status=429;retry_after=2", slept=slept)
    with pytest.raises(mw.AllModelsFailedError) as info:
        svc.invoke_model("solo", "hello")
    assert [type(e).__name__ for e in info.value.attempts] == ["RateLimitError"] * 3
    assert len(slept) == 2 and all(s >= 2.0 for s in slept)  # Retry-After is the floor
    assert [(e.attempt, e.error_type) for e in sink.events] == [
        (1, "RateLimitError"),
        (2, "RateLimitError"),
        (3, "RateLimitError"),
    ]
    # in a pair the backup answers at once, without waiting
    slept.clear()
    svc2, _ = make("status=429;retry_after=2", slept=slept)
    assert svc2.invoke_model("pair", "hello").model_id == "backup:m"
    assert slept == []


def test_timeouts_fail_over(make: Any) -> None:
    svc, sink = make("delay_ms=3000", timeout_s=0.3)
    resp = svc.invoke_model("pair", "hello")
    assert resp.model_id == "backup:m"
    assert outcomes(sink)[0][3] == "TimeoutError"


def test_authentication_error_is_not_retried(make: Any, fake_server: FakeProviderServer) -> None:
    svc, sink = make("status=401")
    with pytest.raises(mw.AllModelsFailedError) as info:
        svc.invoke_model("solo", "hello")
    assert [type(e).__name__ for e in info.value.attempts] == ["AuthenticationError"]
    assert len(fake_server.requests) == 1
    assert outcomes(sink) == [("primary:m", 1, "error", "AuthenticationError")]
    # a group still fails over to a member whose key works
    assert svc.invoke_model("pair", "hello").model_id == "backup:m"


def test_stream_cut_before_any_text_fails_over(make: Any) -> None:
    svc, sink = make("cut_stream_after=0")
    events = list(svc.stream_model("pair", "hello there"))
    assert events[-1].done and events[-1].model_id == "backup:m"
    assert [(m, s) for m, _, s, _ in outcomes(sink)] == [
        ("primary:m", "error"),
        ("backup:m", "ok"),
    ]


def test_stream_cut_after_text_is_raised_not_failed_over(make: Any) -> None:
    svc, sink = make("cut_stream_after=2")
    texts: list[str] = []
    with pytest.raises(mw.ProviderError):
        for event in svc.stream_model("pair", "one two three four five six seven eight"):
            texts.append(event.text)
    assert "".join(texts)  # the caller saw text before the cut
    assert [(m, s) for m, _, s, _ in outcomes(sink)] == [("primary:m", "error")]


def test_breaker_opens_then_probes_the_primary_again(make: Any) -> None:
    svc, sink = make("status=503")
    group = svc.groups.get("pair")
    assert group is not None
    for _ in range(5):  # failure_threshold defaults to 5
        assert svc.invoke_model("pair", "x").model_id == "backup:m"
    assert group.member_health("primary:m").breaker.state == "open"
    sink.clear()
    svc.invoke_model("pair", "x")
    assert outcomes(sink) == [("backup:m", 1, "ok", None)]  # the primary is passed over
    assert svc.health()["groups"]["pair"]["healthy_members"] == 1
