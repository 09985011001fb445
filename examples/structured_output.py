"""Structured output: ask for a type, get a validated instance (``resp.output``), on any model.

``output=`` takes a pydantic model, any type pydantic validates (``list[City]``, dataclasses,
``Literal``, unions) or a JSON-schema dict. Every answer is validated against it; an invalid one
raises ``OutputValidationError`` with the raw text, or is asked for again (``output_retries``).

Runs without keys: a stand-in model (a ``ChatModel`` of a dozen lines, registered as the provider
type ``atlas``) answers from a small table, the way a real model would answer in JSON, and its
first answer to one question is wrong on purpose to show a retry. Point ``MODEL`` at a real model
(and set its key) to ask the same questions of it: modelwire then uses that vendor's native mode.

python examples/structured_output.py
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from modelwire import (
    ChatModel,
    ChatRequest,
    ChatResponse,
    ModelFactory,
    ModelInfo,
    ModelRegistry,
    ModelService,
    OutputValidationError,
    ProviderContext,
    StreamEvent,
    Usage,
    load_config,
)

MODEL = "atlas:v1"


class City(BaseModel):
    """A city and how many people live there."""

    name: str
    country: str
    population: int = Field(ge=0, description="Inhabitants, city proper.")


class Atlas(ChatModel):
    """A stand-in model: answers in JSON from a table, by a word of the question."""

    TABLE: ClassVar[dict[str, list[str]]] = {
        "coastal": ['"yes"'],
        "largest": ['{"name": "Tokyo", "country": "Japan", "population": 13960000}'],
        "capitals": [
            '[{"name": "Oslo", "country": "Norway", "population": 709000},'
            ' {"name": "Bern", "country": "Switzerland", "population": 134000}]'
        ],
        "Lisbon": [
            '{"name": "Lisbon", "country": "Portugal", "population": -1}',  # wrong at first
            '{"name": "Lisbon", "country": "Portugal", "population": 545000}',
        ],
        "Reykjavik": ['{"name": "Reykjavik", "population": 139000}'],
    }

    def send(self, request: ChatRequest) -> ChatResponse:
        question = request.messages[0].text
        key = next(k for k in self.TABLE if k in question)
        answers = self.TABLE[key]
        retry = sum(m.role == "assistant" for m in request.messages)
        text = answers[min(retry, len(answers) - 1)]
        return ChatResponse(
            text=text,
            model_id=self.info.id,
            usage=Usage(input_tokens=40, output_tokens=len(text) // 4),
            finish_reason="stop",
            output_mode="prompted",
        )

    async def asend(self, request: ChatRequest) -> ChatResponse:
        return self.send(request)

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        text = self.send(request).text
        for start in range(0, len(text), 16):
            yield StreamEvent(text=text[start : start + 16])
        yield StreamEvent(done=True, model_id=self.info.id, finish_reason="stop")

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        for event in self.stream(request):
            yield event

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        return []


def make_service() -> ModelService:
    ModelFactory.register_provider("atlas", Atlas)
    config = load_config(
        overrides={
            "providers": {"atlas": {"type": "atlas"}},
            "models": {MODEL: {}},
            "usage": {"enabled": False},
            "discovery": {"enabled": False},
        }
    )
    return ModelService(ModelRegistry.from_config(config), caller="examples")


def main() -> None:
    service = make_service()

    # 1. a pydantic model: resp.output is the instance, resp.text the raw JSON
    resp = service.invoke_model(MODEL, "The largest city in the world?", output=City)
    city = resp.output
    print(f"1. {city.name}, {city.country}: {city.population:,} ({resp.output_mode} mode)")

    # 2. any type pydantic validates: a list of models, a Literal
    capitals = service.invoke_model(MODEL, "Two capitals in the Alps?", output=list[City]).output
    print("2.", [c.name for c in capitals])
    coastal = service.invoke_model(MODEL, "Is Lisbon coastal?", output=Literal["yes", "no"])
    print("   coastal:", coastal.output)

    # 3. an invalid answer is asked for again, with what was wrong (each try is a ledger attempt)
    resp = service.invoke_model(MODEL, "Tell me about Lisbon.", output=City, output_retries=1)
    print(f"3. after a retry: {resp.output.population:,} people")

    # 4. ... or raises, with the raw text and pydantic's errors: never a None in its place
    try:
        service.invoke_model(MODEL, "Tell me about Reykjavik.", output=City)
    except OutputValidationError as exc:
        print(f"4. invalid: {exc.errors[0]['loc']} {exc.errors[0]['msg']!r}; raw: {exc.raw_text}")

    # 5. a JSON-schema dict validates to plain JSON values
    schema: dict[str, Any] = {
        "title": "Place",
        "type": "object",
        "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["name"],
    }
    print("5.", service.invoke_model(MODEL, "Reykjavik?", output=schema).output)

    # 6. a bound model keeps the type; a stream's last event carries the validated output
    atlas = service.bind(MODEL).output(City, retries=1)
    print("6.", atlas("Lisbon, please.").output.name, end="")
    last = list(atlas.stream("The largest city?"))[-1]
    print(" / streamed:", last.output.name)

    # 7. the same on asyncio
    resp = asyncio.run(atlas.ainvoke("The largest city?"))
    print("7.", resp.output)
    service.close()
    ModelFactory.unregister_provider("atlas")


if __name__ == "__main__":
    main()
