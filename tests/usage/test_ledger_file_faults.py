"""The SQLite file deleted, replaced or renamed under a running ledger: nothing goes silently into
a file nobody can open again.

Producer threads record numbered events while the test changes the file; afterwards each
thread's events at the path must be an unbroken run that ends with its last event (no gap, no
duplicate), covering everything recorded after the change.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from modelwire.usage import store
from modelwire.usage.ledger import LedgerReadError, UsageLedger
from modelwire.usage.writer import LedgerWriteError
from tests.support.ledger import event

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="an open file cannot be deleted")

THREADS = 8


class Producers:
    """``THREADS`` threads recording events ``"t:i"`` (thread t, its i-th event) until stopped."""

    def __init__(self, ledger: UsageLedger) -> None:
        self.ledger = ledger
        self.counts = [0] * THREADS
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(t,)) for t in range(THREADS)]

    def _run(self, t: int) -> None:
        while not self.stop.is_set():
            self.ledger.record(event(self.counts[t], request_id=f"{t}:{self.counts[t]}"))
            self.counts[t] += 1
            if self.counts[t] % 50 == 0:
                time.sleep(0.001)  # let the writer take batches while producers run

    def __enter__(self) -> Producers:
        for x in self.threads:
            x.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for x in self.threads:
            x.join()

    def wait_for(self, total: int) -> None:
        deadline = time.monotonic() + 60
        while sum(self.counts) < total and time.monotonic() < deadline:
            time.sleep(0.005)


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert condition()


def request_ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as con:
        return [r for (r,) in con.execute("SELECT request_id FROM usage_calls ORDER BY id")]


def check_consistent(path: Path) -> None:
    """The file is sound and its rollup counts exactly its rows."""
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = con.execute("SELECT COUNT(*), COALESCE(SUM(input_tokens), 0) FROM usage_calls")
        daily = con.execute(
            "SELECT COALESCE(SUM(calls), 0), COALESCE(SUM(input_tokens), 0) FROM usage_daily"
        )
        assert rows.fetchone() == daily.fetchone()


def per_thread(ids: list[str]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {t: [] for t in range(THREADS)}
    for rid in ids:
        t, i = rid.split(":")
        out[int(t)].append(int(i))
    return out


def assert_suffixes(ids: list[str], counts: list[int], after: list[int]) -> None:
    """Each thread's events in ``ids`` are i, i+1, … counts[t]-1 with i <= after[t]."""
    seen = per_thread(ids)
    for t in range(THREADS):
        got = seen[t]
        assert got, f"thread {t}: nothing at the path"
        assert got == list(range(got[0], counts[t])), f"thread {t}: gap or duplicate"
        assert got[0] <= after[t], f"thread {t}: events recorded after the change are missing"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[UsageLedger]:
    led = UsageLedger(tmp_path / "u.db", batch_size=64, flush_interval_ms=2, queue_size=1_000_000)
    yield led
    led.close()


