"""The write-behind queue and its writer thread.

Producers append to a deque (atomic under the GIL; no lock on the fast path). One daemon thread
per queue drains it in batches of up to ``batch_size`` events, waiting at most
``flush_interval_s`` for a batch to fill. ``flush()`` puts a marker in the queue and waits for the
writer to pass it, so it returns once everything recorded before it is committed.

The queue is bounded: when it holds ``queue_size`` events, ``put`` waits for room up to
``put_timeout_s`` and then raises ``LedgerFullError``; nothing is ever dropped silently. A failed
batch is kept and retried (with backoff) before anything newer is written, so rows land in order.

Interpreter exit drains every open queue (``atexit``, which also runs after ``sys.exit`` and an
unhandled exception). After ``os.fork()`` the child starts with an empty queue and no thread;
its first ``put`` starts its own writer.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from modelwire.errors import LedgerClosedError, LedgerFullError, LedgerWriteError
from modelwire.usage.events import UsageEvent

__all__ = [
    "LedgerClosedError",
    "LedgerFullError",
    "LedgerWriteError",
    "WriteBehind",
    "describe_error",
]

log = logging.getLogger("modelwire.usage")


def describe_error(exc: BaseException) -> str:
    """``Type: message`` on one line. For a SQLAlchemy error, the driver's own error (SQLAlchemy's
    text adds the statement, its parameters and a link on further lines)."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException):
        exc = orig
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Marker:
    __slots__ = ("done", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None


_open: set[WriteBehind] = set()
_open_lock = threading.Lock()
_hooks_installed = False


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_drain_all_at_exit)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)


def _drain_all_at_exit() -> None:
    for w in list(_open):
        try:
            w.close(timeout=60.0)
        except Exception as exc:  # exiting: report, never raise from atexit
            log.error("usage ledger: could not drain at exit: %s", exc)


def _after_fork_in_child() -> None:
    global _open_lock
    _open_lock = threading.Lock()
    for w in list(_open):
        w._reset_after_fork()
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None and _open:
        # A multiprocessing child clears its finalizers after this hook runs, then runs its
        # after-fork callbacks: register the drain from there.
        mp_util.register_after_fork(_mp_anchor, lambda _: _register_mp_finaliser())


class _Anchor:
    """A weak-referenceable object for multiprocessing's after-fork registry."""


_mp_anchor = _Anchor()
_mp_finaliser_pid = 0


def _register_mp_finaliser() -> None:
    """Drain at exit inside multiprocessing children, which leave through ``os._exit``."""
    global _mp_finaliser_pid
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is None or _mp_finaliser_pid == os.getpid():
        return
    _mp_finaliser_pid = os.getpid()
    mp_util.Finalize(None, _drain_all_at_exit, exitpriority=100)


def _in_multiprocessing_child() -> bool:
    mp_process = sys.modules.get("multiprocessing.process")
    return mp_process is not None and mp_process.parent_process() is not None


