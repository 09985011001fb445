"""The data that flows through modelwire: model metadata, requests, responses, usage, stream events.

All are pydantic v2 models. ``ModelInfo`` and ``Usage`` are frozen so registry snapshots can be
shared between threads without copying.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from modelwire.capabilities import CapabilityStrength
from modelwire.content import DocumentPart, ImagePart, Part, TextPart, ToolCall, ToolResultPart
from modelwire.output import OutputMode, OutputSpec
from modelwire.tools import Tool

__all__ = [
    "FEATURES",
    "ChatRequest",
    "ChatResponse",
    "Feature",
    "FinishReason",
    "Message",
    "ModelCost",
    "ModelInfo",
    "ModelSource",
    "StreamEvent",
    "ToolCallDelta",
    "Usage",
    "assistant_message",
]

ModelSource = Literal["config", "catalog", "discovered"]

Feature = Literal["tools", "parallel_tools", "images", "documents", "structured_output"]
"""What a request may need of a model beyond text (``structured_output``: the vendor's native
JSON-schema mode, which ``output_mode="auto"`` prefers when the model has it)."""
FEATURES: tuple[Feature, ...] = (
    "tools",
    "parallel_tools",
    "images",
    "documents",
    "structured_output",
)

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]
"""Why a model stopped, the same for every provider (the vendor's own word is in ``raw``)."""

Strength = Annotated[
    CapabilityStrength,
    BeforeValidator(CapabilityStrength.parse),
    PlainSerializer(lambda s: str(s), return_type=str),
]


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a price in USD per million tokens")
    if isinstance(value, float):
        return Decimal(repr(value))  # 0.15 -> Decimal('0.15'), not the binary expansion
    if isinstance(value, int | str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise ValueError(f"expected a price in USD per million tokens; got {value!r}") from None
    raise ValueError("expected a price in USD per million tokens")


Price = Annotated[
    Decimal | None,
    BeforeValidator(_decimal),
    PlainSerializer(lambda d: None if d is None else str(d), return_type=str | None),
]


class PriceTier(BaseModel):
    """Prices that replace a model's base prices for a request (one sampling call) whose input
    exceeds ``above_input_tokens``; a price left ``None`` keeps the base price."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    above_input_tokens: int = Field(ge=0)
    input_per_mtok: Price = None
    output_per_mtok: Price = None
    cache_read_per_mtok: Price = None
    cache_write_per_mtok: Price = None
    cache_write_1h_per_mtok: Price = None


class ModelCost(BaseModel):
    """Prices in USD per million tokens, as exact decimals; ``None`` means not published.

    Beyond the four token prices: 1-hour cache writes, per-modality token prices (``None``:
    the text price applies), fees per use of a server-side tool by kind (``{"web_search":
    Decimal("0.01")}``), input-size ``tiers`` (ascending thresholds), and the prices in force
    before ``effective_date`` (``earlier``, newest first), so a call is priced by its timestamp.
    ``source`` says where the prices came from.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_mtok: Price = None
    output_per_mtok: Price = None
    cache_read_per_mtok: Price = None
    cache_write_per_mtok: Price = None
    effective_date: date | None = None
    cache_write_1h_per_mtok: Price = None
    input_audio_per_mtok: Price = None
    input_image_per_mtok: Price = None
    output_audio_per_mtok: Price = None
    output_image_per_mtok: Price = None
    tool_use_fees: Mapping[str, Decimal] = Field(default_factory=dict)
    tiers: tuple[PriceTier, ...] = ()
    earlier: tuple[ModelCost, ...] = ()
    source: str | None = None

    @property
    def is_priced(self) -> bool:
        """True when both input and output prices are known."""
        return self.input_per_mtok is not None and self.output_per_mtok is not None


class ModelInfo(BaseModel):
    """Everything the registry knows about one model, independent of any live client."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    provider: str = ""
    name: str = ""
    provider_type: str | None = None
    aliases: tuple[str, ...] = ()
    cost: ModelCost | None = None
    context_window: int | None = Field(default=None, ge=1)
    max_output_tokens: int | None = Field(default=None, ge=1)
    modalities: tuple[str, ...] = ("text",)
    capabilities: Mapping[str, Strength] = Field(default_factory=dict)
    reasoning: bool = False
    source: ModelSource = "config"
    available: bool = True
    unavailable_reason: str | None = None
    fallbacks: tuple[str, ...] = ()
    params: Mapping[str, Any] = Field(default_factory=dict)
    #: What the model takes beyond text; ``None``: not known (assumed to take everything).
    features: frozenset[Feature] | None = None

    def supports(self, feature: Feature) -> bool:
        """Whether the model takes ``feature`` (true when its features are not known)."""
        return self.features is None or feature in self.features

    def model_post_init(self, __context: Any) -> None:
        provider, sep, name = self.id.partition(":")
        if not sep or not provider or not name:
            raise ValueError(f"model id {self.id!r} must look like '<provider>:<model>'")
        if not self.provider:
            object.__setattr__(self, "provider", provider)
        if not self.name:
            object.__setattr__(self, "name", name)

    @property
    def is_priced(self) -> bool:
        """True when the model's input and output prices are known."""
        return self.cost is not None and self.cost.is_priced


def _content(value: Any) -> Any:
    """A message's content: a string, or parts (strings in a list become text parts)."""
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, BaseModel):
        return (value,)
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return tuple(TextPart(text=v) if isinstance(v, str) else v for v in value)
    return value


class Message(BaseModel):
    """One chat message: ``content`` is a string, or a tuple of parts (text, images, documents,
    tool calls, tool results, thinking). A ``tool`` message holds ``ToolResultPart``s; an
    ``assistant`` message holds the tool calls the model made."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["system", "user", "assistant", "tool"]
    content: Annotated[str | tuple[Part, ...], BeforeValidator(_content)]

    @property
    def parts(self) -> tuple[Part, ...]:
        """The content as parts (a string is one text part)."""
        if isinstance(self.content, str):
            return (TextPart(text=self.content),) if self.content else ()
        return self.content

    @property
    def text(self) -> str:
        """The message's text (its text parts joined)."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The tool calls an assistant message carries."""
        if isinstance(self.content, str):
            return ()
        return tuple(p for p in self.content if isinstance(p, ToolCall))

    def needs(self) -> set[Feature]:
        """The features a model must have to read this message."""
        found: set[Feature] = set()
        if isinstance(self.content, str):
            return found
        for part in self.content:
            if isinstance(part, ImagePart):
                found.add("images")
            elif isinstance(part, DocumentPart):
                found.add("documents")
            elif isinstance(part, ToolCall):
                found.add("tools")
            elif isinstance(part, ToolResultPart):
                found.add("tools")
                if not isinstance(part.content, str) and any(
                    isinstance(p, ImagePart) for p in part.content
                ):
                    found.add("images")
        return found


class Usage(BaseModel):
    """Token counts of one call, normalised across providers.

    ``input_tokens`` counts all input, cached included; ``output_tokens`` counts all output,
    reasoning included. The cache and reasoning counts are parts of those totals.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    #: Parts of the totals above that a vendor bills at their own price: cache writes kept an
    #: hour (of ``cache_write_tokens``), audio and image tokens (of input and output).
    cache_write_1h_tokens: int = 0
    input_audio_tokens: int = 0
    input_image_tokens: int = 0
    output_audio_tokens: int = 0
    output_image_tokens: int = 0
    #: Server-side tool uses by kind (``{"web_search": 2}``), billed per use.
    tool_uses: Mapping[str, int] = Field(default_factory=dict)
    #: The sampling requests of a call that ran several (Anthropic's ``usage.iterations``:
    #: server-side tool loops, compaction), each with its own counts; the counts above are
    #: their sums. Input-size price tiers apply to each of them, not to the sum. Empty: the
    #: call was one request.
    iterations: tuple[Usage, ...] = ()

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        """The counts summed. When either side ran several requests, the sum keeps every
        request (a side without ``iterations`` counts as one) so tiers still apply to each;
        two plain usages add up as one request: price calls one by one, then add the costs."""
        uses = dict(self.tool_uses)
        for kind, count in other.tool_uses.items():
            uses[kind] = uses.get(kind, 0) + count
        return Usage.model_construct(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            cache_write_1h_tokens=self.cache_write_1h_tokens + other.cache_write_1h_tokens,
            input_audio_tokens=self.input_audio_tokens + other.input_audio_tokens,
            input_image_tokens=self.input_image_tokens + other.input_image_tokens,
            output_audio_tokens=self.output_audio_tokens + other.output_audio_tokens,
            output_image_tokens=self.output_image_tokens + other.output_image_tokens,
            tool_uses=uses,
            iterations=(
                (*(self.iterations or (self,)), *(other.iterations or (other,)))
                if self.iterations or other.iterations
                else ()
            ),
        )


class ChatRequest(BaseModel):
    """A provider-neutral request; each provider maps it to its own wire format."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, arbitrary_types_allowed=True
    )

    messages: tuple[Message, ...]
    system: str | None = None
    # The same bounds as configuration's (config/bounds.py): nothing that validates can
    # overflow a timer or a counter later.
    max_tokens: int | None = Field(default=None, ge=1, le=100_000_000)
    temperature: float | None = Field(default=None, ge=0, le=10)
    top_p: float | None = Field(default=None, ge=0, le=1)
    stop: tuple[str, ...] | None = None
    seed: int | None = Field(default=None, ge=-(2**63), lt=2**63)
    timeout: float | None = Field(default=None, gt=0, le=86_400)
    provider_params: Mapping[str, Any] = Field(default_factory=dict)
    tools: tuple[Tool, ...] = ()
    #: ``auto``, ``none``, ``required``, or the name of the one tool the model must call.
    tool_choice: str | None = None
    #: Whether the model may call several tools in one turn (``None``: the vendor's default).
    parallel_tool_calls: bool | None = None
    #: The structured output asked for (``output=``), and how to ask for it.
    output: OutputSpec | None = None
    output_mode: OutputMode = "auto"

    @model_validator(mode="after")
    def _tools_agree(self) -> ChatRequest:
        choice = self.tool_choice
        named = choice is not None and choice not in ("auto", "none", "required")
        if named and choice not in {t.name for t in self.tools}:
            raise ValueError(f"tool_choice {choice!r} names no tool of the request")
        if choice == "required" and not self.tools:
            raise ValueError("tool_choice 'required' needs tools")
        return self

    @property
    def is_plain(self) -> bool:
        """True for a request of text messages, no tools and no structured output."""
        return (
            not self.tools
            and self.output is None
            and all(type(m.content) is str for m in self.messages)
        )

    def needs(self) -> set[Feature]:
        """The features a model must have to take this request."""
        found: set[Feature] = set()
        for message in self.messages:
            if not isinstance(message.content, str):
                found |= message.needs()
        if self.tools:
            found.add("tools")
        if self.parallel_tool_calls:
            found.add("parallel_tools")
        return found

    @classmethod
    def build(
        cls,
        prompt: str | Message | Mapping[str, Any] | Sequence[Message | Mapping[str, Any]],
        **params: Any,
    ) -> ChatRequest:
        """Make a request from a prompt string, a message, or a list of messages."""
        return cls(messages=normalise_messages(prompt), **params)

    def text_length(self) -> int:
        """Characters of prompt text, system included (used for token estimates)."""
        n = len(self.system or "")
        for m in self.messages:
            n += len(m.content) if isinstance(m.content, str) else len(m.text)
        return n


