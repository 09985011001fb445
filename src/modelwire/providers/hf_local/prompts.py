"""Turning a ``ChatRequest`` into the text an in-process model reads.

Decoder-only models: with a chat template on the tokenizer, the messages (system first) are
rendered by it with the generation prompt appended, and tokenized without adding special tokens
again (the template already placed them). Without a template, a single user message is used as
is, and a conversation becomes ``role: content`` lines ending with ``assistant:``.

Encoder-decoder models read one input text: the task prefix (``summarize: ``), then the system
text and the message contents, one paragraph each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelwire.providers.hf_local.architecture import ModelArchitecture
from modelwire.types import ChatRequest

__all__ = ["PromptText", "build_prompt", "chat_messages"]


@dataclass(frozen=True, slots=True)
class PromptText:
    """The model input, and whether the tokenizer should add its special tokens."""

    text: str
    add_special_tokens: bool
    templated: bool = False


def chat_messages(request: ChatRequest) -> list[dict[str, str]]:
    """The request as role/content dicts, the system text first."""
    out = [{"role": "system", "content": request.system}] if request.system else []
    out.extend({"role": m.role, "content": m.text} for m in request.messages)
    return out


def build_prompt(
    tokenizer: Any, architecture: ModelArchitecture, request: ChatRequest, prefix: str = ""
) -> PromptText:
    """The input text for ``request`` (see the module docstring)."""
    messages = chat_messages(request)
    if architecture is ModelArchitecture.ENCODER_DECODER:
        body = "\n\n".join(m["content"] for m in messages if m["content"])
        return PromptText(prefix + body, add_special_tokens=True)
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return PromptText(prefix + str(text), add_special_tokens=False, templated=True)
    if len(messages) == 1 and messages[0]["role"] == "user":
        return PromptText(prefix + messages[0]["content"], add_special_tokens=True)
    lines = [f"{m['role']}: {m['content']}" for m in messages]
    return PromptText(prefix + "\n".join([*lines, "assistant:"]), add_special_tokens=True)
