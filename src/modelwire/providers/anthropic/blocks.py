"""Anthropic content blocks: message parts out to the Messages API, the model's blocks back in.

Pure functions on plain data and on the SDK's response objects through attribute access (no
``anthropic`` import), used by ``anthropic.mapping``.

Out (``wire_messages``, ``wire_tools``, ``wire_tool_choice``):

* text → ``text`` blocks (empty ones left out: the API refuses them); images → ``image`` blocks
  with a ``base64`` source (bytes, or a ``data:`` URL) or a ``url`` source; documents → ``document``
  blocks (PDF bytes as ``base64``, ``text/plain`` bytes as a ``text`` source, or a ``url``; the
  part's ``name`` as the block's ``title``);
* an assistant's tool calls → ``tool_use`` blocks; its thinking → ``thinking`` /
  ``redacted_thinking`` blocks, kept in order, but only the ones Anthropic made (a
  ``ThinkingPart`` of another provider, or one without a signature, cannot be verified and is
  left out); an assistant message left with no block is left out;
* ``tool`` messages → ``tool_result`` blocks in a **user** message: the results of one turn,
  and a user message that follows them, share that one message (tool results first, as the API
  requires);
* call ids → ``wire_id``: ids the API accepts (``^[a-zA-Z0-9_-]+$``) are kept, others become a
  readable id with a hash suffix, the same for the same input, so a call and its result still
  match in a history recorded on another vendor.

Refused before any request: a tool result whose call no earlier assistant message made
(``InvalidRequestError``); an image over 5 MB of base64, more than 100 images, a document of
another type than PDF or plain text or over 32 MB, an image or document in an assistant or system
message (``UnsupportedFeatureError``).

In (``response_content``): ``text`` → text, ``thinking`` / ``redacted_thinking`` →
``ThinkingPart`` (``provider="anthropic"``, signature or data kept), ``tool_use`` → ``ToolCall``
(its id kept); an ``input`` that is not a JSON object raises ``MalformedToolCallError``. Server
tool blocks (web search and the like) are not parts: they stay in the raw message.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from modelwire.content import (
    DocumentPart,
    ImagePart,
    Part,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultPart,
)
from modelwire.errors import InvalidRequestError, MalformedToolCallError, UnsupportedFeatureError
from modelwire.tools import Tool
from modelwire.types import Message

__all__ = [
    "MAX_DOCUMENT_BASE64",
    "MAX_IMAGES",
    "MAX_IMAGE_BASE64",
    "PROVIDER",
    "response_content",
    "tool_call",
    "wire_id",
    "wire_messages",
    "wire_tool_choice",
    "wire_tools",
]

#: The provider type whose thinking blocks this API takes back.
PROVIDER = "anthropic"
#: Anthropic's documented limits: 5 MB per image (its base64 text), 100 images per request,
#: 32 MB per request (so per document).
MAX_IMAGE_BASE64 = 5 * 1024 * 1024
MAX_IMAGES = 100
MAX_DOCUMENT_BASE64 = 32 * 1024 * 1024

_WIRE_ID = re.compile(r"[A-Za-z0-9_-]+")
_NOT_ID_CHAR = re.compile(r"[^A-Za-z0-9_-]")
_DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+);base64,(.*)", re.DOTALL)


def wire_id(call_id: str) -> str:
    """A tool-call id the Messages API accepts: ``call_id`` itself when it is one, else its
    characters outside ``[A-Za-z0-9_-]`` replaced by ``_`` and a hash of the whole id appended
    (deterministic, so a call and its result keep matching)."""
    if _WIRE_ID.fullmatch(call_id):
        return call_id
    digest = hashlib.sha256(call_id.encode()).hexdigest()[:12]
    return f"{_NOT_ID_CHAR.sub('_', call_id)[:48]}_{digest}"


def _b64_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


class _Out:
    """The state of one request's mapping: where errors point, ids seen, images counted."""

    __slots__ = ("calls", "images", "model_id", "provider")

    def __init__(self, provider: str, model_id: str) -> None:
        self.provider = provider
        self.model_id = model_id
        self.calls: set[str] = set()
        self.images = 0

    def invalid(self, message: str) -> InvalidRequestError:
        return InvalidRequestError(message, provider=self.provider, model_id=self.model_id)

    def unsupported(self, message: str) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(message, provider=self.provider, model_id=self.model_id)

    def image(self, part: ImagePart, where: str) -> dict[str, Any]:
        self.images += 1
        if self.images > MAX_IMAGES:
            raise self.unsupported(f"Anthropic takes at most {MAX_IMAGES} images in a request")
        if part.data is None:
            url = part.url or ""
            inline = _DATA_URL.fullmatch(url)
            if inline is None:
                return {"type": "image", "source": {"type": "url", "url": url}}
            media_type, data = inline.group(1), inline.group(2)
        else:
            media_type, data = part.media_type or "", ""
        size = len(data) if part.data is None else _b64_length(len(part.data))
        if size > MAX_IMAGE_BASE64:
            raise self.unsupported(
                f"{where}: an image of {_megabytes(size)} as base64; Anthropic takes at most "
                f"{_megabytes(MAX_IMAGE_BASE64)} per image (send a smaller one or a URL)"
            )
        if media_type not in ("image/png", "image/jpeg", "image/gif", "image/webp"):
            raise self.unsupported(f"{where}: Anthropic does not take {media_type} images")
        source = {"type": "base64", "media_type": media_type, "data": data or part.base64}
        return {"type": "image", "source": source}

    def document(self, part: DocumentPart, where: str) -> dict[str, Any]:
        if part.data is None:
            source: dict[str, Any] = {"type": "url", "url": part.url}
        elif part.media_type == "application/pdf":
            size = _b64_length(len(part.data))
            if size > MAX_DOCUMENT_BASE64:
                raise self.unsupported(
                    f"{where}: a document of {_megabytes(size)} as base64; Anthropic takes at "
                    f"most {_megabytes(MAX_DOCUMENT_BASE64)} in a request"
                )
            source = {"type": "base64", "media_type": "application/pdf", "data": part.base64}
        elif part.media_type == "text/plain":
            text = part.data.decode("utf-8", errors="replace")
            source = {"type": "text", "media_type": "text/plain", "data": text}
        else:
            raise self.unsupported(
                f"{where}: Anthropic reads PDF and plain-text documents, not {part.media_type}"
            )
        block: dict[str, Any] = {"type": "document", "source": source}
        if part.name:
            block["title"] = part.name
        return block

    def tool_result(self, part: ToolResultPart, where: str) -> dict[str, Any]:
        if part.call_id not in self.calls:
            raise self.invalid(
                f"{where}: a tool result for call {part.call_id!r}, which no earlier assistant "
                "message made"
            )
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": wire_id(part.call_id)}
        if isinstance(part.content, str):
            if part.content:
                block["content"] = part.content
        else:
            content: list[dict[str, Any]] = []
            for item in part.content:
                if isinstance(item, TextPart):
                    if item.text:
                        content.append({"type": "text", "text": item.text})
                else:
                    content.append(self.image(item, where))
            if content:
                block["content"] = content
        if part.is_error:
            block["is_error"] = True
        return block

    def user_blocks(self, parts: Sequence[Part], where: str) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        for part in parts:
            if isinstance(part, TextPart):
                if part.text:
                    blocks.append({"type": "text", "text": part.text})
            elif isinstance(part, ImagePart):
                blocks.append(self.image(part, where))
            elif isinstance(part, DocumentPart):
                blocks.append(self.document(part, where))
            elif isinstance(part, ToolResultPart):
                blocks.append(self.tool_result(part, where))
            else:
                kind = "a tool call" if isinstance(part, ToolCall) else "thinking"
                raise self.invalid(f"{where}: a user message cannot hold {kind}")
        return blocks

    def assistant_blocks(self, parts: Sequence[Part], where: str) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        for part in parts:
            if isinstance(part, TextPart):
                if part.text:
                    blocks.append({"type": "text", "text": part.text})
            elif isinstance(part, ToolCall):
                self.calls.add(part.id)
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": wire_id(part.id),
                        "name": part.name,
                        "input": _plain(part.arguments),
                    }
                )
            elif isinstance(part, ThinkingPart):
                if part.provider != PROVIDER:
                    continue  # another vendor's reasoning: not Anthropic's to verify
                if part.redacted is not None:
                    blocks.append({"type": "redacted_thinking", "data": part.redacted})
                elif part.signature:
                    blocks.append(
                        {"type": "thinking", "thinking": part.text, "signature": part.signature}
                    )
            elif isinstance(part, ToolResultPart):
                raise self.invalid(f"{where}: tool results go in a tool message")
            else:
                raise self.unsupported(
                    f"{where}: Anthropic takes no {part.type} in an assistant message"
                )
        return blocks


