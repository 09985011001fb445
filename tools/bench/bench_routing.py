"""Routing overhead: a call through a healthy failover group vs the same direct call, against
the loopback fake provider in a separate process.

Run: ``python tools/bench/bench_routing.py [--blocks 12 --calls 40]``.

Alternating blocks (direct, group, direct, group, ...) of sequential calls; the medians of all
per-call wall times are compared. Target: group / direct ≤ 1.05. Both paths record usage to the
same in-memory sink; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tools.bench.loopback import start_server, timed_block  # noqa: E402

PROMPT = "Say hello to the benchmark in a few words please."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=12)
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()

    from modelwire import ModelRegistry, ModelService, load_config
    from modelwire.usage.events import InMemoryUsageSink

    proc, url = start_server()
    try:
        config = load_config(
            overrides={
                "providers": {"local": {"type": "openai_compatible", "base_url": f"{url}/v1"}},
                "groups": {
                    "failover": {"strategy": "failover", "members": ["local:a", "local:b"]},
                    "cost": {"strategy": "cost_optimized", "members": ["local:a", "local:b"]},
                },
                "usage": {"enabled": False},
            }
        )
        service = ModelService(ModelRegistry.from_config(config), InMemoryUsageSink())
        paths = {
            "direct": lambda: service.invoke_model("local:a", PROMPT, max_tokens=16),
            "failover group": lambda: service.invoke_model("failover", PROMPT, max_tokens=16),
            "cost_optimized group": lambda: service.invoke_model("cost", PROMPT, max_tokens=16),
        }
        for fn in paths.values():  # warm clients, imports and connection pools
            timed_block(fn, 5)
        samples: dict[str, list[float]] = {k: [] for k in paths}
        for _ in range(args.blocks):
            for label, fn in paths.items():
                samples[label] += timed_block(fn, args.calls)
        direct = statistics.median(samples["direct"])
        print(f"{'path':24}{'median ms':>12}{'vs direct':>12}")
        for label, times in samples.items():
            med = statistics.median(times)
            print(f"{label:24}{med * 1000:12.3f}{med / direct:12.3f}")
        print("target: group / direct <= 1.05")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
