"""Discovery wall time: three loopback fake providers answering after 300, 600 and 900 ms.

    python tools/bench/bench_discovery.py [--runs 5] [--cached-runs 50]

Measures ``discover(refresh=True)`` (all three asked concurrently) against the slowest provider's
delay, and a cached ``discover()`` (a fresh service reading the on-disk cache, as a new CLI
process would, and the same service again). Targets: refresh ≤ 1.1 × the slowest delay; cached
≤ 10 ms. The vendor SDK is loaded and the clients built by a warm-up run first, so the figures
measure discovery, not the first import.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from modelwire.config.schema import Config
from modelwire.discovery import ModelDiscoveryService
from modelwire.registry.model_registry import ModelRegistry
from tools.fake_provider import FakeProviderServer

DELAYS_MS = (300, 600, 900)
MODELS_PER_PROVIDER = 40


def _config(servers: list[FakeProviderServer]) -> Config:
    providers = {
        f"p{delay}": {
            "type": "openai",
            "api_key": "sk-bench",
            "base_url": server.url + "/v1",
            "headers": {"x-fake-fault": f"delay_ms={delay}"},
        }
        for delay, server in zip(DELAYS_MS, servers, strict=True)
    }
    return Config.model_validate({"providers": providers, "discovery": {"timeout_s": 5}})


def _listing() -> list[str]:
    """A realistic OpenAI listing: catalog names, their dated snapshots, unknown fine-tunes."""
    from modelwire.catalog import load_catalog

    catalog = load_catalog()
    names: list[str] = []
    for record in catalog.records.values():
        if record.vendor == "openai":
            names += [record.name, *record.snapshots]
    names += [f"ft:gpt-4o-mini:acme:{n}" for n in range(MODELS_PER_PROVIDER - len(names))]
    return names[:MODELS_PER_PROVIDER]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cached-runs", type=int, default=50)
    args = parser.parse_args()
    servers = [FakeProviderServer().start() for _ in DELAYS_MS]
    try:
        for server in servers:
            server.models["openai"] = _listing()
        registry = ModelRegistry.from_config(_config(servers))
        with tempfile.TemporaryDirectory() as cache_dir:
            with ModelDiscoveryService(registry, cache_dir=cache_dir, background=False) as svc:
                warm = svc.discover(refresh=True)  # SDK import, clients, catalog
                assert not warm.errors, warm.errors
                refresh: list[float] = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    result = svc.discover(refresh=True)
                    refresh.append(time.perf_counter() - t0)
                    assert not result.errors and len(result.models) == 3 * MODELS_PER_PROVIDER
                same: list[float] = []
                for _ in range(args.cached_runs):
                    t0 = time.perf_counter()
                    assert svc.discover().from_cache
                    same.append(time.perf_counter() - t0)
            fresh: list[float] = []
            for _ in range(args.cached_runs):
                t0 = time.perf_counter()
                with ModelDiscoveryService(registry, cache_dir=cache_dir, background=False) as svc:
                    assert svc.discover().from_cache
                fresh.append(time.perf_counter() - t0)
    finally:
        for server in servers:
            server.stop()
    slowest = max(DELAYS_MS) / 1000
    med = statistics.median(refresh)
    print(
        f"providers: {', '.join(f'{d} ms' for d in DELAYS_MS)} ({MODELS_PER_PROVIDER} models each)"
    )
    print(
        f"discover(refresh=True): median {_ms(med)}, max {_ms(max(refresh))} over {args.runs} runs"
        f" -> {med / slowest:.3f} x slowest (target <= 1.1)"
    )
    print(
        f"cached discover(), new service: median {_ms(statistics.median(fresh))}, "
        f"p90 {_ms(sorted(fresh)[int(0.9 * len(fresh))])} (target <= 10 ms)"
    )
    print(
        f"cached discover(), same service: median {_ms(statistics.median(same))}, "
        f"p90 {_ms(sorted(same)[int(0.9 * len(same))])}"
    )


if __name__ == "__main__":
    main()
