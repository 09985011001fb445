"""The effects of the service's call machines (``service.calls``): what a call asks its driver
(``modelwire.machines``) to do with a model."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from modelwire.machines import Effect

if TYPE_CHECKING:
    from modelwire.providers.base import ChatModel
    from modelwire.routing.retry import RetryPolicy
    from modelwire.types import ChatRequest

__all__ = ["Invoke", "Prepare", "RunTool", "Wait"]


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


class RunTool(Effect):
    """Run a tool's Python function with its arguments.

    Blocking: a plain function is called; an ``async def`` one runs on a fresh event loop.
    On asyncio: an ``async def`` function is awaited; a plain one runs in a worker thread, so
    a slow tool does not stall the event loop.
    """

    __slots__ = ("arguments", "function")

    def __init__(self, function: Callable[..., Any], arguments: Mapping[str, Any]) -> None:
        self.function = function
        self.arguments = arguments

    def run(self) -> Any:
        result = self.function(**self.arguments)
        return asyncio.run(result) if inspect.iscoroutine(result) else result

    async def arun(self) -> Any:
        if inspect.iscoroutinefunction(self.function):
            return await self.function(**self.arguments)
        result = await asyncio.to_thread(self.function, **self.arguments)
        return await result if inspect.isawaitable(result) else result
