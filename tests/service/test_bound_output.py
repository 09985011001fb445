"""Bound models: ``.output()`` and ``.tools()`` reach every call style of the service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import ClassVar

import pytest
from pydantic import BaseModel

from modelwire.config.schema import Config
from modelwire.errors import OutputValidationError, ToolDefinitionError
from modelwire.output import OutputSpec
from modelwire.providers.base import ChatModel, ProviderContext
from modelwire.providers.factory import ModelFactory
from modelwire.registry import ModelRegistry
from modelwire.service import ModelService
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, StreamEvent
from modelwire.usage.events import InMemoryUsageSink


class Answers(ChatModel):
    """Answers with the next text of ``QUEUE`` (or a valid city); records its requests."""

    QUEUE: ClassVar[list[str]] = []
    SEEN: ClassVar[list[ChatRequest]] = []

    def send(self, request: ChatRequest) -> ChatResponse:
        Answers.SEEN.append(request)
        text = Answers.QUEUE.pop(0) if Answers.QUEUE else '{"name": "Oslo", "population": 7}'
        return ChatResponse(text=text, model_id=self.info.id, output_mode="native")

    async def asend(self, request: ChatRequest) -> ChatResponse:
        return self.send(request)

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        text = self.send(request).text
        yield StreamEvent(text=text[:4])
        yield StreamEvent(text=text[4:])
        yield StreamEvent(done=True, model_id=self.info.id, finish_reason="stop")

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        for event in self.stream(request):
            yield event

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        return []


class City(BaseModel):
    name: str
    population: int


def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@pytest.fixture
def service() -> Iterator[ModelService]:
    ModelFactory.register_provider("answers", Answers)
    config = Config.model_validate({"providers": {"a": {"type": "answers"}}, "models": {"a:m": {}}})
    try:
        yield ModelService(ModelRegistry.from_config(config, catalog=False), InMemoryUsageSink())
    finally:
        ModelFactory.unregister_provider("answers")
        Answers.QUEUE.clear()
        Answers.SEEN.clear()


CITY = City(name="Oslo", population=7)


def test_output_is_bound_without_changing_the_original(service: ModelService) -> None:
    base = service.bind("a:m").system("Be exact.")
    typed = base.output(City, mode="prompted", retries=2)
    assert "output" not in base.params
    assert typed.params["output"] is OutputSpec.of(City)  # the spec is cached per type
    assert typed.params["output_mode"] == "prompted" and typed.params["output_retries"] == 2
    assert "output=" in repr(typed)


@pytest.mark.parametrize("style", ["invoke", "call", "ainvoke", "stream", "astream", "batch"])
def test_every_call_style_passes_output_mode_and_tools(service: ModelService, style: str) -> None:
    bound = service.bind("a:m").output(City, mode="tool").tools(weather, choice="none")
    if style == "invoke":
        output = bound.invoke("a city").output
    elif style == "call":
        output = bound("a city").output
    elif style == "ainvoke":
        output = asyncio.run(bound.ainvoke("a city")).output
    elif style == "stream":
        output = list(bound.stream("a city"))[-1].output
    elif style == "astream":

        async def last() -> StreamEvent:
            return [e async for e in bound.astream("a city")][-1]

        output = asyncio.run(last()).output
    else:
        (result,) = bound.batch(["a city"])
        output = result.response.output if result.response is not None else None
    assert output == CITY
    (request,) = Answers.SEEN
    assert request.output is OutputSpec.of(City) and request.output_mode == "tool"
    assert [t.name for t in request.tools] == ["weather"] and request.tool_choice == "none"


def test_bound_retries_ask_again_and_streams_leave_them_out(service: ModelService) -> None:
    bound = service.bind("a:m").output(City, retries=1)
    Answers.QUEUE.append('{"name": "Oslo"}')
    assert bound("a city").output == CITY
    assert len(Answers.SEEN) == 2
    Answers.QUEUE.append('{"name": "Oslo"}')  # a stream cannot ask again: the error surfaces
    with pytest.raises(OutputValidationError, match="population"):
        list(bound.stream("a city"))
    with pytest.raises(ValueError, match="output_retries"):  # asked for on the call itself
        bound.stream("a city", output_retries=1)


def test_a_call_overrides_what_is_bound(service: ModelService) -> None:
    bound = service.bind("a:m").output(City)
    Answers.QUEUE.append('["x"]')
    assert bound("names", output=list[str]).output == ["x"]


def test_bad_bindings_fail_when_bound(service: ModelService) -> None:
    with pytest.raises(TypeError, match="is not a type pydantic"):
        service.bind("a:m").output(object())
    with pytest.raises(ToolDefinitionError, match="weather"):
        service.bind("a:m").tools(weather, weather)
