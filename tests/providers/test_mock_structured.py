"""The mock provider's structured answers: valid against the requested type, the same for the
same request, in every call style, with tools too."""

from __future__ import annotations

import asyncio
import datetime
import enum
import json
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

import modelwire as mw
from modelwire.errors import InvalidRequestError
from modelwire.output import OutputSpec
from modelwire.types import ChatRequest
from tests.support.helpers import mock_registry


class Mood(enum.Enum):
    CALM = "calm"
    BUSY = "busy"


class Room(BaseModel):
    code: Annotated[str, Field(pattern=r"^[A-D]-\d{3}$")]
    seats: int = Field(ge=2, le=40, multiple_of=2)
    label: str = Field(min_length=3, max_length=12)


class Branch(BaseModel):
    name: str
    sub: list[Branch] = []


class Office(BaseModel):
    """Nested, optional, enum, literal, union, list, recursive and constrained fields."""

    rooms: list[Room] = Field(min_length=1, max_length=3)
    mood: Mood
    kind: Literal["hq", "branch"]
    opened: datetime.date
    contact: str | int | None = None
    tree: Branch
    share: float = Field(gt=0, lt=1)


CASES: list[Any] = [Office, list[Room], Mood, int, dict[str, Room], Branch]


@pytest.mark.parametrize("output", CASES)
def test_answers_validate_and_repeat(output: Any) -> None:
    model = mock_registry("mock:m").get_model("mock:m")
    spec = OutputSpec.of(output)
    request = ChatRequest.build("make one", output=spec)
    first = model.invoke(request)
    assert first.output_mode == "native"
    spec.validate_json(first.text)
    assert model.invoke(request).text == first.text
    assert model.invoke(ChatRequest.build("make another", output=spec)).text != first.text or (
        output is Mood
    )


def test_a_raw_json_schema_gets_an_answer_of_its_shape() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 5}, "s": {"enum": ["x", "y"]}},
        "required": ["n", "s"],
        "additionalProperties": False,
    }
    model = mock_registry("mock:m").get_model("mock:m")
    value = json.loads(model.invoke(ChatRequest.build("go", output=OutputSpec.of(schema))).text)
    assert value["n"] >= 5 and value["s"] in ("x", "y") and set(value) == {"n", "s"}


def test_through_the_service_every_call_style() -> None:
    registry = mock_registry("mock:gpt-4o-mini")
    svc = mw.ModelService(registry)
    resp = svc.invoke_model("mock:gpt-4o-mini", "an office", output=Office)
    assert isinstance(resp.output, Office) and resp.output_mode == "native"
    last = list(svc.stream_model("mock:gpt-4o-mini", "an office", output=Office))[-1]
    assert last.output == resp.output and last.output_mode == "native"

    async def run() -> tuple[mw.ChatResponse, mw.StreamEvent]:
        answer = await svc.ainvoke_model("mock:gpt-4o-mini", "an office", output=Office)
        events = [
            e async for e in svc.astream_model("mock:gpt-4o-mini", "an office", output=Office)
        ]
        return answer, events[-1]

    answer, final = asyncio.run(run())
    assert answer.output == resp.output == final.output


def test_with_tools_it_calls_them_first_then_answers_with_the_output() -> None:
    def room_count(building: str) -> int:
        """How many rooms a building has."""
        return 12

    svc = mw.ModelService(mock_registry("mock:gpt-4o-mini"))
    run = svc.run_tools("mock:gpt-4o-mini", "an office", tools=[room_count], output=Office)
    assert isinstance(run.response.output, Office)
    assert run.rounds >= 2


def test_a_schema_with_no_value_is_an_invalid_request() -> None:
    model = mock_registry("mock:m").get_model("mock:m")
    spec = OutputSpec.of({"type": "object", "properties": {"a": False}, "required": ["a"]})
    with pytest.raises(InvalidRequestError, match="cannot make a value"):
        model.invoke(ChatRequest.build("go", output=spec))
