"""What a message can hold besides plain text: images, documents, tool calls and their results,
and a model's thinking.

Every part is an immutable pydantic model with a ``type`` tag, so a message's content is a plain
string or a tuple of parts that survives a round trip through JSON. Each provider maps the parts
to its own wire format (``providers/<vendor>/mapping.py``) and refuses, before any network
request, a part its API cannot take.
"""

from __future__ import annotations

import base64
import json
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    model_validator,
)

__all__ = [
    "IMAGE_TYPES",
    "DocumentPart",
    "ImagePart",
    "Part",
    "TextPart",
    "ThinkingPart",
    "ToolCall",
    "ToolResultPart",
]

#: Image media types every supported vendor accepts.
IMAGE_TYPES = frozenset(("image/png", "image/jpeg", "image/gif", "image/webp"))

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


def _sniff(data: bytes) -> str | None:
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _bytes(value: Any) -> bytes | None:
    """Raw bytes, or base64 text (as JSON carries them) decoded."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            raise ValueError("expected bytes or base64 text") from None
    raise ValueError("expected bytes or base64 text")


Data = Annotated[
    bytes | None,
    PlainValidator(_bytes),
    PlainSerializer(lambda b: None if b is None else base64.b64encode(b).decode("ascii")),
]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TextPart(_Part):
    """Plain text."""

    type: Literal["text"] = "text"
    text: str


class _Binary(_Part):
    """Shared by images and documents: a URL, or the bytes with their media type."""

    label: ClassVar[str] = "part"

    url: str | None = None
    data: Data = Field(default=None, repr=False)
    media_type: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> _Binary:
        if (self.url is None) == (self.data is None):
            raise ValueError(f"{self.label} needs exactly one of url or data")
        if self.data is not None and self.media_type is None:
            object.__setattr__(self, "media_type", _sniff(self.data))
            if self.media_type is None:
                raise ValueError(f"the {self.label}'s media_type is not given and not recognised")
        return self

    @property
    def base64(self) -> str:
        """The bytes as base64 text (``""`` for a part given by URL)."""
        return base64.b64encode(self.data).decode("ascii") if self.data is not None else ""

    @property
    def data_url(self) -> str:
        """A ``data:`` URL of the bytes, or the part's URL."""
        if self.data is None:
            return self.url or ""
        return f"data:{self.media_type};base64,{self.base64}"

    @property
    def size(self) -> int:
        """Bytes held (0 for a part given by URL)."""
        return len(self.data) if self.data is not None else 0


class ImagePart(_Binary):
    """An image, by URL or as bytes (PNG, JPEG, GIF or WebP).

    ``ImagePart.from_path("cat.png")`` reads a file; ``detail`` is OpenAI's resolution hint.
    """

    label: ClassVar[str] = "image"
    type: Literal["image"] = "image"
    detail: Literal["auto", "low", "high"] | None = None

    @model_validator(mode="after")
    def _an_image(self) -> ImagePart:
        if self.data is not None and self.media_type not in IMAGE_TYPES:
            raise ValueError(
                f"unsupported image type {self.media_type!r}; "
                f"use one of {', '.join(sorted(IMAGE_TYPES))}"
            )
        return self

    @classmethod
    def from_path(cls, path: str | Path, media_type: str | None = None) -> ImagePart:
        """The image in a file (its type from the bytes, else the file name)."""
        data = Path(path).read_bytes()
        guess = _sniff(data) or mimetypes.guess_type(str(path))[0]
        return cls(data=data, media_type=media_type or guess)

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str | None = None) -> ImagePart:
        """An image from its bytes (its type recognised when not given)."""
        return cls(data=data, media_type=media_type)


class DocumentPart(_Binary):
    """A document (PDF), by URL or as bytes, for the vendors that read documents."""

    label: ClassVar[str] = "document"
    type: Literal["document"] = "document"
    name: str | None = None

    @classmethod
    def from_path(cls, path: str | Path, media_type: str | None = None) -> DocumentPart:
        """The document in a file, named after it."""
        data = Path(path).read_bytes()
        guess = _sniff(data) or mimetypes.guess_type(str(path))[0]
        return cls(data=data, media_type=media_type or guess, name=Path(path).name)


class ToolCall(_Part):
    """A model's request to call a tool: ``arguments`` is the decoded JSON object that
    ``arguments_json`` holds.

    ``id`` is the vendor's call id (modelwire makes one for vendors that send none).
    ``provider_state`` keeps what a vendor needs back on the next turn (Gemini's thought
    signature), under the provider type's name; other vendors ignore it.
    """

    type: Literal["tool_call"] = "tool_call"
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: Mapping[str, Any] = Field(default_factory=dict)
    arguments_json: str = ""
    provider_state: Mapping[str, Any] = Field(default_factory=dict, repr=False)

    @model_validator(mode="after")
    def _consistent(self) -> ToolCall:
        if not self.arguments_json:
            object.__setattr__(self, "arguments_json", json.dumps(dict(self.arguments)))
        elif not self.arguments:
            decoded = json.loads(self.arguments_json)
            if not isinstance(decoded, dict):
                raise ValueError("a tool call's arguments must be a JSON object")
            object.__setattr__(self, "arguments", decoded)
        return self


class ToolResultPart(_Part):
    """What a tool returned for one call, to send back to the model (in a ``tool`` message).

    ``content`` is text, or parts (text and images) for vendors that take them; ``is_error``
    marks a failure the model should see as such. ``name`` is the tool's (some vendors want it;
    modelwire fills it from the call when it is missing).
    """

    type: Literal["tool_result"] = "tool_result"
    call_id: str = Field(min_length=1)
    content: str | tuple[TextPart | ImagePart, ...] = ""
    is_error: bool = False
    name: str | None = None

    @property
    def text(self) -> str:
        """The result's text parts, joined."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, TextPart))


class ThinkingPart(_Part):
    """A model's visible reasoning, kept so that it can be sent back unchanged on the next turn.

    ``signature`` is the vendor's proof that the thinking is its own (Anthropic); ``redacted``
    holds an encrypted block's opaque data. ``provider`` names the provider type that made it:
    other vendors drop it from a history they replay.
    """

    type: Literal["thinking"] = "thinking"
    text: str = ""
    signature: str | None = Field(default=None, repr=False)
    redacted: str | None = Field(default=None, repr=False)
    provider: str | None = None


Part = Annotated[
    TextPart | ImagePart | DocumentPart | ToolCall | ToolResultPart | ThinkingPart,
    Field(discriminator="type"),
]
"""One part of a message's content."""
