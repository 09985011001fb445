"""output= with a JSON-schema dict: the schema is checked when given, and every answer is
validated against it (not only parsed)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelwire.errors import OutputValidationError
from modelwire.output import OutputSpec

CITY: dict[str, Any] = {
    "title": "City",
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "population": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"enum": ["big", "old"]}},
    },
    "required": ["name", "population"],
    "additionalProperties": False,
}


def test_a_valid_answer_is_the_parsed_json() -> None:
    spec = OutputSpec.of(CITY)
    assert spec.validate_json('{"name": "Oslo", "population": 7, "tags": ["old"]}') == {
        "name": "Oslo",
        "population": 7,
        "tags": ["old"],
    }


@pytest.mark.parametrize(
    ("answer", "where", "kind"),
    [
        ('{"name": "Oslo"}', "City", "required"),
        ('{"name": "Oslo", "population": -1}', "population", "minimum"),
        ('{"name": "", "population": 1}', "name", "minLength"),
        ('{"name": "A", "population": 1, "tags": ["new"]}', "tags.0", "enum"),
        ('{"name": "A", "population": 1, "extra": 1}', "City", "additionalProperties"),
        ("[1]", "City", "type"),
    ],
)
def test_an_invalid_answer_names_where_and_keeps_the_text(
    answer: str, where: str, kind: str
) -> None:
    with pytest.raises(OutputValidationError) as info:
        OutputSpec.of(CITY).validate_json(answer)
    err = info.value
    assert str(err).startswith(f"the answer does not validate as City: {where}: ")
    assert "\n" not in str(err) and err.raw_text == answer
    assert err.errors[0]["type"] == kind


def test_every_problem_is_listed() -> None:
    with pytest.raises(OutputValidationError, match=r"\(and 1 more\)") as info:
        OutputSpec.of(CITY).validate_json('{"name": "", "population": -1}')
    assert sorted(e["loc"] for e in info.value.errors) == [("name",), ("population",)]


def test_an_invalid_schema_is_refused_when_given() -> None:
    with pytest.raises(TypeError, match=r"not a valid JSON schema: .* \(at properties/a/type\)"):
        OutputSpec.of({"type": "object", "properties": {"a": {"type": "integr"}}})


def test_the_schemas_draft_is_honoured() -> None:
    draft4 = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "integer",
        "minimum": 0,
        "exclusiveMinimum": True,
    }
    spec = OutputSpec.of(draft4)
    assert spec.validate_json("1") == 1
    with pytest.raises(OutputValidationError):
        spec.validate_json("0")


@given(st.integers(-50, 50), st.integers(-100, 100))
def test_bounds_agree_with_arithmetic(minimum: int, value: int) -> None:
    spec = OutputSpec.of({"type": "integer", "minimum": minimum})
    if value >= minimum:
        assert spec.validate_json(json.dumps(value)) == value
    else:
        with pytest.raises(OutputValidationError, match="less than the minimum"):
            spec.validate_json(json.dumps(value))
