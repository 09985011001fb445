"""What the loopback benchmarks share: the fake provider in a child process, and timing helpers.

The server runs in its own process (``python -m tools.fake_provider``) so its work does not share
the benchmark's GIL. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def start_server(max_threads: int = 4096) -> tuple[subprocess.Popen[str], str]:
    """Start the fake provider (every wire format) in a child process; return it and its URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.fake_provider",
            "--port",
            "0",
            "--max-threads",
            str(max_threads),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"fake provider did not start: {line!r}")
    return proc, line.split("listening on ")[1].split()[0]


def timed_block(fn: Callable[[], Any], calls: int) -> list[float]:
    """Per-call wall times (seconds) of ``calls`` sequential calls."""
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def threaded_throughput(
    fn: Callable[[], Any], threads: int, per_thread: int
) -> tuple[float, float]:
    """(calls per second, process CPU µs per call) with ``threads`` threads sharing ``fn``."""
    barrier = threading.Barrier(threads + 1)

    def worker() -> None:
        barrier.wait()
        for _ in range(per_thread):
            fn()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    start, cpu = time.perf_counter(), time.process_time()
    for t in pool:
        t.join()
    n = threads * per_thread
    return n / (time.perf_counter() - start), (time.process_time() - cpu) / n * 1e6


def spread(values: list[float]) -> str:
    """``median (min-max)`` of ratios."""
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


async def async_throughput(
    fn: Callable[[], Awaitable[Any]], total: int, concurrency: int
) -> tuple[float, float]:
    """(calls per second, client CPU µs per call), at most ``concurrency`` calls in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await fn()

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one() for _ in range(total)))
    return total / (time.perf_counter() - start), (time.process_time() - cpu) / total * 1e6


async def async_rounds(
    contenders: dict[str, Callable[[], Awaitable[Any]]], rounds: int, total: int, concurrency: int
) -> dict[str, list[tuple[float, float]]]:
    """``async_throughput`` of each contender, ``rounds`` times, after a warm-up.

    The contenders run in a shuffled order in every round: whoever runs first in a round tends
    to do better (by several points at 256 concurrent calls), so a fixed order is a bias.
    """
    for fn in contenders.values():
        await async_throughput(fn, 256, concurrency)
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    order = list(contenders)
    shuffler = random.Random(0)
    for _ in range(rounds):
        shuffler.shuffle(order)
        for name in order:
            out[name].append(await async_throughput(contenders[name], total, concurrency))
    return out


def report_throughput(
    title: str, rounds: int, results: dict[str, list[tuple[float, float]]], raw: str
) -> None:
    """Print median throughput and client CPU per call, and each contender/raw per round.

    ``results`` maps a contender to its (calls/s, CPU µs per call) per round; ``raw`` names the
    baseline that every other contender's per-round ratio is taken against.
    """
    print(f"{title}: median over {rounds} alternating rounds")
    base_tput = statistics.median(t for t, _ in results[raw])
    base_cpu = statistics.median(c for _, c in results[raw])
    for name, values in results.items():
        tput = statistics.median(t for t, _ in values)
        cpu = statistics.median(c for _, c in values)
        print(
            f"  {name:<20} {tput:8.1f} calls/s  ratio {tput / base_tput:5.3f}"
            f"   client CPU {cpu:7.1f} µs/call  ratio {cpu / base_cpu:5.3f}"
        )
    for name, values in results.items():
        if name != raw:
            paired = [m[0] / r[0] for m, r in zip(values, results[raw], strict=True)]
            print(f"  {name} / raw throughput per round: median {spread(paired)}")
