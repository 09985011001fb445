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
    "LongContextPrice",
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


class LongContextPrice(_Frozen):
    """The price of prompts longer than ``above_tokens`` (Gemini, Claude's 1M-context beta)."""

    above_tokens: int = Field(ge=1)
    input: ExactPrice
    output: ExactPrice
    cache_read: ExactPrice = None
    cache_write: ExactPrice = None


class CatalogPrice(_Frozen):
    """Per-million-token prices and the day they took effect; ``None`` = not offered/published."""

    input: ExactPrice
    output: ExactPrice
    cache_read: ExactPrice = None
    cache_write: ExactPrice = None
    effective_date: date
    long_context: LongContextPrice | None = None


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
