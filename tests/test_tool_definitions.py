"""Tools from functions, pydantic models and explicit schemas; bad definitions fail clearly."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, Field

from modelwire.errors import ToolDefinitionError
from modelwire.tools import Tool, as_tool, as_tools


def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
    """Current weather for a city.

    More detail that is not part of the summary.

    Args:
        city: The city's name, in English.
        unit: Celsius or Fahrenheit.
    """
    return f"18 {unit}"


def test_a_function_becomes_a_tool_with_its_schema_and_docs() -> None:
    tool = as_tool(get_weather)
    assert tool.name == "get_weather"
    assert tool.description == "Current weather for a city."
    assert tool.function is get_weather
    params = tool.parameters
    assert params["type"] == "object"
    assert params["required"] == ["city"]
    assert params["properties"]["city"] == {
        "type": "string",
        "title": "City",
        "description": "The city's name, in English.",
    }
    assert params["properties"]["unit"]["enum"] == ["c", "f"]
    assert params["properties"]["unit"]["default"] == "c"
    assert tool.validate_arguments({"city": "Paris"}) == {"city": "Paris", "unit": "c"}


def string_annotations(count: int, tags: list[str] | None = None) -> int:
    """Count things."""
    return count


def test_string_annotations_and_no_arguments_work() -> None:
    tool = as_tool(string_annotations)
    assert tool.parameters["properties"]["count"]["type"] == "integer"

    def ping() -> str:
        """Ping."""
        return "pong"

    assert as_tool(ping).parameters == {"type": "object", "properties": {}}


class Lookup(BaseModel):
    """Find a record by key."""

    key: str = Field(description="the record's key")
    limit: int = Field(default=10, ge=1, le=100)


def test_a_pydantic_model_becomes_a_tool() -> None:
    tool = as_tool(Lookup)
    assert (tool.name, tool.description) == ("Lookup", "Find a record by key.")
    assert tool.parameters["properties"]["limit"]["maximum"] == 100
    with pytest.raises(ValueError):
        tool.validate_arguments({"key": "a", "limit": 1000})


def test_an_explicit_tool() -> None:
    tool = Tool(name="lookup", description="d", parameters={"type": "object", "properties": {}})
    assert as_tool(tool) is tool
    with pytest.raises(ValueError, match="JSON object schema"):
        Tool(name="x", parameters={"type": "string"})
    with pytest.raises(ValueError, match="tool name"):
        Tool(name="has space")


class Opaque:
    pass


def uses_opaque(thing: Opaque) -> None:
    """Take an opaque thing."""


def test_bad_definitions_name_the_function_and_parameter() -> None:
    with pytest.raises(ToolDefinitionError, match=r"uses_opaque: parameter 'thing' has a type"):
        as_tool(uses_opaque)

    class Local:
        pass

    def uses_local(thing: Local) -> None:
        """A hint the function's module cannot resolve (a class local to a test)."""

    with pytest.raises(ToolDefinitionError, match=r"parameter 'thing': cannot resolve .*'Local'"):
        as_tool(uses_local)

    def star(*names: str) -> None:
        """Varargs."""

    with pytest.raises(ToolDefinitionError, match=r"parameter 'names'.*\*args"):
        as_tool(star)

    with pytest.raises(ToolDefinitionError, match="two tools are named 'get_weather'"):
        as_tools([get_weather, get_weather])
    with pytest.raises(ToolDefinitionError, match="must be a function"):
        as_tool(42)  # type: ignore[arg-type]
