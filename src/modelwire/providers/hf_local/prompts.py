"""Turning a ``ChatRequest`` into the text an in-process model reads.

Decoder-only models: with a chat template on the tokenizer, the messages (system first) are
rendered by it with the generation prompt appended, and tokenized without adding special tokens
again (the template already placed them). Without a template, a single user message is used as
is, and a conversation becomes ``role: content`` lines ending with ``assistant:``.

Encoder-decoder models read one input text: the task prefix (``summarize: ``), then the system
text and the message contents, one paragraph each.

Tools go through the chat template, in the shapes ``transformers`` documents for
``apply_chat_template(messages, tools=...)``: each tool as ``{"type": "function", "function":
{name, description, parameters}}``; an assistant message's calls as ``tool_calls`` entries
(``{"id", "type": "function", "function": {"name", "arguments": {...}}}``); each tool result as
its own ``{"role": "tool", "name", "tool_call_id", "content"}`` message (an error result's text
starts with ``Error:``). Call ids reach the template as nine letters and digits (Mistral's
templates require that; ids that already are pass unchanged, others map to a stable hash), so a
call and its result still match. ``tool_choice="none"`` renders no tools; a named choice renders
only that tool (a local model cannot be forced to call it). Thinking parts are not rendered.
``template_supports_tools`` tells whether a tokenizer's template renders tools at all.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from modelwire.content import TextPart, ToolCall, ToolResultPart
from modelwire.providers.hf_local.architecture import ModelArchitecture
from modelwire.types import ChatRequest, Message

__all__ = [
    "PromptText",
    "build_prompt",
    "chat_messages",
    "template_supports_tools",
    "template_tools",
    "uses_tools",
    "wire_id",
]

_PROBE_TOOL = "modelwire_probe_tool"
_ID = re.compile(r"^[A-Za-z0-9]{9}$")
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class PromptText:
    """The model input, and whether the tokenizer should add its special tokens."""

    text: str
    add_special_tokens: bool
    templated: bool = False


def wire_id(call_id: str) -> str:
    """The id a template sees for ``call_id``: itself when it is nine letters and digits, else
    nine characters of its hash (the same id always maps to the same)."""
    if _ID.match(call_id):
        return call_id
    number = int.from_bytes(hashlib.blake2b(call_id.encode(), digest_size=8).digest(), "big")
    out = []
    for _ in range(9):
        number, digit = divmod(number, len(_ALPHABET))
        out.append(_ALPHABET[digit])
    return "".join(out)


def uses_tools(request: ChatRequest) -> bool:
    """Whether rendering ``request`` needs a template that takes tools: tools offered (unless
    ``tool_choice`` is ``none``), or tool calls and results in the history."""
    if request.tools and request.tool_choice != "none":
        return True
    return any(
        isinstance(part, ToolCall | ToolResultPart)
        for message in request.messages
        if not isinstance(message.content, str)
        for part in message.content
    )


def template_tools(request: ChatRequest) -> list[dict[str, Any]]:
    """The request's tools as the template takes them (see the module docstring)."""
    choice = request.tool_choice
    if choice == "none":
        return []
    named = choice not in (None, "auto", "required")
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": dict(tool.parameters),
            },
        }
        for tool in request.tools
        if not named or tool.name == choice
    ]


def chat_messages(request: ChatRequest) -> list[dict[str, Any]]:
    """The request as template messages, the system text first."""
    out: list[dict[str, Any]] = (
        [{"role": "system", "content": request.system}] if request.system else []
    )
    names: dict[str, str] = {}
    for message in request.messages:
        if isinstance(message.content, str):
            out.append({"role": message.role, "content": message.content})
        elif message.role == "tool":
            out.extend(_tool_results(message, names))
        else:
            out.append(_with_calls(message, names))
    return out


def _with_calls(message: Message, names: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"role": message.role, "content": message.text}
    calls = message.tool_calls
    if calls:
        entry["tool_calls"] = [
            {
                "id": wire_id(call.id),
                "type": "function",
                "function": {"name": call.name, "arguments": dict(call.arguments)},
            }
            for call in calls
        ]
        names.update((call.id, call.name) for call in calls)
    return entry


def _tool_results(message: Message, names: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, ToolResultPart):
            text = part.text
            out.append(
                {
                    "role": "tool",
                    "name": part.name or names.get(part.call_id, ""),
                    "tool_call_id": wire_id(part.call_id),
                    "content": f"Error: {text}" if part.is_error else text,
                }
            )
        elif isinstance(part, TextPart) and part.text:
            out.append({"role": "tool", "content": part.text})
    return out


def template_supports_tools(tokenizer: Any) -> bool:
    """Whether the tokenizer's chat template renders tool definitions: a probe tool given to it
    must appear in the rendered text (a template that ignores ``tools`` does not)."""
    if not getattr(tokenizer, "chat_template", None):
        return False
    probe = {
        "type": "function",
        "function": {
            "name": _PROBE_TOOL,
            "description": "A probe.",
            "parameters": {"type": "object", "properties": {}},
        },
    }
    try:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": "hello"}],
            tools=[probe],
            tokenize=False,
            add_generation_prompt=True,
        )
    except Exception:  # a template that fails on tools does not take them
        return False
    return _PROBE_TOOL in str(text)


def build_prompt(
    tokenizer: Any, architecture: ModelArchitecture, request: ChatRequest, prefix: str = ""
) -> PromptText:
    """The input text for ``request`` (see the module docstring)."""
    messages = chat_messages(request)
    if architecture is ModelArchitecture.ENCODER_DECODER:
        body = "\n\n".join(m["content"] for m in messages if m["content"])
        return PromptText(prefix + body, add_special_tokens=True)
    if getattr(tokenizer, "chat_template", None):
        tools = template_tools(request)
        extra: dict[str, Any] = {"tools": tools} if tools else {}
        text = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, **extra
        )
        return PromptText(prefix + str(text), add_special_tokens=False, templated=True)
    if len(messages) == 1 and messages[0]["role"] == "user":
        return PromptText(prefix + messages[0]["content"], add_special_tokens=True)
    lines = [f"{m['role']}: {m['content']}" for m in messages]
    return PromptText(prefix + "\n".join([*lines, "assistant:"]), add_special_tokens=True)
