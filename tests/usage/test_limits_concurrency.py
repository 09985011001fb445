"""Limits hold across processes and threads on one real database (a SQLite file, and PostgreSQL
when ``MODELWIRE_TEST_POSTGRES_URL`` is set): a budget raced by 8 processes x 4 threads, a rate
shared by 4 processes, a process killed in the middle of a call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from modelwire.errors import BudgetExceededError
from modelwire.usage.ledger import UsageLedger
from modelwire.usage.limit_rules import Limit
from modelwire.usage.limits import CallScope, Limits
from modelwire.usage.store import make_engine
from tests.support.ledger import ledger_url
from tests.support.limits_worker import MODEL
from tests.support.paths import ROOT

__all__ = ["ledger_url"]

SCOPE = CallScope(None, MODEL, "mock", None)


def start(args: dict[str, Any]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.limits_worker", json.dumps(args)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    try:
        yield started
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


def results(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr[-2000:]
        seen = json.loads(stdout.strip().splitlines()[-1])
        assert seen["errors"] == [], seen["errors"][:3]
        out.append(seen)
    return out


def _ledger_rows(url: str) -> list[tuple[str, int, Decimal | None]]:
    ledger = UsageLedger(url)
    try:
        return [(r.status, 0, r.cost_usd) for r in ledger.records() if r.model_id == MODEL]
    finally:
        ledger.close()


def test_a_budget_raced_by_8_processes_x_4_threads_holds(
    ledger_url: str, children: list[subprocess.Popen[str]]
) -> None:
    budget = Decimal("1.00")
    watcher = Limits(make_engine(ledger_url), [Limit.budget(budget, "total", name="shared-budget")])
    watcher.status()  # the tables exist before the race starts
    args = {"url": ledger_url, "mode": "budget", "threads": 4, "budget": str(budget)}
    children.extend(start(args) for _ in range(8))
    peaks: list[Decimal] = []
    stop = threading.Event()

    def watch() -> None:  # what is spent plus reserved, seen from outside, while they race
        while not stop.is_set():
            (status,) = watcher.status()
            peaks.append(status.spent + status.reserved)
            time.sleep(0.01)

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        seen = results(children)
    finally:
        stop.set()
        thread.join(timeout=30)
    told = sum(Decimal(s["cost"]) for s in seen)
    assert sum(s["ok"] for s in seen) > 50  # a real race: many calls got through
    assert all(s["refused"] >= 1 for s in seen)  # and every process was stopped by the budget
    (status,) = watcher.status()
    assert status.spent == told <= budget
    assert status.reserved == 0
    assert peaks and max(peaks) <= budget
    rows = _ledger_rows(ledger_url)
    assert sum(c or 0 for s, _, c in rows if s == "ok") == told
    with pytest.raises(BudgetExceededError):  # what is left is less than one call's worst case
        watcher.reserve(SCOPE, Decimal("0.0101"), 1)


def test_a_rate_shared_by_4_processes_never_admits_more_than_its_limit(
    ledger_url: str, children: list[subprocess.Popen[str]]
) -> None:
    rate, window = 60, 1.0  # 60 per (short) window: the test does not take minutes
    args = {
        "url": ledger_url,
        "mode": "rate",
        "threads": 2,
        "rate": rate,
        "window_s": window,
        "seconds": 3.5,
    }
    children.extend(start(args) for _ in range(4))
    seen = results(children)
    admitted = sum(s["ok"] for s in seen)
    limit = Limit.requests(rate, window_s=window, name="shared-rate")
    engine = make_engine(ledger_url)
    with engine.connect() as conn:  # every admission, from the ledger's database
        stamps = sorted(
            int(r[0])
            for r in conn.exec_driver_sql(
                f"SELECT created_us FROM limit_holds WHERE limit_key = '{limit.key}'"
            )
        )
    engine.dispose()
    assert len(stamps) == admitted > rate  # more than one window's worth went through
    span = int(window * 1_000_000)
    for i, first in enumerate(stamps):  # every window of the rate's length starting at one
        inside = sum(1 for t in stamps[i:] if t < first + span)
        assert inside <= rate
    ok_rows = [r for r in _ledger_rows(ledger_url) if r[0] == "ok"]
    assert len(ok_rows) == admitted


def test_a_killed_process_leaks_no_budget(
    ledger_url: str, children: list[subprocess.Popen[str]]
) -> None:
    budget = Decimal("1.00")
    lease = 30.0
    offset = [0.0]
    limits = Limits(
        make_engine(ledger_url),
        [Limit.budget(budget, "total", name="shared-budget")],
        lease_s=lease,
        clock=lambda: time.time() + offset[0],
    )
    limits.status()
    args = {"url": ledger_url, "mode": "hang", "budget": str(budget), "lease_s": lease}
    proc = start(args)
    children.append(proc)
    assert proc.stdout is not None
    assert json.loads(proc.stdout.readline())["started"]
    for _ in range(3000):  # until its reservation is in (bounded)
        if limits.status()[0].reserved:
            break
        time.sleep(0.01)
    held = limits.status()[0].reserved
    assert held > 0
    proc.kill()  # SIGKILL: no settlement, no clean-up
    proc.wait(timeout=30)
    assert limits.status()[0].reserved == held  # still held while the lease runs
    with pytest.raises(BudgetExceededError):
        limits.reserve(SCOPE, budget - held + Decimal("0.001"), 1)
    offset[0] = lease + 1  # the lease has run out
    (status,) = limits.status()
    assert (status.spent, status.reserved) == (0, 0)
    assert limits.reserve(SCOPE, budget, 1) is not None  # the whole budget is there again
