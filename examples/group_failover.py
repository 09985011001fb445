"""A model group with failover: a failing member is skipped, its circuit breaker opens, and the
group keeps answering from the next member; when every member fails, one error lists them all.

python examples/group_failover.py
"""

from __future__ import annotations

import time

from _setup import mock_service

from modelwire import AllModelsFailedError, InMemoryUsageSink

GROUPS = {
    # try Anthropic first, fall back to OpenAI; a member that fails 3 times in a row is benched
    # for 0.3 s (its breaker opens), then one probe call decides whether it comes back
    "smart": {
        "strategy": "failover",
        "members": ["anthropic:claude-sonnet-4-5", "openai:gpt-4o"],
        "retry": {"max_attempts": 2, "base_delay_s": 0.0},
        "circuit_breaker": {"failure_threshold": 3, "cooldown_s": 0.3},
    },
    "doomed": {
        "strategy": "failover",
        "members": ["anthropic:claude-haiku-4-5", "down:gpt-4o-mini"],
        "retry": {"max_attempts": 1},
    },
}


def main() -> None:
    sink = InMemoryUsageSink()
    service = mock_service(
        {
            "anthropic": {"error_rate": 1.0, "error_kinds": ["server"]},  # an outage
            "openai": {},
            "down": {"error_rate": 1.0, "error_kinds": ["rate_limit"]},
        },
        groups=GROUPS,
        ledger=sink,
    )
    print("call  answered by        attempts  anthropic breaker")
    for i in range(6):
        resp = service.invoke_model("smart", f"question {i}", max_tokens=30)
        state = service.health()["groups"]["smart"]["members"][0]["state"]
        print(f"{i:>4}  {resp.model_id:<18}  {resp.attempts:>8}  {state}")

    time.sleep(0.35)  # the cooldown passes: the next call probes anthropic once (still down)
    resp = service.invoke_model("smart", "after the cooldown")
    state = service.health()["groups"]["smart"]["members"][0]["state"]
    print(
        f"after cooldown: answered by {resp.model_id} in {resp.attempts} attempts; breaker {state}"
    )

    failed = [e for e in sink.events if e.status != "ok"]
    print(
        f"usage events: {len(sink.events)} attempts, {len(failed)} failed, all in group "
        f"{sorted({e.group for e in sink.events})}"
    )

    try:
        service.invoke_model("doomed", "anyone there?")
    except AllModelsFailedError as exc:
        print(f"AllModelsFailedError: {len(exc.attempts)} attempts")
        for attempt in exc.attempts:
            print("  ", attempt)


if __name__ == "__main__":
    main()
