"""Representative output types for the structured-output tests of every vendor: nested,
optional, enum, union, list, recursive and constrained."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field


class Address(BaseModel):
    street: str
    city: str


class Person(BaseModel):
    """Someone and where they live."""

    name: str
    address: Address


class Profile(BaseModel):
    handle: str
    bio: str | None = None
    age: int | None = None


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Paint(BaseModel):
    colour: Colour
    finish: Literal["matt", "gloss"]


class Cat(BaseModel):
    kind: Literal["cat"] = "cat"
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"] = "dog"
    good: bool


class Pet(BaseModel):
    pet: Annotated[Cat | Dog, Field(discriminator="kind")]
    either: int | str


class Tree(BaseModel):
    label: str
    children: list[Tree]


class Booking(BaseModel):
    code: str = Field(pattern=r"^[A-Z]{3}$", min_length=3, max_length=3)
    guests: int = Field(ge=1, le=8)
    price: float = Field(gt=0, multiple_of=0.5)
    email: str = Field(json_schema_extra={"format": "email"})
    tags: list[str] = Field(min_length=1, max_length=4)


TYPES: dict[str, Any] = {
    "nested": Person,
    "optional": Profile,
    "enum": Paint,
    "union": Pet,
    "list": list[Address],
    "recursive": Tree,
    "constrained": Booking,
}
