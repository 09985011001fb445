"""The usage event the service emits once per attempt, and the sink interface that receives it."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from modelwire.types import Usage

__all__ = ["InMemoryUsageSink", "UsageEvent", "UsageSink", "UsageStatus"]

UsageStatus = Literal["ok", "error", "cancelled"]


class _UsageEventFields(NamedTuple):
    # UsageEvent's fields: names, order, types. Its constructor holds the defaults, since a
    # NamedTuple default cannot be the time the event is built.
    model_id: str
    provider: str
    status: UsageStatus
    attempt: int
    caller: str | None
    group: str | None
    error_type: str | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost_usd: Decimal | None
    latency_ms: float
    ttft_ms: float | None
    request_id: str | None
    stream: bool
    prompt: str | None
    output: str | None
    timestamp: datetime
    run_id: str | None
    cache_write_1h_tokens: int
    input_audio_tokens: int
    input_image_tokens: int
    output_audio_tokens: int
    output_image_tokens: int
    tool_uses: Mapping[str, int] | None
    iterations: tuple[Usage, ...]


class UsageEvent(_UsageEventFields):
    """One attempt at one model: what it used, what it cost, how it ended.

    An immutable named tuple: read its fields by name, and use ``event._replace(field=value)``
    for a changed copy. ``cost_usd`` is ``None`` when the model's price is unknown. ``prompt``
    and ``output`` are set only when the service was told to store prompts. ``timestamp`` is
    the time the event was built (UTC) unless given. The counts after ``run_id`` are those of
    ``Usage`` a vendor bills at their own price: 1-hour cache writes, audio and image tokens,
    server-side tool uses by kind (``None``: none) and the sampling requests of a call that ran
    several (``Usage.iterations``), kept so the cost can be recomputed exactly.
    """

    __slots__ = ()

    def __new__(
        cls,
        model_id: str,
        provider: str,
        status: UsageStatus = "ok",
        attempt: int = 1,
        caller: str | None = None,
        group: str | None = None,
        error_type: str | None = None,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        reasoning_tokens: int = 0,
        cost_usd: Decimal | None = None,
        latency_ms: float = 0.0,
        ttft_ms: float | None = None,
        request_id: str | None = None,
        stream: bool = False,
        prompt: str | None = None,
        output: str | None = None,
        timestamp: datetime | None = None,
        run_id: str | None = None,
        cache_write_1h_tokens: int = 0,
        input_audio_tokens: int = 0,
        input_image_tokens: int = 0,
        output_audio_tokens: int = 0,
        output_image_tokens: int = 0,
        tool_uses: Mapping[str, int] | None = None,
        iterations: tuple[Usage, ...] = (),
    ) -> UsageEvent:
        # Events built by hand come here (as cheap as the dataclass this class was). The
        # service, which builds one per attempt, passes all the fields in their order straight
        # to tuple.__new__: a call with keywords costs about eight times more.
        return tuple.__new__(
            cls,
            (
                model_id,
                provider,
                status,
                attempt,
                caller,
                group,
                error_type,
                input_tokens,
                output_tokens,
                cache_read_tokens,
                cache_write_tokens,
                reasoning_tokens,
                cost_usd,
                latency_ms,
                ttft_ms,
                request_id,
                stream,
                prompt,
                output,
                datetime.now(UTC) if timestamp is None else timestamp,
                run_id,
                cache_write_1h_tokens,
                input_audio_tokens,
                input_image_tokens,
                output_audio_tokens,
                output_image_tokens,
                tool_uses,
                iterations,
            ),
        )


@runtime_checkable
class UsageSink(Protocol):
    """Anything that accepts usage events. ``record`` must be fast and must not raise on I/O."""

    def record(self, event: UsageEvent) -> None:
        """Accept one event."""


class InMemoryUsageSink:
    """Keeps events in a list; for tests, demos and applications without a ledger."""

    def __init__(self) -> None:
        self.events: list[UsageEvent] = []
        self._lock = threading.Lock()

    def record(self, event: UsageEvent) -> None:
        """Append the event."""
        with self._lock:
            self.events.append(event)

    def clear(self) -> None:
        """Forget every event."""
        with self._lock:
            self.events.clear()

    def __len__(self) -> int:
        return len(self.events)
