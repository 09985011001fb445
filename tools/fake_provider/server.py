"""The HTTP core of the loopback fake provider: routing, request log, faults, JSON and SSE replies.

Wire formats plug in as modules (``openai_format``, ``anthropic_format``, ``gemini_format``). A
format module defines:

``NAME``
    a short name (``"openai"``), also the key of its model list in ``FakeProviderServer.models``.
``ROUTES``
    a list of ``Route(method, pattern, handler, header=None)``; ``pattern`` is a regular
    expression matched against the whole path (named groups land in ``FakeRequest.params``);
    ``handler(request, server)`` returns a ``Reply``; a route with ``header`` matches only
    requests carrying that header and wins over header-less routes on the same path.
``error_body(status, message, code) -> dict``
    the format's JSON error envelope, used for injected status faults.
``DEFAULT_MODELS`` (optional)
    model ids served by its listing route until a test sets ``server.models[NAME]``.
``REQUEST_ID_HEADER`` (optional, default ``x-request-id``)
    the response header that carries the fake request id.

Formats listed in ``DEFAULT_FORMATS`` are registered automatically when their module exists;
``FakeProviderServer.register(module)`` adds any other.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tools.fake_provider.faults import FAULT_HEADER, Fault, FaultQueue, parse_fault

__all__ = [
    "DEFAULT_FORMATS",
    "FakeProviderServer",
    "FakeRequest",
    "RecordedRequest",
    "Reply",
    "Route",
    "SseEvent",
    "count_tokens",
    "fake_reply",
    "iter_pages",
    "split_stream",
]

DEFAULT_FORMATS: tuple[str, ...] = (
    "tools.fake_provider.openai_format",
    "tools.fake_provider.anthropic_format",
    "tools.fake_provider.gemini_format",
)

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """A deterministic token count: words and punctuation marks (at least 1 for non-empty)."""
    return len(_TOKEN.findall(text))


def fake_reply(prompt: str, max_tokens: int | None = None) -> tuple[str, bool]:
    """The deterministic answer to ``prompt``: ``("echo: <prompt>", truncated)``.

    With ``max_tokens`` the answer is cut to that many tokens and ``truncated`` is true.
    """
    text = "echo: " + " ".join(prompt.split())
    if max_tokens is not None and count_tokens(text) > max_tokens:
        pieces = list(re.finditer(r"\S+", text))
        out: list[str] = []
        used = 0
        for piece in pieces:
            n = count_tokens(piece.group())
            if used + n > max_tokens:
                break
            out.append(piece.group())
            used += n
        return " ".join(out), True
    return text, False


def split_stream(text: str) -> list[str]:
    """Split an answer into stream deltas of one word each (spaces kept on the right word)."""
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)] if text else []


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One server-sent event: ``data`` (already serialised) and an optional ``event`` name."""

    data: str
    event: str | None = None

    def encode(self) -> bytes:
        """The event as it goes on the wire."""
        head = f"event: {self.event}\n" if self.event else ""
        return f"{head}data: {self.data}\n\n".encode()


@dataclass(slots=True)
class Reply:
    """What a route handler returns: a JSON body, or (``events`` set) an SSE stream."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    events: Iterable[SseEvent] | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """A route: HTTP method, full-path regular expression, handler.

    With ``header`` the route matches only requests carrying that header, and it wins over
    routes without one (so two formats can share a path, e.g. ``GET /v1/models`` for OpenAI and
    for Anthropic clients, which send ``anthropic-version``).
    """

    method: str
    pattern: str
    handler: Callable[[FakeRequest, FakeProviderServer], Reply]
    header: str | None = None


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server saw it (for assertions). Header names are lower case."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    format: str | None
    fault: Fault


@dataclass(slots=True)
class FakeRequest:
    """The request a handler sees."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    params: dict[str, str]
    fault: Fault
    format: str


@dataclass(slots=True)
class _Format:
    name: str
    routes: list[Route]
    patterns: list[re.Pattern[str]]
    error_body: Callable[[int, str, str | None], Any]
    request_id_header: str


