"""Structured output on the Messages API: how a request asks for it, and the schema rewrite.

Modes (``output_mode``):

* ``native``: ``output_config.format = {"type": "json_schema", "schema": ...}`` (Anthropic's
  structured outputs, generally available on the models with the catalog feature
  ``structured_output``); the answer is a text block of JSON. The schema is rewritten to the
  subset the API accepts (``rewrite_schema``); a recursive schema (the API refuses recursion),
  and one whose values the subset cannot hold (a ``dict[str, int]``: objects must have
  ``additionalProperties: false``; a tuple's ``prefixItems``), fall back to ``tool``
  (``native_refusal`` says why).
* ``tool``: a forced tool call, ``tools=[{"name": spec.name, "input_schema": ...}]`` with
  ``tool_choice={"type": "tool", "name": ...}``; the tool's input is the answer. Tool schemas
  take full JSON Schema, so nothing is removed. With the caller's own tools in the request a
  forced call would keep the model from calling them, and the API refuses a forced call with
  extended thinking: in either case ``tool`` is refused, and ``auto`` uses ``native`` where the
  model has it, else ``prompted`` (a recursive schema: ``prompted``).
* ``prompted``: ``output_instructions(spec)`` appended to the system prompt.
* ``auto``: ``native`` where the model ``supports("structured_output")``, else ``tool``.

An output that is not a JSON object at the top (``list[City]``, ``int``) is wrapped as
``{"result": ...}`` for ``native`` and ``tool`` (a tool's input must be an object) and unwrapped
from the answer.

The rewrite follows the rules of the ``anthropic`` SDK's own ``transform_schema`` (a test pins
that both agree): every object gets ``additionalProperties: false``; ``type``, ``properties``,
``required``, ``items``, ``enum``/``const`` of plain values, ``anyOf`` (``oneOf`` becomes
``anyOf``), ``allOf``, local ``$ref``/``$defs``, ``title`` and ``description`` stay; string
``format`` stays when the API knows it, ``minItems`` when it is 0 or 1. Everything else
(``minimum``, ``maxLength``, ``pattern``, ``default``, ...) is removed, listed in
``RewrittenSchema.removed`` and, like the SDK does, written into the node's description as a
hint. The answer is still validated against the original type.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelwire.errors import InvalidRequestError
from modelwire.output import OutputSpec, RewrittenSchema, output_instructions
from modelwire.providers.schema_refs import recursive_defs
from modelwire.types import ChatRequest, ModelInfo

__all__ = [
    "STRING_FORMATS",
    "STRUCTURAL",
    "OutputPlan",
    "apply_output",
    "native_refusal",
    "native_schema",
    "plan_output",
    "rewrite_schema",
    "tool_schema",
    "unwrap",
]

#: String formats the API accepts in ``output_config.format`` schemas.
STRING_FORMATS = frozenset(
    ("date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid")
)
_PRIMITIVE = (str, int, float, bool, type(None))


def _primitive(value: Any) -> bool:
    return isinstance(value, _PRIMITIVE)


def _rewrite(node: Any, path: str, removed: list[str]) -> Any:
    if not isinstance(node, Mapping):
        return node
    rest = dict(node)
    out: dict[str, Any] = {}
    at = f"{path}: " if path else ""
    for key in ("$defs", "definitions"):
        defs = rest.pop(key, None)
        if isinstance(defs, Mapping):
            out[key] = {name: _rewrite(sub, f"{key}.{name}", removed) for name, sub in defs.items()}
    ref = rest.pop("$ref", None)
    if ref is not None:
        out["$ref"] = ref
        if "description" in rest:
            out["description"] = rest.pop("description")
        removed.extend(f"{at}{key}" for key in rest)
        return out
    kind = rest.pop("type", None)
    any_of, one_of, all_of = (
        rest.pop("anyOf", None),
        rest.pop("oneOf", None),
        rest.pop("allOf", None),
    )
    enum = rest.get("enum")
    if isinstance(enum, list) and enum and all(_primitive(v) for v in enum):
        out["enum"] = list(rest.pop("enum"))
    if "const" in rest and _primitive(rest["const"]):
        out["const"] = rest.pop("const")
    literal = "enum" in out or "const" in out
    if isinstance(kind, list):  # ["string", "null"]: a union of types
        any_of = [{"type": k} for k in kind] if any_of is None else any_of
        kind = None
    if literal:
        kind = None
    if isinstance(any_of, list):
        out["anyOf"] = [
            _rewrite(v, f"{path}.anyOf.{i}".lstrip("."), removed) for i, v in enumerate(any_of)
        ]
    elif isinstance(one_of, list):
        removed.append(f"{at}oneOf (sent as anyOf)")
        out["anyOf"] = [
            _rewrite(v, f"{path}.anyOf.{i}".lstrip("."), removed) for i, v in enumerate(one_of)
        ]
    elif isinstance(all_of, list):
        out["allOf"] = [
            _rewrite(v, f"{path}.allOf.{i}".lstrip("."), removed) for i, v in enumerate(all_of)
        ]
    elif kind is not None:
        out["type"] = kind
    for key in ("description", "title"):
        if key in rest:
            out[key] = rest.pop(key)
    if kind == "object":
        props = rest.pop("properties", None) or {}
        out["properties"] = {
            name: _rewrite(sub, f"{path}.properties.{name}".lstrip("."), removed)
            for name, sub in props.items()
        }
        extra = rest.pop("additionalProperties", None)
        if extra not in (None, False):
            removed.append(f"{at}additionalProperties")
        out["additionalProperties"] = False
        if "required" in rest:
            out["required"] = list(rest.pop("required"))
    elif kind == "string":
        fmt = rest.get("format")
        if fmt in STRING_FORMATS:
            out["format"] = rest.pop("format")
    elif kind == "array":
        if "items" in rest:
            out["items"] = _rewrite(rest.pop("items"), f"{path}.items".lstrip("."), removed)
        if rest.get("minItems") in (0, 1):
            out["minItems"] = rest.pop("minItems")
    if rest:  # what the API does not take: reported, and left to the model as a hint
        removed.extend(f"{at}{key}" for key in rest)
        hint = "{" + ", ".join(f"{key}: {value}" for key, value in rest.items()) + "}"
        described = out.get("description")
        out["description"] = f"{described}\n\n{hint}" if described is not None else hint
    return out


def rewrite_schema(schema: Mapping[str, Any]) -> RewrittenSchema:
    """``schema`` in the subset ``output_config.format`` accepts, with what was removed."""
    removed: list[str] = []
    rewritten = _rewrite(schema, "", removed)
    return RewrittenSchema(schema=rewritten, removed=tuple(removed))


def _wrap(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``{"result": schema}`` as an object schema, the definitions kept at the top."""
    inner = {k: v for k, v in schema.items() if k not in ("$defs", "definitions")}
    wrapped: dict[str, Any] = {
        "type": "object",
        "properties": {"result": inner},
        "required": ["result"],
    }
    for key in ("$defs", "definitions"):
        if key in schema:
            wrapped[key] = schema[key]
    return wrapped


