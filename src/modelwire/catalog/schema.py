"""The shape of the bundled catalog file (``models.json``), validated with pydantic.

One ``CatalogModel`` per model a user can call by name. The record's ``name`` is the vendor's API
id that users call: the vendor's floating alias when it has one (``claude-sonnet-4-5``,
``claude-3-5-haiku-latest``, ``gpt-4o``), otherwise the dated id (``claude-3-haiku-20240307``).
Dated ids that the alias points to, or pointed to, at the same price and limits are listed under
``snapshots``. A snapshot with different prices is a record of its own (``gpt-4o-2024-05-13``).

Prices are USD per million tokens, written as JSON *strings* so they load as exact decimals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from modelwire.capabilities import (
    DOMAIN_CAPABILITIES,
    OPERATIONAL_CAPABILITIES,
    TASK_CAPABILITIES,
)
from modelwire.errors import CatalogError
from modelwire.types import Feature, Strength

__all__ = [
    "KNOWN_CAPABILITIES",
    "VENDORS",
    "CatalogError",
    "CatalogFile",
    "CatalogModel",
    "CatalogPrice",
    "CatalogTier",
    "DatedPrice",
]

VENDORS: tuple[str, ...] = ("openai", "anthropic", "google")
KNOWN_CAPABILITIES = OPERATIONAL_CAPABILITIES | TASK_CAPABILITIES | DOMAIN_CAPABILITIES

_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]*[a-z0-9]$")
Modality = Literal["text", "image", "audio", "video"]
Vendor = Literal["openai", "anthropic", "google"]


def _price(value: Any) -> Decimal | None:
    """A price written as a decimal string (or null); floats are refused to keep prices exact."""
    if value is None or isinstance(value, Decimal):
        price = value
    elif isinstance(value, str):
        try:
            price = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"expected a decimal string such as '0.15'; got {value!r}") from None
    else:
        raise ValueError(f'write prices as strings such as "0.15" (exact decimals); got {value!r}')
    if price is not None and (not price.is_finite() or price < 0):
        raise ValueError(f"a price must be a non-negative number; got {value!r}")
    return price


ExactPrice = Annotated[Decimal | None, BeforeValidator(_price)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CatalogTier(_Frozen):
    """Prices that replace the base prices for a request whose input exceeds ``above_tokens``
    (Gemini's and GPT-5.4's long-prompt prices, Claude's 1M-context beta); ``None`` keeps the
    base price."""

    above_tokens: int = Field(ge=0)
    input: ExactPrice = None
    output: ExactPrice = None
    cache_read: ExactPrice = None
    cache_write: ExactPrice = None
    cache_write_1h: ExactPrice = None


def _fee(value: Any) -> Decimal:
    price = _price(value)
    if price is None:
        raise ValueError("a tool fee must be a price, not null")
    return price


ExactFee = Annotated[Decimal, BeforeValidator(_fee)]


class DatedPrice(_Frozen):
    """One set of prices and the day it took effect (``None``: not dated by the source)."""

    input: ExactPrice
    output: ExactPrice
    cache_read: ExactPrice = None
    cache_write: ExactPrice = None
    cache_write_1h: ExactPrice = None
    input_audio: ExactPrice = None
    input_image: ExactPrice = None
    output_audio: ExactPrice = None
    output_image: ExactPrice = None
    #: USD per ONE use of a server-side tool, by kind (``web_search``, ``file_search``).
    tool_fees: Mapping[str, ExactFee] = Field(default_factory=dict)
    tiers: tuple[CatalogTier, ...] = ()
    effective_date: date | None = None
    #: Prices the source publishes that ``ModelCost`` does not carry (``input_video``, …).
    not_modelled: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _ascending_tiers(self) -> DatedPrice:
        starts = [t.above_tokens for t in self.tiers]
        if starts != sorted(set(starts)):
            raise ValueError("tiers must be in ascending order of above_tokens, each once")
        return self


class CatalogPrice(DatedPrice):
    """Per-million-token prices in force from ``effective_date``; ``None`` = not offered.

    ``earlier`` holds the prices in force before, newest first; ``source`` names where the
    prices came from (``"genai-prices 0.2.5: openai/gpt-4o"``).
    """

    earlier: tuple[DatedPrice, ...] = ()
    source: str | None = None

    @model_validator(mode="after")
    def _dated_history(self) -> CatalogPrice:
        dates = [self.effective_date, *(p.effective_date for p in self.earlier)]
        if self.earlier:
            known = [d for d in dates[:-1]]
            if any(d is None for d in known):
                raise ValueError("every price but the oldest needs an effective_date")
            dated = [d for d in dates if d is not None]
            if dated != sorted(set(dated), reverse=True):
                raise ValueError("earlier prices must be older than the price after them")
        return self


class CatalogModel(_Frozen):
    """One model of the catalog, as written in ``models.json``."""

    vendor: Vendor
    name: str
    snapshots: tuple[str, ...] = ()
    status: Literal["current", "legacy", "retired"] = "current"
    retired_on: date | None = None
    price: CatalogPrice
    context_window: int = Field(ge=1)
    max_output_tokens: int = Field(ge=1)
    modalities: tuple[Modality, ...] = ("text",)
    reasoning: bool = False
    capabilities: Mapping[str, Strength] = Field(default_factory=dict)
    #: What the model takes beyond text (tools, parallel_tools, images, documents), as the
    #: vendor documents it; absent: not known.
    features: tuple[Feature, ...] | None = None
    notes: str | None = None
    #: Where the record's non-price fields came from: ``{"flags": "reviewed" | "like <name>",
    #: "context_window": "reviewed" | "genai-prices" | "like <name>"}`` (see docs/catalog.md).
    derived: Mapping[str, str] = Field(default_factory=dict)

    @property
    def id(self) -> str:
        """``"<vendor>:<name>"``."""
        return f"{self.vendor}:{self.name}"

    @model_validator(mode="after")
    def _check(self) -> CatalogModel:
        for n in (self.name, *self.snapshots):
            if not _NAME.match(n):
                raise ValueError(
                    f"{n!r} is not a model name (lower-case letters, digits, '.', '-')"
                )
        if len(set(self.snapshots)) != len(self.snapshots) or self.name in self.snapshots:
            raise ValueError("snapshots must be distinct and differ from the name")
        if "text" not in self.modalities:
            raise ValueError("a chat model takes text: modalities must include 'text'")
        if (self.status == "retired") != (self.retired_on is not None):
            raise ValueError("retired_on is required for, and only for, status 'retired'")
        if self.max_output_tokens > self.context_window:
            raise ValueError("max_output_tokens exceeds context_window")
        if self.features is not None:
            if "parallel_tools" in self.features and "tools" not in self.features:
                raise ValueError("features: 'parallel_tools' needs 'tools'")
            if "images" in self.features and "image" not in self.modalities:
                raise ValueError("features: 'images' needs the 'image' modality")
        unknown = sorted(set(self.capabilities) - KNOWN_CAPABILITIES)
        if unknown:
            known = ", ".join(sorted(KNOWN_CAPABILITIES))
            raise ValueError(f"unknown capabilities {unknown}; known: {known}")
        return self


class CatalogFile(_Frozen):
    """The whole file: a format version, the date the data was last reviewed, the models."""

    version: Literal[1]
    catalog_date: date
    currency: Literal["USD"] = "USD"
    price_unit: Literal["per million tokens"] = "per million tokens"
    #: The price source and its version (``"genai-prices 0.2.5"``); ``None``: written by hand.
    source: str | None = None
    #: The command that wrote the file, when it was generated.
    generated_by: str | None = None
    models: tuple[CatalogModel, ...]

    @model_validator(mode="after")
    def _unique(self) -> CatalogFile:
        seen: set[tuple[str, str]] = set()
        for m in self.models:
            for n in (m.name, *m.snapshots):
                if (m.vendor, n) in seen:
                    raise ValueError(f"{m.vendor} model name {n!r} appears more than once")
                seen.add((m.vendor, n))
        for m in self.models:
            if m.retired_on is not None and m.retired_on > self.catalog_date:
                raise ValueError(f"{m.id}: retired_on is after catalog_date")
        return self
