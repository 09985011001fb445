"""OpenAI's strict-schema rules, checked as the API checks them (Structured Outputs, "Supported
schemas"), written apart from modelwire's rewriter so that a wrong rewrite fails a test.

``strict_problem(schema, what)`` returns the message of the API's 400 for a ``strict`` schema
(``what`` names it: ``response_format 'City'`` or ``function 'lookup'``), or ``None``:

* the root is an object (``type: "object"``), not ``anyOf``;
* every object has ``additionalProperties: false`` and ``required`` listing every property;
* every keyword is one strict mode takes: ``type``, ``properties``, ``required``,
  ``additionalProperties``, ``items``, ``anyOf``, ``enum``, ``const``, ``$ref``, ``$defs``,
  ``definitions``, ``title``, ``description``; for strings ``pattern`` and ``format`` (one of
  ``STRICT_FORMATS``); for numbers ``minimum``, ``maximum``, ``exclusiveMinimum``,
  ``exclusiveMaximum``, ``multipleOf``; for arrays ``minItems``, ``maxItems``;
* an array has ``items``; a ``$ref`` points into the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STRICT_FORMATS = frozenset(
    ("date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid")
)
_STRUCTURE = frozenset(
    (
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "anyOf",
        "enum",
        "const",
        "$ref",
        "$defs",
        "definitions",
        "title",
        "description",
    )
)
_TYPED = {
    "string": frozenset(("pattern", "format")),
    "number": frozenset(
        ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
    ),
    "integer": frozenset(
        ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
    ),
    "array": frozenset(("minItems", "maxItems")),
}
_TYPES = frozenset(("string", "number", "integer", "boolean", "object", "array", "null"))


class _Invalid(Exception):
    pass


def strict_problem(schema: Any, what: str) -> str | None:
    """The API's message for an invalid strict schema, or ``None`` when it takes it."""
    try:
        if not isinstance(schema, Mapping):
            raise _Invalid("schema must be a JSON Schema object")
        if "anyOf" in schema and "type" not in schema:
            raise _Invalid("root schema must not be 'anyOf'; it must be an object")
        if schema.get("type") != "object":
            got = schema.get("type")
            raise _Invalid(
                f"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{got}\"'."
            )
        _Checker(schema).node(schema, ())
    except _Invalid as exc:
        return f"Invalid schema for {what}: {exc}"
    return None


class _Checker:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def fail(self, context: tuple[str, ...], message: str) -> _Invalid:
        return _Invalid(f"In context={context!r}, {message}")

    def node(self, schema: Any, context: tuple[str, ...]) -> None:
        if not isinstance(schema, Mapping):
            raise self.fail(context, "schema must be a JSON Schema object.")
        kinds = schema.get("type")
        kind_list = kinds if isinstance(kinds, list) else [kinds] if kinds is not None else []
        for kind in kind_list:
            if kind not in _TYPES:
                raise self.fail(context, f"'{kind}' is not a valid type.")
        allowed = set(_STRUCTURE)
        for kind in kind_list:
            allowed |= _TYPED.get(kind, frozenset())
        for key in schema:
            if key not in allowed:
                raise self.fail(context, f"'{key}' is not permitted.")
        if "format" in schema and schema["format"] not in STRICT_FORMATS:
            raise self.fail(context, f"'{schema['format']}' is not a valid format.")
        if "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str) or self.resolve(ref) is None:
                raise self.fail(context, f"reference {ref!r} can't be resolved.")
        for key in ("$defs", "definitions"):
            for name, sub in (schema.get(key) or {}).items():
                self.node(sub, (*context, key, name))
        for i, branch in enumerate(schema.get("anyOf") or ()):
            self.node(branch, (*context, "anyOf", str(i)))
        if "object" in kind_list or "properties" in schema:
            self.object(schema, context)
        if "array" in kind_list:
            if "items" not in schema:
                raise self.fail(context, "'items' is required to be supplied for an array.")
            self.node(schema["items"], (*context, "items"))

    def object(self, schema: Mapping[str, Any], context: tuple[str, ...]) -> None:
        if schema.get("additionalProperties") is not False:
            raise self.fail(
                context, "'additionalProperties' is required to be supplied and to be false."
            )
        properties = schema.get("properties") or {}
        required = schema.get("required")
        missing = [p for p in properties if not isinstance(required, list) or p not in required]
        if missing:
            raise self.fail(
                context,
                "'required' is required to be supplied and to be an array including every key "
                f"in properties. Missing '{missing[0]}'.",
            )
        extra = [r for r in required or () if r not in properties]
        if extra:
            raise self.fail(context, f"'required' names '{extra[0]}', which is not a property.")
        for name, sub in properties.items():
            self.node(sub, (*context, "properties", name))

    def resolve(self, ref: str) -> Any:
        if ref == "#":
            return self.root
        if not ref.startswith("#/"):
            return None
        target: Any = self.root
        for token in ref[2:].split("/"):
            if not isinstance(target, Mapping) or token not in target:
                return None
            target = target[token]
        return target
