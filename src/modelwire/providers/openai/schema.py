"""OpenAI's strict JSON-schema subset: a request's output schema rewritten so that Structured
Outputs (``"strict": true``) accepts it, and the answer turned back into the requested shape.

The rules (OpenAI's Structured Outputs guide, "Supported schemas"):

* the root is an object (not ``anyOf``): any other output is wrapped as ``{"result": ...}``
  and the answer unwrapped;
* every object has ``additionalProperties: false`` and lists every property in ``required``;
  a property that was optional becomes nullable (``["string", "null"]``, or ``anyOf`` with
  ``{"type": "null"}``) and a ``null`` the model sends for it is dropped from the answer when
  the original type does not take ``null``, so the field gets its default;
* kept: ``type``, ``properties``, ``required``, ``items``, ``anyOf``, ``enum``, ``const``,
  ``$ref``/``$defs`` (recursion included), ``title``, ``description``; for strings ``pattern``
  and the formats ``date-time``, ``time``, ``date``, ``duration``, ``email``, ``hostname``,
  ``ipv4``, ``ipv6`` and ``uuid``; for numbers ``minimum``, ``maximum``,
  ``exclusiveMinimum``, ``exclusiveMaximum`` and ``multipleOf``; for arrays ``minItems`` and
  ``maxItems``;
* removed (and named in ``RewrittenSchema.removed``): every other keyword, e.g.
  ``minLength``/``maxLength``, other formats, ``uniqueItems``, ``default``, ``examples``,
  ``minProperties``/``maxProperties``, ``propertyNames``, ``not``, ``if``/``then``/``else``,
  and the ``additionalProperties`` of a model that allows extras (the answer has its fields).
  ``oneOf`` becomes ``anyOf``, a single-entry ``allOf`` is merged, tuples' ``prefixItems``
  become ``items`` that take any of their types. A removed constraint is still checked: the
  service validates every answer against the original type.

A schema strict mode cannot express at all (a map such as ``dict[str, int]``, an open object,
an ``allOf`` of several schemas) raises ``UnsupportedFeatureError`` naming what and where;
``output_mode="auto"`` then falls back to another mode and says why on the response.

Rewrites are cached per output spec (specs are cached per type), and the constraints a rewrite
removed are logged once per type at INFO on the ``modelwire.output`` logger.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelwire.errors import UnsupportedFeatureError
from modelwire.output import OutputSpec, RewrittenSchema

__all__ = [
    "STRICT_FORMATS",
    "answer_json",
    "strict_schema",
]

logger = logging.getLogger("modelwire.output")

#: The string formats strict mode takes.
STRICT_FORMATS = frozenset(
    ("date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid")
)
_ANNOTATIONS = frozenset(("title", "description"))
_BY_TYPE: dict[str, frozenset[str]] = {
    "string": frozenset(("pattern", "format")),
    "number": frozenset(
        ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
    ),
    "array": frozenset(("minItems", "maxItems")),
}
_BY_TYPE["integer"] = _BY_TYPE["number"]
#: Keywords that carry no constraint: dropped without being reported.
_SILENT = frozenset(("default", "examples", "discriminator", "$schema", "$id", "$comment"))


@dataclass(frozen=True)
class _Strict:
    rewritten: RewrittenSchema | None
    #: Whether optional properties were made nullable (answers then lose such nulls).
    nulls_added: bool = False
    #: Why the schema has no strict form (``rewritten`` is then ``None``).
    error: str = ""
    nulls: _NullDropper | None = None


def strict_schema(spec: OutputSpec) -> RewrittenSchema:
    """``spec``'s schema in OpenAI's strict subset (cached per spec, a failure too);
    ``UnsupportedFeatureError`` when it has none."""
    strict = _strict(spec)
    if strict.rewritten is None:
        raise UnsupportedFeatureError(strict.error)
    return strict.rewritten


def answer_json(spec: OutputSpec, text: str) -> str:
    """The answer to a strict-schema request as the requested type's JSON: unwrapped from
    ``{"result": ...}`` when the schema was wrapped, and without the ``null`` of an optional
    property whose type does not take ``null``. Text that is not JSON is returned as it is
    (the service's validation reports it)."""
    strict = _strict(spec)
    wrapped = strict.rewritten is not None and strict.rewritten.wrapped
    if not wrapped and (not strict.nulls_added or "null" not in text):
        return text  # nothing to turn back: no parse
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if wrapped:
        if not isinstance(value, dict) or "result" not in value:
            return text
        value = value["result"]
    if strict.nulls is not None and "null" in text:
        strict.nulls.drop(value, spec.schema)
    return json.dumps(value, ensure_ascii=False)


@functools.lru_cache(maxsize=256)
def _strict(spec: OutputSpec) -> _Strict:
    rewriter = _Rewriter(spec.schema)
    try:
        rewritten = _rewrite(spec.schema, rewriter)
    except UnsupportedFeatureError as exc:
        return _Strict(None, error=str(exc))
    if rewritten.removed:
        logger.info(
            "output %s: OpenAI's strict schema cannot carry %s; the answer is checked against "
            "them after the call",
            spec.name,
            ", ".join(rewritten.removed),
        )
    nulls = _NullDropper(spec.schema) if rewriter.nulls_added else None
    return _Strict(rewritten, rewriter.nulls_added, nulls=nulls)


def _rewrite(schema: Mapping[str, Any], rewriter: _Rewriter) -> RewrittenSchema:
    root = dict(schema)
    defs = root.pop("$defs", None)
    legacy = root.pop("definitions", None)
    target = _pointer(schema, root["$ref"]) if set(root) == {"$ref"} else None
    if target is not None and target.get("type") == "object":  # a recursive model's root
        root = dict(target)
    body = rewriter.node(root, ())
    wrapped = body.get("type") != "object"
    if wrapped:
        body = {
            "type": "object",
            "properties": {"result": body},
            "required": ["result"],
            "additionalProperties": False,
        }
    for key, found in (("$defs", defs), ("definitions", legacy)):
        if isinstance(found, Mapping):
            body[key] = {name: rewriter.node(sub, (key, name)) for name, sub in found.items()}
    return RewrittenSchema(body, tuple(rewriter.removed), wrapped)


class _Rewriter:
    """One walk over a schema, collecting what it removed."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.removed: list[str] = []
        self.nulls_added = False

    def drop(self, path: tuple[str, ...], keyword: str) -> None:
        self.removed.append(f"{'.'.join(path) or '(root)'}: {keyword}")

    def node(self, schema: Any, path: tuple[str, ...]) -> dict[str, Any]:
        if schema is True or schema == {}:
            raise UnsupportedFeatureError(f"{_where(path)}: any value (an open schema)")
        if not isinstance(schema, Mapping):
            raise UnsupportedFeatureError(f"{_where(path)}: not a schema: {schema!r}")
        schema = dict(schema)
        if "$ref" in schema:
            for key in schema:
                if key != "$ref" and key not in _ANNOTATIONS and key not in _SILENT:
                    self.drop(path, key)
            return {"$ref": schema["$ref"]}
        all_of = schema.pop("allOf", None)
        if all_of is not None:
            if len(all_of) != 1:
                raise UnsupportedFeatureError(f"{_where(path)}: allOf of {len(all_of)} schemas")
            return self.node({**all_of[0], **schema}, path)
        one_of = schema.pop("oneOf", None)
        if one_of is not None:
            self.drop(path, "oneOf (sent as anyOf)")
            schema["anyOf"] = list(one_of) + list(schema.get("anyOf", ()))
        out: dict[str, Any] = {}
        kinds = schema.get("type")
        kind_list = kinds if isinstance(kinds, list) else [kinds] if kinds else []
        if not kind_list and "properties" in schema:
            kind_list = ["object"]
        if not kind_list and ("items" in schema or "prefixItems" in schema):
            kind_list = ["array"]
        allowed = set(_ANNOTATIONS)
        for kind in kind_list:
            allowed |= _BY_TYPE.get(kind, frozenset())
        for key, value in schema.items():
            if key in ("type", "properties", "required", "additionalProperties", "items"):
                continue
            if key in ("prefixItems", "anyOf"):
                continue
            if key in ("enum", "const"):
                out[key] = value
            elif key == "format" and key in allowed and value not in STRICT_FORMATS:
                self.drop(path, f"format {value}")
            elif key in allowed:
                out[key] = value
            elif key not in _SILENT:
                self.drop(path, key)
        if kinds is not None:
            out["type"] = kinds
        elif kind_list and "anyOf" not in schema and "enum" not in out and "const" not in out:
            out["type"] = kind_list[0]
        if "anyOf" in schema:
            out["anyOf"] = [
                self.node(branch, (*path, "anyOf", str(i)))
                for i, branch in enumerate(schema["anyOf"])
            ]
        if "object" in kind_list:
            self.object(schema, out, path)
        if "array" in kind_list:
            self.array(schema, out, path)
        if not out.keys() - _ANNOTATIONS:
            raise UnsupportedFeatureError(f"{_where(path)}: any value (an open schema)")
        return out

    def object(self, schema: dict[str, Any], out: dict[str, Any], path: tuple[str, ...]) -> None:
        if "properties" not in schema:
            raise UnsupportedFeatureError(
                f"{_where(path)}: a map or an open object (strict mode takes only objects with "
                "named properties)"
            )
        properties = schema["properties"] or {}
        if schema.get("additionalProperties") not in (None, False):  # a model that allows extras
            self.drop(path, "additionalProperties")
        required = set(schema.get("required") or ())
        rewritten: dict[str, Any] = {}
        for name, sub in properties.items():
            node = self.node(sub, (*path, "properties", name))
            if name not in required and not self.admits_null(node):
                node = self.nullable(node)
                self.nulls_added = True
            rewritten[name] = node
        out["properties"] = rewritten
        out["required"] = list(properties)
        out["additionalProperties"] = False

    def array(self, schema: dict[str, Any], out: dict[str, Any], path: tuple[str, ...]) -> None:
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        if prefix:
            self.drop(path, "prefixItems (sent as items of any of their types)")
            branches = [self.node(p, (*path, "prefixItems", str(i))) for i, p in enumerate(prefix)]
            unique = list({json.dumps(b, sort_keys=True): b for b in branches}.values())
            out["items"] = unique[0] if len(unique) == 1 else {"anyOf": unique}
            if items not in (None, False):
                raise UnsupportedFeatureError(f"{_where(path)}: a tuple with extra items")
            return
        if items is None or items is True:
            raise UnsupportedFeatureError(f"{_where(path)}: an array of any values")
        out["items"] = self.node(items, (*path, "items"))

    def admits_null(self, node: Mapping[str, Any], depth: int = 0) -> bool:
        if depth > 32:
            return False
        kind = node.get("type")
        if kind == "null" or (isinstance(kind, list) and "null" in kind):
            return True
        if "const" in node:
            return node["const"] is None
        if "enum" in node:
            return None in node["enum"]
        if "$ref" in node:
            target = _pointer(self.root, node["$ref"])
            return target is not None and self.admits_null(target, depth + 1)
        branches = [*node.get("anyOf", ()), *node.get("oneOf", ())]
        return any(self.admits_null(b, depth + 1) for b in branches if isinstance(b, Mapping))

    @staticmethod
    def nullable(node: dict[str, Any]) -> dict[str, Any]:
        kind = node.get("type")
        scalar = kind not in ("object", "array")
        if isinstance(kind, str) and scalar and not ({"enum", "const", "anyOf"} & node.keys()):
            return {**node, "type": [kind, "null"]}
        if "anyOf" in node and len(node) == 1:
            return {"anyOf": [*node["anyOf"], {"type": "null"}]}
        return {"anyOf": [node, {"type": "null"}]}


def _where(path: tuple[str, ...]) -> str:
    return "output schema" + (f" at {'.'.join(path)}" if path else "")


def _pointer(root: Mapping[str, Any], ref: str) -> Mapping[str, Any] | None:
    if not ref.startswith("#/"):
        return None
    target: Any = root
    for token in ref[2:].split("/"):
        if not isinstance(target, Mapping) or token not in target:
            return None
        target = target[token]
    return target if isinstance(target, Mapping) else None


class _NullDropper:
    """Removes, in place, the ``null`` of each optional property whose original schema does not
    take ``null`` (the rewrite made it nullable so that strict mode could require it). What to
    drop is worked out once per object schema and kept."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.checker = _Rewriter(root)
        self.droppable: dict[int, frozenset[str]] = {}

    def resolve(self, schema: Any) -> Any:
        for _ in range(32):
            if not isinstance(schema, Mapping) or "$ref" not in schema:
                break
            schema = _pointer(self.root, schema["$ref"]) or {}
        return schema

    def names(self, branch: Mapping[str, Any], properties: Mapping[str, Any]) -> frozenset[str]:
        found = self.droppable.get(id(branch))
        if found is None:
            required = set(branch.get("required") or ())
            found = frozenset(
                name
                for name, sub in properties.items()
                if name not in required
                and not self.checker.admits_null(sub if isinstance(sub, Mapping) else {})
            )
            self.droppable[id(branch)] = found
        return found

    def drop(self, value: Any, schema: Any, depth: int = 0) -> None:
        if depth > 64:
            return
        schema = self.resolve(schema)
        if not isinstance(schema, Mapping):
            return
        branches = [schema, *schema.get("anyOf", ()), *schema.get("oneOf", ())]
        branches += schema.get("allOf", ())
        if type(value) is list:
            # the array branch of the schema (an optional list is ``anyOf: [array, null]``)
            for candidate in branches:
                branch = self.resolve(candidate)
                if isinstance(branch, Mapping) and ("items" in branch or "prefixItems" in branch):
                    items = branch.get("items")
                    prefix = branch.get("prefixItems") or ()
                    for i, item in enumerate(value):
                        if type(item) is dict or type(item) is list:
                            self.drop(item, prefix[i] if i < len(prefix) else items, depth + 1)
                    return
            return
        if type(value) is not dict:
            return
        for candidate in branches:
            branch = self.resolve(candidate)
            properties = branch.get("properties") if isinstance(branch, Mapping) else None
            if not properties or not value.keys() <= properties.keys():
                continue
            for name in self.names(branch, properties):
                if name in value and value[name] is None:
                    del value[name]
            for name, item in value.items():
                if type(item) is dict or type(item) is list:
                    self.drop(item, properties[name], depth + 1)
            return
