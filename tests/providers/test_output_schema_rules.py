"""Property tests of the vendors' schema rewrites, for generated pydantic models: the Anthropic
rewrite is the ``anthropic`` SDK's own ``transform_schema`` (plus the list of what it removed)
and passes the fake server's copy of the API's rules; the Gemini rewrite passes the fake's
copy of Gemini's rules; what either removed is reported, and an answer made for the rewritten
schema validates against the original type when the removed constraints did not matter."""

from __future__ import annotations

import enum
import itertools
import json
from typing import Annotated, Any, Literal, Optional

import anthropic
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, create_model

from modelwire.output import OutputSpec
from modelwire.providers.anthropic.schema import rewrite_schema as anthropic_rewrite
from modelwire.providers.google.schema import rewrite_schema as gemini_rewrite
from tools.fake_provider.anthropic_format import schema_problem
from tools.fake_provider.gemini_format import json_schema_problem
from tools.fake_provider.schema_answers import sample

_names = itertools.count()


class Size(enum.Enum):
    S = "s"
    M = "m"


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


PLAIN = st.sampled_from([str, int, float, bool, Size, Literal["a", "b"], Literal[1, 2]])
CONSTRAINED = st.sampled_from(
    [
        Annotated[int, Field(ge=0, le=10)],
        Annotated[float, Field(gt=0)],
        Annotated[str, Field(min_length=1, max_length=9)],
        Annotated[str, Field(pattern=r"^[a-z]+$")],
        Annotated[list[int], Field(min_length=1, max_length=3)],
        Annotated[int, Field(multiple_of=2)],
    ]
)


def _types(constrained: bool) -> st.SearchStrategy[Any]:
    leaves = st.one_of(PLAIN, CONSTRAINED) if constrained else PLAIN

    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            inner.map(lambda t: list[t]),  # type: ignore[valid-type]
            inner.map(lambda t: Optional[t]),  # type: ignore[valid-type]  # noqa: UP045
            st.tuples(inner, inner).map(lambda ts: ts[0] | ts[1] if ts[0] is not ts[1] else ts[0]),
            st.lists(inner, min_size=1, max_size=3).map(_model),
        )

    return st.recursive(leaves, extend, max_leaves=6)


def _model(fields: list[Any]) -> type[BaseModel]:
    spec: dict[str, Any] = {f"f{i}": (kind, ...) for i, kind in enumerate(fields)}
    return create_model(_unique("M"), **spec)


def _models(constrained: bool) -> st.SearchStrategy[type[BaseModel]]:
    return st.lists(_types(constrained), min_size=1, max_size=4).map(_model)


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = set(node)
        for value in node.values():
            found |= _keys(value)
        return found
    if isinstance(node, list):
        return set().union(*map(_keys, node)) if node else set()
    return set()


_ANNOTATIONS = {"title", "description", "default", "discriminator"}


@settings(max_examples=60, deadline=None)
@given(_models(constrained=True))
def test_anthropic_rewrite_is_the_sdks_and_obeys_the_api_rules(model: type[BaseModel]) -> None:
    schema = OutputSpec.of(model).schema
    rewritten = anthropic_rewrite(schema)
    assert rewritten.schema == anthropic.transform_schema(dict(schema))
    assert schema_problem(dict(rewritten.schema)) is None
    dropped = {r.rsplit(": ", 1)[-1] for r in rewritten.removed}
    lost = _keys(schema) - _keys(rewritten.schema) - {"oneOf"}
    assert lost - _ANNOTATIONS <= dropped  # every lost constraint is reported


@settings(max_examples=60, deadline=None)
@given(_models(constrained=True))
def test_gemini_rewrite_obeys_geminis_rules(model: type[BaseModel]) -> None:
    spec = OutputSpec.of(model)
    rewritten = gemini_rewrite(spec.schema)
    assert json_schema_problem(dict(rewritten.schema)) is None
    dropped = {r.rsplit(": ", 1)[-1] for r in rewritten.removed}
    lost = _keys(spec.schema) - _keys(rewritten.schema) - {"const"}  # const: a one-value enum
    assert lost <= dropped


@settings(max_examples=60, deadline=None)
@given(_models(constrained=False))
def test_an_answer_for_either_rewrite_validates_against_the_type(model: type[BaseModel]) -> None:
    spec = OutputSpec.of(model)
    for rewrite in (anthropic_rewrite, gemini_rewrite):
        answer = sample(dict(rewrite(spec.schema).schema))
        spec.validate_json(json.dumps(answer))


class Tree(BaseModel):
    label: str
    kids: list[Tree]
    parent: Tree | None = None


def test_gemini_takes_recursive_properties_out_of_required() -> None:
    rewritten = gemini_rewrite(OutputSpec.of(Tree).schema)
    assert json_schema_problem(dict(rewritten.schema)) is None
    assert rewritten.schema["$defs"]["Tree"]["required"] == ["label"]
    assert "$defs.Tree: required kids (recursive)" in rewritten.removed


def test_rewrites_are_cached_per_type() -> None:
    from modelwire.providers.anthropic.schema import native_schema as anthropic_native
    from modelwire.providers.google.schema import native_schema as gemini_native

    class Once(BaseModel):
        name: str = Field(max_length=5)

    first = anthropic_native(OutputSpec.of(Once)), gemini_native(OutputSpec.of(Once))
    again = anthropic_native(OutputSpec.of(Once)), gemini_native(OutputSpec.of(Once))
    assert first[0] is again[0] and first[1] is again[1]
    assert first[0] is not None and first[0].removed == ("properties.name: maxLength",)
