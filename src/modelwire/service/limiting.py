"""The call path's side of the limits: what an attempt reserves, and the two effects.

**Worst case.** An attempt reserves its input estimate (``routing.estimate.estimate_tokens``) at
the model's input price plus ``max_tokens`` (or, when the request sets none, the model's
``max_output_tokens``, or ``FALLBACK_OUTPUT_TOKENS`` when that is unknown too) at the output
price, and as many tokens against token rates. The input estimate is about four characters per
token: text that needs more tokens per character (code, non-Latin scripts) can cost more than
was reserved, and the difference is added when the attempt settles.

``Reserve`` and ``Settle`` are effects (``modelwire.machines``): the blocking driver runs their
database work directly, the asyncio driver in a worker thread, so the call machines
(``service.calls``) reserve and settle once for both styles. ``Reserve`` waits for a rate limit
when the call asked for it (``wait_for_rate=True``: up to the rate's window; a number: up to that
many seconds).
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from modelwire.catalog.pricing import compute_cost
from modelwire.errors import RateLimitedError
from modelwire.machines import Effect
from modelwire.routing.estimate import estimate_tokens
from modelwire.types import Usage
from modelwire.usage.limits import CallScope

if TYPE_CHECKING:
    from modelwire.providers.base import ChatModel
    from modelwire.types import ChatRequest
    from modelwire.usage.limits import Limits, Reservation

__all__ = ["FALLBACK_OUTPUT_TOKENS", "Reserve", "Settle", "wait_seconds", "worst_case"]

#: The output reserved for a model whose maximum output is unknown and no ``max_tokens`` given.
FALLBACK_OUTPUT_TOKENS = 8192
#: How long ``wait_for_rate=True`` waits at most, in seconds.
DEFAULT_RATE_WAIT_S = 60.0


def wait_seconds(value: Any) -> float:
    """``wait_for_rate``'s value as a bound in seconds (0: do not wait)."""
    if value is None or value is False:
        return 0.0
    if value is True:
        return DEFAULT_RATE_WAIT_S
    if isinstance(value, int | float) and 0 <= value <= 86_400:
        return float(value)
    raise ValueError(f"wait_for_rate={value!r}: use True, False or seconds (0 to 86400)")


def worst_case(model: ChatModel, request: ChatRequest) -> tuple[Decimal | None, int]:
    """The most an attempt can cost (``None``: the model has no price) and its tokens."""
    info = model.info
    input_tokens = estimate_tokens(request)
    output = request.max_tokens or info.max_output_tokens or FALLBACK_OUTPUT_TOKENS
    usage = Usage(input_tokens=input_tokens, output_tokens=output)
    cost = compute_cost(usage, info.cost) if info.is_priced else None
    return cost, input_tokens + output


class Reserve(Effect):
    """Reserve an attempt's worst case against the limits over it; the ``Reservation`` (or
    ``None``: no limit applies). Raises the refusal."""

    __slots__ = ("amount", "limits", "scope", "tokens", "wait_s")

    def __init__(
        self,
        limits: Limits,
        model: ChatModel,
        request: ChatRequest,
        caller: str | None,
        group: str | None,
        wait_s: float = 0.0,
    ) -> None:
        info = model.info
        self.limits = limits
        self.scope = CallScope(caller, info.id, info.provider, group)
        self.amount, self.tokens = worst_case(model, request)
        self.wait_s = wait_s

    def _once(self) -> Reservation | None:
        return self.limits.reserve(self.scope, self.amount, self.tokens)

    def _pause(self, err: RateLimitedError, deadline: float) -> float | None:
        """Seconds to wait before asking again, or ``None`` when waiting cannot help."""
        if self.wait_s <= 0 or err.retry_after is None:
            return None
        left = deadline - time.monotonic()
        if err.retry_after > left:
            return None
        return max(err.retry_after, 0.001)

    def run(self) -> Reservation | None:
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                return self._once()
            except RateLimitedError as err:
                pause = self._pause(err, deadline)
                if pause is None:
                    raise
                time.sleep(pause)

    async def arun(self) -> Reservation | None:
        deadline = time.monotonic() + self.wait_s
        loop = asyncio.get_running_loop()
        while True:
            job = loop.run_in_executor(None, self._once)
            try:
                return await asyncio.shield(job)
            except RateLimitedError as err:
                pause = self._pause(err, deadline)
                if pause is None:
                    raise
                await asyncio.sleep(pause)
            except asyncio.CancelledError:
                job.add_done_callback(self._release_orphan)
                raise

    def _release_orphan(self, job: asyncio.Future[Reservation | None]) -> None:
        """A reservation made for a task cancelled meanwhile is given back at once."""
        if job.cancelled() or job.exception() is not None:
            return
        held = job.result()
        if held is not None:
            loop = job.get_loop()
            loop.run_in_executor(None, self.limits.settle, held, None, 0, "cancelled")


class Settle(Effect):
    """Replace a reservation with the attempt's actual cost and tokens."""

    __slots__ = ("cost", "limits", "reservation", "status", "tokens")

    def __init__(
        self,
        limits: Limits,
        reservation: Reservation,
        cost: Decimal | None,
        usage: Usage | None,
        status: str,
    ) -> None:
        self.limits = limits
        self.reservation = reservation
        self.cost = cost
        self.tokens = usage.input_tokens + usage.output_tokens if usage is not None else 0
        self.status = status

    def _settle(self) -> None:
        self.limits.settle(self.reservation, self.cost, self.tokens, self.status)

    def run(self) -> None:
        self._settle()

    async def arun(self) -> None:
        # Shielded: once started, the settlement completes even if the task is cancelled.
        await asyncio.shield(asyncio.get_running_loop().run_in_executor(None, self._settle))
