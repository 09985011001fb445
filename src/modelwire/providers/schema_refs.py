"""``$ref`` graphs of JSON schemas: which definitions refer to themselves (recursive types).

The vendors' native structured-output modes differ on recursion (Anthropic refuses it, Gemini
allows it only through properties that are not required), so their schema rewrites ask here
which ``$defs`` entries lie on a cycle of references.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["def_name", "reachable", "recursive_defs", "refs_in"]

_PREFIXES = ("#/$defs/", "#/definitions/")


def def_name(ref: Any) -> str | None:
    """The definition a local ``$ref`` points at (``"#/$defs/Node"`` → ``"Node"``)."""
    if isinstance(ref, str):
        for prefix in _PREFIXES:
            if ref.startswith(prefix):
                return ref[len(prefix) :]
    return None


def refs_in(node: Any) -> set[str]:
    """The definitions ``node`` (a schema or part of one) refers to, at any depth."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            name = def_name(item.get("$ref"))
            if name is not None:
                found.add(name)
            stack.extend(v for k, v in item.items() if k not in ("$defs", "definitions"))
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _definitions(schema: Mapping[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for key in ("definitions", "$defs"):
        value = schema.get(key)
        if isinstance(value, Mapping):
            defs.update(value)
    return defs


def reachable(schema: Mapping[str, Any], start: set[str]) -> set[str]:
    """Every definition reachable from ``start`` through references (``start`` included)."""
    defs = _definitions(schema)
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(refs_in(defs.get(name)) - seen)
    return seen


def recursive_defs(schema: Mapping[str, Any]) -> set[str]:
    """The names of the definitions of ``schema`` that reach themselves through references."""
    defs = _definitions(schema)
    return {name for name in defs if name in reachable(schema, refs_in(defs[name]))}
