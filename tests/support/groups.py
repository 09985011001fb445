"""Run calls through a ``ModelGroup`` with the service's own call machines, against scripted
members instead of providers: ``call(member, attempt)`` answers (or raises) for each attempt."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from modelwire.config.schema import ProviderConfig
from modelwire.machines import arun, arun_stream, run, run_stream
from modelwire.providers.base import ChatModel, ProviderContext
from modelwire.routing.group import ModelGroup
from modelwire.routing.strategies import RouteHints
from modelwire.service.attempt import Attempt, Recorder
from modelwire.service.calls import group_run
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, StreamEvent

Call = Callable[[ModelInfo, int], Any]
_CONTEXT = ProviderContext("scripted", ProviderConfig(type="mock"))


class _Numbering(Recorder):
    """A recorder without a sink that remembers the number of the attempt it started last."""

    def __init__(self) -> None:
        super().__init__(None)
        self.attempt = 0

    def start(
        self,
        model: Any,
        request: Any,
        caller: Any,
        group: Any,
        attempt: int,
        stream: bool = False,
        run_id: str | None = None,
    ) -> Attempt:
        self.attempt = attempt
        return super().start(model, request, caller, group, attempt, stream, run_id)


class _Scripted(ChatModel):
    def __init__(self, info: ModelInfo, numbering: _Numbering, call: Call) -> None:
        super().__init__(info, _CONTEXT)
        self._numbering = numbering
        self._call = call

    def _answer(self) -> Any:
        return self._call(self.info, self._numbering.attempt)

    def invoke(self, request: ChatRequest) -> ChatResponse:
        return self._answer()  # type: ignore[no-any-return]

    async def ainvoke(self, request: ChatRequest) -> ChatResponse:
        return await self._answer()  # type: ignore[no-any-return]

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        yield from self._answer()

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        async for event in self._answer():
            yield event

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        return []


def _machine(
    group: ModelGroup,
    request: ChatRequest,
    call: Call,
    info_of: Callable[[str], ModelInfo],
    hints: RouteHints | None,
    stream: bool,
) -> Any:
    numbering = _Numbering()
    run_ = group.start(request, info_of, hints)
    return group_run(
        numbering,
        run_,
        lambda info: (_Scripted(info, numbering, call), request),
        caller=None,
        stream=stream,
    )


def invoke(
    group: ModelGroup,
    request: ChatRequest,
    call: Callable[[ModelInfo, int], ChatResponse],
    info_of: Callable[[str], ModelInfo],
    hints: RouteHints | None = None,
) -> ChatResponse:
    """One call through ``group``, blocking."""
    return run(_machine(group, request, call, info_of, hints, False))  # type: ignore[no-any-return]


async def ainvoke(
    group: ModelGroup,
    request: ChatRequest,
    call: Callable[[ModelInfo, int], Awaitable[ChatResponse]],
    info_of: Callable[[str], ModelInfo],
    hints: RouteHints | None = None,
) -> ChatResponse:
    """One call through ``group``, on the running event loop."""
    return await arun(_machine(group, request, call, info_of, hints, False))  # type: ignore[no-any-return]


def stream(
    group: ModelGroup,
    request: ChatRequest,
    open_stream: Callable[[ModelInfo, int], Iterator[StreamEvent]],
    info_of: Callable[[str], ModelInfo],
    hints: RouteHints | None = None,
) -> Iterator[StreamEvent]:
    """One streamed call through ``group``."""
    return run_stream(_machine(group, request, open_stream, info_of, hints, True))


def astream(
    group: ModelGroup,
    request: ChatRequest,
    open_stream: Callable[[ModelInfo, int], AsyncIterator[StreamEvent]],
    info_of: Callable[[str], ModelInfo],
    hints: RouteHints | None = None,
) -> AsyncIterator[StreamEvent]:
    """One streamed call through ``group``, on the running event loop."""
    return arun_stream(_machine(group, request, open_stream, info_of, hints, True))
