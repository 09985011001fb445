"""Properties of OpenAI's strict rewrite over generated pydantic models.

For any model made of strings, numbers, booleans, dates, enums, literals, optional fields,
lists, unions, nested models and constrained fields:

* the rewritten schema obeys OpenAI's strict rules (the fake server's checker, written apart
  from the rewriter, accepts it);
* the mock provider's answer validates against the original type;
* an answer made from the rewritten schema (what a strict model may send), turned back with
  ``answer_json``, validates against the original type whenever the rewrite removed nothing.
"""

from __future__ import annotations

import datetime
import enum
import itertools
import json
import random
from typing import Annotated, Any, Literal, Optional

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, create_model

from modelwire.config.schema import MockProviderConfig
from modelwire.output import OutputSpec
from modelwire.providers.base import ProviderContext
from modelwire.providers.mock import MockChatModel
from modelwire.providers.mock_tools import example_value
from modelwire.providers.openai.schema import answer_json, strict_schema
from modelwire.types import ChatRequest, ModelInfo
from tools.fake_provider.openai_strict import strict_problem

_names = itertools.count()


class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


SCALARS = st.sampled_from(
    [
        str,
        int,
        float,
        bool,
        datetime.date,
        Shade,
        Literal["a", "b", "c"],
        Annotated[int, Field(ge=-5, le=5)],
        Annotated[float, Field(gt=0, lt=10)],
        Annotated[int, Field(multiple_of=3)],
        Annotated[str, Field(pattern=r"^[a-z]{2,4}$")],
        Annotated[str, Field(min_length=2, max_length=6)],
        Annotated[list[int], Field(min_length=1, max_length=3)],
    ]
)


#: Optional fields whose type does not take ``null`` (the rewrite makes them nullable, and a
#: ``null`` answer for one is dropped so that the default applies).
DEFAULTED: list[tuple[Any, Any]] = [
    (int, 7),
    (str, "x"),
    (bool, False),
    (list[int], []),
    (Shade, Shade.DARK),
]


def _model(fields: list[tuple[Any, bool | int]]) -> type[BaseModel]:
    spec: dict[str, Any] = {}
    for i, (kind, optional) in enumerate(fields):
        if optional is True:
            spec[f"f{i}"] = (Optional[kind], None)  # noqa: UP045
        elif optional is False:
            spec[f"f{i}"] = (kind, ...)
        else:
            spec[f"f{i}"] = DEFAULTED[optional % len(DEFAULTED)]
    return create_model(f"Gen{next(_names)}", **spec)


FLAGS = st.one_of(st.booleans(), st.integers(0, len(DEFAULTED) - 1))


def _types(depth: int) -> st.SearchStrategy[Any]:
    if depth <= 0:
        return SCALARS
    inner = _types(depth - 1)
    return st.one_of(
        SCALARS,
        inner.map(lambda t: list[t]),  # type: ignore[valid-type]
        st.tuples(inner, inner).map(lambda ts: ts[0] | ts[1] if ts[0] is not ts[1] else ts[0]),
        st.lists(st.tuples(inner, FLAGS), min_size=1, max_size=3).map(_model),
    )


MODELS = st.lists(st.tuples(_types(2), FLAGS), min_size=1, max_size=5).map(_model)


def _mock() -> MockChatModel:
    context = ProviderContext("mock", MockProviderConfig(type="mock"))
    return MockChatModel(ModelInfo(id="mock:gpt-4o-mini"), context)


MOCK = _mock()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=MODELS, seed=st.integers(0, 2**32))
def test_rewrite_obeys_strict_rules_and_answers_validate(model: type[BaseModel], seed: int) -> None:
    spec = OutputSpec.of(model)
    rewritten = strict_schema(spec)
    assert strict_problem(rewritten.schema, "response_format 'x'") is None

    request = ChatRequest.build(f"make one #{seed}", output=spec)
    answer = MOCK.invoke(request)
    assert answer.output_mode == "native"
    spec.validate_json(answer.text)  # the mock's answer is valid output

    strict_answer = json.dumps(example_value(rewritten.schema, random.Random(seed)))
    turned_back = answer_json(spec, strict_answer)
    if not rewritten.removed:
        spec.validate_json(turned_back)


@settings(max_examples=40, deadline=None)
@given(inner=_types(1), seed=st.integers(0, 2**32))
def test_non_object_outputs_are_wrapped_and_unwrapped(inner: Any, seed: int) -> None:
    spec = OutputSpec.of(list[inner])  # type: ignore[valid-type]
    rewritten = strict_schema(spec)
    assert rewritten.wrapped and list(rewritten.schema["properties"]) == ["result"]
    assert strict_problem(rewritten.schema, "response_format 'x'") is None
    strict_answer = json.dumps(example_value(rewritten.schema, random.Random(seed)))
    assert isinstance(json.loads(answer_json(spec, strict_answer)), list)
    if not rewritten.removed:
        spec.validate_json(answer_json(spec, strict_answer))


def test_a_null_inside_an_optional_list_of_models_is_dropped() -> None:
    """Found by the property above: an optional list is ``anyOf: [array, null]``, and the nulls
    of its items' optional fields must be dropped through that branch too."""

    class Inner(BaseModel):
        f0: list[int] = []

    class Outer(BaseModel):
        f0: Optional[list[Inner]] = None  # noqa: UP045

    spec = OutputSpec.of(Outer)
    turned_back = answer_json(spec, '{"f0": [{"f0": null}, {"f0": [1]}]}')
    assert json.loads(turned_back) == {"f0": [{}, {"f0": [1]}]}
    assert spec.validate_json(turned_back) == Outer(f0=[Inner(), Inner(f0=[1])])
