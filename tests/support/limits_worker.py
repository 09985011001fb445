"""A child process for the limits' concurrency tests: ``python -m tests.support.limits_worker
JSON`` runs threads calling the mock provider through a service with limits on a shared ledger,
then prints one JSON line of what it saw.

JSON fields: ``url`` (the ledger), ``mode`` ("budget": call until the budget refuses; "rate":
call with ``wait_for_rate`` until ``seconds`` have passed; "hang": one slow call, to be killed),
``threads``, ``budget``, ``rate``, ``window_s``, ``lease_s``, ``seconds``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from decimal import Decimal
from typing import Any

import modelwire as mw
from modelwire.config.schema import Config
from modelwire.registry.model_registry import ModelRegistry
from modelwire.service.model_service import ModelService
from modelwire.types import ModelCost, ModelInfo
from modelwire.usage.ledger import UsageLedger
from modelwire.usage.limit_rules import Limit
from modelwire.usage.limits import Limits

#: Priced so that a $1 budget lasts for a few hundred calls.
EXPENSIVE = ModelCost(input_per_mtok="100", output_per_mtok="200")
MODEL = "mock:pricey"


def registry(latency_ms: float = 0.0) -> ModelRegistry:
    """A mock provider with one expensive model."""
    config = Config.model_validate(
        {"providers": {"mock": {"type": "mock", "latency_ms": latency_ms}}}
    )
    reg = ModelRegistry(config=config)
    reg.register_model(ModelInfo(id=MODEL, cost=EXPENSIVE, context_window=100_000))
    return reg


def limits_of(args: dict[str, Any]) -> list[Limit]:
    """The limits a run enforces."""
    if args["mode"] == "rate":
        return [Limit.requests(args["rate"], window_s=args["window_s"], name="shared-rate")]
    return [Limit.budget(Decimal(args["budget"]), "total", name="shared-budget")]


def main(args: dict[str, Any]) -> dict[str, Any]:
    mode = args["mode"]
    ledger = UsageLedger(args["url"], flush_interval_ms=20)
    latency = 60_000.0 if mode == "hang" else 0.0
    limits = Limits(None, lease_s=args.get("lease_s", 600.0))
    service = ModelService(registry(latency), ledger, limits=limits)
    for limit in limits_of(args):
        limits.add(limit)
    seen: dict[str, Any] = {"ok": 0, "refused": 0, "cost": "0", "errors": []}
    lock = threading.Lock()
    deadline = time.monotonic() + args.get("seconds", 60.0)

    def work(n: int) -> None:
        cost = Decimal(0)
        ok = refused = 0
        for i in range(100_000):
            if time.monotonic() > deadline:
                break
            try:
                if mode == "rate":
                    answer = service.invoke_model(
                        MODEL, f"p{n}-{i}", max_tokens=5, wait_for_rate=args["window_s"]
                    )
                else:
                    answer = service.invoke_model(MODEL, f"tell me {n}.{i}", max_tokens=40)
            except mw.RateLimitedError:
                refused += 1
                continue
            except mw.BudgetExceededError:
                refused += 1
                break
            except Exception as exc:
                with lock:
                    seen["errors"].append(f"{type(exc).__name__}: {exc}")
                break
            ok += 1
            cost += answer.cost_usd or 0
        with lock:
            seen["ok"] += ok
            seen["refused"] += refused
            seen["cost"] = str(Decimal(seen["cost"]) + cost)

    if mode == "hang":
        print(json.dumps({"started": True}), flush=True)
        service.invoke_model(MODEL, "a slow one", max_tokens=40)
        return seen
    threads = [threading.Thread(target=work, args=(n,)) for n in range(args["threads"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    service.close()
    return seen


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))), flush=True)
