"""The usage event the service emits once per attempt, and the sink interface that receives it."""

# Annotations are evaluated here (no ``from __future__ import annotations``): the event's
# constructor is the named tuple's own, and its signature shows real types. The sinks' quoted
# ``"UsageEvent"`` reads as that name in the generated API reference.

import functools
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol, runtime_checkable

__all__ = ["InMemoryUsageSink", "UsageEvent", "UsageSink", "UsageStatus"]

UsageStatus = Literal["ok", "error", "cancelled"]


class _UsageEventFields(NamedTuple):
    # UsageEvent's fields. A NamedTuple default cannot be computed: the timestamp's ``None``
    # stands for "now" and UsageEvent's constructor puts the time in its place.
    model_id: str
    provider: str
    status: UsageStatus = "ok"
    attempt: int = 1
    caller: str | None = None
    group: str | None = None
    error_type: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: Decimal | None = None
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    request_id: str | None = None
    stream: bool = False
    prompt: str | None = None
    output: str | None = None
    timestamp: datetime = None  # type: ignore[assignment]  # now, see above


class UsageEvent(_UsageEventFields):
    """One attempt at one model: what it used, what it cost, how it ended.

    An immutable named tuple: read its fields by name, and use ``event._replace(field=value)``
    for a changed copy. ``cost_usd`` is ``None`` when the model's price is unknown. ``prompt``
    and ``output`` are set only when the service was told to store prompts. ``timestamp`` is
    the time the event was built (UTC) unless given.
    """

    __slots__ = ()

    if not TYPE_CHECKING:  # type checkers see the fields' own constructor

        @functools.wraps(_UsageEventFields.__new__)
        def __new__(cls, *args, **kwargs):
            # Events built by hand come here; the service, which builds one per attempt, passes
            # all the fields in order to tuple.__new__ (a keyword call costs ten times more).
            event = _UsageEventFields.__new__(cls, *args, **kwargs)
            if event.timestamp is None:
                return event._replace(timestamp=datetime.now(UTC))
            return event


@runtime_checkable
class UsageSink(Protocol):
    """Anything that accepts usage events. ``record`` must be fast and must not raise on I/O."""

    def record(self, event: "UsageEvent") -> None:
        """Accept one event."""


class InMemoryUsageSink:
    """Keeps events in a list; for tests, demos and applications without a ledger."""

    def __init__(self) -> None:
        self.events: list[UsageEvent] = []
        self._lock = threading.Lock()

    def record(self, event: "UsageEvent") -> None:
        """Append the event."""
        with self._lock:
            self.events.append(event)

    def clear(self) -> None:
        """Forget every event."""
        with self._lock:
            self.events.clear()

    def __len__(self) -> int:
        return len(self.events)
