"""Bookkeeping of one attempt at one model: latency, time to first token, cost, usage event.

The call machines (``service.calls``) start an ``Attempt`` through the service's ``Recorder``
and end it exactly once, whatever way the attempt ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from modelwire.catalog.pricing import compute_cost
from modelwire.types import ChatRequest, ChatResponse, StreamEvent, Usage
from modelwire.usage.events import UsageEvent, UsageSink, UsageStatus

if TYPE_CHECKING:
    from modelwire.providers.base import ChatModel
    from modelwire.usage.limits import Limits

__all__ = ["Attempt", "Observer", "Recorder", "render_prompt"]

_ZERO = Decimal(0)

Observer = Callable[[str, bool, float, "BaseException | None"], None]
"""Told of every finished attempt: ``(model_id, ok, latency_ms, error)``."""


def render_prompt(request: ChatRequest) -> str:
    """The request as plain text, for ledgers that store prompts."""
    lines = [f"system: {request.system}"] if request.system else []
    lines += [f"{m.role}: {m.content}" for m in request.messages]
    return "\n".join(lines)


class Attempt:
    """Measures one attempt and reports it to the sink once."""

    __slots__ = (
        "_error",
        "attempt",
        "caller",
        "group",
        "model",
        "observer",
        "request",
        "run_id",
        "sink",
        "start",
        "store_prompts",
        "stream",
        "ttft_ms",
    )

    def __init__(
        self,
        sink: UsageSink | None,
        model: ChatModel,
        request: ChatRequest,
        *,
        caller: str | None,
        group: str | None,
        attempt: int,
        stream: bool = False,
        store_prompts: bool = False,
        observer: Observer | None = None,
        run_id: str | None = None,
    ) -> None:
        self.sink = sink
        self.run_id = run_id
        self.observer = observer
        self._error: BaseException | None = None
        self.model = model
        self.request = request
        self.caller = caller
        self.group = group
        self.attempt = attempt
        self.stream = stream
        self.store_prompts = store_prompts
        self.ttft_ms: float | None = None
        self.start = time.perf_counter()

    def elapsed_ms(self) -> float:
        """Milliseconds since the attempt started."""
        return (time.perf_counter() - self.start) * 1000.0

    def first_token(self) -> None:
        """Note the time to first token (once)."""
        if self.ttft_ms is None:
            self.ttft_ms = self.elapsed_ms()

    def succeeded(self, response: ChatResponse) -> ChatResponse:
        """Fill cost, latency and attempt number into ``response`` and record the attempt."""
        response.latency_ms = self.elapsed_ms()
        response.cost_usd = compute_cost(response.usage, self.model.info.cost)
        response.attempts = self.attempt
        self._emit(
            "ok",
            response.usage,
            response.cost_usd,
            response.latency_ms,
            response.request_id,
            None,
            response.text,
        )
        return response

    def stream_finished(self, final: StreamEvent | None, text: str) -> StreamEvent:
        """The closing event of a stream, with cost and timings; records the attempt."""
        usage = (final.usage if final else None) or Usage()
        cost = compute_cost(usage, self.model.info.cost)
        latency = self.elapsed_ms()
        request_id = final.request_id if final else None
        self._emit("ok", usage, cost, latency, request_id, None, text)
        return StreamEvent(
            done=True,
            model_id=self.model.info.id,
            usage=usage,
            cost_usd=cost,
            finish_reason=final.finish_reason if final else None,
            request_id=request_id,
            latency_ms=latency,
            ttft_ms=self.ttft_ms,
            tool_calls=final.tool_calls if final else (),
            parts=final.parts if final else (),
            # a provider that reshapes a structured answer (unwraps it) says so on its last event
            full_text=text if final is None or final.full_text is None else final.full_text,
            output_mode=final.output_mode if final else None,
        )

    def failed(self, error: BaseException, status: UsageStatus = "error") -> None:
        """Record a failed (or cancelled) attempt with the error's type and request id."""
        request_id = getattr(error, "request_id", None)
        self._error = error
        cost = _ZERO if self.model.info.is_priced else None  # failures are not billed
        self._emit(status, Usage(), cost, self.elapsed_ms(), request_id, type(error).__name__, None)

    def refused(self, error: BaseException) -> None:
        """Record an attempt the limits refused before anything was sent: status ``error``,
        the refusal's type, no tokens, cost 0 (the model's health is not told)."""
        self.observer = None
        self._emit("error", Usage(), _ZERO, 0.0, None, type(error).__name__, None)

    def _emit(
        self,
        status: UsageStatus,
        usage: Usage,
        cost: Decimal | None,
        latency_ms: float,
        request_id: str | None,
        error_type: str | None,
        output: str | None,
    ) -> None:
        if self.observer is not None and status != "cancelled":
            self.observer(self.model.info.id, status == "ok", latency_ms, self._error)
        sink = self.sink
        if sink is None:
            return
        info = self.model.info
        store = self.store_prompts
        # UsageEvent's fields in its declaration order, without the cost of a keyword call
        # (tests/usage/test_usage_events.py checks each field by name).
        event = tuple.__new__(
            UsageEvent,
            (
                info.id,  # model_id
                info.provider,  # provider
                status,  # status
                self.attempt,  # attempt
                self.caller,  # caller
                self.group,  # group
                error_type,  # error_type
                usage.input_tokens,  # input_tokens
                usage.output_tokens,  # output_tokens
                usage.cache_read_tokens,  # cache_read_tokens
                usage.cache_write_tokens,  # cache_write_tokens
                usage.reasoning_tokens,  # reasoning_tokens
                cost,  # cost_usd
                latency_ms,  # latency_ms
                self.ttft_ms,  # ttft_ms
                request_id,  # request_id
                self.stream,  # stream
                render_prompt(self.request) if store else None,  # prompt
                output if store else None,  # output
                datetime.now(UTC),  # timestamp
                self.run_id,  # run_id
                usage.cache_write_1h_tokens,  # cache_write_1h_tokens
                usage.input_audio_tokens,  # input_audio_tokens
                usage.input_image_tokens,  # input_image_tokens
                usage.output_audio_tokens,  # output_audio_tokens
                usage.output_image_tokens,  # output_image_tokens
                usage.tool_uses or None,  # tool_uses
                usage.iterations,  # iterations
            ),
        )
        sink.record(event)


class Recorder:
    """Starts attempts for one service: where their events go, whether prompts are stored, and
    who is told of every outcome (the registry's call statistics)."""

    __slots__ = ("limits", "observer", "sink", "store_prompts")

    def __init__(
        self,
        sink: UsageSink | None,
        *,
        store_prompts: bool = False,
        observer: Observer | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.sink = sink
        self.store_prompts = store_prompts
        self.observer = observer
        #: The budgets and rates attempts reserve against (``None`` or inactive: none).
        self.limits = limits

    def start(
        self,
        model: ChatModel,
        request: ChatRequest,
        caller: str | None,
        group: str | None,
        attempt: int,
        stream: bool = False,
        run_id: str | None = None,
    ) -> Attempt:
        """Start the clock of one attempt."""
        return Attempt(
            self.sink,
            model,
            request,
            caller=caller,
            group=group,
            attempt=attempt,
            stream=stream,
            store_prompts=self.store_prompts,
            observer=self.observer,
            run_id=run_id,
        )
