"""Durability: process endings, SIGKILL mid-load, fork, several processes on one SQLite file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and fork")

PRELUDE = """
import os, sys, time
from decimal import Decimal
from modelwire.usage.events import UsageEvent
from modelwire.usage.ledger import UsageLedger

def ev(i, caller="main"):
    return UsageEvent(model_id="mock:m", provider="mock", caller=caller, input_tokens=i,
                      output_tokens=1, cost_usd=Decimal(i) / 10**6, request_id=str(i))
"""


def run_child(
    code: str, *args: str, timeout: float = 60, script_file: Path | None = None
) -> subprocess.CompletedProcess[str]:
    script = PRELUDE + textwrap.dedent(code)
    argv = [sys.executable, "-c", script]
    if script_file is not None:  # multiprocessing's spawn needs an importable __main__
        script_file.write_text(script)
        argv = [sys.executable, str(script_file)]
    return subprocess.run(
        [*argv, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def db_counts(path: Path) -> tuple[int, int, int, int]:
    """(rows, rows' input sum, rollup calls, rollup input sum)."""
    con = sqlite3.connect(path)
    try:
        rows, tin = con.execute(
            "SELECT COUNT(*), COALESCE(SUM(input_tokens), 0) FROM usage_calls"
        ).fetchone()
        calls, rin = con.execute(
            "SELECT COALESCE(SUM(calls), 0), COALESCE(SUM(input_tokens), 0) FROM usage_daily"
        ).fetchone()
        return rows, tin, calls, rin
    finally:
        con.close()


# Nothing is written before the process ends: a long interval and a huge batch.
LAZY = "UsageLedger(sys.argv[1], flush_interval_ms=600_000, batch_size=1_000_000)"


@pytest.mark.parametrize(
    ("ending", "code"),
    [
        ("return from main", "return"),
        ("sys.exit", "sys.exit(3)"),
        ("unhandled exception", "raise RuntimeError('boom')"),
        ("KeyboardInterrupt", "raise KeyboardInterrupt"),
    ],
)
def test_normal_endings_lose_nothing(tmp_path: Path, ending: str, code: str) -> None:
    db = tmp_path / "u.db"
    result = run_child(
        f"""
        def main():
            ledger = {LAZY}
            for i in range(2000):
                ledger.record(ev(i))
            assert ledger.pending() == 2000  # nothing written yet
            {code}

        main()
        """,
        str(db),
    )
    if ending == "sys.exit":
        assert result.returncode == 3
    elif ending == "return from main":
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0 and ("boom" in result.stderr or "Keyboard" in result.stderr)
    assert db_counts(db) == (2000, sum(range(2000)), 2000, sum(range(2000)))


def test_sigterm_handler_that_exits_flushes(tmp_path: Path) -> None:
    """The documented pattern: turn SIGTERM into SystemExit so atexit drains the ledger."""
    db = tmp_path / "u.db"
    script = PRELUDE + textwrap.dedent(
        f"""
        import signal
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        ledger = {LAZY}
        for i in range(500):
            ledger.record(ev(i))
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert db_counts(db)[0] == 500


def test_sigkill_mid_load_keeps_a_sound_prefix(tmp_path: Path) -> None:
    db = tmp_path / "u.db"
    queue_size, batch = 2000, 256
    script = PRELUDE + textwrap.dedent(
        f"""
        ledger = UsageLedger(sys.argv[1], flush_interval_ms=5, batch_size={batch},
                             queue_size={queue_size})
        i = 0
        while True:
            ledger.record(ev(i))
            i += 1
            if i % 500 == 0:
                print(i, flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(db)], stdout=subprocess.PIPE, text=True
    )
    last = 0
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while last < 20_000 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            last = int(line)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert last >= 20_000, "the child did not get going"
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = [int(r) for (r,) in con.execute("SELECT request_id FROM usage_calls ORDER BY id")]
    finally:
        con.close()
    # What was stored is exactly the first k events, in order...
    assert ids == list(range(len(ids)))
    # ...the loss is at most the queue plus the batch being written...
    assert len(ids) >= last - (queue_size + batch + 1)
    # ...and every committed batch updated the rollup in the same transaction.
    rows, tin, calls, rin = db_counts(db)
    assert (rows, tin) == (calls, rin)


def test_forked_child_gets_its_own_writer(tmp_path: Path) -> None:
    db = tmp_path / "u.db"
    result = run_child(
        f"""
        ledger = {LAZY}
        for i in range(100):
            ledger.record(ev(i, "parent"))
        pid = os.fork()
        if pid == 0:
            assert ledger.pending() == 0  # the parent's queue is the parent's
            for i in range(50):
                ledger.record(ev(i, "child"))
            sys.exit(0)  # atexit in the child drains the child's queue
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        for i in range(100, 120):
            ledger.record(ev(i, "parent"))
        """,
        str(db),
    )
    assert result.returncode == 0, result.stderr
    con = sqlite3.connect(db)
    counts = dict(con.execute("SELECT caller, COUNT(*) FROM usage_calls GROUP BY caller"))
    con.close()
    assert counts == {"parent": 120, "child": 50}


def test_multiprocessing_fork_child_drains_without_close(tmp_path: Path) -> None:
    db = tmp_path / "u.db"
    result = run_child(
        f"""
        import multiprocessing as mp
        ledger = {LAZY}

        def work(n):
            for i in range(n):
                ledger.record(ev(i, "worker"))
            # returns without close(): multiprocessing leaves through os._exit

        if __name__ == "__main__":
            ctx = mp.get_context("fork")
            procs = [ctx.Process(target=work, args=(40,)) for _ in range(3)]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
                assert p.exitcode == 0
        """,
        str(db),
    )
    assert result.returncode == 0, result.stderr
    assert db_counts(db)[0] == 120


def test_processes_share_one_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "u.db"
    script = PRELUDE + textwrap.dedent(
        """
        with UsageLedger(sys.argv[1], batch_size=50, flush_interval_ms=1) as ledger:
            for i in range(1500):
                ledger.record(ev(i, sys.argv[2]))
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(db), f"p{n}"]) for n in range(4)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    con = sqlite3.connect(db)
    per = dict(con.execute("SELECT caller, COUNT(*) FROM usage_calls GROUP BY caller"))
    con.close()
    assert per == {f"p{n}": 1500 for n in range(4)}
    rows, tin, calls, rin = db_counts(db)
    assert (rows, tin) == (calls, rin) == (6_000, 4 * sum(range(1500)))


def test_multiprocessing_spawn_child_drains_without_close(tmp_path: Path) -> None:
    db = tmp_path / "u.db"
    result = run_child(
        """
        import multiprocessing as mp

        def work(path, n):
            ledger = UsageLedger(path, flush_interval_ms=600_000, batch_size=1_000_000)
            for i in range(n):
                ledger.record(ev(i, "spawned"))

        if __name__ == "__main__":
            p = mp.get_context("spawn").Process(target=work, args=(sys.argv[1], 25))
            p.start()
            p.join()
            assert p.exitcode == 0
        """,
        str(db),
        script_file=tmp_path / "spawn_main.py",
    )
    assert result.returncode == 0, result.stderr
    assert db_counts(db)[0] == 25
