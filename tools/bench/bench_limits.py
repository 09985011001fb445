"""What limits add to a call: the same mock-provider call with limits off and on, side by side,
on a SQLite file and (with ``--postgres URL``) on PostgreSQL.

Run: ``python tools/bench/bench_limits.py [--blocks 10 --calls 100] [--postgres URL]``.

Alternating blocks (off, on, off, on, ...) of sequential calls to a zero-latency mock model
recording to a ``UsageLedger`` on the database; "on" has a monthly budget and a request rate that
never refuse, so every call reserves (both limits, one transaction) and settles (one
transaction). The added cost is the difference of the medians of all per-call wall times, and
the process CPU per call is shown beside it (the machine may be shared: the load average is
printed). Targets: ≤ 0.5 ms added on SQLite, ≤ 2 ms on PostgreSQL on loopback.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

PROMPT = "Say hello to the benchmark in a few words please."


def _timed(fn: Callable[[], Any], calls: int) -> tuple[list[float], float]:
    out = []
    cpu = time.process_time()
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out, time.process_time() - cpu


def run(url: str, blocks: int, calls: int) -> dict[str, float]:
    """Median ms per call off and on, and CPU µs per call, for the ledger at ``url``."""
    from modelwire import ModelRegistry, ModelService, load_config
    from modelwire.usage.ledger import UsageLedger
    from modelwire.usage.limit_rules import Limit

    config = load_config(
        overrides={
            "providers": {"mock": {"type": "mock"}},
            "models": {"mock:gpt-4o-mini": {}},  # priced from the catalog
        },
        env={},
    )
    tag = uuid.uuid4().hex[:8]
    services = {}
    for label in ("off", "on"):
        service = ModelService(ModelRegistry.from_config(config), UsageLedger(url))
        if label == "on":
            service.limits.add(Limit.budget("1000000/month", name=f"bench-budget-{tag}"))
            service.limits.add(Limit.requests(10**9, name=f"bench-rate-{tag}"))
        services[label] = service
    paths = {
        label: (lambda s=s: s.invoke_model("mock:gpt-4o-mini", PROMPT, max_tokens=16))
        for label, s in services.items()
    }
    samples: dict[str, list[float]] = {k: [] for k in paths}
    cpu: dict[str, float] = dict.fromkeys(paths, 0.0)
    for fn in paths.values():
        _timed(fn, 20)  # warm: imports, tables, pools
    for _ in range(blocks):
        for label, fn in paths.items():
            times, used = _timed(fn, calls)
            samples[label] += times
            cpu[label] += used
    for service in services.values():
        service.close()
    n = blocks * calls
    return {
        "off_ms": statistics.median(samples["off"]) * 1000,
        "on_ms": statistics.median(samples["on"]) * 1000,
        "off_cpu_us": cpu["off"] / n * 1e6,
        "on_cpu_us": cpu["on"] / n * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--postgres", help="a PostgreSQL URL (postgresql+psycopg://...)")
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        targets = [("sqlite", f"sqlite:///{folder}/usage.db", 0.5)]
        if args.postgres:
            targets.append(("postgresql", args.postgres, 2.0))
        print(
            f"{'database':12}{'off ms':>9}{'on ms':>9}{'added ms':>10}{'target':>8}"
            f"{'off cpu µs':>12}{'on cpu µs':>11}"
        )
        for name, url, target in targets:
            r = run(url, args.blocks, args.calls)
            added = r["on_ms"] - r["off_ms"]
            print(
                f"{name:12}{r['off_ms']:9.3f}{r['on_ms']:9.3f}{added:10.3f}{target:8.1f}"
                f"{r['off_cpu_us']:12.0f}{r['on_cpu_us']:11.0f}"
            )
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
