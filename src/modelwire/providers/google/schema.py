"""Structured output on the Gemini API: how a request asks for it, and the schema rewrite.

Modes (``output_mode``):

* ``native`` (what ``auto`` uses; every Gemini model has it): ``response_mime_type:
  "application/json"`` and ``response_json_schema``, the JSON Schema field (not the older
  ``response_schema``, an OpenAPI subset without ``$defs``/``$ref``, so without recursion, whose
  unions need ``anyOf`` in its own dialect). The answer's text is the JSON, of any type at the
  top (no wrapping). Gemini combines a response schema with function calling only from Gemini 3
  on: with the request's own tools, older models use ``prompted`` (and say so in
  ``output_fallback``).
* ``tool``: a forced function call, one function declaration named after the type
  (``parameters_json_schema``: the schema as it is, wrapped as ``{"result": ...}`` when it is
  not an object) and ``tool_config.function_calling_config = {"mode": "ANY",
  "allowed_function_names": [name]}``; the call's arguments are the answer. Never chosen by
  ``auto`` (every Gemini model has the response schema); refused beside the request's own
  tools, which a forced call would keep the model from calling.
* ``prompted``: ``output_instructions(spec)`` appended to the system instruction.

``rewrite_schema`` keeps the keywords ``response_json_schema`` documents (``GEMINI_KEYWORDS``:
``type``, ``properties``, ``required``, ``additionalProperties``, ``items``, ``prefixItems``,
``minItems``, ``maxItems``, ``minimum``, ``maximum``, ``enum`` of strings and numbers,
``format``, ``anyOf``, ``oneOf``, ``$ref``/``$defs``, ``title``, ``description``,
``propertyOrdering``, ``$id``, ``$anchor``) and removes the others (``default``, ``pattern``,
``minLength``, ``exclusiveMinimum``, ...), reporting each in ``RewrittenSchema.removed``. Also:
``const`` becomes a one-value ``enum``; a single ``allOf`` member is merged into its node; a
list ``type`` becomes ``anyOf``; a ``$ref`` keeps only its ``$`` siblings (Gemini refuses
others). Recursion: Gemini unrolls a cycle of references only through properties that are not
required, so a property that leads back to its own definition is taken out of ``required``
(reported as ``"<path>: required <name> (recursive)"``); the answer is still validated against
the original type.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelwire.errors import InvalidRequestError
from modelwire.output import OutputSpec, RewrittenSchema, output_instructions
from modelwire.providers.schema_refs import def_name, reachable, recursive_defs, refs_in
from modelwire.types import ChatRequest, ModelInfo

__all__ = ["GEMINI_KEYWORDS", "OutputPlan", "apply_output", "plan_output", "rewrite_schema"]

#: The keywords ``response_json_schema`` takes.
GEMINI_KEYWORDS = frozenset(
    (
        "$id",
        "$defs",
        "$ref",
        "$anchor",
        "type",
        "format",
        "title",
        "description",
        "enum",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "anyOf",
        "oneOf",
        "properties",
        "additionalProperties",
        "required",
        "propertyOrdering",
    )
)


def _plain_value(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


class _Rewrite:
    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self.recursive = recursive_defs(schema)
        self.removed: list[str] = []

    def drop(self, path: str, what: str) -> None:
        self.removed.append(f"{path}: {what}" if path else what)

    def node(self, node: Any, path: str, owner: str | None) -> Any:
        if not isinstance(node, Mapping):
            return node
        rest = dict(node)
        out: dict[str, Any] = {}
        if "definitions" in rest and "$defs" not in rest:  # the older name: sent as $defs
            rest["$defs"] = rest.pop("definitions")
        defs = rest.pop("$defs", None)
        if isinstance(defs, Mapping):
            out["$defs"] = {
                name: self.node(sub, f"$defs.{name}", name if name in self.recursive else None)
                for name, sub in defs.items()
            }
        if "$ref" in rest:
            for key, value in rest.items():
                if key.startswith("$"):
                    out[key] = _local(value) if key == "$ref" else value
                else:
                    self.drop(path, key)
            return out
        all_of = rest.pop("allOf", None)
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], Mapping):
            merged = {**all_of[0], **rest}
            return self.node(merged, path, owner)
        if all_of is not None:
            self.drop(path, "allOf")
        if "const" in rest:
            value = rest.pop("const")
            if _plain_value(value):
                rest["enum"] = [value]
            else:
                self.drop(path, "const")
        enum = rest.get("enum")
        if enum is not None and not (isinstance(enum, list) and all(map(_plain_value, enum))):
            rest.pop("enum")
            self.drop(path, "enum")
        kind = rest.get("type")
        if isinstance(kind, list):
            rest.pop("type")
            rest.setdefault("anyOf", [{"type": k} for k in kind])
        for key, value in rest.items():
            if key not in GEMINI_KEYWORDS:
                self.drop(path, key)
            elif key == "properties" and isinstance(value, Mapping):
                out[key] = {
                    name: self.node(sub, _join(path, f"properties.{name}"), owner)
                    for name, sub in value.items()
                }
            elif key in ("items", "additionalProperties") and isinstance(value, Mapping):
                out[key] = self.node(value, _join(path, key), owner)
            elif key in ("anyOf", "oneOf", "prefixItems") and isinstance(value, list):
                out[key] = [
                    self.node(sub, _join(path, f"{key}.{i}"), owner) for i, sub in enumerate(value)
                ]
            else:
                out[key] = value
        if owner is not None and isinstance(out.get("required"), list):
            self._unrequire_cycles(out, path, owner)
        return out

    def _unrequire_cycles(self, out: dict[str, Any], path: str, owner: str) -> None:
        props = out.get("properties") or {}
        kept: list[Any] = []
        for name in out["required"]:
            if owner in reachable(self.schema, refs_in(props.get(name))):
                self.drop(path, f"required {name} (recursive)")
            else:
                kept.append(name)
        if kept:
            out["required"] = kept
        else:
            del out["required"]


def _local(ref: Any) -> Any:
    name = def_name(ref)
    return f"#/$defs/{name}" if name is not None else ref


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def rewrite_schema(schema: Mapping[str, Any]) -> RewrittenSchema:
    """``schema`` in the subset ``response_json_schema`` accepts, with what was removed."""
    rewrite = _Rewrite(schema)
    out = rewrite.node(schema, "", None)
    return RewrittenSchema(schema=out, removed=tuple(rewrite.removed))


@functools.lru_cache(maxsize=256)
def native_schema(spec: OutputSpec) -> RewrittenSchema:
    """The rewritten schema of ``spec`` (cached per spec, which is cached per type)."""
    return rewrite_schema(spec.schema)


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """How one request asks for its output: the mode, why it is not the one asked for, and for
    ``tool`` whether the arguments are wrapped as ``{"result": ...}``."""

    spec: OutputSpec
    mode: str
    fallback: str | None = None
    wrapped: bool = False

    @property
    def output_tool(self) -> tuple[str, bool] | None:
        """``(name, wrapped)`` of the forced output function (``tool`` mode), else ``None``."""
        return (self.spec.name, self.wrapped) if self.mode == "tool" else None


def _combines_with_tools(info: ModelInfo) -> bool:
    name = info.name.removeprefix("models/")
    return not name.startswith(("gemini-1", "gemini-2"))


def plan_output(request: ChatRequest, info: ModelInfo) -> OutputPlan | None:
    """The plan for ``request.output`` on ``info`` (``None`` without ``output=``)."""
    spec = request.output
    if spec is None:
        return None
    asked = request.output_mode
    if asked == "prompted":
        return OutputPlan(spec, "prompted")
    if asked == "tool":
        if request.tools:
            raise InvalidRequestError(
                'output_mode="tool": a forced output call would keep the model from calling '
                'the request\'s own tools; use output_mode="native" or "prompted"',
                provider=info.provider,
                model_id=info.id,
            )
        return OutputPlan(spec, "tool", wrapped=not spec.is_object)
    if request.tools and not _combines_with_tools(info):
        return OutputPlan(
            spec,
            "prompted",
            f"{info.id}: Gemini combines a response schema with function calling only from "
            "Gemini 3 on",
        )
    if asked == "auto" and not info.supports("structured_output"):
        return OutputPlan(spec, "prompted", f"{info.id} has no native structured output")
    return OutputPlan(spec, "native")


@functools.lru_cache(maxsize=256)
def _declaration(spec: OutputSpec) -> dict[str, Any]:
    schema: dict[str, Any] = dict(spec.schema)
    if not spec.is_object:
        inner = {k: v for k, v in schema.items() if k != "$defs"}
        wrapped = {"type": "object", "properties": {"result": inner}, "required": ["result"]}
        if "$defs" in schema:
            wrapped["$defs"] = schema["$defs"]
        schema = wrapped
    declaration: dict[str, Any] = {"name": spec.name, "parameters_json_schema": schema}
    if spec.description:
        declaration["description"] = spec.description
    return declaration


def apply_output(config: dict[str, Any], plan: OutputPlan) -> None:
    """Add what ``plan`` asks for to a ``GenerateContentConfig`` dict."""
    if plan.mode == "native":
        config["response_mime_type"] = "application/json"
        config["response_json_schema"] = native_schema(plan.spec).schema
        config.pop("response_schema", None)
    elif plan.mode == "tool":
        config["tools"] = [{"function_declarations": [_declaration(plan.spec)]}]
        calling = {"mode": "ANY", "allowed_function_names": [plan.spec.name]}
        config["tool_config"] = {"function_calling_config": calling}
    else:
        instructions = output_instructions(plan.spec)
        system = config.get("system_instruction")
        config["system_instruction"] = f"{system}\n\n{instructions}" if system else instructions
