"""Warm ``registry.get_model`` lookups per second, 1 and 4 threads, beside a dict read under a
``threading.Lock`` measured the same way in the same run.

    python tools/bench/bench_registry.py [--seconds 1.0]

Targets: ≥ 1 M lookups/s on one thread; 4 threads together no slower than one.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable

from modelwire.config.schema import Config
from modelwire.registry.model_registry import ModelRegistry
from modelwire.types import ModelInfo

BATCH = 10_000


def _rate(fn: Callable[[], object], threads: int, seconds: float) -> float:
    counts = [0] * threads
    stop = threading.Event()
    start = threading.Barrier(threads + 1)

    def work(slot: int) -> None:
        start.wait()
        n = 0
        while not stop.is_set():
            for _ in range(BATCH):
                fn()
            n += BATCH
        counts[slot] = n

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    registry = ModelRegistry(config=Config.model_validate({"providers": {"mock": {}}}))
    for i in range(200):
        registry.register_model(ModelInfo(id=f"mock:model-{i}", aliases=(f"m{i}",)))
    registry.get_model("mock:model-7")
    get = registry.get_model
    table = {f"mock:model-{i}": object() for i in range(200)}
    lock = threading.Lock()

    def locked_read() -> object:
        with lock:
            return table["mock:model-7"]

    def lookup() -> object:
        return get("mock:model-7")

    def alias_lookup() -> object:
        return get("m7")

    rows = []
    for label, fn in (
        ("registry.get_model(id)", lookup),
        ("registry.get_model(alias)", alias_lookup),
        ("dict read under Lock", locked_read),
    ):
        one = _rate(fn, 1, args.seconds)
        four = _rate(fn, 4, args.seconds)
        rows.append((label, one, four))
    print(f"{'':28}{'1 thread':>14}{'4 threads':>14}{'4t / 1t':>10}")
    for label, one, four in rows:
        print(f"{label:28}{one / 1e6:11.2f} M/s{four / 1e6:11.2f} M/s{four / one:10.2f}")


if __name__ == "__main__":
    main()
