"""The data that flows through modelwire: model metadata, requests, responses, usage, stream events.

All are pydantic v2 models. ``ModelInfo`` and ``Usage`` are frozen so registry snapshots can be
shared between threads without copying.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from modelwire.capabilities import CapabilityStrength

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "Message",
    "ModelCost",
    "ModelInfo",
    "ModelSource",
    "StreamEvent",
    "Usage",
]

ModelSource = Literal["config", "catalog", "discovered"]

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


class ModelCost(BaseModel):
    """Prices in USD per million tokens, as exact decimals; ``None`` means not published."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_mtok: Price = None
    output_per_mtok: Price = None
    cache_read_per_mtok: Price = None
    cache_write_per_mtok: Price = None
    effective_date: date | None = None

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


class Message(BaseModel):
    """One chat message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["system", "user", "assistant", "tool"]
    content: str


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

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage.model_construct(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
        )


class ChatRequest(BaseModel):
    """A provider-neutral request; each provider maps it to its own wire format."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: tuple[Message, ...]
    system: str | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, ge=0, le=1)
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    timeout: float | None = Field(default=None, gt=0)
    provider_params: Mapping[str, Any] = Field(default_factory=dict)

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
            n += len(m.content)
        return n


def normalise_messages(
    prompt: str | Message | Mapping[str, Any] | Sequence[Message | Mapping[str, Any]],
) -> tuple[Message, ...]:
    """Turn the prompt forms ``invoke_model`` accepts into a tuple of ``Message``."""
    if isinstance(prompt, str):
        return (Message(role="user", content=prompt),)
    if isinstance(prompt, Message):
        return (prompt,)
    if isinstance(prompt, Mapping):
        return (Message.model_validate(prompt),)
    out = tuple(m if isinstance(m, Message) else Message.model_validate(m) for m in prompt)
    if not out:
        raise ValueError("a request needs at least one message")
    return out


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
