"""Reads and flushes that cannot finish: each gives up by its deadline and names the database
error that stopped it (SQLite held locked by another connection; PostgreSQL stopped or silent
behind a loopback proxy, or a table locked by another session)."""

from __future__ import annotations

import contextlib
import math
import selectors
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import make_url as sa_make_url

from modelwire.usage import store
from modelwire.usage.ledger import LedgerReadError, UsageLedger
from modelwire.usage.writer import LedgerWriteError, WriteBehind
from tests.support.ledger import PgSchema, event, pg_base_url

T = TypeVar("T")


def bounded(call: Callable[[], T], limit: float = 60.0) -> T:
    """``call()`` in a thread; a call still running after ``limit`` seconds has no deadline."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(limit)
    assert not t.is_alive(), "the call never returned: it has no deadline"
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def wait_until(condition: Callable[[], object]) -> None:
    deadline = time.monotonic() + 60
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition()


READS: dict[str, Callable[[UsageLedger], object]] = {
    "summary": lambda ledger: ledger.summary(),
    "records": lambda ledger: list(ledger.records()),
    "reprice": lambda ledger: ledger.reprice(),
    "rebuild_rollup": lambda ledger: ledger.rebuild_rollup(),
}


# -- SQLite ------------------------------------------------------------------------------------


@pytest.fixture
def locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[UsageLedger, Any]]:
    """A ledger whose file another connection holds locked for writing (released at the end)."""
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 50)  # each attempt gives up quickly
    path = tmp_path / "u.db"
    ledger = UsageLedger(path, flush_interval_ms=2, read_timeout_s=0.3)
    ledger.record(event(0))
    ledger.flush(timeout=30)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield ledger, holder
    holder.close()
    ledger.close(timeout=30)


@pytest.mark.parametrize("read", list(READS))
def test_reads_give_up_on_a_locked_sqlite_file_and_name_the_lock(
    locked: tuple[UsageLedger, Any], read: str
) -> None:
    ledger, holder = locked
    for i in range(1, 20):
        ledger.record(event(i))
    wait_until(lambda: ledger.stats().last_error)  # the writer has met the lock
    assert "database is locked" in str(ledger.stats().last_error)
    with pytest.raises(LedgerReadError) as info:
        bounded(lambda: READS[read](ledger))
    message = str(info.value)
    assert "read gave up after 0.3s" in message
    assert "last database error: OperationalError: database is locked" in message
    assert "\n" not in message and "sqlalche.me" not in message
    holder.execute("ROLLBACK")  # the lock goes: everything recorded is written, nothing lost
    assert sum(r["calls"] for r in ledger.summary()) == 20


def test_a_flush_timeout_names_the_database_error(locked: tuple[UsageLedger, Any]) -> None:
    ledger, holder = locked
    ledger.record(event(1))
    wait_until(lambda: ledger.stats().last_error)
    with pytest.raises(
        LedgerWriteError, match=r"did not finish within 0.2s; last database error: "
    ) as info:
        ledger.flush(timeout=0.2)
    assert "OperationalError: database is locked" in str(info.value)
    assert isinstance(info.value.__cause__, Exception)
    holder.execute("ROLLBACK")
    ledger.flush(timeout=30)
    assert ledger.stats().last_error is None and ledger.stats().written == 2


def test_a_flush_timeout_without_an_error_says_the_writer_is_busy() -> None:
    gate = threading.Event()
    w = WriteBehind(lambda events: gate.wait(30), batch_size=1, flush_interval_s=0.001)
    for i in range(3):
        w.put(event(i))
    with pytest.raises(LedgerWriteError, match=r"within 0.1s; the writer is still busy"):
        w.flush(timeout=0.1)
    gate.set()
    w.close()


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, "5"])
def test_read_timeout_must_be_a_positive_number(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(ValueError, match="read_timeout_s must be a positive number"):
        UsageLedger(tmp_path / "u.db", read_timeout_s=bad)
    assert not (tmp_path / "u.db").exists()


# -- PostgreSQL through a loopback proxy --------------------------------------------------------


class Proxy:
    """A TCP proxy on 127.0.0.1 to the test PostgreSQL. ``silence()`` drops every connection and
    accepts new ones without ever answering; ``stop()`` closes the port (connections refused)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ)
        self.peers: dict[socket.socket, socket.socket | None] = {}
        self.silent = False
        self.stopping = False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        client, _ = self.listener.accept()
        if self.silent:
            self.peers[client] = None  # held open, never answered
            return
        upstream = socket.create_connection(self.target, timeout=5)
        for a, b in ((client, upstream), (upstream, client)):
            a.setblocking(False)
            self.peers[a] = b
            self.sel.register(a, selectors.EVENT_READ)

    def _drop(self, sock: socket.socket) -> None:
        other = self.peers.pop(sock, None)
        for s in (sock, other):
            if s is None:
                continue
            with contextlib.suppress(KeyError, ValueError):
                self.sel.unregister(s)
            s.close()
            self.peers.pop(s, None)

    def _run(self) -> None:
        while not self.stopping:
            for key, _ in self.sel.select(0.05):
                with self.lock:
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self.listener:
                        self._accept()
                        continue
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    peer = self.peers.get(sock)
                    if not data or peer is None:
                        self._drop(sock)
                        continue
                    peer.setblocking(True)
                    peer.sendall(data)
                    peer.setblocking(False)

    def silence(self) -> None:
        with self.lock:
            self.silent = True
            for s in list(self.peers):
                self._drop(s)

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            for s in list(self.peers):
                self._drop(s)
            self.sel.unregister(self.listener)
            self.listener.close()
        self.thread.join(5)
        self.sel.close()


