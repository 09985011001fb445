"""Thin drivers that run a call machine with blocking or asyncio I/O.

A call machine (``service.calls``) is a generator that never does I/O itself: it yields an
*effect* (call the model, open a stream, read its next event, wait, hand an event to the
consumer) and is resumed with the effect's result, or with the exception the effect raised.
Each effect knows how to run itself both ways (``run`` and ``arun``); the four drivers here are
the only places where the sync and async call paths differ, and they are a few lines each. So
retries, failover, bookkeeping and cancellation are written once, in the machines.

A machine resumed with an exception may yield clean-up effects (closing a stream) before it
raises; it never yields another ``Emit`` after that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from typing import TYPE_CHECKING, Any, Final, TypeVar

if TYPE_CHECKING:
    from modelwire.providers.base import ChatModel
    from modelwire.routing.retry import RetryPolicy
    from modelwire.types import ChatRequest, StreamEvent

__all__ = [
    "END",
    "CloseStream",
    "Effect",
    "Emit",
    "Invoke",
    "Machine",
    "NextEvent",
    "OpenStream",
    "Prepare",
    "Wait",
    "arun",
    "arun_stream",
    "run",
    "run_stream",
]

T = TypeVar("T")

END: Final = object()
"""What ``NextEvent`` returns when the stream has no more events."""


class Effect:
    """One piece of I/O a machine asks its driver for."""

    __slots__ = ()

    def run(self) -> Any:
        """Do it, blocking."""
        raise NotImplementedError

    async def arun(self) -> Any:
        """Do it on the running event loop."""
        raise NotImplementedError


class Prepare(Effect):
    """Make the model ready to send (its client built) before the attempt's clock starts."""

    __slots__ = ("model",)

    def __init__(self, model: ChatModel) -> None:
        self.model = model

    def run(self) -> None:
        self.model.prepare()

    async def arun(self) -> None:
        self.model.aprepare()


class Invoke(Effect):
    """Send one request and wait for the whole answer."""

    __slots__ = ("model", "request")

    def __init__(self, model: ChatModel, request: ChatRequest) -> None:
        self.model = model
        self.request = request

    def run(self) -> Any:
        return self.model.invoke(self.request)

    async def arun(self) -> Any:
        return await self.model.ainvoke(self.request)


class OpenStream(Effect):
    """Start streaming a request; the result is the provider's event iterator."""

    __slots__ = ("model", "request")

    def __init__(self, model: ChatModel, request: ChatRequest) -> None:
        self.model = model
        self.request = request

    def run(self) -> Any:
        return iter(self.model.stream(self.request))

    async def arun(self) -> Any:
        return aiter(self.model.astream(self.request))


class NextEvent(Effect):
    """The stream's next event, or ``END``."""

    __slots__ = ("stream",)

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def run(self) -> Any:
        return next(self.stream, END)

    async def arun(self) -> Any:
        return await anext(self.stream, END)


class CloseStream(Effect):
    """Close a provider stream the machine stops reading (its connection is released now)."""

    __slots__ = ("stream",)

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def run(self) -> None:
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()

    async def arun(self) -> None:
        close = getattr(self.stream, "aclose", None)
        if close is not None:
            await close()


class Wait(Effect):
    """Back off before the next attempt, with the retry policy's (injectable) sleepers."""

    __slots__ = ("policy", "seconds")

    def __init__(self, policy: RetryPolicy, seconds: float) -> None:
        self.policy = policy
        self.seconds = seconds

    def run(self) -> None:
        self.policy.sleep(self.seconds)

    async def arun(self) -> None:
        await self.policy.asleep(self.seconds)


class Emit(Effect):
    """Hand a stream event to the consumer (stream drivers only)."""

    __slots__ = ("event",)

    def __init__(self, event: StreamEvent) -> None:
        self.event = event


Machine = Generator[Effect, Any, T]
"""A call machine: yields effects, is resumed with their results, returns its answer."""

Outcome = tuple[Any, BaseException | None]
_STARTED: Final[Outcome] = (None, None)


class _Stepper:
    """Resumes a machine with the outcome of its last effect; keeps what it returns."""

    __slots__ = ("machine", "result")

    def __init__(self, machine: Machine[Any]) -> None:
        self.machine = machine
        self.result: Any = None

    def advance(self, outcome: Outcome) -> Effect | None:
        """The machine's next effect, or ``None`` once it has returned."""
        value, error = outcome
        try:
            return self.machine.throw(error) if error is not None else self.machine.send(value)
        except StopIteration as stop:
            self.result = stop.value
            return None


def _perform(effect: Effect) -> Outcome:
    try:
        return effect.run(), None
    except BaseException as exc:  # handed to the machine, which records and re-raises it
        return None, exc


async def _aperform(effect: Effect) -> Outcome:
    try:
        return await effect.arun(), None
    except BaseException as exc:  # handed to the machine, which records and re-raises it
        return None, exc


def run(machine: Machine[T]) -> T:
    """Run a call machine with blocking I/O; its answer."""
    stepper, outcome = _Stepper(machine), _STARTED
    while (effect := stepper.advance(outcome)) is not None:
        outcome = _perform(effect)
    return stepper.result  # type: ignore[no-any-return]


async def arun(machine: Machine[T]) -> T:
    """Run a call machine on the running event loop; its answer."""
    stepper, outcome = _Stepper(machine), _STARTED
    while (effect := stepper.advance(outcome)) is not None:
        outcome = await _aperform(effect)
    return stepper.result  # type: ignore[no-any-return]


def run_stream(machine: Machine[None]) -> Iterator[StreamEvent]:
    """Run a stream machine with blocking I/O, yielding what it emits.

    Closing the iterator early is told to the machine (as ``GeneratorExit``), which records the
    attempt as cancelled and closes the provider's stream.
    """
    stepper, outcome = _Stepper(machine), _STARTED
    while (effect := stepper.advance(outcome)) is not None:
        try:
            outcome = ((yield effect.event), None) if isinstance(effect, Emit) else _perform(effect)
        except GeneratorExit as exc:
            outcome = (None, exc)


async def arun_stream(machine: Machine[None]) -> AsyncIterator[StreamEvent]:
    """The same as ``run_stream``, on the running event loop."""
    stepper, outcome = _Stepper(machine), _STARTED
    while (effect := stepper.advance(outcome)) is not None:
        try:
            outcome = (
                ((yield effect.event), None)
                if isinstance(effect, Emit)
                else await _aperform(effect)
            )
        except GeneratorExit as exc:
            outcome = (None, exc)