class WriteBehind:
    """A bounded queue of events and the thread that writes them with ``write``."""

    def __init__(
        self,
        write: Callable[[Sequence[UsageEvent]], None],
        *,
        batch_size: int = 512,
        flush_interval_s: float = 0.2,
        queue_size: int = 100_000,
        put_timeout_s: float = 30.0,
        after_fork: Callable[[], None] | None = None,
        is_bad_data: Callable[[BaseException], bool] | None = None,
        name: str = "modelwire-usage-writer",
    ) -> None:
        if batch_size < 1 or queue_size < 1:
            raise ValueError("batch_size and queue_size must be at least 1")
        self._write = write
        self._batch = batch_size
        # Bounded so the writer's wait cannot overflow (a huge interval would kill its thread).
        self._interval = min(max(flush_interval_s, 0.0), threading.TIMEOUT_MAX)
        self._maxsize = queue_size
        self._put_timeout = put_timeout_s
        self._after_fork = after_fork
        self._is_bad_data = is_bad_data
        self._name = name
        self._closed = False
        self._init_state()
        _install_hooks()
        if _in_multiprocessing_child():
            _register_mp_finaliser()
        with _open_lock:
            _open.add(self)

    def _init_state(self) -> None:
        self._dq: deque[UsageEvent | _Marker] = deque()
        self._wake = threading.Event()
        self._space = threading.Condition(threading.Lock())
        self._waiting = 0
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = False
        self._give_up_at = 0.0
        self._busy = False  # set by the writer from before it pops a batch until it is written
        self._markers = 0  # flush markers in the queue
        self._markers_lock = threading.Lock()
        self._error: BaseException | None = None
        self._failed_events: list[UsageEvent] = []  # unwritten when close() gave up
        self._rejected_events: list[UsageEvent] = []  # refused by the database as bad data

    def _reset_after_fork(self) -> None:
        # The parent's thread does not exist here and the parent writes its own queue.
        self._init_state()
        if self._after_fork is not None:
            self._after_fork()

    # -- producer side -------------------------------------------------------------------------

    def put(self, event: UsageEvent) -> None:
        """Enqueue ``event``; wait for room when full (``LedgerFullError`` after the timeout)."""
        if self._closed:
            raise LedgerClosedError("this usage ledger is closed")
        dq = self._dq
        if len(dq) >= self._maxsize:
            self._wait_for_room()
        dq.append(event)
        if self._thread is None:
            self._start()
        if len(dq) >= self._batch and not self._wake.is_set():
            self._wake.set()

    def _wait_for_room(self) -> None:
        deadline = time.monotonic() + self._put_timeout
        with self._space:
            self._waiting += 1
            try:
                while len(self._dq) >= self._maxsize:
                    if self._thread is None:
                        self._start()
                    self._wake.set()
                    left = deadline - time.monotonic()
                    if left <= 0:
                        error = self._error
                        why = f"; last database error: {describe_error(error)}" if error else ""
                        raise LedgerFullError(
                            f"usage ledger queue full ({self._maxsize} events) for "
                            f"{self._put_timeout:g}s: the database is not keeping up{why}"
                        ) from error
                    self._space.wait(min(left, 0.5))
            finally:
                self._waiting -= 1

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stop:
                t = threading.Thread(target=self._run, name=self._name, daemon=True)
                t.start()
                self._thread = t

    def pending(self) -> int:
        """Items queued and not yet taken by the writer (a flush in progress counts as one)."""
        return len(self._dq)

    # -- control -------------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> None:
        """Return once everything put before this call is written (or raise the write error)."""
        if not self._dq and not self._busy:
            return  # nothing queued and no batch in flight: everything earlier is committed
        m = _Marker()
        with self._markers_lock:
            self._markers += 1
            self._dq.append(m)
        if self._thread is None:
            self._start()
        self._wake.set()
        if not m.done.wait(timeout):
            error = self._error
            if error is None:
                cause = f"the writer is still busy ({len(self._dq)} items queued)"
            else:
                cause = f"last database error: {describe_error(error)}"
            raise LedgerWriteError(
                f"usage ledger flush did not finish within {timeout:g}s; {cause}"
            ) from error
        if m.error is not None:
            raise LedgerWriteError(
                f"usage ledger could not write: {describe_error(m.error)}"
            ) from m.error

    def close(self, timeout: float | None = None) -> None:
        """Drain the queue and stop the writer; further puts raise ``LedgerClosedError``.

        A failing database is retried for up to ``timeout`` seconds (default 30); events still
        unwritten then are kept in ``failed_events()`` and reported by ``LedgerWriteError``.
        """
        if self._closed:
            return
        self._closed = True
        budget = 30.0 if timeout is None else max(timeout, 0.0)
        self._give_up_at = time.monotonic() + budget
        self._stop = True
        self._wake.set()
        try:
            t = self._thread
            if t is not None and t is not threading.current_thread():
                t.join(budget + 5.0)
                if t.is_alive():
                    raise LedgerWriteError(
                        f"usage ledger writer still busy after {budget:g}s; "
                        f"{len(self._dq)} items unwritten"
                    )
            self._write_stragglers()
        finally:
            with _open_lock:
                _open.discard(self)
        if self._failed_events:
            err = self._error
            raise LedgerWriteError(
                f"usage ledger could not write {len(self._failed_events)} events: "
                f"{describe_error(err) if err else 'unknown error'}"
            ) from err

    def _write_isolating(
        self, events: list[UsageEvent]
    ) -> tuple[BaseException | None, list[UsageEvent]]:
        """Write ``events``; set aside only the ones the database rejects as bad data.

        A batch that fails with a bad-data error (``is_bad_data``) is split in halves until the
        offending events are alone; each is logged and kept in ``failed_events()`` so one bad
        value cannot block the queue forever. Any other error stops here: it is returned with
        the events not yet written (in order), to be retried.
        """
        chunks = [events]
        while chunks:
            chunk = chunks.pop()
            try:
                self._write(chunk)
                self._error = None
            except Exception as exc:
                self._error = exc
                if self._is_bad_data is None or not self._is_bad_data(exc):
                    rest = [e for c in reversed(chunks) for e in c]
                    return exc, chunk + rest
                if len(chunk) == 1:
                    log.error(
                        "usage ledger: event rejected by the database, set aside: %s",
                        describe_error(exc),
                    )
                    self._rejected_events.extend(chunk)
                    continue
                half = len(chunk) // 2
                chunks.append(chunk[half:])
                chunks.append(chunk[:half])
        return None, []

    def _write_stragglers(self) -> None:
        """Write events a racing ``put`` appended after the writer's last pass."""
        late: list[UsageEvent] = []
        while self._dq:
            item = self._dq.popleft()
            if type(item) is _Marker:
                self._marker_taken()
                item.done.set()
            else:
                late.append(item)  # type: ignore[arg-type]
        if late:
            try:
                self._write(late)
            except Exception as exc:
                self._error = exc
                self._failed_events.extend(late)

    # -- writer thread -------------------------------------------------------------------------

    def _run(self) -> None:
        dq = self._dq
        wake = self._wake
        batch_size = self._batch
        pause = 0.05
        while True:
            # A queued flush marker means: write now. Its wake-up alone is not enough, since
            # this thread may have cleared it while the marker waited behind a full batch.
            if len(dq) < batch_size and not self._stop and not self._markers:
                wake.wait(self._interval)
            wake.clear()  # before taking items: a later put or flush sets it again
            if not dq:
                if self._stop:
                    return
                continue
            self._busy = True
            events: list[UsageEvent] = []
            markers: list[_Marker] = []
            popleft = dq.popleft
            try:
                while len(events) < batch_size:
                    item = popleft()
                    if type(item) is _Marker:
                        markers.append(item)
                        self._marker_taken()
                        break
                    events.append(item)  # type: ignore[arg-type]
            except IndexError:
                pass
            error: BaseException | None = None
            if events:
                error, events = self._write_isolating(events)
                if error is None:
                    pause = 0.05
            if error is not None:
                if self._stop and time.monotonic() >= self._give_up_at:
                    log.error(
                        "usage ledger: %d events not written: %s",
                        len(events),
                        describe_error(error),
                    )
                    self._failed_events.extend(events)
                else:
                    # Keep them, in order, at the head of the queue and try again later.
                    dq.extendleft(reversed(events))
                    log.warning(
                        "usage ledger: write failed, retrying in %.2fs: %s",
                        pause,
                        describe_error(error),
                    )
            elif self._waiting:
                with self._space:
                    self._space.notify_all()
            self._busy = False
            for m in markers:
                m.error = error
                m.done.set()
            if error is not None:
                wait = pause
                if self._stop:
                    wait = min(pause, max(self._give_up_at - time.monotonic(), 0.0))
                time.sleep(wait)
                pause = min(pause * 2, 5.0)

    def _marker_taken(self) -> None:
        with self._markers_lock:
            self._markers -= 1

    def report_error(self, error: BaseException) -> None:
        """Note an error the write function is still waiting out (a locked database): a flush
        that times out meanwhile names it. The next successful write clears it."""
        self._error = error

    @property
    def last_error(self) -> BaseException | None:
        """The last error a write hit, or ``None`` once a write has succeeded since."""
        return self._error

    def failed_events(self) -> list[UsageEvent]:
        """Events not stored: those the database rejected as bad data, then those still
        unwritten when ``close()`` gave up on a failing database."""
        return [*self._rejected_events, *self._failed_events]
