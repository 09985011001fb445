"""Budgets and rate limits: a per-caller budget stops calls before they are sent, a group falls
back to a cheaper model once the expensive one's budget is spent, and a request rate is waited
for. The limits live in the ledger's database, so every process sharing it enforces them too.

python examples/budget_limits.py
"""

from __future__ import annotations

from _setup import mock_service, output_dir

import modelwire as mw

GROUPS = {"smart": {"strategy": "failover", "members": ["openai:gpt-4o", "openai:gpt-4o-mini"]}}


def main() -> None:
    ledger = mw.UsageLedger(output_dir() / "usage.db", sync=True)
    service = mock_service({"openai": {}}, groups=GROUPS, ledger=ledger)
    service.limits.add(mw.Limit.budget("0.002/day", caller="intern"))
    service.limits.add(mw.Limit.budget("0.0015/month", model="openai:gpt-4o"))
    service.limits.add(mw.Limit.requests(3, caller="bot", window_s=0.5))

    calls = 0
    try:
        while True:  # each call reserves its worst case first: max_tokens at the output price
            service("openai:gpt-4o-mini", "Summarise the news", caller="intern", max_tokens=200)
            calls += 1
    except mw.BudgetExceededError as refused:
        print(f"intern: {calls} calls, then refused before sending:\n  {refused}")

    for i in range(3):
        answer = service("smart", f"Plan step {i}", max_tokens=100)
        why = answer.skipped.get("openai:gpt-4o", "")
        print(f"smart -> {answer.model_id}" + (f"  (skipped gpt-4o: {why[:50]}...)" if why else ""))

    for i in range(5):  # 3 per half second: the 4th and 5th wait for the window to move on
        service("openai:gpt-4o-mini", f"ping {i}", caller="bot", max_tokens=5, wait_for_rate=True)
    print("bot: 5 calls at 3 per 0.5 s, waiting instead of failing")

    print(f"\n{'limit':22}{'scope':24}{'spent/used':>12}{'left':>12}")
    for s in service.limits.status():
        print(f"{s.limit.rule:22}{s.limit.scope:24}{s.spent:>12.6f}{s.left:>12.6f}")
    service.close()


if __name__ == "__main__":
    main()
