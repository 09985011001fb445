"""Usage ledger benchmarks (issue 3). Run: ``python tools/bench/bench_ledger.py [--rows N]``.

1. Throughput: 16 producer threads record pre-built events through ``UsageLedger`` until
   ``flush()`` returns, beside one thread inserting the same rows with raw
   ``sqlite3.executemany`` (batches of 512, one transaction each, WAL) into the same kind of file.
2. Caller-side cost of ``record()``: median over batches of 100 calls, in microseconds.
3. ``summary(by=("model", "day"))`` over 1,000,000 rows: from the rollup vs a plain GROUP BY on
   the rows (median of 7 runs each).

Everything runs in a temporary folder; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from modelwire.usage.events import UsageEvent
from modelwire.usage.ledger import UsageLedger
from modelwire.usage.rows import events_to_rows
from modelwire.usage.tables import CALL_COLUMNS

MODELS = [f"mock:model-{i}" for i in range(8)]
CALLERS = [f"svc-{i}" for i in range(4)]


def make_events(n: int, seed: int = 0, days: int = 30, span: int | None = None) -> list[UsageEvent]:
    """Events ``seed`` … ``seed + n - 1`` of a series of ``span`` (default ``n``) spread evenly
    over ``days`` days: 8 models, 4 callers, priced and unpriced, ok and error."""
    span = span or n
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        k = i + seed
        out.append(
            UsageEvent(
                model_id=MODELS[k % len(MODELS)],
                provider="mock",
                status="error" if k % 97 == 0 else "ok",
                caller=CALLERS[k % len(CALLERS)],
                input_tokens=100 + k % 50,
                output_tokens=20 + k % 30,
                cache_read_tokens=k % 10,
                cost_usd=None if k % 11 == 0 else Decimal("0.000123"),
                latency_ms=float(k % 500),
                request_id=f"req-{k}",
                timestamp=start + timedelta(seconds=(k * 86400 * days) // max(span, 1)),
            )
        )
    return out


def _ledger_round(path: Path, per: list[list[UsageEvent]]) -> tuple[float, float]:
    """Wall and process-CPU seconds for 16 producers to record ``per`` until flush() returns."""
    total = sum(len(p) for p in per)
    ledger = UsageLedger(path, queue_size=total + 1)
    barrier = threading.Barrier(len(per) + 1)

    def produce(events: list[UsageEvent]) -> None:
        barrier.wait()
        rec = ledger.record
        for e in events:
            rec(e)

    workers = [threading.Thread(target=produce, args=(p,)) for p in per]
    for w in workers:
        w.start()
    barrier.wait()
    t0, c0 = time.perf_counter(), time.process_time()
    for w in workers:
        w.join()
    ledger.flush()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    ledger.close()
    return wall, cpu


def _raw_round(path: Path, rows: list[tuple[object, ...]]) -> tuple[float, float]:
    """The same rows (already converted) through raw sqlite3.executemany, 512 per transaction."""
    UsageLedger(path).close()  # same schema and indexes
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    sql = (
        f"INSERT INTO usage_calls ({', '.join(CALL_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(CALL_COLUMNS))})"
    )
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(rows), 512):
        con.execute("BEGIN IMMEDIATE")
        con.executemany(sql, rows[i : i + 512])
        con.execute("COMMIT")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    con.close()
    return wall, cpu


def bench_throughput(
    tmp: Path, threads: int = 16, per_thread: int = 10_000, rounds: int = 3
) -> dict[str, float]:
    """Records/s through the ledger (16 producers) and through raw sqlite3.executemany.

    Rounds alternate ledger and raw on fresh files; medians are reported, with the process CPU
    time per row (less sensitive than wall time to other load on the machine).
    """
    per = [make_events(per_thread, seed=t * per_thread) for t in range(threads)]
    total = threads * per_thread
    rows = [r for p in per for r in events_to_rows(p, False)]
    ledger_runs, raw_runs = [], []
    for n in range(rounds):
        ledger_runs.append(_ledger_round(tmp / f"ledger{n}.db", per))
        raw_runs.append(_raw_round(tmp / f"raw{n}.db", rows))
    lw = statistics.median(w for w, _ in ledger_runs)
    rw = statistics.median(w for w, _ in raw_runs)
    return {
        "rows": total,
        "ledger_per_s": total / lw,
        "raw_per_s": total / rw,
        "ratio": rw / lw,
        "ledger_cpu_us": statistics.median(c for _, c in ledger_runs) / total * 1e6,
        "raw_cpu_us": statistics.median(c for _, c in raw_runs) / total * 1e6,
        "all_ledger_per_s": [round(total / w) for w, _ in ledger_runs],  # type: ignore[dict-item]
        "all_raw_per_s": [round(total / w) for w, _ in raw_runs],  # type: ignore[dict-item]
    }


def bench_record_call(tmp: Path, n: int = 200_000) -> dict[str, float]:
    """Median and p99 caller-side cost of record(), microseconds per call (batches of 100)."""
    events = make_events(n)
    ledger = UsageLedger(tmp / "record.db", queue_size=n + 1)
    ledger.record(events[0])  # start the writer outside the measurement
    per_call: list[float] = []
    rec = ledger.record
    clock = time.perf_counter_ns
    for i in range(1, n - 100, 100):
        chunk = events[i : i + 100]
        t0 = clock()
        for e in chunk:
            rec(e)
        per_call.append((clock() - t0) / 100 / 1000)
    ledger.close()
    per_call.sort()
    return {
        "median_us": statistics.median(per_call),
        "p99_us": per_call[int(len(per_call) * 0.99)],
    }


def bench_summary(tmp: Path, n: int = 1_000_000) -> dict[str, float]:
    """summary(by=("model","day")) over ``n`` rows: rollup vs GROUP BY on rows, ms."""
    ledger = UsageLedger(tmp / "summary.db", batch_size=5000, queue_size=n + 1)
    step = min(100_000, n)
    for i in range(0, n, step):
        for e in make_events(step, seed=i, days=90, span=n):
            ledger.record(e)
        ledger.flush()
    timings: dict[str, float] = {}
    results = {}
    for source in ("rollup", "rows"):
        runs, cpu = [], []
        for _ in range(7):
            t0, c0 = time.perf_counter(), time.thread_time()
            results[source] = ledger.summary(by=("model", "day"), source=source)
            runs.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
        timings[f"{source}_ms"] = statistics.median(runs)
        timings[f"{source}_cpu_ms"] = statistics.median(cpu)
    ledger.close()
    if results["rollup"] != results["rows"]:
        raise SystemExit("rollup and rows disagree")
    timings["groups"] = len(results["rollup"])
    timings["rows"] = n
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-thread", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds (median)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for the summary bench")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t = bench_throughput(tmp, per_thread=args.per_thread, rounds=args.rounds)
        print(
            f"throughput: {t['rows']:,} rows, median of {args.rounds}: ledger "
            f"{t['ledger_per_s']:,.0f}/s (16 threads), raw sqlite3.executemany "
            f"{t['raw_per_s']:,.0f}/s, ratio {t['ratio']:.2f}  [target >= 100,000/s and >= 0.40]"
        )
        print(
            f"  rounds: ledger {t['all_ledger_per_s']}, raw {t['all_raw_per_s']}; process CPU "
            f"per row: ledger {t['ledger_cpu_us']:.2f} us, raw {t['raw_cpu_us']:.2f} us"
        )
        r = bench_record_call(tmp)
        print(
            f"record(): median {r['median_us']:.2f} us, p99 {r['p99_us']:.2f} us  [target <= 5 us]"
        )
        s = bench_summary(tmp, n=args.rows)
        print(
            f"summary(by=('model','day')) over {s['rows']:,} rows ({s['groups']:,.0f} groups): "
            f"rollup {s['rollup_ms']:.1f} ms (CPU {s['rollup_cpu_ms']:.1f} ms), GROUP BY on rows "
            f"{s['rows_ms']:.1f} ms (CPU {s['rows_cpu_ms']:.1f} ms)  [target <= 20 ms]"
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs, load average {load:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