#: Keywords that shape the value itself: a schema that needs one cannot be sent natively (the
#: answer could not hold the value), and goes to a forced tool, whose schema takes them.
STRUCTURAL = ("prefixItems", "patternProperties", "not", "if", "dependentSchemas")


def _structural(node: Any) -> str | None:
    """The first keyword of ``node`` the native subset cannot express without losing values
    (a ``dict[str, int]``'s ``additionalProperties`` schema, a tuple's ``prefixItems``...)."""
    if isinstance(node, Mapping):
        for key in STRUCTURAL:
            if key in node:
                return key
        if isinstance(node.get("additionalProperties"), Mapping):
            return "additionalProperties"
        nodes: Any = node.values()
    elif isinstance(node, list):
        nodes = node
    else:
        return None
    for sub in nodes:
        found = _structural(sub)
        if found:
            return found
    return None


@functools.lru_cache(maxsize=256)
def native_refusal(spec: OutputSpec) -> str | None:
    """Why ``spec`` cannot use native mode (``None``: it can)."""
    if recursive_defs(spec.schema):
        return "native: Anthropic's structured outputs refuse recursive schemas"
    keyword = _structural(spec.schema)
    if keyword:
        return f"native: Anthropic's structured outputs cannot express {keyword}"
    return None


@functools.lru_cache(maxsize=256)
def native_schema(spec: OutputSpec) -> RewrittenSchema | None:
    """The rewritten schema of ``spec`` for ``native`` mode; ``None`` when it cannot be sent
    natively (``native_refusal`` says why)."""
    if native_refusal(spec) is not None:
        return None
    wrapped = not spec.is_object
    rewritten = rewrite_schema(_wrap(spec.schema) if wrapped else spec.schema)
    return RewrittenSchema(rewritten.schema, rewritten.removed, wrapped)


