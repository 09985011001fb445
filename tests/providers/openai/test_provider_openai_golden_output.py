"""Golden tests of OpenAI structured output: the rewritten strict schema, what it removed, and
the request bodies the fake server received (it refuses what OpenAI's strict mode refuses) for
representative output types: nested, optional, enum, union, list, recursive, constrained.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field
from syrupy.assertion import SnapshotAssertion

from modelwire.output import OutputSpec
from modelwire.providers.openai.schema import strict_schema
from modelwire.types import ChatRequest
from tools.fake_provider import FakeProviderServer
from tools.fake_provider.openai_strict import strict_problem

MakeModel = Callable[..., Any]


class Address(BaseModel):
    street: str
    city: str


class Person(BaseModel):
    """A person and where they live."""

    name: str
    address: Address


class Profile(BaseModel):
    name: str
    nickname: str | None = None
    age: int = 30
    emails: list[str] = []


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Paint(BaseModel):
    colour: Colour
    finish: Literal["matte", "gloss"] = "matte"


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Pet(BaseModel):
    pet: Cat | Dog
    tag: int | str


class TreeNode(BaseModel):
    label: str
    children: list[TreeNode] = []


class Constrained(BaseModel):
    code: str = Field(min_length=3, max_length=8, pattern=r"^[A-Z]+$")
    score: float = Field(ge=0, le=1)
    count: int = Field(gt=0, multiple_of=2)
    tags: list[str] = Field(min_length=1, max_length=4)
    site: str = Field(json_schema_extra={"format": "uri"})
    when: str = Field(json_schema_extra={"format": "date-time"})


TYPES: dict[str, Any] = {
    "nested": Person,
    "optional": Profile,
    "enum": Paint,
    "union": Pet,
    "list": list[Address],
    "recursive": TreeNode,
    "constrained": Constrained,
}


@pytest.mark.parametrize("case", sorted(TYPES))
def test_rewritten_schema(case: str, snapshot: SnapshotAssertion) -> None:
    spec = OutputSpec.of(TYPES[case])
    rewritten = strict_schema(spec)
    assert strict_problem(rewritten.schema, f"response_format '{spec.name}'") is None
    assert {
        "schema": rewritten.schema,
        "removed": list(rewritten.removed),
        "wrapped": rewritten.wrapped,
    } == snapshot


@pytest.mark.parametrize("mode", ["native", "tool", "prompted"])
@pytest.mark.parametrize("case", ["nested", "list", "constrained"])
def test_request_body(
    case: str,
    mode: str,
    openai_model: MakeModel,
    fake_server: FakeProviderServer,
    snapshot: SnapshotAssertion,
) -> None:
    model = openai_model("gpt-4o-mini")
    request = ChatRequest.build(
        "describe it", system="Be brief.", output=OutputSpec.of(TYPES[case]), output_mode=mode
    )
    response = model.invoke(request)
    assert response.output_mode == mode
    (received,) = fake_server.requests
    assert received.body == snapshot