def normalise_messages(
    prompt: str | Message | Mapping[str, Any] | Sequence[Message | Mapping[str, Any]],
) -> tuple[Message, ...]:
    """Turn the prompt forms ``invoke_model`` accepts into a tuple of ``Message`` (a string in a
    list is a user message); anything else is a one-line ``TypeError`` naming the prompt."""
    if isinstance(prompt, str):
        return (Message(role="user", content=prompt),)
    if isinstance(prompt, Message):
        return (prompt,)
    if isinstance(prompt, Mapping):
        return (Message.model_validate(prompt),)
    if not isinstance(prompt, Sequence) or isinstance(prompt, bytes | bytearray):
        raise TypeError(
            "prompt: expected a string, a Message, a {'role', 'content'} dict or a list of them; "
            f"got {type(prompt).__name__}"
        )
    out = []
    for i, m in enumerate(prompt):
        if isinstance(m, str):  # a user message
            out.append(Message(role="user", content=m))
        elif isinstance(m, Message):
            out.append(m)
        elif isinstance(m, Mapping):
            out.append(Message.model_validate(m))
        else:
            raise TypeError(
                f"prompt[{i}]: expected a string, a Message or a {{'role', 'content'}} dict; "
                f"got {type(m).__name__}"
            )
    if not out:
        raise ValueError("prompt: a request needs at least one message")
    return tuple(out)


