"""Tool calls in a local model's output text: found, decoded and taken out of the answer's text.

Open models write their tool calls as text, in their family's convention. Two are read:

* **Tagged** (Hermes, Qwen 2/2.5/3, and the many fine-tunes trained on their templates): each
  call is a JSON object ``{"name": ..., "arguments": {...}}`` between ``<tool_call>`` and
  ``</tool_call>``; text around the tags stays the answer's text. A call's JSON that does not
  decode to an object with a name and object arguments is a ``MalformedToolCallError`` (so is a
  tag left open at the end of the output with broken JSON in it).
* **Bare JSON** (Llama 3.1+/3.2 JSON tool calling; Mistral's ``[TOOL_CALLS] [...]`` once its
  special token is gone, the literal marker is accepted too): the whole output is one such
  object, or a list of them, with ``arguments`` or ``parameters``, naming tools of the request.
  Anything else that starts with ``{`` or ``[`` stays plain text.

``arguments`` given as a JSON string holding an object is accepted too. The model gives calls
no ids: each gets ``call_<uuid hex>``.

``ToolCallScanner`` reads the output piece by piece (a stream) and gives the same text and calls
as the whole output read at once (``parse_tool_calls``): text is passed on as it comes, except a
possible start of a tag, trailing whitespace (an answer with calls loses the whitespace before
its first call and after its last), and an output that starts like bare JSON (held to the end). Each call is announced by
one ``ToolCallDelta`` with its whole arguments, once its closing tag (or the end) arrives.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection
from typing import Any

from modelwire.content import ToolCall
from modelwire.errors import MalformedToolCallError
from modelwire.types import ToolCallDelta

__all__ = ["CLOSE_TAG", "OPEN_TAG", "ToolCallScanner", "new_call_id", "parse_tool_calls"]

OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"
_MISTRAL_MARKER = "[TOOL_CALLS]"


def new_call_id() -> str:
    """A fresh tool-call id (local models make none)."""
    return f"call_{uuid.uuid4().hex}"


class ToolCallScanner:
    """Reads a model's output for tool calls (see the module docstring).

    ``tool_names``: the request's tools (bare JSON must name one of them). ``max_calls``: calls
    past this many are read and dropped (one, when the request forbids parallel calls).
    ``calls`` and ``deltas`` grow as calls complete; ``finish()`` ends the output.
    """

    def __init__(
        self,
        tool_names: Collection[str],
        *,
        max_calls: int | None = None,
        provider: str | None = None,
        model_id: str | None = None,
        new_id: Callable[[], str] = new_call_id,
    ) -> None:
        self.tool_names = frozenset(tool_names)
        self.max_calls = max_calls
        self.provider = provider
        self.model_id = model_id
        self.new_id = new_id
        self.calls: list[ToolCall] = []
        self.deltas: list[ToolCallDelta] = []
        self._buffer = ""
        self._in_call = False
        self._held = ""  # whitespace that may precede a call
        self._emitted = False  # some text was given out
        self._started = False  # a non-whitespace character was seen
        self._bare = False  # the output starts like bare JSON: held to the end
        self._seen_calls = 0

    def feed(self, piece: str) -> str:
        """The text of ``piece`` that can be shown now."""
        if self._bare:
            self._buffer += piece
            return ""
        if not self._started and not self._in_call:
            self._buffer += piece
            stripped = self._buffer.lstrip()
            if not stripped:
                return ""
            self._started = True
            if stripped[0] in "{[":
                self._bare = True
                return ""
            piece, self._buffer = self._buffer, ""
        return self._scan(piece)

    def finish(self) -> str:
        """The text still held at the end of the output (calls found now are added)."""
        if self._bare:
            return self._finish_bare()
        out = ""
        if self._in_call:  # a tag left open: the call is read if its JSON is whole
            body = self._buffer
            self._add(body[: len(body) - _partial(body, CLOSE_TAG)])
            self._in_call = False
        else:
            out = self._text(self._buffer)
        self._buffer = ""
        if not self.calls:  # a text answer: nothing is dropped
            out += self._held
        self._held = ""
        return out

    # -- tagged calls --------------------------------------------------------------------------

    def _scan(self, piece: str) -> str:
        self._buffer += piece
        out: list[str] = []
        while True:
            if self._in_call:
                end = self._buffer.find(CLOSE_TAG)
                if end < 0:
                    return "".join(out)
                self._add(self._buffer[:end])
                self._buffer = self._buffer[end + len(CLOSE_TAG) :]
                self._in_call = False
                continue
            start = self._buffer.find(OPEN_TAG)
            if start >= 0:
                out.append(self._text(self._buffer[:start]))
                if not self._emitted:
                    self._held = ""  # whitespace before the first call
                self._buffer = self._buffer[start + len(OPEN_TAG) :]
                self._in_call = True
                continue
            keep = _partial(self._buffer, OPEN_TAG)
            out.append(self._text(self._buffer[: len(self._buffer) - keep]))
            self._buffer = self._buffer[len(self._buffer) - keep :]
            return "".join(out)

    def _text(self, text: str) -> str:
        """Text outside calls: given out, except its trailing whitespace (held)."""
        if not text:
            return ""
        combined = self._held + text
        body = combined.rstrip()
        self._held = combined[len(body) :]
        if body:
            self._emitted = True
        return body

    def _add(self, raw: str) -> None:
        for name, arguments in _decoded(raw, self):
            self._append(name, arguments)

    def _append(self, name: str, arguments: dict[str, Any]) -> None:
        self._seen_calls += 1
        if self.max_calls is not None and self._seen_calls > self.max_calls:
            return
        arguments_json = json.dumps(arguments)
        call = ToolCall(
            id=self.new_id(), name=name, arguments=arguments, arguments_json=arguments_json
        )
        self.deltas.append(
            ToolCallDelta(
                index=len(self.calls), id=call.id, name=name, arguments_delta=arguments_json
            )
        )
        self.calls.append(call)

    # -- bare JSON -----------------------------------------------------------------------------

    def _finish_bare(self) -> str:
        held, self._buffer, self._bare = self._buffer, "", False
        found = _bare_calls(held, self.tool_names)
        if found is not None:
            for name, arguments in found:
                self._append(name, arguments)
            return ""
        self._started = True  # not calls: read it as text that may hold tags
        return self._scan(held) + self.finish()

    def malformed_error(self, raw: str, why: str) -> MalformedToolCallError:
        return MalformedToolCallError(
            f"the model wrote a tool call that cannot be used: {why}",
            raw_text=raw,
            provider=self.provider,
            model_id=self.model_id,
        )


def parse_tool_calls(
    text: str,
    tool_names: Collection[str],
    *,
    max_calls: int | None = None,
    provider: str | None = None,
    model_id: str | None = None,
    new_id: Callable[[], str] = new_call_id,
) -> tuple[str, tuple[ToolCall, ...]]:
    """The answer's text without its tool calls, and the calls (see the module docstring)."""
    scanner = ToolCallScanner(
        tool_names, max_calls=max_calls, provider=provider, model_id=model_id, new_id=new_id
    )
    shown = scanner.feed(text) + scanner.finish()
    return shown, tuple(scanner.calls)


