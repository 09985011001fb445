"""Structured output on the Chat Completions wire: which mode a request runs in, what it adds
to the request body, and how the answer becomes the requested JSON.

Modes (``ChatRequest.output_mode``):

``native``
    OpenAI: ``response_format={"type": "json_schema", "json_schema": {"name", "schema",
    "strict": true}}`` with the schema rewritten to the strict subset (``openai.schema``).
    OpenAI-compatible servers: what the entry's ``structured_output`` setting says —
    ``json_schema`` (the same body), ``json_object`` (``response_format={"type":
    "json_object"}`` and the schema as instructions in the system prompt) or ``prompted``.
``tool``
    one function tool carrying the (strict) schema, forced with a named ``tool_choice``; the
    answer is its arguments. Not with the request's own tools (``UnsupportedFeatureError``):
    the forced choice would keep the model from calling them.
``prompted``
    ``output.output_instructions`` appended to the system prompt.
``auto``
    OpenAI: native when the model has ``structured_output``, else a forced tool when it has
    ``tools`` (and the request has none of its own), else prompted. OpenAI-compatible: the
    entry's setting. A schema the strict subset cannot express (a map such as
    ``dict[str, int]``) goes on down that chain: ``json_object`` with instructions (only for
    an object output), then prompted. Whenever ``auto`` (or ``native`` on a server configured
    otherwise) does not run the native schema mode, ``ChatResponse.output_fallback`` says why.

The response's ``text`` is the answer's JSON as the requested type (unwrapped from
``{"result": ...}``, see ``openai.schema.answer_json``) and ``output_mode`` says which mode
ran (``native`` for ``json_schema``; ``json_object`` and instructions count as ``prompted``).
A refusal (``message.refusal``) raises ``OutputValidationError`` with the refusal's text.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Literal

from modelwire.errors import OutputValidationError, UnsupportedFeatureError
from modelwire.output import OutputSpec, output_instructions
from modelwire.providers.openai.schema import answer_json, strict_schema
from modelwire.types import ChatRequest, ChatResponse, ModelInfo

__all__ = [
    "CompatibleMode",
    "OutputPlan",
    "apply_output",
    "output_plan",
    "refusal_error",
    "structured_response",
    "tool_arguments_text",
]

CompatibleMode = Literal["json_schema", "json_object", "prompted"]
"""How an OpenAI-compatible server is asked for structured output (the ``structured_output``
setting of its entry)."""

Wire = Literal["json_schema", "json_object", "tool", "prompted"]


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """How one request asks for its output: the wire form, the mode it reports and, when it is
    not what was asked for, why."""

    spec: OutputSpec
    wire: Wire
    fallback: str | None = None

    @property
    def mode(self) -> str:
        """``native``, ``tool`` or ``prompted`` (what ``ChatResponse.output_mode`` says)."""
        return {"json_schema": "native", "tool": "tool"}.get(self.wire, "prompted")

    @property
    def strict(self) -> bool:
        """Whether the answer follows the strict rewrite (and is turned back with it)."""
        return self.wire in ("json_schema", "tool")

    def answer(self, text: str) -> str:
        """The answer's JSON as the requested type."""
        return answer_json(self.spec, text) if self.strict else text


def output_plan(
    info: ModelInfo, request: ChatRequest, configured: CompatibleMode | None = None
) -> OutputPlan:
    """The plan for a request with ``output`` (``configured``: an OpenAI-compatible entry's
    ``structured_output``; ``None`` for OpenAI itself)."""
    spec = request.output
    assert spec is not None
    return _plan(spec, request.output_mode, _native_of(info), bool(request.tools), configured)


def _native_of(info: ModelInfo) -> tuple[str, bool, bool]:
    """The model facts the plan reads: its id, native mode, tools (known to be there)."""
    tools = info.features is not None and "tools" in info.features
    return info.id, info.supports("structured_output"), tools


