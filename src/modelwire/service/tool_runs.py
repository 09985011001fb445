"""The tool loop: call a model with tools, run the tools it asks for, send back their results,
until it answers without a tool call.

``tool_run`` is a call machine like the others (``service.calls``): the same code runs from
``ModelService.run_tools`` (blocking) and ``arun_tools`` (asyncio). Every round is one call
through the service, so one ledger attempt (more when it is retried or fails over), and every
attempt of one run carries the run's ``run_id``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from modelwire.content import ImagePart, TextPart, ToolCall, ToolResultPart
from modelwire.errors import OutputValidationError, ToolRoundsExceededError
from modelwire.machines import Machine
from modelwire.output import OutputSpec
from modelwire.service.effects import RunTool
from modelwire.service.outputs import check_output
from modelwire.tools import Tool
from modelwire.types import ChatResponse, Message

__all__ = ["ToolErrors", "ToolRun", "tool_result", "tool_run"]

ToolErrors = Literal["result", "raise"]
"""What a tool that raises becomes: an error result the model sees, or the exception itself."""


@dataclass(frozen=True, slots=True)
class ToolRun:
    """A finished tool loop: the final answer, the whole history, and the run's id.

    ``messages`` starts with the prompt and ends with the final assistant message;
    ``responses`` holds every round's response in order.
    """

    response: ChatResponse
    messages: tuple[Message, ...]
    run_id: str
    responses: tuple[ChatResponse, ...] = field(default=())

    @property
    def rounds(self) -> int:
        """How many model calls the run made."""
        return len(self.responses)


Call = Callable[[list[Message], str], Machine[ChatResponse]]
"""One round: the machine of one call with this history, tagged with the run id."""


def tool_run(
    call: Call,
    history: Sequence[Message],
    tools: Sequence[Tool],
    *,
    max_rounds: int,
    errors: ToolErrors = "result",
    run_id: str | None = None,
    output: OutputSpec | None = None,
    output_retries: int = 0,
) -> Machine[ToolRun]:
    """Call, run the requested tools, send their results back; repeat until an answer without
    tool calls, or raise ``ToolRoundsExceededError`` after ``max_rounds`` calls.

    With ``output``, the final answer is validated as that type; an invalid one is asked for
    again (within ``max_rounds``) at most ``output_retries`` times, then raises its
    ``OutputValidationError``."""
    if max_rounds < 1:
        raise ValueError("max_rounds must be at least 1")
    run_id = run_id or uuid.uuid4().hex
    messages = list(history)
    by_name = {t.name: t for t in tools}
    responses: list[ChatResponse] = []
    for _ in range(max_rounds):
        response = yield from call(messages, run_id)
        responses.append(response)
        messages.append(response.message)
        if not response.tool_calls:
            if output is None:
                return ToolRun(response, tuple(messages), run_id, tuple(responses))
            try:
                check_output(response, output)
            except OutputValidationError as err:
                if output_retries <= 0:
                    raise
                output_retries -= 1
                text = f"That answer is not valid: {err}. Answer again with only the JSON."
                messages.append(Message(role="user", content=text))
                continue
            return ToolRun(response, tuple(messages), run_id, tuple(responses))
        results = []
        for tool_call in response.tool_calls:
            results.append((yield from _run_one(by_name.get(tool_call.name), tool_call, errors)))
        messages.append(Message(role="tool", content=tuple(results)))
    raise ToolRoundsExceededError(
        f"the model still asked for tools after {max_rounds} rounds (max_rounds)",
        run=ToolRun(responses[-1], tuple(messages), run_id, tuple(responses)),
    )


def _run_one(tool: Tool | None, call: ToolCall, errors: ToolErrors) -> Machine[ToolResultPart]:
    """The result of one call: the tool's return value, or an error result."""
    if tool is None or tool.function is None:
        why = "no such tool" if tool is None else "this tool has no Python function to run"
        return _failed(call, f"{why}: {call.name!r}")
    try:
        arguments = tool.validate_arguments(call.arguments)
        value = yield RunTool(tool.function, arguments)
    except ValidationError as exc:
        if errors == "raise":
            raise
        return _failed(call, f"invalid arguments: {_one_line(exc)}")
    except Exception as exc:
        if errors == "raise":
            raise
        return _failed(call, f"{type(exc).__name__}: {exc}")
    return tool_result(call, value)


def _failed(call: ToolCall, text: str) -> ToolResultPart:
    return ToolResultPart(call_id=call.id, content=text, is_error=True, name=call.name)


def tool_result(call: ToolCall, value: Any) -> ToolResultPart:
    """A tool's return value as the result of ``call``: text as is, images and text parts as
    parts, pydantic models and other JSON-able values as JSON."""
    if isinstance(value, ToolResultPart):
        return value
    content: str | tuple[TextPart | ImagePart, ...]
    if isinstance(value, str):
        content = value
    elif isinstance(value, TextPart | ImagePart):
        content = (value,)
    elif (
        isinstance(value, Sequence)
        and value
        and all(isinstance(v, TextPart | ImagePart) for v in value)
    ):
        content = tuple(value)
    elif isinstance(value, BaseModel):
        content = value.model_dump_json()
    else:
        content = json.dumps(_jsonable(value), default=str)
    return ToolResultPart(call_id=call.id, content=content, name=call.name)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "arguments"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"
