"""Answers that fit a JSON schema, for the fake vendors' structured-output modes.

``sample(schema)`` makes a deterministic value valid for ``schema``: the first ``enum`` value or
the ``const``, the first ``anyOf``/``oneOf`` branch (the ``null`` one once deep in a recursive
type), every property of an object, one item per array (``minItems`` of them once deep), a
number within ``minimum``/``maximum``, a string of the ``format`` (``"fake"`` padded or cut to
``minLength``/``maxLength`` otherwise). Local ``$ref``s are followed.

``prompted_schema(system)`` finds the schema that ``modelwire.output.output_instructions`` puts in
a system prompt, so that the fake answers prompted requests with fitting JSON as well.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["prompted_schema", "sample"]

_FORMATS = {
    "date-time": "2025-01-02T03:04:05Z",
    "date": "2025-01-02",
    "time": "03:04:05",
    "duration": "P1D",
    "email": "fake@example.com",
    "hostname": "example.com",
    "uri": "https://example.com/fake",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "uuid": "12345678-1234-5678-1234-567812345678",
}
_DEEP = 3  # past this depth arrays get their fewest items and unions their null branch
_DEEPEST = 8  # past this depth objects get only their required properties
_MARKER = "It must validate against this JSON schema ("


def _resolve(ref: str, root: dict[str, Any]) -> Any:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _number(node: dict[str, Any], integer: bool) -> int | float:
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    value: float = 1
    if low is not None:
        value = max(value, low + (1 if "exclusiveMinimum" in node else 0))
    if high is not None:
        value = min(value, high - (1 if "exclusiveMaximum" in node else 0))
    if integer:
        return int(value) if float(value).is_integer() else int(value) + 1
    return value


def _string(node: dict[str, Any]) -> str:
    text = _FORMATS.get(str(node.get("format")), "fake")
    low, high = node.get("minLength"), node.get("maxLength")
    if isinstance(low, int) and len(text) < low:
        text += "x" * (low - len(text))
    if isinstance(high, int):
        text = text[:high]
    return text


def _branch(branches: list[Any], depth: int) -> Any:
    if depth >= _DEEP:
        for branch in branches:
            if isinstance(branch, dict) and branch.get("type") == "null":
                return branch
    return branches[0]


def sample(schema: Any, root: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """A value valid for ``schema`` (``root``: the document its ``$ref``s point into)."""
    if not isinstance(schema, dict):
        return "fake"
    root = schema if root is None else root
    if "$ref" in schema:
        return sample(_resolve(schema["$ref"], root), root, depth + 1)
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return sample(_branch(schema[key], depth), root, depth)
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        return sample(schema["allOf"][0], root, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and "properties" in schema:
        kind = "object"
    if kind == "object":
        props = schema.get("properties") or {}
        required = schema.get("required") or []
        names = list(props) if depth < _DEEPEST else [n for n in props if n in required]
        return {name: sample(props[name], root, depth + 1) for name in names}
    if kind == "array":
        low = schema.get("minItems") or 0
        count = low if depth >= _DEEP else max(low, 1)
        high = schema.get("maxItems")
        if isinstance(high, int):
            count = min(count, high)
        prefix = schema.get("prefixItems") or []
        items = [sample(p, root, depth + 1) for p in prefix]
        items += [sample(schema.get("items"), root, depth + 1) for _ in range(count - len(items))]
        return items
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "fake"


def prompted_schema(system: str) -> Any | None:
    """The JSON schema of prompted-mode instructions in a system prompt, if there are any."""
    at = system.find(_MARKER)
    if at < 0:
        return None
    start = system.find("\n", at)
    if start < 0:
        return None
    try:
        schema, _ = json.JSONDecoder().raw_decode(system, start + 1)
    except ValueError:
        return None
    return schema
