"""Sans-IO machines and the thin drivers that run them with blocking or asyncio I/O.

A machine is a generator that never does I/O itself: it yields an *effect* (an ``Effect``: call
something, read a stream's next item, close it, hand an event to the consumer) and is resumed
with the effect's result, or with the exception the effect raised. Each effect knows how to run
itself both ways (``run`` and ``arun``); the four drivers here are the only places where the
sync and async paths differ, and they are a few lines each. So the logic above them (a
provider's stream parsing, the service's retries and failover) is written once.

A machine resumed with an exception may yield clean-up effects (closing a stream) before it
raises; it never yields another ``Emit`` after that.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Generator, Iterator
from typing import Any, Final, TypeVar

__all__ = [
    "END",
    "Close",
    "Effect",
    "Emit",
    "Machine",
    "Next",
    "arun",
    "arun_stream",
    "run",
    "run_stream",
]

T = TypeVar("T")
E = TypeVar("E")

END: Final = object()
"""What ``Next`` returns when the stream has no more items."""


class Effect:
    """One piece of I/O a machine asks its driver for."""

    __slots__ = ()

    def run(self) -> Any:
        """Do it, blocking."""
        raise NotImplementedError

    async def arun(self) -> Any:
        """Do it on the running event loop."""
        raise NotImplementedError


class Next(Effect):
    """The stream's next item, or ``END``."""

    __slots__ = ("stream",)

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def run(self) -> Any:
        return next(self.stream, END)

    async def arun(self) -> Any:
        return await anext(self.stream, END)


class Close(Effect):
    """Close a stream the machine stops reading (its connection is released now)."""

    __slots__ = ("stream",)

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def run(self) -> None:
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()

    async def arun(self) -> None:
        close = getattr(self.stream, "aclose", None) or getattr(self.stream, "close", None)
        if close is not None:
            result = close()
            if inspect.isawaitable(result):  # an SDK stream's async close() has no aclose alias
                await result


class Emit(Effect):
    """Hand an item to the consumer (stream drivers only).

    With ``then`` (a read: ``Next`` or the like), the driver does it as soon as the consumer asks
    for more and resumes the machine with its result: an event and the read after it in one step.
    """

    __slots__ = ("event", "then")

    def __init__(self, event: Any, then: Effect | None = None) -> None:
        self.event = event
        self.then = then


Machine = Generator[Effect, Any, T]
"""A machine: yields effects, is resumed with their results, returns its answer."""

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


def _resume(machine: Machine[Any], value: Any, error: BaseException | None) -> Effect | None:
    """The machine's next effect after ``value`` (or ``error``), or ``None`` once it returned."""
    try:
        return machine.send(value) if error is None else machine.throw(error)
    except StopIteration:
        return None


def _handed(error: BaseException, effect: Effect | None) -> BaseException:
    """What a stream driver hands back to its machine: the failure of an effect, or the
    consumer leaving (``GeneratorExit`` at an ``Emit``); anything else thrown at an ``Emit``
    goes on to the consumer."""
    if type(effect) is Emit and not isinstance(error, GeneratorExit):
        raise error
    return error


def run_stream(machine: Machine[Any]) -> Iterator[Any]:
    """Run a stream machine with blocking I/O, yielding what it emits.

    Closing the iterator early is told to the machine (as ``GeneratorExit`` thrown at the
    ``Emit`` it waits on), so it can clean up before it ends. ``Emit`` and ``Next`` (the two
    effects of every chunk) are done inline, without a call of their own: this runs per event.
    """
    value, error = None, None
    while (effect := _resume(machine, value, error)) is not None:
        try:
            if type(effect) is Emit:
                value = yield effect.event
                effect = effect.then  # the read that goes with the event, if any
            if effect is not None:
                value = next(effect.stream, END) if type(effect) is Next else effect.run()
            error = None
        except BaseException as exc:
            value, error = None, _handed(exc, effect)


async def arun_stream(machine: Machine[Any]) -> AsyncIterator[Any]:
    """The same as ``run_stream``, on the running event loop."""
    value, error = None, None
    while (effect := _resume(machine, value, error)) is not None:
        try:
            if type(effect) is Emit:
                value = yield effect.event
                effect = effect.then  # the read that goes with the event, if any
            if effect is not None:
                value = await (anext(effect.stream, END) if type(effect) is Next else effect.arun())
            error = None
        except BaseException as exc:
            value, error = None, _handed(exc, effect)
