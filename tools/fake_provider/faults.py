"""Fault injection for the fake provider server: what goes wrong, for which request.

A fault is chosen per request, either from the ``x-fake-fault`` request header::

    x-fake-fault: status=429;retry_after=2
    x-fake-fault: status=400;code=context_length_exceeded;message=too long
    x-fake-fault: delay_ms=500
    x-fake-fault: malformed
    x-fake-fault: cut_stream_after=2
    x-fake-fault: reset

or from a queue of scripted faults a test pushes (``FaultQueue.push``); the header wins.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, fields, replace

__all__ = ["FAULT_HEADER", "Fault", "FaultQueue", "parse_fault"]

FAULT_HEADER = "x-fake-fault"


@dataclass(frozen=True, slots=True)
class Fault:
    """What the server does wrong for one request (all fields off means "behave")."""

    #: Answer with this HTTP status and the wire format's error body.
    status: int | None = None
    #: ``Retry-After`` header value sent with the status (seconds or an HTTP date), verbatim.
    retry_after: str | None = None
    #: ``retry-after-ms`` header value sent with the status.
    retry_after_ms: int | None = None
    #: Error code/type put into the error body.
    code: str | None = None
    #: Error message put into the error body (a default per status otherwise).
    message: str | None = None
    #: Sleep this long before sending the response headers.
    delay_ms: int = 0
    #: Sleep this long between stream events.
    chunk_delay_ms: int = 0
    #: Send a success status with a body that is not valid JSON (or a broken stream event).
    malformed: bool = False
    #: Close the connection after this many stream events, without finishing the body.
    cut_stream_after: int | None = None
    #: Close the connection without sending any response.
    reset: bool = False

    @property
    def active(self) -> bool:
        """True when the fault changes anything."""
        return self != Fault()

    def to_header(self) -> str:
        """The ``x-fake-fault`` header value that encodes this fault."""
        parts: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value in (None, 0, False):
                continue
            parts.append(f.name if value is True else f"{f.name}={value}")
        return ";".join(parts)


_INT_FIELDS = {"status", "retry_after_ms", "delay_ms", "chunk_delay_ms", "cut_stream_after"}
_FLAG_FIELDS = {"malformed", "reset"}
_STR_FIELDS = {"retry_after", "code", "message"}


def parse_fault(spec: str | None) -> Fault:
    """Parse an ``x-fake-fault`` header value; unknown keys raise ``ValueError``."""
    if not spec or not spec.strip():
        return Fault()
    values: dict[str, object] = {}
    for part in spec.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, raw = part.partition("=")
        key = key.strip().lower().replace("-", "_")
        raw = raw.strip()
        if key in _FLAG_FIELDS:
            values[key] = (not sep) or raw.lower() in ("1", "true", "yes")
        elif key in _INT_FIELDS:
            values[key] = int(raw)
        elif key in _STR_FIELDS:
            values[key] = raw
        else:
            raise ValueError(f"unknown fault {key!r} in {spec!r}")
    return Fault(**values)  # type: ignore[arg-type]


@dataclass(slots=True)
class _Scripted:
    fault: Fault
    remaining: int
    path: str | None = None


@dataclass
class FaultQueue:
    """Faults scripted by a test, consumed in order by the requests they match."""

    _items: deque[_Scripted] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def push(
        self, fault: Fault | None = None, *, times: int = 1, path: str | None = None, **kw: object
    ) -> None:
        """Apply ``fault`` (or ``Fault(**kw)``) to the next ``times`` requests.

        ``path`` limits it to requests whose path contains that text.
        """
        if fault is None:
            fault = Fault(**kw)  # type: ignore[arg-type]
        elif kw:
            fault = replace(fault, **kw)  # type: ignore[arg-type]
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._items.append(_Scripted(fault, times, path))

    def take(self, path: str) -> Fault | None:
        """The first scripted fault matching ``path`` (consuming one use of it), or ``None``."""
        with self._lock:
            for item in self._items:
                if item.path is None or item.path in path:
                    item.remaining -= 1
                    if item.remaining <= 0:
                        self._items.remove(item)
                    return item.fault
        return None

    def clear(self) -> None:
        """Forget every scripted fault."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return sum(item.remaining for item in self._items)