@pytest.fixture
def pg_proxied() -> Iterator[tuple[str, Proxy]]:
    base = pg_base_url()
    if base is None:
        pytest.skip("MODELWIRE_TEST_POSTGRES_URL is not set")
    schema = PgSchema(base)
    url = sa_make_url(schema.url)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    try:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(False), proxy
    finally:
        if not proxy.stopping:
            proxy.stop()
        schema.drop()


@pytest.mark.postgres
def test_postgresql_gone_reads_fail_by_deadline_naming_the_driver_error(
    pg_proxied: tuple[str, Proxy],
) -> None:
    url, proxy = pg_proxied
    ledger = UsageLedger(url, flush_interval_ms=2, read_timeout_s=1)
    for i in range(10):
        ledger.record(event(i))
    assert sum(r["calls"] for r in ledger.summary()) == 10
    proxy.stop()

    with pytest.raises(LedgerReadError, match=r"read failed: OperationalError: .*refused") as info:
        bounded(ledger.summary)  # nothing pending: the query itself cannot connect
    assert "\n" not in str(info.value)

    for i in range(5):
        ledger.record(event(i))
    wait_until(lambda: ledger.stats().last_error)
    for read in READS.values():
        with pytest.raises(
            LedgerReadError, match=r"last database error: OperationalError: .*refused"
        ):
            bounded(lambda read=read: read(ledger))  # type: ignore[misc]
    with pytest.raises(LedgerWriteError, match="could not write 5 events: OperationalError"):
        ledger.close(timeout=0.5)
    assert len(ledger.failed_events()) == 5


@pytest.mark.postgres
def test_postgresql_silent_reads_give_up_at_the_connect_timeout(
    pg_proxied: tuple[str, Proxy],
) -> None:
    url, proxy = pg_proxied
    with UsageLedger(url, read_timeout_s=1) as ledger:
        ledger.record(event(0))
        assert ledger.summary()
        proxy.silence()  # a host that takes connections and never answers
        with pytest.raises(
            LedgerReadError, match="read failed: ConnectionTimeout: connection timeout expired"
        ):
            bounded(ledger.summary)


@pytest.mark.postgres
def test_postgresql_read_blocked_by_a_lock_gives_up_and_names_it(tmp_path: Path) -> None:
    base = pg_base_url()
    if base is None:
        pytest.skip("MODELWIRE_TEST_POSTGRES_URL is not set")
    import psycopg

    schema = PgSchema(base)
    try:
        with UsageLedger(schema.url, read_timeout_s=0.5) as ledger:
            ledger.record(event(0))
            ledger.flush(timeout=30)
            dsn = base.replace("postgresql+psycopg://", "postgresql://", 1)
            with psycopg.connect(dsn) as holder:
                holder.execute(f"SET search_path = {schema.name}")
                holder.execute("LOCK TABLE usage_calls, usage_daily IN ACCESS EXCLUSIVE MODE")
                for read in ("summary", "records", "reprice"):
                    with pytest.raises(LedgerReadError, match=r"LockNotAvailable: .*lock timeout"):
                        bounded(lambda read=read: READS[read](ledger))  # type: ignore[misc]
                holder.rollback()
            assert ledger.summary()[0]["calls"] == 1  # and the lock's timeout did not stay set
    finally:
        schema.drop()
