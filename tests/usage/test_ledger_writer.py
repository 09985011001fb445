"""The write-behind queue on its own: ordering, batching, back-pressure, failures, import cost."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelwire.usage.events import UsageEvent
from modelwire.usage.ledger import UsageLedger
from modelwire.usage.writer import (
    LedgerClosedError,
    LedgerFullError,
    LedgerWriteError,
    WriteBehind,
)
from tests.support.ledger import event


class FlakySink:
    """A write function that records batches and fails on chosen calls."""

    def __init__(self, fail_on: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.batches: list[list[str | None]] = []
        self.calls = 0
        self.fail_on = set(fail_on)
        self.lock = threading.Lock()

    def __call__(self, events: Sequence[UsageEvent]) -> None:
        with self.lock:
            self.calls += 1
            if self.calls in self.fail_on:
                raise OSError(f"injected failure on write {self.calls}")
            self.batches.append([e.request_id for e in events])

    @property
    def written(self) -> list[str | None]:
        return [r for b in self.batches for r in b]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    threads=st.integers(1, 6),
    per=st.integers(0, 300),
    batch=st.integers(1, 64),
    queue=st.integers(1, 200),
    fail_on=st.sets(st.integers(1, 8), max_size=3),
    flush_every=st.integers(0, 100),
)
def test_every_event_written_once_in_per_thread_order(
    threads: int, per: int, batch: int, queue: int, fail_on: set[int], flush_every: int
) -> None:
    sink = FlakySink(fail_on)
    w = WriteBehind(sink, batch_size=batch, flush_interval_s=0.001, queue_size=queue)

    def produce(t: int) -> None:
        for i in range(per):
            w.put(event(i, request_id=f"{t}:{i}"))
            if flush_every and i % flush_every == flush_every - 1:
                # An injected failure raises here; the events stay queued and are retried.
                with contextlib.suppress(LedgerWriteError):
                    w.flush(timeout=30)

    workers = [threading.Thread(target=produce, args=(t,)) for t in range(threads)]
    for x in workers:
        x.start()
    for x in workers:
        x.join()
    w.close(timeout=30)  # transient failures: close retries until they pass
    written = sink.written
    assert len(written) == threads * per
    assert all(len(b) <= batch for b in sink.batches)
    for t in range(threads):
        mine = [r for r in written if r is not None and r.startswith(f"{t}:")]
        assert mine == [f"{t}:{i}" for i in range(per)]
    assert w.failed_events() == []


def test_full_queue_waits_then_raises_a_clear_error() -> None:
    gate, taken = threading.Event(), threading.Event()
    written: list[UsageEvent] = []

    def slow(events: Sequence[UsageEvent]) -> None:
        taken.set()
        gate.wait(30)
        written.extend(events)

    w = WriteBehind(slow, batch_size=1, flush_interval_s=0.001, queue_size=3, put_timeout_s=0.2)
    w.put(event(0))
    assert taken.wait(30)  # one in the writer's hands
    for i in range(1, 4):  # three queued
        w.put(event(i))
    with pytest.raises(LedgerFullError, match=r"queue full \(3 events\) for 0.2s"):
        w.put(event(99))
    assert written == []  # it gave up while the writer was still held
    gate.set()
    w.put(event(5))  # room again: waits for it instead of failing
    w.close()
    assert [e.request_id for e in written] == [f"req_{i}" for i in (0, 1, 2, 3, 5)]


def test_a_full_queue_waits_for_room_rather_than_failing_at_once() -> None:
    gate = threading.Event()
    written: list[UsageEvent] = []
    order: list[str] = []

    def slow(events: Sequence[UsageEvent]) -> None:
        gate.wait(30)
        written.extend(events)

    w = WriteBehind(slow, batch_size=1, flush_interval_s=0.001, queue_size=3, put_timeout_s=60)
    for i in range(4):  # one in the writer's hands, three queued
        w.put(event(i))

    def put_one_more() -> None:
        w.put(event(4))
        order.append("put returned")

    putter = threading.Thread(target=put_one_more)
    putter.start()
    while not w._waiting and putter.is_alive():  # the put is waiting for room
        time.sleep(0.001)
    order.append("room made")
    gate.set()
    putter.join(30)
    w.close()
    assert order == ["room made", "put returned"]
    assert [e.request_id for e in written] == [f"req_{i}" for i in range(5)]


def test_flush_reports_a_failing_database_and_keeps_the_events() -> None:
    sink = FlakySink(fail_on={1})
    w = WriteBehind(sink, batch_size=100, flush_interval_s=10)
    for i in range(5):
        w.put(event(i))
    with pytest.raises(LedgerWriteError, match="injected failure on write 1"):
        w.flush(timeout=10)
    w.flush(timeout=10)  # the retry succeeds: nothing was dropped
    assert sink.written == [f"req_{i}" for i in range(5)]
    w.close()
    with pytest.raises(LedgerClosedError):
        w.put(event(0))


def test_close_gives_up_loudly_when_the_database_stays_down() -> None:
    sink = FlakySink(fail_on=set(range(1, 100)))
    w = WriteBehind(sink, batch_size=10, flush_interval_s=10)
    for i in range(3):
        w.put(event(i))
    with pytest.raises(LedgerWriteError, match="could not write 3 events"):
        w.close(timeout=0.5)
    assert [e.request_id for e in w.failed_events()] == ["req_0", "req_1", "req_2"]


class GatedWake(threading.Event):
    """The writer's wake-up event, with the interval's end in the test's hands: ``wait`` notes
    its timeout and returns only when the test lets the time pass (``elapse``) or someone sets
    the event (a full batch, a flush, ``close``)."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[float | None] = []
        self._permits = threading.Semaphore(0)

    def wait(self, timeout: float | None = None) -> bool:
        self.timeouts.append(timeout)
        self._permits.acquire(timeout=30)
        return self.is_set()

    def set(self) -> None:
        super().set()
        self._permits.release()

    def elapse(self) -> None:
        self._permits.release()