def _partial(text: str, tag: str) -> int:
    """How many characters at the end of ``text`` may begin ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


def _decoded(raw: str, scanner: ToolCallScanner) -> list[tuple[str, dict[str, Any]]]:
    """The calls of one tagged block: an object, or a list of objects."""
    try:
        value = json.loads(raw)
    except ValueError:
        raise scanner.malformed_error(raw.strip(), "its JSON does not parse") from None
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        call = _call_of(item)
        if isinstance(call, str):
            raise scanner.malformed_error(raw.strip(), call)
        out.append(call)
    if not out:
        raise scanner.malformed_error(raw.strip(), "it holds no call")
    return out


def _call_of(item: Any) -> tuple[str, dict[str, Any]] | str:
    """(name, arguments) of one call object, or why it is not one."""
    if not isinstance(item, dict):
        return "a call must be a JSON object"
    name = item.get("name")
    if not isinstance(name, str) or not name:
        return "the call has no tool name"
    arguments = item.get("arguments", item.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return f"the arguments of {name!r} are not JSON"
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return f"the arguments of {name!r} are not a JSON object"
    return name, arguments


def _bare_calls(text: str, tool_names: frozenset[str]) -> list[tuple[str, dict[str, Any]]] | None:
    """The calls of an output that is only bare JSON calls to the request's tools, else None."""
    body = text.strip()
    if body.startswith(_MISTRAL_MARKER):
        body = body[len(_MISTRAL_MARKER) :].strip()
    try:
        value = json.loads(body)
    except ValueError:
        return None
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        call = _call_of(item)
        if isinstance(call, str) or call[0] not in tool_names:
            return None
        if "arguments" not in item and "parameters" not in item:
            return None
        out.append(call)
    return out or None
