"""What both wire formats share: the call a request asks for, and checked reads of JSON fields.

A wire module (``openai_wire``, ``anthropic_wire``) turns a decoded request body into a
``WireCall`` (the model name, the prompt as modelwire messages, the call parameters) or raises
a 400 ``GatewayError`` naming the field, by its wire path (``messages[2].content[0].image_url``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from modelwire.content import DocumentPart, ImagePart
from modelwire.gateway.errors import bad_request
from modelwire.tools import Tool
from modelwire.types import Message

__all__ = [
    "WireCall",
    "document_from_data_url",
    "dumps",
    "expect_bool",
    "expect_int",
    "expect_list",
    "expect_number",
    "expect_object",
    "expect_str",
    "expect_str_list",
    "image_from_url",
    "tool_from_schema",
]

#: The largest ``max_tokens`` a request may ask for.
MAX_TOKENS = 10_000_000


@dataclass(slots=True)
class WireCall:
    """One request, translated: call ``service.ainvoke_model(model, prompt, **params)``."""

    model: str
    prompt: str | tuple[Message, ...]
    params: dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    #: OpenAI's ``stream_options.include_usage``: end the stream with a usage chunk.
    include_usage: bool = False


def dumps(value: Any) -> bytes:
    """Compact JSON, UTF-8 (non-ASCII kept as is)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def expect_object(value: Any, param: str) -> dict[str, Any]:
    """``value`` when it is a JSON object."""
    if not isinstance(value, dict):
        raise bad_request(param, f"expected an object, got {_kind(value)}")
    return value


def expect_list(value: Any, param: str, *, allow_empty: bool = True) -> list[Any]:
    """``value`` when it is a JSON array (non-empty unless ``allow_empty``)."""
    if not isinstance(value, list):
        raise bad_request(param, f"expected an array, got {_kind(value)}")
    if not value and not allow_empty:
        raise bad_request(param, "must not be empty")
    return value


def expect_str(value: Any, param: str, *, allow_empty: bool = True) -> str:
    """``value`` when it is a string (non-empty unless ``allow_empty``)."""
    if not isinstance(value, str):
        raise bad_request(param, f"expected a string, got {_kind(value)}")
    if not value and not allow_empty:
        raise bad_request(param, "must not be empty")
    return value


def expect_str_list(value: Any, param: str, *, most: int = 64) -> tuple[str, ...]:
    """A string or an array of strings, as a tuple (at most ``most``)."""
    if isinstance(value, str):
        return (value,)
    items = expect_list(value, param)
    if len(items) > most:
        raise bad_request(param, f"at most {most} entries")
    return tuple(expect_str(v, f"{param}[{i}]") for i, v in enumerate(items))


def expect_bool(value: Any, param: str) -> bool:
    """``value`` when it is ``true`` or ``false``."""
    if not isinstance(value, bool):
        raise bad_request(param, f"expected a boolean, got {_kind(value)}")
    return value


def expect_int(value: Any, param: str, low: int, high: int) -> int:
    """An integer from ``low`` to ``high`` (a float with no fraction is accepted)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(param, f"expected an integer, got {_kind(value)}")
    if not low <= value <= high:
        raise bad_request(param, f"must be from {low} to {high}, got {value}")
    return value


def expect_number(value: Any, param: str, low: float, high: float) -> float:
    """A number from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(param, f"expected a number, got {_kind(value)}")
    if not low <= value <= high:  # NaN fails too
        raise bad_request(param, f"must be from {low:g} to {high:g}, got {value}")
    return float(value)


_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?((?:;[^;,]*)*?);base64,(.*)$", re.DOTALL)


def _decode_data_url(url: str, param: str) -> tuple[str | None, bytes]:
    match = _DATA_URL.match(url)
    if match is None:
        raise bad_request(param, "a data: URL must be data:<media type>;base64,<data>")
    media_type, _, data = match.groups()
    try:
        return media_type, base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(param, "the data: URL's base64 data cannot be decoded") from None


def image_from_url(url: str, param: str, detail: Any = None) -> ImagePart:
    """An image from an ``http(s)`` URL or a base64 ``data:`` URL."""
    if detail is not None and detail not in ("auto", "low", "high"):
        raise bad_request(f"{param}.detail", "expected auto, low or high")
    try:
        if url.startswith("data:"):
            media_type, data = _decode_data_url(url, f"{param}.url")
            return ImagePart(data=data, media_type=media_type, detail=detail)
        if not url.startswith(("http://", "https://")):
            raise bad_request(f"{param}.url", "expected an http(s) URL or a base64 data: URL")
        return ImagePart(url=url, detail=detail)
    except ValidationError as exc:
        raise bad_request(param, _first(exc)) from None


def image_from_base64(data: str, media_type: Any, param: str) -> ImagePart:
    """An image from base64 text and its media type."""
    try:
        return ImagePart(data=data, media_type=media_type)
    except ValidationError as exc:
        raise bad_request(param, _first(exc)) from None


def document_from_data_url(url: str, param: str, name: str | None = None) -> DocumentPart:
    """A document (PDF) from a base64 ``data:`` URL."""
    media_type, data = _decode_data_url(url, param)
    try:
        return DocumentPart(data=data, media_type=media_type, name=name)
    except ValidationError as exc:
        raise bad_request(param, _first(exc)) from None


def tool_from_schema(name: Any, description: Any, schema: Any, param: str) -> Tool:
    """A ``Tool`` from a wire tool definition (its JSON schema as given)."""
    tool_name = expect_str(name, f"{param}.name", allow_empty=False)
    text = "" if description is None else expect_str(description, f"{param}.description")
    parameters: Mapping[str, Any] = (
        {"type": "object", "properties": {}} if schema is None else expect_object(schema, param)
    )
    try:
        return Tool(name=tool_name, description=text, parameters=parameters)
    except (ValidationError, ValueError) as exc:
        message = _first(exc) if isinstance(exc, ValidationError) else str(exc)
        raise bad_request(param, message) from None


def _first(exc: ValidationError) -> str:
    problems = exc.errors(include_url=False)
    if not problems:
        return str(exc).splitlines()[0]
    return str(problems[0]["msg"]).removeprefix("Value error, ")