class ChatResponse(BaseModel):
    """The answer to one call. ``model_id`` is the model that actually answered."""

    model_config = ConfigDict(extra="forbid")

    text: str
    model_id: str
    usage: Usage = Field(default_factory=Usage)
    cost_usd: Decimal | None = None
    latency_ms: float = 0.0
    finish_reason: str | None = None
    request_id: str | None = None
    attempts: int = 1
    raw: Any = Field(default=None, repr=False, exclude=True)
    #: The tool calls the model made (in its order).
    tool_calls: tuple[ToolCall, ...] = ()
    #: The assistant's content as parts, in the vendor's order, when it is more than text
    #: (thinking, tool calls); empty for a plain text answer.
    parts: tuple[Part, ...] = ()
    #: The validated structured output (``output=``); ``text`` holds its raw JSON.
    output: Any = None
    #: How the structured output was asked for ("native", "tool" or "prompted"), and, when
    #: "auto" could not use the model's native mode, why it fell back.
    output_mode: str | None = None
    output_fallback: str | None = None
    #: The group members passed over for this answer and why (an open breaker, a budget or rate
    #: limit hit, ...); empty for a direct call.
    skipped: dict[str, str] = Field(default_factory=dict, exclude=True)

    @property
    def message(self) -> Message:
        """The assistant message to append to a history (text, thinking and tool calls)."""
        return assistant_message(self.text, self.parts, self.tool_calls)