_DEFAULT_MESSAGES = {
    400: "bad request",
    401: "invalid api key",
    403: "permission denied",
    404: "model not found",
    408: "request timed out",
    409: "conflict",
    413: "request too large",
    422: "unprocessable request",
    429: "rate limit exceeded",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    529: "overloaded",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _HTTPServer
    timeout = 30  # idle keep-alive connections go away on their own

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is the record."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        owner = self.server.owner
        generation = owner.generation
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            fault = parse_fault(headers.get(FAULT_HEADER))
        except ValueError as exc:
            self._send_json(400, {"error": {"message": str(exc)}}, {})
            return
        if not fault.active:
            fault = owner.faults.take(parts.path) or fault
        found = owner._match(self.command, parts.path, headers)
        owner._log(
            RecordedRequest(
                self.command,
                parts.path,
                query,
                headers,
                body,
                found[0].name if found else None,
                fault,
            )
        )
        if found is None:
            self._send_json(
                404, {"error": {"message": f"no route for {self.command} {parts.path}"}}, {}
            )
            return
        fmt, handler, params = found
        rid_headers = {fmt.request_id_header: owner._next_request_id()}
        if fault.delay_ms and (
            owner._sleep(fault.delay_ms / 1000.0) or owner.generation != generation
        ):  # stopped, or cleared while it slept: its client gave up; answer nothing, take no
            # scripted answer of a later test
            self.close_connection = True
            return
        if fault.reset:
            self._drop()
            return
        if fault.status is not None and fault.status >= 400:
            message = fault.message or _DEFAULT_MESSAGES.get(fault.status, f"HTTP {fault.status}")
            extra = dict(rid_headers)
            if fault.retry_after is not None:
                extra["retry-after"] = fault.retry_after
            if fault.retry_after_ms is not None:
                extra["retry-after-ms"] = str(fault.retry_after_ms)
            self._send_json(fault.status, fmt.error_body(fault.status, message, fault.code), extra)
            return
        request = FakeRequest(
            self.command, parts.path, query, headers, body, params, fault, fmt.name
        )
        try:
            reply = handler(request, owner)
        except Exception as exc:
            self._send_json(
                500, fmt.error_body(500, f"fake server handler failed: {exc!r}", None), {}
            )
            return
        merged = {**rid_headers, **reply.headers}
        if reply.events is not None:
            self._send_stream(reply, merged, fault)
        elif fault.malformed and reply.status < 400:
            data = json.dumps(reply.body).encode()
            self._send_bytes(reply.status, data[: max(1, len(data) // 2)], merged)
        else:
            self._send_json(reply.status, reply.body, merged)

    def _send_json(self, status: int, body: Any, headers: dict[str, str]) -> None:
        self._send_bytes(status, json.dumps(body).encode(), headers)

    def _send_bytes(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_stream(self, reply: Reply, headers: dict[str, str], fault: Fault) -> None:
        owner = self.server.owner
        self.send_response(reply.status)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        assert reply.events is not None
        for index, event in enumerate(reply.events):
            if fault.cut_stream_after is not None and index >= fault.cut_stream_after:
                self.wfile.flush()
                self._drop()
                return
            if fault.malformed and index == 1:
                event = SseEvent('{"broken": ', event.event)
            if index and fault.chunk_delay_ms and owner._sleep(fault.chunk_delay_ms / 1000.0):
                self._drop()
                return
            self._write_chunk(event.encode())
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        """Close the connection abruptly (no terminating chunk, no response)."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, owner: FakeProviderServer, port: int, max_threads: int) -> None:
        self.owner = owner
        self._slots = threading.BoundedSemaphore(max_threads)
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self._slots.acquire()  # bounded: at most max_threads connections are served at once
        with self._conns_lock:
            self._conns.add(request)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request (a test cutting a stream, a timed-out call) is
        routine here: stay quiet about it; print anything else as the base class does."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def _release(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        self._slots.release()

    def drop_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class FakeProviderServer:
    """A loopback HTTP server speaking the registered wire formats, with a request log and faults.

    Use as a context manager (``with FakeProviderServer() as server: server.url``) or call
    ``start()``/``stop()``. It binds 127.0.0.1 only, on an ephemeral port unless ``port`` is given.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        formats: Iterable[str | ModuleType] | None = None,
        max_threads: int = 1024,
        log_limit: int = 10_000,
    ) -> None:
        self._port = port
        self._max_threads = max_threads
        self._formats: list[_Format] = []
        self.models: dict[str, list[str]] = {}
        self.page_size: int | None = None
        #: When set, requests must carry one of these keys (each format reads its own header).
        self.accepted_keys: set[str] | None = None
        self.faults = FaultQueue()
        self._log_limit = log_limit
        self._requests: list[RecordedRequest] = []
        self._scripted: dict[str, deque[Any]] = {}
        #: Bumped by ``clear()``: a request that arrived before it belongs to an earlier test.
        self.generation = 0
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stop = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        for fmt in DEFAULT_FORMATS if formats is None else formats:
            if isinstance(fmt, str):
                try:
                    fmt = importlib.import_module(fmt)
                except ModuleNotFoundError as exc:
                    if formats is None and exc.name == fmt:
                        continue  # a default format whose module is not written yet
                    raise
            self.register(fmt)

    # -- formats -------------------------------------------------------------------------------

    def register(self, module: ModuleType | Any) -> None:
        """Add a wire format (see the module docstring for what it must define)."""
        name = str(module.NAME)
        if any(f.name == name for f in self._formats):
            raise ValueError(f"wire format {name!r} is already registered")
        routes = [
            Route(r.method.upper(), r.pattern, r.handler, r.header.lower() if r.header else None)
            for r in module.ROUTES
        ]
        patterns = [re.compile(r.pattern) for r in routes]
        header = str(getattr(module, "REQUEST_ID_HEADER", "x-request-id"))
        self._formats.append(_Format(name, routes, patterns, module.error_body, header))
        self.models.setdefault(name, list(getattr(module, "DEFAULT_MODELS", ())))

    @property
    def formats(self) -> list[str]:
        """Names of the registered wire formats."""
        return [f.name for f in self._formats]

    def _match(
        self, method: str, path: str, headers: dict[str, str]
    ) -> tuple[_Format, Callable[[FakeRequest, FakeProviderServer], Reply], dict[str, str]] | None:
        fallback = None
        for fmt in self._formats:
            for route, pattern in zip(fmt.routes, fmt.patterns, strict=True):
                if route.method != method or (route.header and route.header not in headers):
                    continue
                m = pattern.fullmatch(path)
                if m is None:
                    continue
                found = (
                    fmt,
                    route.handler,
                    {k: v for k, v in m.groupdict().items() if v is not None},
                )
                if route.header:
                    return found  # a header-specific route wins over generic ones
                fallback = fallback or found
        return fallback

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (after ``start``)."""
        if self._httpd is None:
            raise RuntimeError("the fake provider server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeProviderServer:
        """Bind and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        self._stop.clear()
        self._httpd = _HTTPServer(self, self._port, self._max_threads)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-provider",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections and release the port."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stop.set()
        httpd.shutdown()
        httpd.drop_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run in the foreground until interrupted (``python -m tools.fake_provider``)."""
        self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def _sleep(self, seconds: float) -> bool:
        """Sleep, waking early when the server stops; True when it stopped."""
        return self._stop.wait(seconds)

    # -- request log ---------------------------------------------------------------------------

    def _log(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(entry)
            if len(self._requests) > self._log_limit:
                del self._requests[: len(self._requests) - self._log_limit]

    def key_accepted(self, key: str | None) -> bool:
        """Whether ``key`` may call (always, unless ``accepted_keys`` is set)."""
        return self.accepted_keys is None or (key is not None and key in self.accepted_keys)

    def _next_request_id(self) -> str:
        return f"req_fake_{next(self._ids)}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path_part: str) -> list[RecordedRequest]:
        """Logged requests whose path contains ``path_part``."""
        return [r for r in self.requests if path_part in r.path]

    def script(self, format_name: str, *answers: Any) -> None:
        """Queue answers for the next requests of one wire format, oldest first: its handler
        answers with them instead of its default reply (each format says what an answer is,
        e.g. ``anthropic_format.Answer``)."""
        with self._lock:
            self._scripted.setdefault(format_name, deque()).extend(answers)

    def next_scripted(self, format_name: str) -> Any | None:
        """The next answer queued for ``format_name`` (taken off the queue), or ``None``."""
        with self._lock:
            queue = self._scripted.get(format_name)
            return queue.popleft() if queue else None

    def clear(self) -> None:
        """Forget the request log, scripted answers and faults; reset paging and key checks."""
        with self._lock:
            self.generation += 1
            self._requests.clear()
            self._scripted.clear()
        self.faults.clear()
        self.page_size = None
        self.accepted_keys = None

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until at least ``n`` requests were logged (bounded), then return the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.requests
            if len(log) >= n:
                return log
            time.sleep(0.005)
        return self.requests


def iter_pages(ids: list[str], after: str | None, limit: int | None) -> tuple[list[str], bool]:
    """The page of ``ids`` after the id ``after`` (exclusive), at most ``limit`` long."""
    start = 0
    if after:
        try:
            start = ids.index(after) + 1
        except ValueError:
            start = len(ids)
    if limit is None:
        return ids[start:], False
    page = ids[start : start + limit]
    return page, start + limit < len(ids)
