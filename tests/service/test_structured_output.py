"""output=: answers validated against the requested type, asked again on request, never None."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import pytest
from pydantic import BaseModel, Field

from modelwire.config.schema import Config
from modelwire.errors import OutputValidationError
from modelwire.output import OutputSpec
from modelwire.providers.base import ChatModel, ProviderContext
from modelwire.providers.factory import ModelFactory
from modelwire.registry import ModelRegistry
from modelwire.service import ModelService
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, StreamEvent
from modelwire.usage.events import InMemoryUsageSink


class Answers(ChatModel):
    """Answers with the next text of ``QUEUE``; records the requests it got."""

    QUEUE: ClassVar[list[str]] = []
    SEEN: ClassVar[list[ChatRequest]] = []

    def send(self, request: ChatRequest) -> ChatResponse:
        Answers.SEEN.append(request)
        return ChatResponse(text=Answers.QUEUE.pop(0), model_id=self.info.id, output_mode="native")

    async def asend(self, request: ChatRequest) -> ChatResponse:
        return self.send(request)

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        text = self.send(request).text
        yield StreamEvent(text=text[:3])
        yield StreamEvent(text=text[3:])
        yield StreamEvent(done=True, model_id=self.info.id, finish_reason="stop")

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        return []


class City(BaseModel):
    name: str
    population: int = Field(ge=0)


@dataclass
class Point:
    x: int
    y: int


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


@pytest.mark.parametrize(
    ("output", "text", "expected"),
    [
        (
            City,
            '{"name": "Tokyo", "population": 14000000}',
            City(name="Tokyo", population=14000000),
        ),
        (list[City], '[{"name": "A", "population": 1}]', [City(name="A", population=1)]),
        (Point, '{"x": 1, "y": 2}', Point(1, 2)),
        (Literal["yes", "no"], '"yes"', "yes"),
        (int | str, "7", 7),
        ({"type": "object", "properties": {"a": {"type": "integer"}}}, '{"a": 1}', {"a": 1}),
        (City, '```json\n{"name": "B", "population": 2}\n```', City(name="B", population=2)),
    ],
)
def test_answers_validate_to_the_requested_type(
    service: ModelService, output: Any, text: str, expected: Any
) -> None:
    Answers.QUEUE.append(text)
    resp = service.invoke_model("a:m", "Largest city?", output=output)
    assert resp.output == expected and resp.text == text
    assert isinstance(Answers.SEEN[0].output, OutputSpec)


def test_an_invalid_answer_raises_with_the_raw_text_and_errors(service: ModelService) -> None:
    Answers.QUEUE.append('{"name": "X", "population": -5}')
    with pytest.raises(OutputValidationError) as info:
        service.invoke_model("a:m", "city", output=City)
    assert info.value.raw_text == '{"name": "X", "population": -5}'
    assert info.value.errors[0]["loc"] == ("population",)
    assert "population" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("style", ["sync", "async"])
def test_output_retries_ask_again_with_the_errors(service: ModelService, style: str) -> None:
    Answers.QUEUE += ["not json", '{"name": "Y"}', '{"name": "Y", "population": 3}']
    if style == "sync":
        resp = service.invoke_model("a:m", "city", output=City, output_retries=2)
    else:
        resp = asyncio.run(service.ainvoke_model("a:m", "city", output=City, output_retries=2))
    assert resp.output == City(name="Y", population=3)
    assert len(Answers.SEEN) == 3
    last = Answers.SEEN[-1].messages
    assert [m.role for m in last] == ["user", "assistant", "user", "assistant", "user"]
    assert "population" in last[-1].text and "not valid" in last[-1].text
    sink = service.ledger
    assert isinstance(sink, InMemoryUsageSink) and len(sink.events) == 3
    (run_id,) = {e.run_id for e in sink.events}  # the retries are one run
    assert run_id is not None


def test_streams_carry_the_validated_output_on_the_last_event(service: ModelService) -> None:
    Answers.QUEUE.append('{"name": "Z", "population": 9}')
    events = list(service.stream_model("a:m", "city", output=City))
    assert events[-1].done and events[-1].output == City(name="Z", population=9)
    Answers.QUEUE.append('{"name": "Z"}')
    with pytest.raises(OutputValidationError):
        list(service.stream_model("a:m", "city", output=City))
    with pytest.raises(ValueError, match="output_retries"):
        service.stream_model("a:m", "city", output=City, output_retries=1)


def test_bad_output_arguments(service: ModelService) -> None:
    with pytest.raises(ValueError, match="output_retries: there is no output="):
        service.invoke_model("a:m", "x", output_retries=1)
    with pytest.raises(TypeError, match=r"output: .* is not a type pydantic"):
        service.invoke_model("a:m", "x", output=object())
