"""Compare routing strategies on the same traffic: success rate, cost and latency per strategy.

Three mock members with different trade-offs stand behind one group:

* ``fast:gpt-4o-mini`` — cheap and quick, but fails 25% of the time;
* ``mid:gemini-2.5-flash`` — cheap, a little slower, fails 5%;
* ``solid:gpt-4o`` — dear and slowest, never fails.

Each strategy serves the same 60 prompts (one pass over the members, so a call fails only when
every member it tries fails). The table and a plot (saved to ``$MODELWIRE_EXAMPLE_OUT`` or a
temporary directory) show what each strategy trades: every strategy ends up answering (the
never-failing member is always in the pass), but how often the first choice works, what the calls
cost and how long they take differ a lot.

python examples/strategy_comparison.py
"""

from __future__ import annotations

import statistics
import time
from decimal import Decimal

from _setup import mock_service, output_dir

from modelwire import InMemoryUsageSink, ModelwireError

PROVIDERS = {
    "fast": {"latency_ms": 1, "error_rate": 0.25, "error_kinds": ["server"]},
    "mid": {"latency_ms": 4, "error_rate": 0.05, "error_kinds": ["rate_limit"]},
    "solid": {"latency_ms": 9},
}
MEMBERS = ["solid:gpt-4o", "mid:gemini-2.5-flash", "fast:gpt-4o-mini"]
STRATEGIES = ["failover", "round_robin", "weighted", "cost_optimized", "latency", "task_aware"]
CALLS = 60


def run(strategy: str) -> dict[str, float]:
    """Send the prompts through a fresh group with ``strategy``; measure the outcome."""
    sink = InMemoryUsageSink()
    group = {
        "strategy": strategy,
        "members": MEMBERS,
        "weights": {"fast:gpt-4o-mini": 3, "mid:gemini-2.5-flash": 2, "solid:gpt-4o": 1},
        "retry": {"max_attempts": 1},
        "circuit_breaker": {"failure_threshold": 50, "min_calls": 50},
    }
    service = mock_service(PROVIDERS, groups={"g": group}, ledger=sink)
    ok = first_try = 0
    latencies: list[float] = []
    for i in range(CALLS):
        started = time.perf_counter()
        try:
            resp = service.invoke_model("g", f"Summarise ticket {i} for the on-call engineer.")
        except ModelwireError:
            continue
        finally:
            latencies.append((time.perf_counter() - started) * 1000)
        ok += 1
        first_try += resp.attempts == 1
    service.close()
    cost = sum((e.cost_usd or Decimal(0)) for e in sink.events)
    latencies.sort()
    return {
        "success": ok / CALLS,
        "first_try": first_try / CALLS,
        "attempts": len(sink.events) / CALLS,
        "cost_per_1k": float(cost) * 1000 / CALLS,
        "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
    }


def plot(results: dict[str, dict[str, float]]) -> str | None:
    """Bar charts of cost and latency per strategy; the saved file's path (None without mpl)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names = list(results)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, key, title in zip(
        axes,
        ("first_try", "cost_per_1k", "p50_ms"),
        ("first-try success rate", "cost per 1,000 calls (USD)", "median latency (ms)"),
        strict=True,
    ):
        ax.bar(names, [results[n][key] for n in names], color="tab:blue")
        ax.set_title(title)
        ax.tick_params(axis="x", rotation=35, labelsize=8)
    fig.tight_layout()
    path = output_dir() / "strategy_comparison.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return str(path)


def main() -> None:
    results = {s: run(s) for s in STRATEGIES}
    header = f"{'strategy':<15}{'success':>9}{'1st try':>9}{'attempts':>10}{'$/1k calls':>12}{'p50 ms':>9}{'p95 ms':>9}"
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        print(
            f"{name:<15}{r['success']:>9.0%}{r['first_try']:>9.0%}{r['attempts']:>10.2f}"
            f"{r['cost_per_1k']:>12.4f}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}"
        )
    path = plot(results)
    print(f"\nplot saved to {path}" if path else "\n(matplotlib not installed: no plot)")


if __name__ == "__main__":
    main()
