"""Gemini parts: a request's messages as Gemini ``contents``, and a candidate's parts back.

Pure functions on modelwire's types and on the SDK's response objects (attribute access) or
plain dicts; no ``google.genai`` import. The dicts built here use the SDK's field names; the SDK
validates them into its types and puts them on the wire in Gemini's JSON.

Requests (``build_contents``):

* ``user`` messages → role ``user``; ``assistant`` → role ``model``; ``system`` → the system
  instruction. Text parts → ``text``; images and documents given as bytes → ``inline_data``
  (``mime_type``, ``data``); given by URL → ``file_data`` (``file_uri``, and ``mime_type`` from
  the part or guessed from the URL: a document is a PDF). Inline bytes may total
  ``INLINE_LIMIT`` per request and a document ``DOCUMENT_LIMIT``: more is refused before any
  request.
* An assistant's ``ToolCall`` → ``function_call {name, args}`` with the call's
  ``thought_signature`` (``provider_state["google"]``) back on the same part. Gemini's own
  ``ThinkingPart``s go back as ``thought`` text parts; a signature-only ``ThinkingPart`` (the
  signature Gemini put on a text part) goes back on the part before it. Thinking made by other
  vendors is dropped.
* ``tool`` messages (and ``ToolResultPart``s in user messages) → one ``user`` content of
  ``function_response {name, response}`` parts, in the order of the calls they answer, however
  many ``tool`` messages carried them (Gemini wants one response part per call of a turn). The
  ``name`` Gemini requires is the name of the call in the history (Gemini matches the two), so a
  result without one works; a result for a call no assistant message made is refused. ``response`` is
  ``{"output": text}``, or ``{"error": text}`` for ``is_error`` (the keys Gemini documents).
  Images in a result go into the response's own ``parts`` (multimodal function responses,
  Gemini 3), or, for Gemini 1.x/2.x models, as ``inline_data`` parts after the responses.
* Call ids are not sent: the Gemini API rejects ``id`` in requests' ``function_call`` and
  ``function_response`` on several models, and pairs a response with its call by name and
  order, which the ordering above keeps.
* Histories made elsewhere: Gemini 3 refuses a current-turn step whose first function call has
  no thought signature. Such a call (recorded on another vendor, or before signatures) is sent
  with the validator-skipping signature Google documents for histories from other models
  (``SKIP_SIGNATURE``), except to Gemini 1.x/2.x models.

Responses (``PartsAssembler``): text parts are the answer's text; ``thought`` parts become
``ThinkingPart(provider="google")``; each ``function_call`` part becomes its own ``ToolCall``
(parallel calls stay separate), with Gemini's id or, when Gemini sends none, a fresh
``call_<uuid hex>``; its ``thought_signature`` is kept in ``provider_state["google"]``. A
signature on a text part is kept as a signature-only ``ThinkingPart`` after that text, so the
next turn can send it back where it came from.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

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
from modelwire.types import ChatRequest, ModelInfo

__all__ = [
    "DOCUMENT_LIMIT",
    "INLINE_LIMIT",
    "PROVIDER",
    "SKIP_SIGNATURE",
    "PartsAssembler",
    "build_contents",
    "legacy_model",
    "signature_text",
]

#: The provider type whose ``provider_state`` and ``ThinkingPart``s Gemini takes back.
PROVIDER = "google"
#: Google's documented signature for function calls that come from another model's history.
SKIP_SIGNATURE = "skip_thought_signature_validator"
#: Inline bytes Gemini takes in one request (files and images sent as ``inline_data``).
INLINE_LIMIT = 100 * 1024 * 1024
#: The largest PDF Gemini takes inline.
DOCUMENT_LIMIT = 50 * 1024 * 1024

_LEGACY = re.compile(r"^(?:models/)?gemini-[12](?:[.\-]|$)")


def legacy_model(name: str) -> bool:
    """Whether ``name`` is a Gemini 1.x/2.x model: no multimodal function responses, and no
    thought signatures required on a replayed history."""
    return _LEGACY.match(name) is not None


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def signature_text(value: Any) -> str | None:
    """A thought signature as base64 text (the SDK gives bytes; JSON gives text)."""
    if not value:
        return None
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    return value if isinstance(value, str) else None


def _call_signature(call: ToolCall) -> str | None:
    state = call.provider_state.get(PROVIDER)
    if isinstance(state, Mapping):
        found = state.get("thought_signature")
        if isinstance(found, str) and found:
            return found
    return None


# -- requests ------------------------------------------------------------------------------------


class _Request:
    """The state of one ``build_contents``: the calls of the history (found on first need), the
    inline bytes so far, and the ``tool`` results being gathered into one content."""

    __slots__ = (
        "_history",
        "calls",
        "group",
        "group_after",
        "group_results",
        "info",
        "inline",
        "legacy",
    )

    def __init__(self, request: ChatRequest, info: ModelInfo) -> None:
        self.info = info
        self.legacy = legacy_model(info.name)
        self.inline = 0
        self.calls: dict[str, tuple[str, int]] | None = None
        self._history = request.messages
        self.group: dict[str, Any] | None = None
        self.group_results: list[tuple[int, dict[str, Any]]] = []
        self.group_after: list[dict[str, Any]] = []

    def error(
        self, message: str, kind: type[InvalidRequestError] = InvalidRequestError
    ) -> InvalidRequestError:
        return kind(message, provider=self.info.provider, model_id=self.info.id)

    # -- media -----------------------------------------------------------------------------

    def media(self, part: ImagePart | DocumentPart) -> dict[str, Any]:
        if part.data is not None:
            size = len(part.data)
            if isinstance(part, DocumentPart) and size > DOCUMENT_LIMIT:
                raise self.error(
                    f"a document of {size} bytes is over Gemini's {DOCUMENT_LIMIT // 2**20} MB "
                    "limit for inline documents",
                    UnsupportedFeatureError,
                )
            self.inline += size
            if self.inline > INLINE_LIMIT:
                raise self.error(
                    f"the request's images and documents total {self.inline} bytes, over "
                    f"Gemini's {INLINE_LIMIT // 2**20} MB limit for inline data",
                    UnsupportedFeatureError,
                )
            return {"inline_data": {"mime_type": part.media_type, "data": part.data}}
        url = part.url or ""
        mime = part.media_type or mimetypes.guess_type(urlsplit(url).path)[0]
        if mime is None and isinstance(part, DocumentPart):
            mime = "application/pdf"
        file_data: dict[str, Any] = {"file_uri": url}
        if mime:
            file_data["mime_type"] = mime
        return {"file_data": file_data}

    # -- model turns -----------------------------------------------------------------------

    def model_parts(self, content: Sequence[Part]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for part in content:
            if isinstance(part, TextPart):
                out.append({"text": part.text})
            elif isinstance(part, ToolCall):
                item: dict[str, Any] = {
                    "function_call": {"name": part.name, "args": dict(part.arguments)}
                }
                signature = _call_signature(part)
                if signature:
                    item["thought_signature"] = signature
                out.append(item)
            elif isinstance(part, ThinkingPart):
                if part.provider != PROVIDER:
                    continue  # another vendor's thinking means nothing to Gemini
                if part.text:
                    item = {"text": part.text, "thought": True}
                    if part.signature:
                        item["thought_signature"] = part.signature
                    out.append(item)
                elif part.signature and out and "thought_signature" not in out[-1]:
                    out[-1]["thought_signature"] = part.signature
            elif isinstance(part, ImagePart | DocumentPart):
                out.append(self.media(part))
            else:
                raise self.error("an assistant message cannot hold tool results")
        return out

    # -- tool results ----------------------------------------------------------------------

    def call_of(self, result: ToolResultPart) -> tuple[str, int]:
        if self.calls is None:
            calls: dict[str, tuple[str, int]] = {}
            for message in self._history:
                if message.role == "assistant" and type(message.content) is not str:
                    for part in message.content:
                        if isinstance(part, ToolCall) and part.id not in calls:
                            calls[part.id] = (part.name, len(calls))
            self.calls = calls
        found = self.calls.get(result.call_id)
        if found is None:
            raise self.error(
                f"a tool result answers call id {result.call_id!r}, which no assistant message "
                "of the history made"
            )
        return found

    def result(self, contents: list[dict[str, Any]], result: ToolResultPart) -> None:
        name, position = self.call_of(result)
        if self.group is None or not contents or contents[-1] is not self.group:
            self.close_group()
            self.group = {"role": "user", "parts": []}
            contents.append(self.group)
        response: dict[str, Any] = {
            "name": name,
            "response": {("error" if result.is_error else "output"): result.text},
        }
        if not isinstance(result.content, str):
            media = [self.media(p) for p in result.content if isinstance(p, ImagePart)]
            if media and self.legacy:
                self.group_after.extend(media)
            elif media:
                response["parts"] = media
        self.group_results.append((position, {"function_response": response}))

    def close_group(self) -> None:
        if self.group is not None:
            self.group_results.sort(key=lambda item: item[0])
            self.group["parts"] = [p for _, p in self.group_results] + self.group_after
            self.group = None
            self.group_results = []
            self.group_after = []

    def user_parts(self, contents: list[dict[str, Any]], content: Sequence[Part]) -> None:
        own: list[dict[str, Any]] = []
        for part in content:
            if isinstance(part, TextPart):
                own.append({"text": part.text})
            elif isinstance(part, ImagePart | DocumentPart):
                own.append(self.media(part))
            elif isinstance(part, ToolResultPart):
                self.result(contents, part)
            elif isinstance(part, ThinkingPart):
                continue
            else:
                raise self.error("a tool call belongs in an assistant message")
        if own:
            if self.group is not None and contents and contents[-1] is self.group:
                self.group_after.extend(own)
            else:
                contents.append({"role": "user", "parts": own})


def build_contents(
    request: ChatRequest, info: ModelInfo
) -> tuple[list[dict[str, Any]], str | None]:
    """``(contents, system_instruction)`` for ``request``."""
    system_parts: list[str] = [request.system] if request.system else []
    contents: list[dict[str, Any]] = []
    state: _Request | None = None
    for message in request.messages:
        role = message.role
        content = message.content
        if role == "system":
            system_parts.append(message.text)
            continue
        if type(content) is str and role != "tool":
            if state is not None:
                state.close_group()
            contents.append(
                {"role": "user" if role == "user" else "model", "parts": [{"text": content}]}
            )
            continue
        if state is None:
            state = _Request(request, info)
        if isinstance(content, str):
            raise state.error(
                "a tool message holds ToolResultPart(call_id=..., content=...) parts, "
                "not a plain string"
            )
        if role == "assistant":
            state.close_group()
            parts = state.model_parts(content)
            if parts:
                contents.append({"role": "model", "parts": parts})
        else:
            has_results = any(isinstance(p, ToolResultPart) for p in content)
            if role == "tool" and not has_results:
                raise state.error(
                    "a tool message holds ToolResultPart(call_id=..., content=...) parts"
                )
            if not has_results:
                state.close_group()
            state.user_parts(contents, content)
    if state is not None:
        state.close_group()
        if not state.legacy:
            _sign_current_turn(contents)
    if not contents:
        raise InvalidRequestError(
            "a Gemini request needs at least one user or assistant message",
            provider=info.provider,
            model_id=info.id,
        )
    return contents, ("\n\n".join(system_parts) if system_parts else None)


def _sign_current_turn(contents: list[dict[str, Any]]) -> None:
    """Give the first function call of each model step since the last user prompt a signature
    when it has none (a history from another vendor): Gemini 3 refuses it otherwise."""
    start = 0
    for index, content in enumerate(contents):
        parts = content["parts"]
        if content["role"] == "user" and not (parts and "function_response" in parts[0]):
            start = index + 1
    for content in contents[start:]:
        if content["role"] != "model":
            continue
        for part in content["parts"]:
            if "function_call" in part:
                part.setdefault("thought_signature", SKIP_SIGNATURE)
                break


# -- responses ----------------------------------------------------------------------------------


class PartsAssembler:
    """Gathers a candidate's parts (from one response, or chunk by chunk from a stream) into the
    answer's text, its tool calls and, when it is more than text, its parts in order.

    Consecutive text (or thought) pieces merge into one part, as a stream splits them.
    ``info`` and ``request_id`` name the call in a ``MalformedToolCallError``.
    """

    __slots__ = (
        "_ids",
        "_items",
        "_run",
        "_thought",
        "info",
        "output_tool",
        "rich",
        "texts",
        "tool_calls",
    )

    def __init__(self, info: ModelInfo | None = None) -> None:
        self.info = info
        #: Structured output as a forced call: ``(name, wrapped)`` of the output function, whose
        #: arguments are the answer's text (``{"result": ...}`` unwrapped) rather than a call.
        self.output_tool: tuple[str, bool] | None = None
        self.texts: list[str] = []
        self.tool_calls: list[ToolCall] = []
        self.rich = False
        self._items: list[Part] = []
        self._run: list[str] | None = None
        self._thought: list[str] | None = None
        self._ids: set[str] = set()

    def feed(self, parts: Any, request_id: str | None = None) -> str:
        """Take a candidate's parts; return their text."""
        new = ""
        for part in parts:
            function_call = _get(part, "function_call")
            if function_call is not None:
                output = self._output(function_call)
                if output is not None:
                    new += output
                    self.add_text(output)
                    continue
                self._call(function_call, _get(part, "thought_signature"), request_id)
                continue
            text = _get(part, "text")
            if text is None:
                continue
            signature = _get(part, "thought_signature")
            if _get(part, "thought"):
                self._add_thought(text, signature)
                continue
            if text:
                new += text
                self.add_text(text)
            if signature:
                self._close_text()
                self.rich = True
                self._items.append(
                    ThinkingPart(signature=signature_text(signature), provider=PROVIDER)
                )
        return new

    def add_text(self, text: str) -> None:
        """Take a piece of the answer's text (no signature on it)."""
        self.texts.append(text)
        if self._thought is not None:
            self._close_thought()
        if self._run is None:
            self._run = [text]
        else:
            self._run.append(text)

    def _add_thought(self, text: str, signature: Any) -> None:
        self.rich = True
        self._close_text()
        if self._thought is None:
            self._thought = []
        self._thought.append(text)
        if signature:
            self._close_thought(signature_text(signature))

    def _output(self, function_call: Any) -> str | None:
        """The answer's JSON, when ``function_call`` is the forced output call (once)."""
        if self.output_tool is None or _get(function_call, "name") != self.output_tool[0]:
            return None
        args = _get(function_call, "args")
        if self.output_tool[1] and isinstance(args, dict) and set(args) == {"result"}:
            args = args["result"]
        self.output_tool = None
        return json.dumps(args if args is not None else {})

    def _call(self, function_call: Any, signature: Any, request_id: str | None) -> None:
        name = _get(function_call, "name")
        args = _get(function_call, "args")
        if args is None:
            args = {}
        if not name or not isinstance(args, dict):
            raw = json.dumps({"name": name, "args": args}, default=str)
            raise MalformedToolCallError(
                "Gemini sent a function call without a name or with arguments that are not a "
                f"JSON object: {raw[:200]}",
                raw_text=raw,
                provider=self.info.provider if self.info is not None else None,
                model_id=self.info.id if self.info is not None else None,
                request_id=request_id,
            )
        call_id = _get(function_call, "id")
        if not call_id or call_id in self._ids:
            call_id = f"call_{uuid.uuid4().hex}"
        self._ids.add(call_id)
        text = signature_text(signature)
        call = ToolCall(
            id=call_id,
            name=name,
            arguments=args,
            arguments_json=json.dumps(args),
            provider_state={PROVIDER: {"thought_signature": text}} if text else {},
        )
        self.rich = True
        self._close_text()
        self._close_thought()
        self._items.append(call)
        self.tool_calls.append(call)

    def _close_text(self) -> None:
        if self._run is not None:
            self._items.append(TextPart(text="".join(self._run)))
            self._run = None

    def _close_thought(self, signature: str | None = None) -> None:
        if self._thought is not None:
            self._items.append(
                ThinkingPart(text="".join(self._thought), signature=signature, provider=PROVIDER)
            )
            self._thought = None

    @property
    def text(self) -> str:
        """The answer's text so far."""
        return "".join(self.texts)

    def parts(self) -> tuple[Part, ...]:
        """The answer as parts in order (empty when it is only text)."""
        if not self.rich:
            return ()
        self._close_text()
        self._close_thought()
        return tuple(self._items)