def test_batches_wait_for_the_interval_when_idle() -> None:
    sink = FlakySink()
    w = WriteBehind(sink, batch_size=1000, flush_interval_s=0.3)
    wake = GatedWake()
    w._wake = wake  # before the first put starts the writer
    for i in range(10):
        w.put(event(i))
    for _ in range(3000):  # until the writer waits (bounded)
        if wake.timeouts:
            break
        time.sleep(0.001)
    assert wake.timeouts == [0.3] and sink.written == []  # still collecting, for the interval
    wake.elapse()
    for _ in range(3000):
        if sink.written:
            break
        time.sleep(0.001)
    assert sink.batches == [[f"req_{i}" for i in range(10)]]  # one batch once it passed
    w.close()


def test_record_is_cheap_on_the_caller_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``record`` only enqueues: every database write happens on the writer's thread, in
    batches, and nothing is written until the caller lets the writer run."""
    gate = threading.Event()
    writes: list[tuple[int, int]] = []  # (thread, events in the batch)
    real = UsageLedger._write_events

    def spy(self: UsageLedger, events: Sequence[UsageEvent]) -> None:
        gate.wait(30)
        writes.append((threading.get_ident(), len(events)))
        real(self, events)

    monkeypatch.setattr(UsageLedger, "_write_events", spy)
    events = [event(i) for i in range(20_000)]
    with UsageLedger(tmp_path / "u.db", queue_size=len(events) + 1) as ledger:
        for e in events:
            ledger.record(e)  # returns although the writer is held at the gate
        assert writes == []
        gate.set()
        ledger.flush(timeout=60)
        assert sum(row["calls"] for row in ledger.summary()) == len(events)
    assert threading.get_ident() not in {thread for thread, _ in writes}
    assert sum(n for _, n in writes) == len(events) and len(writes) < len(events) / 100


def test_importing_the_ledger_does_not_import_sqlalchemy() -> None:
    code = (
        "import sys, modelwire, modelwire.usage.ledger, modelwire.cli.app\n"
        "assert modelwire.UsageLedger is modelwire.usage.ledger.UsageLedger\n"
        "bad = [m for m in ('sqlalchemy', 'pandas', 'matplotlib') if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_pandas_helpers(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    with UsageLedger(tmp_path / "u.db") as ledger:
        for i in range(30):
            ledger.record(event(i))
        frame = ledger.to_pandas(model="mock:alpha")
        summary = ledger.summary_frame(by=("model", "status"))
        empty = ledger.summary_frame(by=("model",), since="1d")
    assert len(frame) == 10 and set(frame["model_id"]) == {"mock:alpha"}
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert list(summary.columns[:3]) == ["model", "status", "calls"]
    assert summary["calls"].sum() == 30
    assert summary["cost_usd"].dtype == "float64"
    assert isinstance(empty, pd.DataFrame) and empty.empty


class BadData(ValueError):
    """Stands for a value the database rejects."""


def test_a_rejected_event_is_set_aside_and_the_rest_written_in_order() -> None:
    written: list[str | None] = []

    def strict(events: Sequence[UsageEvent]) -> None:
        if any(e.request_id and e.request_id.startswith("bad") for e in events):
            raise BadData("value out of range")
        written.extend(e.request_id for e in events)

    w = WriteBehind(
        strict, batch_size=16, flush_interval_s=0.001, is_bad_data=lambda e: isinstance(e, BadData)
    )
    ids = [f"bad{i}" if i in (3, 17, 18, 40) else f"ok{i}" for i in range(50)]
    for rid in ids:
        w.put(event(0, request_id=rid))
    w.close(timeout=10)
    assert written == [r for r in ids if r.startswith("ok")]
    assert [e.request_id for e in w.failed_events()] == ["bad3", "bad17", "bad18", "bad40"]


def test_transient_errors_are_retried_not_set_aside() -> None:
    sink = FlakySink(fail_on={1, 2})
    w = WriteBehind(sink, batch_size=8, flush_interval_s=0.001, is_bad_data=lambda e: False)
    for i in range(20):
        w.put(event(i))
    w.close(timeout=10)
    assert sink.written == [f"req_{i}" for i in range(20)]
    assert w.failed_events() == []


@pytest.mark.parametrize("extra", [0, 1, 7])
def test_a_flush_right_behind_a_full_batch_is_not_left_waiting(extra: int) -> None:
    """The put that fills a batch wakes the writer; a flush just after it must not wait for the
    next interval (60 s here) behind that batch."""
    sink = FlakySink()
    w = WriteBehind(sink, batch_size=100, flush_interval_s=60)
    for round_ in range(5):
        for i in range(100 + extra):
            w.put(event(i, request_id=f"{round_}:{i}"))
        w.flush(timeout=10)
        assert len(sink.written) == (round_ + 1) * (100 + extra)
    w.close()
