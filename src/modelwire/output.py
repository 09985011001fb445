"""Structured output: what a caller asks for with ``output=``, and how an answer is checked.

``OutputSpec.of(output)`` accepts a pydantic model, any type pydantic's ``TypeAdapter`` handles
(``list[City]``, dataclasses, TypedDicts, ``Literal``, unions) or a JSON-schema dict, and holds
its JSON schema (what providers rewrite to their vendor's subset) and its validator (what the
service checks every answer with, against the ORIGINAL type: a bound a vendor's schema cannot
express is still enforced here). Specs are cached per type, so a structured request pays for its
schema once.

A JSON-schema dict is checked when given (a schema that is not one is a ``TypeError``) and its
answers are validated against it with ``jsonschema`` (the reference implementation of the
standard, rather than a hand-written subset), under the draft the schema names in ``$schema``
(2020-12 by default).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from modelwire.errors import OutputValidationError

__all__ = [
    "OutputMode",
    "OutputSpec",
    "RewrittenSchema",
    "output_instructions",
    "parse_json_answer",
]

OutputMode = Literal["auto", "native", "tool", "prompted"]
"""How structured output is asked for: the model's best native mode, the vendor's native mode,
a forced tool call, or instructions in the prompt."""

_IDENT = re.compile(r"[^A-Za-z0-9_]+")


@dataclass(frozen=True, eq=False)
class OutputSpec:
    """The output a request asks for: its name, its JSON schema and how to validate an answer.

    ``is_object``: the schema is an object at the top (vendors that need one get the schema
    wrapped in ``{"result": ...}`` and unwrap the answer). ``python_type`` is ``None`` for a
    raw JSON-schema dict, whose answers validate to plain dicts.
    """

    name: str
    schema: Mapping[str, Any]
    description: str = ""
    python_type: Any = None
    _adapter: TypeAdapter[Any] | None = field(default=None, repr=False)

    @property
    def is_object(self) -> bool:
        """Whether the schema describes a JSON object at the top."""
        return self.schema.get("type") == "object" or (
            "properties" in self.schema and "type" not in self.schema
        )

    @classmethod
    def of(cls, output: Any) -> OutputSpec:
        """The spec of ``output``: an ``OutputSpec``, a JSON-schema dict, or a Python type."""
        if isinstance(output, OutputSpec):
            return output
        if isinstance(output, Mapping):
            return _schema_spec(json.dumps(output, sort_keys=True))
        try:
            return _type_spec(output)
        except TypeError:  # unhashable: not cached
            return _build_type_spec(output)

    def validate_json(self, text: str) -> Any:
        """The validated value of an answer; ``OutputValidationError`` (with the raw text and
        pydantic's errors, or for a JSON-schema dict the schema's in the same shape) when it is
        not valid JSON of the requested type."""
        if self._adapter is None:  # a raw schema: JSON, validated against the schema
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise OutputValidationError(
                    f"the answer is not valid JSON: {exc}", raw_text=text, errors=[]
                ) from None
            self._check_schema(value, text)
            return value
        try:
            return self._adapter.validate_json(text)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            first = errors[0] if errors else {"loc": (), "msg": "invalid"}
            where = ".".join(str(p) for p in first["loc"]) or self.name
            raise OutputValidationError(
                f"the answer does not validate as {self.name}: {where}: {first['msg']}"
                + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
                raw_text=text,
                errors=errors,
            ) from None

    @functools.cached_property
    def _schema_validator(self) -> Any:
        return _validator_for(self.schema)

    def _check_schema(self, value: Any, text: str) -> None:
        errors = sorted(
            self._schema_validator.iter_errors(value), key=lambda e: (len(e.path), list(e.path))
        )
        if not errors:
            return
        details = [
            {"loc": tuple(e.absolute_path), "msg": e.message, "type": str(e.validator)}
            for e in errors
        ]
        first = details[0]
        where = ".".join(str(p) for p in first["loc"]) or self.name
        raise OutputValidationError(
            f"the answer does not validate as {self.name}: {where}: {first['msg']}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
            raw_text=text,
            errors=details,
        )


def _validator_for(schema: Mapping[str, Any]) -> Any:
    """A ``jsonschema`` validator of ``schema`` (its ``$schema`` draft, else 2020-12);
    ``TypeError`` when the schema is not a valid one."""
    import jsonschema
    from jsonschema.exceptions import SchemaError

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise TypeError(
            f"output: not a valid JSON schema: {exc.message}" + (f" (at {where})" if where else "")
        ) from None
    return cls(schema)


@functools.lru_cache(maxsize=256)
def _type_spec(output: Any) -> OutputSpec:
    return _build_type_spec(output)


def _build_type_spec(output: Any) -> OutputSpec:
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(output)
        schema = adapter.json_schema()
    except Exception as exc:
        raise TypeError(
            f"output: {output!r} is not a type pydantic can validate ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0]})"
        ) from None
    name = getattr(output, "__name__", None) or schema.get("title") or "output"
    description = schema.get("description", "") if isinstance(schema, dict) else ""
    return OutputSpec(
        name=_identifier(str(name)),
        schema=schema,
        description=description,
        python_type=output,
        _adapter=adapter,
    )


@functools.lru_cache(maxsize=256)
def _schema_spec(schema_json: str) -> OutputSpec:
    schema = json.loads(schema_json)
    if not isinstance(schema, dict):
        raise TypeError("output: a JSON schema must be an object")
    spec = OutputSpec(
        name=_identifier(str(schema.get("title") or "output")),
        schema=schema,
        description=str(schema.get("description") or ""),
    )
    _ = spec._schema_validator  # an invalid schema fails here, once
    return spec


def _identifier(name: str) -> str:
    cleaned = _IDENT.sub("_", name).strip("_") or "output"
    return cleaned[:64] if not cleaned[0].isdigit() else f"output_{cleaned}"[:64]


@dataclass(frozen=True)
class RewrittenSchema:
    """A schema rewritten to the subset a vendor's native mode accepts.

    ``removed`` names each constraint the rewrite dropped, as ``"<json path>: <keyword>"``
    (``"properties.age: minimum"``); the answer is still validated against the original type, so
    a dropped constraint is checked after the call rather than lost. ``wrapped``: the output was
    not an object and the schema is ``{"result": <schema>}`` (the answer is unwrapped).
    """

    schema: Mapping[str, Any]
    removed: tuple[str, ...] = ()
    wrapped: bool = False


def output_instructions(spec: OutputSpec) -> str:
    """What prompted mode adds to the system prompt: answer with JSON matching the schema."""
    return (
        "Answer with a single JSON value and nothing else (no prose, no code fence). "
        f"It must validate against this JSON schema ({spec.name}):\n"
        + json.dumps(spec.schema, sort_keys=True)
    )


_FENCE = re.compile(r"^```(?:json)?\s*\n(.*)\n```\s*$", re.DOTALL)


def parse_json_answer(text: str) -> str:
    """The JSON in a prompted answer: the text itself, or the body of a ```json fence."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    return fenced.group(1).strip() if fenced else stripped
