"""A request's messages and tools in the Chat Completions wire format (pure: no SDK import).

Messages
    A message whose content is a string is sent as ``{"role", "content"}`` unchanged. Parts map
    as follows:

    * ``user``: text → ``{"type": "text"}``; ``ImagePart`` → ``{"type": "image_url", "image_url":
      {"url", "detail"?}}`` (its URL, or a ``data:`` URL of its bytes); ``DocumentPart`` (PDF
      bytes) → ``{"type": "file", "file": {"filename", "file_data": "data:application/pdf;…"}}``.
      A single text part is sent as a plain string.
    * ``assistant``: its text parts joined become ``content`` (``null`` when it only calls
      tools); each ``ToolCall`` → ``tool_calls[{"id", "type": "function", "function": {"name",
      "arguments": <JSON string>}}]``.
    * ``tool``: each ``ToolResultPart`` becomes its own ``{"role": "tool", "tool_call_id",
      "content"}`` message; ``content`` is its text, or a list of its text parts. A result marked
      ``is_error`` starts with ``Error: ``. Chat Completions refuses images in tool messages, so a
      result's images go in one ``user`` message right after the tool messages of that turn
      (each group labelled with its call id), and the tool message says they follow.
    * ``system``: its text parts.
    * ``ThinkingPart`` is dropped (Chat Completions takes no reasoning back), and so is other
      vendors' ``provider_state`` on tool calls.

Portable histories
    Call ids pass through ``wire_id``: an id of at most 40 letters, digits, ``_`` or ``-`` is
    kept, any other (another vendor's) becomes ``call_`` and 35 hex digits of its SHA-256, so a
    call and its result keep matching. A tool result whose call id no assistant message of the
    history made is an ``InvalidRequestError`` before any request.

Refused before any request (``UnsupportedFeatureError``)
    A document given by URL (Chat Completions takes PDF bytes only) or that is not a PDF; an
    image or document in an assistant or system message; and, for OpenAI itself
    (``OPENAI_LIMITS``), an image over 20 MB, more than 500 images or 50 MB of image bytes, or
    more than 32 MB of documents in one request.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelwire.content import (
    DocumentPart,
    ImagePart,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultPart,
)
from modelwire.errors import InvalidRequestError, UnsupportedFeatureError
from modelwire.tools import Tool
from modelwire.types import ChatRequest, Message, ModelInfo

__all__ = [
    "OPENAI_LIMITS",
    "ContentLimits",
    "wire_id",
    "wire_messages",
    "wire_tool_choice",
    "wire_tools",
]

_WIRE_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ContentLimits:
    """The most a request may carry (bytes given inline; images by URL count as images only)."""

    image_bytes: int
    images: int
    request_image_bytes: int
    request_document_bytes: int


#: OpenAI's documented limits: 20 MB per image, 500 images and 50 MB of image bytes per request,
#: 32 MB of file content per request.
OPENAI_LIMITS = ContentLimits(
    image_bytes=20 * _MB,
    images=500,
    request_image_bytes=50 * _MB,
    request_document_bytes=32 * _MB,
)


def wire_id(call_id: str) -> str:
    """The tool-call id to send for ``call_id``: itself when OpenAI accepts it (at most 40
    characters of ``[A-Za-z0-9_-]``), else ``call_`` and 35 hex digits of its SHA-256: the same
    id always gives the same wire id, so a call and its result still match."""
    if _WIRE_ID.fullmatch(call_id):
        return call_id
    return "call_" + hashlib.sha256(call_id.encode()).hexdigest()[:35]


def wire_tools(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    """``tools`` as Chat Completions function tools (a description only when there is one)."""
    out: list[dict[str, Any]] = []
    for tool in tools:
        function: dict[str, Any] = {"name": tool.name}
        if tool.description:
            function["description"] = tool.description
        function["parameters"] = dict(tool.parameters)
        out.append({"type": "function", "function": function})
    return out


def wire_tool_choice(choice: str) -> str | dict[str, Any]:
    """``auto``/``none``/``required`` as they are; a tool's name as a named function choice."""
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


class _Tally:
    """What a request carries so far, against the limits (``None``: no limits)."""

    __slots__ = ("document_bytes", "image_bytes", "images", "info", "limits")

    def __init__(self, info: ModelInfo, limits: ContentLimits | None) -> None:
        self.info = info
        self.limits = limits
        self.images = 0
        self.image_bytes = 0
        self.document_bytes = 0

    def refuse(self, message: str) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(message, provider=self.info.provider, model_id=self.info.id)

    def image(self, part: ImagePart, where: str) -> dict[str, Any]:
        limits = self.limits
        if limits is not None:
            self.images += 1
            self.image_bytes += part.size
            if part.size > limits.image_bytes:
                raise self.refuse(
                    f"{where}: the image is {part.size} bytes; "
                    f"{self.info.id} takes at most {limits.image_bytes} bytes per image"
                )
            if self.images > limits.images:
                raise self.refuse(
                    f"{where}: more than {limits.images} images in one request for {self.info.id}"
                )
            if self.image_bytes > limits.request_image_bytes:
                raise self.refuse(
                    f"{where}: the request's images exceed {limits.request_image_bytes} bytes, "
                    f"the most {self.info.id} takes"
                )
        image_url: dict[str, Any] = {"url": part.data_url}
        if part.detail is not None:
            image_url["detail"] = part.detail
        return {"type": "image_url", "image_url": image_url}

    def document(self, part: DocumentPart, where: str) -> dict[str, Any]:
        if part.data is None:
            raise self.refuse(
                f"{where}: Chat Completions takes documents as bytes, not by URL; "
                "pass DocumentPart(data=...) or DocumentPart.from_path(...)"
            )
        if part.media_type != "application/pdf":
            raise self.refuse(
                f"{where}: Chat Completions takes PDF documents only, not {part.media_type!r}"
            )
        limits = self.limits
        if limits is not None:
            self.document_bytes += part.size
            if self.document_bytes > limits.request_document_bytes:
                raise self.refuse(
                    f"{where}: the request's documents exceed {limits.request_document_bytes} "
                    f"bytes, the most {self.info.id} takes"
                )
        return {
            "type": "file",
            "file": {"filename": part.name or "document.pdf", "file_data": part.data_url},
        }