@functools.lru_cache(maxsize=256)
def tool_schema(spec: OutputSpec) -> RewrittenSchema:
    """The ``input_schema`` of the forced output tool (the schema as it is, wrapped when it is
    not an object)."""
    if spec.is_object:
        return RewrittenSchema(schema=dict(spec.schema))
    return RewrittenSchema(schema=_wrap(spec.schema), wrapped=True)


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """How one request asks for its output: the mode, why it is not the one asked for
    (``fallback``), the tool's name (``tool``) and whether the answer is wrapped."""

    spec: OutputSpec
    mode: str
    fallback: str | None = None
    wrapped: bool = False
    schema: RewrittenSchema | None = None

    @property
    def tool_name(self) -> str:
        """The name of the forced output tool."""
        return self.spec.name


def plan_output(request: ChatRequest, info: ModelInfo) -> OutputPlan | None:
    """The plan for ``request.output`` on ``info`` (``None`` without ``output=``)."""
    spec = request.output
    if spec is None:
        return None
    thinking = request.provider_params.get("thinking")
    blocked = None
    if request.tools:
        blocked = "a forced output tool would keep the model from calling the request's tools"
    elif isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        blocked = "Anthropic refuses a forced tool call with extended thinking"
    native = info.supports("structured_output")
    return _plan(spec, request.output_mode, blocked, native, info.id)


@functools.lru_cache(maxsize=512)
def _plan(
    spec: OutputSpec, asked: str, blocked: str | None, native: bool, model_id: str
) -> OutputPlan:
    """``blocked``: why a forced tool call cannot be used for this request, if it cannot."""
    if asked == "prompted":
        return OutputPlan(spec, "prompted")
    if asked == "tool":
        if blocked:
            raise InvalidRequestError(
                f'output_mode="tool": {blocked}; use output_mode="native" or "prompted"',
                provider=model_id.partition(":")[0],
                model_id=model_id,
            )
        return _tool_plan(spec, None)
    if asked == "auto" and not native:
        if blocked:
            why = f"{model_id} has no native structured output, and {blocked}"
            return OutputPlan(spec, "prompted", why)
        return _tool_plan(spec, None)
    rewritten = native_schema(spec)
    if rewritten is None:  # recursive, or a value the subset cannot hold
        why = native_refusal(spec) or "native"
        if blocked:
            return OutputPlan(spec, "prompted", f"{why}, and {blocked}")
        return _tool_plan(spec, why)
    return OutputPlan(spec, "native", None, rewritten.wrapped, rewritten)


def _tool_plan(spec: OutputSpec, fallback: str | None) -> OutputPlan:
    schema = tool_schema(spec)
    return OutputPlan(spec, "tool", fallback, schema.wrapped, schema)


def apply_output(body: dict[str, Any], plan: OutputPlan) -> None:
    """Add what ``plan`` asks for to a Messages request body."""
    if plan.mode == "native":
        assert plan.schema is not None
        config = dict(body.get("output_config") or {})
        config["format"] = {"type": "json_schema", "schema": plan.schema.schema}
        body["output_config"] = config
    elif plan.mode == "tool":
        assert plan.schema is not None
        tool: dict[str, Any] = {"name": plan.tool_name, "input_schema": plan.schema.schema}
        if plan.spec.description:
            tool["description"] = plan.spec.description
        body["tools"] = [tool]
        body["tool_choice"] = {"type": "tool", "name": plan.tool_name}
    else:
        instructions = output_instructions(plan.spec)
        system = body.get("system")
        if isinstance(system, list):  # system blocks (provider_params): one more text block
            body["system"] = [*system, {"type": "text", "text": instructions}]
        else:
            body["system"] = f"{system}\n\n{instructions}" if system else instructions


def unwrap(text: str) -> str:
    """The JSON of ``result`` in a wrapped answer (the text as it is when it is not one)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict) and set(data) == {"result"}:
        return json.dumps(data["result"])
    return text