@functools.lru_cache(maxsize=1024)
def _plan(
    spec: OutputSpec,
    asked: str,
    model: tuple[str, bool, bool],
    has_tools: bool,
    configured: CompatibleMode | None,
) -> OutputPlan:
    model_id, native, tools = model
    try:
        strict_schema(spec)
        strict_error = None
    except UnsupportedFeatureError as exc:
        strict_error = str(exc)
    if asked == "prompted":
        return OutputPlan(spec, "prompted")
    if asked == "tool":
        if has_tools:
            raise UnsupportedFeatureError(
                f"output_mode 'tool' cannot be combined with the request's own tools on "
                f"{model_id}; use 'native' or 'prompted'"
            )
        if strict_error is not None:
            raise UnsupportedFeatureError(f"output_mode 'tool' on {model_id}: {strict_error}")
        return OutputPlan(spec, "tool")
    if configured is not None:
        return _compatible(spec, asked, configured, strict_error)
    if asked == "native":
        if strict_error is not None:
            raise UnsupportedFeatureError(f"output_mode 'native' on {model_id}: {strict_error}")
        return OutputPlan(spec, "json_schema")
    if strict_error is not None:
        return OutputPlan(spec, "prompted", f"no strict schema: {strict_error}")
    if native:
        return OutputPlan(spec, "json_schema")
    if tools and not has_tools:
        return OutputPlan(spec, "tool", f"{model_id} has no native structured output")
    return OutputPlan(spec, "prompted", f"{model_id} has no native structured output or tools")


def _compatible(
    spec: OutputSpec, asked: str, configured: CompatibleMode, strict_error: str | None
) -> OutputPlan:
    if configured == "json_schema" and strict_error is None:
        return OutputPlan(spec, "json_schema")
    reason = (
        f"no strict schema: {strict_error}"
        if configured == "json_schema"
        else f"the provider is configured with structured_output: {configured}"
        if asked == "native"
        else None
    )
    if configured != "prompted" and spec.is_object:
        return OutputPlan(spec, "json_object", reason)
    if reason is None and configured != "prompted":
        reason = "json_object mode takes object outputs only"
    return OutputPlan(spec, "prompted", reason)


def apply_output(params: dict[str, Any], plan: OutputPlan) -> None:
    """Add the plan's parts to a request body (``response_format``, the output tool, the
    instructions in the system message)."""
    spec = plan.spec
    if plan.wire == "json_schema":
        json_schema: dict[str, Any] = {"name": spec.name}
        if spec.description:
            json_schema["description"] = spec.description
        json_schema["schema"] = strict_schema(spec).schema
        json_schema["strict"] = True
        params["response_format"] = {"type": "json_schema", "json_schema": json_schema}
    elif plan.wire == "tool":
        function: dict[str, Any] = {"name": spec.name}
        function["description"] = spec.description or f"Answer with {spec.name}."
        function["parameters"] = strict_schema(spec).schema
        function["strict"] = True
        params["tools"] = [{"type": "function", "function": function}]
        params["tool_choice"] = {"type": "function", "function": {"name": spec.name}}
    else:
        if plan.wire == "json_object":
            params["response_format"] = {"type": "json_object"}
        params["messages"] = _with_instructions(params["messages"], output_instructions(spec))


def _with_instructions(messages: list[dict[str, Any]], instructions: str) -> list[dict[str, Any]]:
    first = messages[0] if messages else None
    if first is not None and first.get("role") == "system" and type(first["content"]) is str:
        system = {**first, "content": f"{first['content']}\n\n{instructions}"}
        return [system, *messages[1:]]
    return [{"role": "system", "content": instructions}, *messages]


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def refusal_error(spec: OutputSpec, refusal: str) -> OutputValidationError:
    """The error for a model that refused to answer with ``spec``."""
    return OutputValidationError(
        f"the model refused to answer with {spec.name}: {refusal}", raw_text=refusal, errors=[]
    )


def structured_response(response: ChatResponse, completion: Any, plan: OutputPlan) -> ChatResponse:
    """``response`` as a structured answer: its text the requested JSON (in tool mode, the
    output tool's arguments, read from ``completion``), ``output_mode`` and ``output_fallback``
    set; a refusal raises ``OutputValidationError``."""
    choices = _get(completion, "choices")
    message = _get(choices[0], "message") if choices else None
    refusal = _get(message, "refusal")
    if refusal:
        raise refusal_error(plan.spec, str(refusal))
    if plan.wire == "tool":
        for call in _get(message, "tool_calls") or ():
            function = _get(call, "function")
            if _get(function, "name") == plan.spec.name:
                response.text = str(_get(function, "arguments") or "")
                break
    response.text = plan.answer(response.text)
    response.output_mode = plan.mode
    response.output_fallback = plan.fallback
    return response


def tool_arguments_text(pieces: Any) -> str:
    """The argument pieces of streamed tool-call deltas (the output tool's JSON, in order)."""
    out = []
    for piece in pieces:
        function = _get(piece, "function")
        arguments = _get(function, "arguments") if function is not None else None
        if arguments:
            out.append(arguments if type(arguments) is str else json.dumps(arguments))
    return "".join(out)