class StreamEvent(BaseModel):
    """One piece of a streamed answer; the last one has ``done=True`` and the totals."""

    model_config = ConfigDict(extra="forbid")

    text: str = ""
    done: bool = False
    model_id: str | None = None
    usage: Usage | None = None
    cost_usd: Decimal | None = None
    finish_reason: str | None = None
    request_id: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    #: Progress of a tool call being streamed: its index, and its id, name and the next piece
    #: of its JSON arguments as they arrive.
    tool_call_delta: ToolCallDelta | None = None
    #: On the last event: the complete tool calls, and the assistant's content as parts.
    tool_calls: tuple[ToolCall, ...] = ()
    parts: tuple[Part, ...] = ()
    #: On the last event: the whole answer's text (the text events joined).
    full_text: str | None = None
    #: On the last event: the validated structured output, when ``output=`` asked for one.
    output: Any = None
    output_mode: str | None = None

    @property
    def message(self) -> Message | None:
        """On the last event, the assistant message to append to a history."""
        if not self.done:
            return None
        return assistant_message(self.full_text or "", self.parts, self.tool_calls)


class ToolCallDelta(BaseModel):
    """A piece of a tool call arriving in a stream (``index`` tells calls apart)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int
    id: str | None = None
    name: str | None = None
    arguments_delta: str = ""


def assistant_message(text: str, parts: Sequence[Part], tool_calls: Sequence[ToolCall]) -> Message:
    """The assistant message of an answer: its parts when it has them, else its text and
    tool calls."""
    if parts:
        return Message(role="assistant", content=tuple(parts))
    if tool_calls:
        content: tuple[Part, ...] = (TextPart(text=text),) if text else ()
        return Message(role="assistant", content=(*content, *tool_calls))
    return Message(role="assistant", content=text)


StreamEvent.model_rebuild()

_TEXT_EVENT_DEFAULTS = StreamEvent().__dict__
_new_stream_event = StreamEvent.__new__
_set = object.__setattr__


def text_event(text: str) -> StreamEvent:
    """``StreamEvent(text=text)`` for a ``str`` known to be one, without validating it: a stream
    makes one per piece of text, and pydantic's validation of fifteen fields was most of that
    event's cost. The same event as ``StreamEvent(text=text)``, fields set included (tested)."""
    event = _new_stream_event(StreamEvent)
    _set(event, "__dict__", {**_TEXT_EVENT_DEFAULTS, "text": text})
    _set(event, "__pydantic_fields_set__", {"text"})
    _set(event, "__pydantic_extra__", None)
    _set(event, "__pydantic_private__", None)
    return event