def _invalid(info: ModelInfo, message: str) -> InvalidRequestError:
    return InvalidRequestError(message, provider=info.provider, model_id=info.id)


def wire_messages(
    request: ChatRequest, info: ModelInfo, limits: ContentLimits | None = None
) -> list[dict[str, Any]]:
    """The ``messages`` of a Chat Completions request (``system`` first)."""
    out: list[dict[str, Any]] = []
    if request.system:
        out.append({"role": "system", "content": request.system})
    history = request.messages
    for message in history:
        if type(message.content) is not str or message.role == "tool":
            break
    else:  # plain text messages, as they are
        out.extend([{"role": m.role, "content": m.content} for m in history])
        return out
    tally = _Tally(info, limits)
    calls = {call.id for m in history if m.role == "assistant" for call in m.tool_calls}
    follow_up: list[dict[str, Any]] = []  # images of the current turn's tool results
    for index, message in enumerate(history):
        where = f"messages[{index}]"
        if follow_up and message.role != "tool":
            out.append({"role": "user", "content": follow_up})
            follow_up = []
        if message.role == "tool":
            out.extend(_tool_results(message, calls, tally, follow_up, where))
        elif type(message.content) is str:
            out.append({"role": message.role, "content": message.content})
        elif message.role == "assistant":
            out.append(_assistant(message, tally, where))
        else:
            out.append(_user_or_system(message, tally, where))
    if follow_up:
        out.append({"role": "user", "content": follow_up})
    return out


def _user_or_system(message: Message, tally: _Tally, where: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for n, part in enumerate(message.parts):
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, ThinkingPart):
            continue
        elif message.role == "system":
            raise tally.refuse(f"{where}.content[{n}]: a system message takes text only")
        elif isinstance(part, ImagePart):
            content.append(tally.image(part, f"{where}.content[{n}]"))
        elif isinstance(part, DocumentPart):
            content.append(tally.document(part, f"{where}.content[{n}]"))
        else:
            raise _invalid(
                tally.info,
                f"{where}.content[{n}]: a {part.type} part belongs in "
                f"{'an assistant' if isinstance(part, ToolCall) else 'a tool'} message, "
                f"not a {message.role} message",
            )
    if len(content) == 1 and content[0]["type"] == "text":
        return {"role": message.role, "content": content[0]["text"]}
    if message.role == "system":
        return {"role": "system", "content": "".join(c["text"] for c in content)}
    return {"role": message.role, "content": content}


def _assistant(message: Message, tally: _Tally, where: str) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for n, part in enumerate(message.parts):
        if isinstance(part, TextPart):
            texts.append(part.text)
        elif isinstance(part, ToolCall):
            calls.append(
                {
                    "id": wire_id(part.id),
                    "type": "function",
                    "function": {"name": part.name, "arguments": part.arguments_json},
                }
            )
        elif isinstance(part, ThinkingPart):
            continue
        elif isinstance(part, ToolResultPart):
            raise _invalid(
                tally.info, f"{where}.content[{n}]: a tool result belongs in a tool message"
            )
        else:
            raise tally.refuse(
                f"{where}.content[{n}]: Chat Completions takes no {part.type} in an assistant "
                "message"
            )
    wire: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        wire["tool_calls"] = calls
    elif wire["content"] is None:
        wire["content"] = ""
    return wire


def _tool_results(
    message: Message,
    calls: set[str],
    tally: _Tally,
    follow_up: list[dict[str, Any]],
    where: str,
) -> list[dict[str, Any]]:
    if isinstance(message.content, str):
        raise _invalid(
            tally.info,
            f"{where}: a tool message holds ToolResultPart(call_id=..., content=...) parts, "
            "not a string",
        )
    out: list[dict[str, Any]] = []
    for n, part in enumerate(message.content):
        if isinstance(part, ThinkingPart):
            continue
        if not isinstance(part, ToolResultPart):
            raise _invalid(
                tally.info,
                f"{where}.content[{n}]: a tool message holds tool results only, not {part.type}",
            )
        if part.call_id not in calls:
            raise _invalid(
                tally.info,
                f"{where}.content[{n}]: a tool result for call {part.call_id!r}, which no "
                "assistant message of the history made",
            )
        call_id = wire_id(part.call_id)
        prefix = "Error: " if part.is_error else ""
        content: str | list[dict[str, Any]]
        if isinstance(part.content, str):
            content = prefix + part.content
        else:
            texts = [p.text for p in part.content if isinstance(p, TextPart)]
            images = [
                tally.image(p, f"{where}.content[{n}].content[{i}]")
                for i, p in enumerate(part.content)
                if isinstance(p, ImagePart)
            ]
            if prefix:
                texts = [prefix + texts[0], *texts[1:]] if texts else [prefix.rstrip()]
            if images:
                shown = "image follows" if len(images) == 1 else f"{len(images)} images follow"
                texts.append(f"(the {shown} in the next user message)")
                follow_up.append({"type": "text", "text": f"Images returned by call {call_id}:"})
                follow_up.extend(images)
            content = [{"type": "text", "text": t} for t in texts]
        out.append({"role": "tool", "tool_call_id": call_id, "content": content})
    return out
