"""Tool calls in Chat Completions answers: parsing, stream assembly, finish reasons (pure).

* ``message.tool_calls[{"id", "type": "function", "function": {"name", "arguments"}}]`` become
  ``ToolCall``s in order (parallel calls stay separate); the legacy ``message.function_call``
  becomes one call. A call without an id gets ``call_<uuid hex>``; ``arguments`` that are empty
  mean no arguments (``{}``); arguments that are not a JSON object, or a call without a name,
  raise ``MalformedToolCallError`` with the raw text.
* Streams send ``delta.tool_calls[{"index", "id"?, "type"?, "function": {"name"?,
  "arguments"?}}]``: ``StreamedCalls`` assembles them by index. A server that reuses an index
  for another call (a new id at an index whose call already has one) gets a new call.
* ``finish_reason``: ``stop``, ``length``, ``tool_calls`` and ``content_filter`` as they are,
  the legacy ``function_call`` as ``tool_calls``; an answer that holds tool calls finishes with
  ``tool_calls`` even when the server says ``stop`` (OpenAI does, for a named ``tool_choice``);
  other servers' words map to the nearest of the five, and an unknown one to ``stop``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from modelwire.content import ToolCall
from modelwire.errors import MalformedToolCallError
from modelwire.types import ModelInfo, ToolCallDelta

__all__ = [
    "FINISH_REASONS",
    "StreamedCalls",
    "finish_reason",
    "message_tool_calls",
    "new_call_id",
    "tool_call",
]

#: A server's finish reason → modelwire's.
FINISH_REASONS: dict[str, str] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "function_call": "tool_calls",
    # other OpenAI-compatible servers
    "eos": "stop",
    "eos_token": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_length": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "safety": "content_filter",
    "error": "error",
    "abort": "error",
    "insufficient_system_resource": "error",
}
_KEEP_WITH_CALLS = frozenset(("length", "content_filter", "error"))


def finish_reason(reason: Any, has_calls: bool = False) -> str | None:
    """modelwire's finish reason for a server's (``None`` when the server sent none)."""
    if reason is None:
        return "tool_calls" if has_calls else None
    mapped = FINISH_REASONS.get(reason) if type(reason) is str else None
    if mapped is None:
        mapped = FINISH_REASONS.get(str(reason).lower(), "stop")
    if has_calls and mapped not in _KEEP_WITH_CALLS:
        return "tool_calls"
    return mapped


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def new_call_id() -> str:
    """A unique call id for a call the server sent without one."""
    return f"call_{uuid.uuid4().hex}"


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def tool_call(
    call_id: Any,
    name: Any,
    arguments: Any,
    info: ModelInfo,
    request_id: str | None = None,
) -> ToolCall:
    """A ``ToolCall`` from a server's id, name and arguments (a JSON string, or an object from
    servers that send one); ``MalformedToolCallError`` when they cannot make one."""
    where: dict[str, Any] = {
        "provider": info.provider,
        "model_id": info.id,
        "request_id": request_id,
    }
    if isinstance(arguments, dict):
        raw = json.dumps(arguments)
        decoded: Any = arguments
    else:
        raw = arguments if type(arguments) is str else "" if arguments is None else str(arguments)
        if not raw.strip():
            raw, decoded = "{}", {}
        else:
            try:
                decoded = json.loads(raw)
            except ValueError:
                decoded = None
    if not name or type(name) is not str:
        raise MalformedToolCallError(
            "the model made a tool call without a tool name", raw_text=raw, **where
        )
    if not isinstance(decoded, dict):
        raise MalformedToolCallError(
            f"the model called tool {name!r} with arguments that are not a JSON object: "
            f"{_shorten(raw)!r}",
            raw_text=raw,
            **where,
        )
    return ToolCall(
        id=call_id if type(call_id) is str and call_id else new_call_id(),
        name=name,
        arguments=decoded,
        arguments_json=raw,
    )


def message_tool_calls(
    message: Any, info: ModelInfo, request_id: str | None = None
) -> tuple[ToolCall, ...]:
    """The tool calls of a completion's ``message`` (SDK object or dict), in order."""
    calls = _get(message, "tool_calls")
    if calls:
        out = []
        for call in calls:
            function = _get(call, "function")
            out.append(
                tool_call(
                    _get(call, "id"),
                    _get(function, "name"),
                    _get(function, "arguments"),
                    info,
                    request_id,
                )
            )
        return tuple(out)
    legacy = _get(message, "function_call")
    if legacy:
        return (tool_call(None, _get(legacy, "name"), _get(legacy, "arguments"), info, request_id),)
    return ()


class _Building:
    """One call being streamed."""

    __slots__ = ("id", "name", "pieces")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.pieces: list[str] = []


class StreamedCalls:
    """The tool calls of a stream, assembled by index from ``delta.tool_calls`` pieces.

    ``deltas`` holds a ``ToolCallDelta`` per piece taken (the provider's stream emits and clears
    them); ``calls`` gives the complete calls at the end."""

    __slots__ = ("_building", "_by_index", "deltas")

    def __init__(self, deltas: list[ToolCallDelta]) -> None:
        self._building: list[_Building] = []
        self._by_index: dict[int, int] = {}
        self.deltas = deltas

    def __len__(self) -> int:
        return len(self._building)

    def feed(self, pieces: Sequence[Any]) -> None:
        """Take the ``delta.tool_calls`` of one chunk."""
        for position, piece in enumerate(pieces):
            index = _get(piece, "index")
            self.take(
                index if type(index) is int else position,
                _get(piece, "id"),
                _get(piece, "function"),
            )

    def feed_legacy(self, function_call: Any) -> None:
        """Take a legacy ``delta.function_call`` piece (one call, no id)."""
        self.take(0, None, function_call)

    def take(self, index: int, call_id: Any, function: Any) -> None:
        """Add one piece of the call at the server's ``index``."""
        name = _get(function, "name")
        arguments = _get(function, "arguments")
        if isinstance(arguments, dict):  # a server sending the whole object at once
            arguments = json.dumps(arguments)
        call_id = call_id if type(call_id) is str and call_id else None
        slot = self._by_index.get(index)
        current = self._building[slot] if slot is not None else None
        if current is None or (call_id and current.id and call_id != current.id):
            current = _Building()
            slot = len(self._building)
            self._by_index[index] = slot
            self._building.append(current)
        assert slot is not None
        new_id = call_id if call_id and not current.id else None
        if new_id:
            current.id = new_id
        new_name = name if type(name) is str and name and not current.name else None
        if new_name:
            current.name = new_name
        piece = arguments if type(arguments) is str else ""
        if piece:
            current.pieces.append(piece)
        if new_id or new_name or piece:
            self.deltas.append(
                ToolCallDelta(index=slot, id=new_id, name=new_name, arguments_delta=piece)
            )

    def calls(self, info: ModelInfo, request_id: str | None = None) -> tuple[ToolCall, ...]:
        """The complete calls, arguments decoded (``MalformedToolCallError`` if one is not)."""
        return tuple(
            tool_call(b.id, b.name, "".join(b.pieces), info, request_id) for b in self._building
        )