def test_a_deleted_file_is_recreated_and_every_later_event_lands_there(
    ledger: UsageLedger, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "u.db"
    with caplog.at_level(logging.WARNING, "modelwire.usage"), Producers(ledger) as producers:
        producers.wait_for(4_000)
        os.unlink(path)
        after = list(producers.counts)  # read after the unlink: later events must survive
        producers.wait_for(sum(after) + 4_000)
    ledger.flush(timeout=60)
    stats = ledger.stats()
    assert stats.reopened >= 1 and stats.failed == 0 and stats.pending == 0
    assert stats.written == sum(producers.counts)
    assert f"{path} was deleted while in use" in caplog.text
    assert path.stat().st_mode & 0o777 == 0o600  # recreated owner-only, like the first one
    ledger.close()
    assert_suffixes(request_ids(path), producers.counts, after)
    check_consistent(path)


def test_a_replaced_file_receives_the_events_and_keeps_its_own_rows(
    ledger: UsageLedger, tmp_path: Path
) -> None:
    path = tmp_path / "u.db"
    other = tmp_path / "other.db"
    with UsageLedger(other) as restored:  # e.g. a backup put back in place
        for i in range(5):
            restored.record(event(i, request_id=f"restored:{i}"))
    with Producers(ledger) as producers:
        producers.wait_for(4_000)
        os.replace(other, path)
        after = list(producers.counts)
        producers.wait_for(sum(after) + 4_000)
    ledger.close()
    assert ledger.stats().reopened >= 1
    ids = request_ids(path)
    assert ids[:5] == [f"restored:{i}" for i in range(5)]
    # The old file's write-ahead log (still named after the path) did not leak into this file.
    assert_suffixes(ids[5:], producers.counts, after)
    check_consistent(path)


def test_a_file_renamed_away_keeps_what_it_had_and_the_path_gets_the_rest(
    ledger: UsageLedger, tmp_path: Path
) -> None:
    path, moved = tmp_path / "u.db", tmp_path / "u.old.db"
    with Producers(ledger) as producers:
        producers.wait_for(4_000)
        os.rename(path, moved)
        producers.wait_for(sum(producers.counts) + 4_000)
    ledger.close()
    old, new = request_ids(moved), request_ids(path)
    assert old and new
    # Each event is in exactly one of the two files, in order: nothing lost, nothing twice.
    assert_suffixes(old + new, producers.counts, [0] * THREADS)
    assert set(old).isdisjoint(new)
    check_consistent(moved)
    check_consistent(path)


def test_a_file_replaced_by_something_else_is_reported_and_nothing_is_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "u.db"
    ledger = UsageLedger(path, flush_interval_ms=2, read_timeout_s=0.5)
    for i in range(10):
        ledger.record(event(i, request_id=f"before:{i}"))
    ledger.flush(timeout=30)
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a database, " * 1000)
    os.replace(junk, path)
    with caplog.at_level(logging.WARNING, "modelwire.usage"):
        for i in range(10):
            ledger.record(event(i, request_id=f"after:{i}"))
        with pytest.raises(LedgerWriteError, match="file is not a database"):
            ledger.flush(timeout=0.5)
        with pytest.raises(LedgerReadError, match="file is not a database"):
            ledger.summary()
    assert "file is not a database" in caplog.text
    assert path.read_bytes().startswith(b"not a database")  # never overwritten
    assert ledger.stats().last_error is not None
    os.unlink(path)  # the junk goes away: the writer recreates the ledger and catches up
    ledger.flush(timeout=30)
    assert [r.request_id for r in ledger.records()] == [f"after:{i}" for i in range(10)]
    ledger.close()
    assert ledger.stats().failed == 0


@pytest.mark.parametrize("change", ["delete", "rename"])
def test_a_batch_committed_while_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """The file goes away just as a batch commits into it: written again at the path if the old
    file has no name left (it would be lost), not when it was only renamed (it is kept there)."""
    path, moved = tmp_path / "u.db", tmp_path / "moved.db"
    real_write = store.write_batch
    calls: list[int] = []

    def write_then_change(*args: Any, **kwargs: Any) -> None:
        real_write(*args, **kwargs)
        calls.append(len(args[1]))
        if len(calls) == 2:  # the second batch: commit, then the file changes
            os.rename(path, moved) if change == "rename" else os.unlink(path)

    monkeypatch.setattr(store, "write_batch", write_then_change)
    with UsageLedger(path, sync=True) as ledger:
        for i in range(3):
            ledger.record(event(i, request_id=f"e{i}"))
        assert ledger.stats().reopened == 1
    if change == "delete":
        assert request_ids(path) == ["e1", "e2"]  # e1 written again; e0 went with the file
        assert calls == [1, 1, 1, 1]
    else:
        assert request_ids(moved) == ["e0", "e1"]
        assert request_ids(path) == ["e2"]
        assert calls == [1, 1, 1]


def test_reads_follow_the_path(tmp_path: Path) -> None:
    path = tmp_path / "u.db"
    with UsageLedger(path, sync=True) as ledger:
        ledger.record(event(0))
        os.unlink(path)
        assert ledger.summary() == []  # the path's (new, empty) ledger, not the deleted file
        ledger.record(event(1))
        assert [r.request_id for r in ledger.records()] == ["req_1"]
        assert ledger.stats().reopened == 1


def test_reads_while_the_file_is_deleted_never_see_a_broken_file(tmp_path: Path) -> None:
    """Readers keep reading while the writer reopens: each read answers from a sound file."""
    path = tmp_path / "u.db"
    errors: list[BaseException] = []
    stop = threading.Event()

    def read(led: UsageLedger) -> None:
        while not stop.is_set():
            try:
                led.summary(by=("model",))
                sum(1 for _ in led.records(limit=50, newest_first=True))
            except BaseException as exc:  # collected: the test fails below with it
                errors.append(exc)
                return

    # the producers can outpace the writer on a loaded machine: a read's flush may wait long
    ledger = UsageLedger(
        path, batch_size=64, flush_interval_ms=2, queue_size=1_000_000, read_timeout_s=600
    )
    readers = [threading.Thread(target=read, args=(ledger,)) for _ in range(2)]
    try:
        with Producers(ledger) as producers:
            for x in readers:
                x.start()
            for n in range(3):
                producers.wait_for(sum(producers.counts) + 2_000)
                os.unlink(path)
                after = list(producers.counts)
                wait_until(lambda n=n: ledger.stats().reopened > n)
            producers.wait_for(sum(producers.counts) + 2_000)
        stop.set()
        for x in readers:
            x.join()
        ledger.flush(timeout=60)
        assert ledger.stats().reopened >= 3
    finally:
        stop.set()
        ledger.close()
    assert errors == []
    assert_suffixes(request_ids(path), producers.counts, after)
    check_consistent(path)


def test_the_check_is_per_batch_not_per_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stats: list[str] = []
    real_stat = os.stat

    def counting_stat(p: Any, *a: Any, **kw: Any) -> os.stat_result:
        if str(p) == str(tmp_path / "u.db"):
            stats.append(str(p))
        return real_stat(p, *a, **kw)

    with UsageLedger(tmp_path / "u.db", batch_size=1000, flush_interval_ms=60_000) as ledger:
        monkeypatch.setattr(os, "stat", counting_stat)
        for i in range(1000):
            ledger.record(event(i))
        ledger.flush(timeout=30)
        monkeypatch.undo()
    assert 1 <= len(stats) <= 3  # before, inside and after the one batch