def _plain(value: Any) -> Any:
    """``value`` as plain JSON data (mappings as dicts, sequences as lists)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def wire_messages(
    messages: Sequence[Message], provider: str, model_id: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """The system texts and the ``messages`` list of a history of any parts (see the module's
    docstring for the rules)."""
    out = _Out(provider, model_id)
    system: list[str] = []
    wire: list[dict[str, Any]] = []
    results: list[dict[str, Any]] | None = None  # the open user message of tool results
    for n, message in enumerate(messages):
        where = f"messages[{n}]"
        role, content = message.role, message.content
        if role == "system":
            if not isinstance(content, str) and any(not isinstance(p, TextPart) for p in content):
                raise out.unsupported(f"{where}: Anthropic's system prompt takes text only")
            system.append(message.text)
            continue
        if role == "tool":
            if isinstance(content, str) or not all(isinstance(p, ToolResultPart) for p in content):
                raise out.invalid(f"{where}: a tool message holds ToolResultParts only")
            blocks = out.user_blocks(content, where)
            if results is None:
                results = blocks
                wire.append({"role": "user", "content": results})
            else:
                results.extend(blocks)
            continue
        if role == "user":
            if isinstance(content, str):
                if results is None:
                    wire.append({"role": "user", "content": content})
                elif content:
                    results.append({"type": "text", "text": content})
            elif results is None:
                wire.append({"role": "user", "content": out.user_blocks(content, where)})
            else:
                results.extend(out.user_blocks(content, where))
            results = None
            continue
        results = None
        if isinstance(content, str):
            wire.append({"role": "assistant", "content": content})
            continue
        assistant = out.assistant_blocks(content, where)
        if assistant:
            wire.append({"role": "assistant", "content": assistant})
    return system, wire


#: ``id(tool)`` → (the tool, its wire entry): an application passes the same ``Tool`` objects
#: call after call, and its schema need not be copied each time. Bounded; the tool is held so
#: that its id cannot be reused while it is cached.
_WIRE_TOOLS: dict[int, tuple[Tool, dict[str, Any]]] = {}
_WIRE_TOOLS_MAX = 512


def _wire_tool(tool: Tool) -> dict[str, Any]:
    cached = _WIRE_TOOLS.get(id(tool))
    if cached is not None and cached[0] is tool:
        return cached[1]
    schema = _plain(tool.parameters)
    schema.setdefault("type", "object")
    entry: dict[str, Any] = {"name": tool.name}
    if tool.description:
        entry["description"] = tool.description
    entry["input_schema"] = schema
    if len(_WIRE_TOOLS) >= _WIRE_TOOLS_MAX:
        _WIRE_TOOLS.clear()
    _WIRE_TOOLS[id(tool)] = (tool, entry)
    return entry


def wire_tools(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    """``tools``: name, description (when there is one) and ``input_schema``, as plain JSON
    data (the entries are shared between calls: do not change them)."""
    return [_wire_tool(tool) for tool in tools]


def wire_tool_choice(choice: str | None, parallel: bool | None) -> dict[str, Any] | None:
    """``tool_choice``: ``auto``/``none`` as such, ``required`` → ``any``, a tool's name →
    ``tool``; ``parallel=False`` adds ``disable_parallel_tool_use`` (on ``auto`` when no
    choice is given). ``None`` when there is nothing to send."""
    if choice is None:
        if parallel is False:
            return {"type": "auto", "disable_parallel_tool_use": True}
        return None
    if choice == "none":
        return {"type": "none"}
    if choice == "auto":
        out: dict[str, Any] = {"type": "auto"}
    elif choice == "required":
        out = {"type": "any"}
    else:
        out = {"type": "tool", "name": choice}
    if parallel is False:
        out["disable_parallel_tool_use"] = True
    return out


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def tool_call(
    call_id: Any, name: Any, arguments: Any, raw_text: str, where: Mapping[str, Any]
) -> ToolCall:
    """A ``ToolCall`` of a ``tool_use`` block; ``arguments`` that are not a JSON object (or a
    block without id or name) raise ``MalformedToolCallError`` with ``raw_text``."""
    if not isinstance(arguments, dict):
        raise MalformedToolCallError(
            f"the model called tool {name!r} with arguments that are not a JSON object: "
            f"{raw_text[:200]!r}",
            raw_text=raw_text,
            **where,
        )
    if not isinstance(call_id, str) or not call_id or not isinstance(name, str) or not name:
        raise MalformedToolCallError(
            f"the model sent a tool_use block without an id or a name: {raw_text[:200]!r}",
            raw_text=raw_text,
            **where,
        )
    return ToolCall(id=call_id, name=name, arguments=arguments, arguments_json=raw_text)


def _raw_json(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def response_content(
    content: Any, where: Mapping[str, Any]
) -> tuple[str, tuple[ToolCall, ...], tuple[Part, ...]]:
    """The text, tool calls and parts of a message's content blocks. ``parts`` is empty for an
    answer of text only; else it holds every text, thinking and tool-call part in order."""
    texts: list[str] = []
    calls: list[ToolCall] = []
    parts: list[Part] = []
    rich = False
    for block in content or ():
        kind = _get(block, "type")
        if kind == "text":
            text = _get(block, "text") or ""
            texts.append(text)
            if text:
                parts.append(TextPart(text=text))
        elif kind == "tool_use":
            arguments = _get(block, "input")
            call = tool_call(
                _get(block, "id"), _get(block, "name"), arguments, _raw_json(arguments), where
            )
            calls.append(call)
            parts.append(call)
            rich = True
        elif kind == "thinking":
            parts.append(
                ThinkingPart(
                    text=_get(block, "thinking") or "",
                    signature=_get(block, "signature"),
                    provider=PROVIDER,
                )
            )
            rich = True
        elif kind == "redacted_thinking":
            parts.append(ThinkingPart(redacted=_get(block, "data") or "", provider=PROVIDER))
            rich = True
    return "".join(texts), tuple(calls), tuple(parts) if rich else ()
