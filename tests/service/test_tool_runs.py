"""run_tools / arun_tools: the tool loop, written once, driven blocking and on asyncio."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from modelwire.config.schema import Config
from modelwire.content import ToolCall, ToolResultPart
from modelwire.errors import ToolRoundsExceededError
from modelwire.providers.base import ChatModel, ProviderContext
from modelwire.providers.factory import ModelFactory
from modelwire.registry import ModelRegistry
from modelwire.service import ModelService
from modelwire.types import ChatRequest, ChatResponse, ModelInfo
from modelwire.usage.events import InMemoryUsageSink


class Scripted(ChatModel):
    """Asks for the tool calls of ``PLAN`` (one list per round), then answers with the results."""

    PLAN: ClassVar[list[list[tuple[str, dict[str, Any]]]]] = []

    def send(self, request: ChatRequest) -> ChatResponse:
        rounds = sum(1 for m in request.messages if m.role == "assistant")
        if rounds < len(self.PLAN):
            calls = tuple(
                ToolCall(id=f"call_{rounds}_{i}", name=name, arguments=args)
                for i, (name, args) in enumerate(self.PLAN[rounds])
            )
            return ChatResponse(
                text="", model_id=self.info.id, tool_calls=calls, finish_reason="tool_calls"
            )
        results = [
            p
            for m in request.messages
            if m.role == "tool"
            for p in m.parts
            if isinstance(p, ToolResultPart)
        ]
        text = "; ".join(f"{r.name}={r.text}{'!' if r.is_error else ''}" for r in results)
        return ChatResponse(text=text, model_id=self.info.id, finish_reason="stop")

    async def asend(self, request: ChatRequest) -> ChatResponse:
        return self.send(request)

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        return []


@pytest.fixture
def service() -> Iterator[ModelService]:
    ModelFactory.register_provider("scripted", Scripted)
    config = Config.model_validate(
        {"providers": {"s": {"type": "scripted"}}, "models": {"s:m": {}}}
    )
    svc = ModelService(ModelRegistry.from_config(config, catalog=False), InMemoryUsageSink())
    try:
        yield svc
    finally:
        ModelFactory.unregister_provider("scripted")
        Scripted.PLAN = []


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"18 C in {city}"


async def get_time(city: str) -> str:
    """Current time in a city."""
    await asyncio.sleep(0)
    return f"noon in {city}"


class Point(BaseModel):
    x: int
    y: int


def distance(a: Point, b: Point) -> float:
    """Distance between two points."""
    return abs(a.x - b.x) + abs(a.y - b.y)


def broken(city: str) -> str:
    """Always fails."""
    raise RuntimeError(f"no data for {city}")


@pytest.mark.parametrize("style", ["sync", "async"])
def test_the_loop_runs_plain_and_async_tools_and_returns_the_history(
    service: ModelService, style: str
) -> None:
    Scripted.PLAN = [
        [("get_weather", {"city": "Paris"}), ("get_time", {"city": "Paris"})],
        [("distance", {"a": {"x": 0, "y": 0}, "b": {"x": 3, "y": 4}})],
    ]
    tools = [get_weather, get_time, distance]
    if style == "sync":
        run = service.run_tools("s:m", "Weather?", tools=tools)
    else:
        run = asyncio.run(service.arun_tools("s:m", "Weather?", tools=tools))
    assert run.response.text == "get_weather=18 C in Paris; get_time=noon in Paris; distance=7"
    assert [m.role for m in run.messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    assert run.rounds == 3 and len(run.run_id) == 32
    first_results = run.messages[2].parts
    assert [r.call_id for r in first_results] == ["call_0_0", "call_0_1"]  # type: ignore[union-attr]
    sink = service.ledger
    assert isinstance(sink, InMemoryUsageSink) and len(sink.events) == 3  # one attempt per round
    assert {e.run_id for e in sink.events} == {run.run_id}  # every round of the run carries it


def test_a_failing_tool_becomes_an_error_result_or_is_raised(service: ModelService) -> None:
    Scripted.PLAN = [[("broken", {"city": "Oslo"}), ("nosuch", {}), ("get_weather", {})]]
    run = service.run_tools("s:m", "go", tools=[broken, get_weather])
    results = run.messages[2].parts
    assert [r.is_error for r in results] == [True, True, True]  # type: ignore[union-attr]
    assert "RuntimeError: no data for Oslo" in results[0].text  # type: ignore[union-attr]
    assert "no such tool: 'nosuch'" in results[1].text  # type: ignore[union-attr]
    assert "invalid arguments: city: Field required" in results[2].text  # type: ignore[union-attr]
    Scripted.PLAN = [[("broken", {"city": "Oslo"})]]
    with pytest.raises(RuntimeError, match="no data for Oslo"):
        service.run_tools("s:m", "go", tools=[broken], tool_errors="raise")


def test_max_rounds_raises_with_the_history(service: ModelService) -> None:
    Scripted.PLAN = [[("get_weather", {"city": "A"})]] * 5
    with pytest.raises(ToolRoundsExceededError) as info:
        service.run_tools("s:m", "go", tools=[get_weather], max_rounds=2)
    assert info.value.run.rounds == 2
    assert [m.role for m in info.value.run.messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
    ]
    with pytest.raises(ValueError, match="max_rounds"):
        service.run_tools("s:m", "go", tools=[get_weather], max_rounds=0)
