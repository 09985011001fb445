"""The ``Catalog``: validated catalog records, their ``ModelInfo`` and name lookups.

A ``Catalog`` is immutable once built, so any number of threads may read it without locks.
Build one with ``Catalog.from_bytes`` / ``Catalog.from_path``, or get the bundled one (loaded
once, lazily) with ``modelwire.catalog.load_catalog()``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from modelwire.catalog.matching import candidate_names
from modelwire.catalog.schema import (
    CatalogError,
    CatalogFile,
    CatalogModel,
    CatalogPrice,
    DatedPrice,
)
from modelwire.types import ModelCost, ModelInfo, PriceTier

__all__ = ["Catalog", "model_cost"]


def _cost(
    p: DatedPrice, earlier: tuple[ModelCost, ...] = (), source: str | None = None
) -> ModelCost:
    return ModelCost(
        input_per_mtok=p.input,
        output_per_mtok=p.output,
        cache_read_per_mtok=p.cache_read,
        cache_write_per_mtok=p.cache_write,
        effective_date=p.effective_date,
        cache_write_1h_per_mtok=p.cache_write_1h,
        input_audio_per_mtok=p.input_audio,
        input_image_per_mtok=p.input_image,
        output_audio_per_mtok=p.output_audio,
        output_image_per_mtok=p.output_image,
        tool_use_fees=dict(p.tool_fees),
        tiers=tuple(
            PriceTier(
                above_input_tokens=t.above_tokens,
                input_per_mtok=t.input,
                output_per_mtok=t.output,
                cache_read_per_mtok=t.cache_read,
                cache_write_per_mtok=t.cache_write,
                cache_write_1h_per_mtok=t.cache_write_1h,
            )
            for t in p.tiers
        ),
        earlier=earlier,
        source=source,
    )


def model_cost(price: CatalogPrice) -> ModelCost:
    """The ``ModelCost`` of a catalog price, with its tiers, fees and dated history."""
    return _cost(price, tuple(_cost(p, source=price.source) for p in price.earlier), price.source)


def _to_info(record: CatalogModel) -> ModelInfo:
    cost = model_cost(record.price)
    retired = record.retired_on is not None
    return ModelInfo(
        id=record.id,
        provider=record.vendor,
        name=record.name,
        provider_type=record.vendor,
        cost=cost,
        context_window=record.context_window,
        max_output_tokens=record.max_output_tokens,
        modalities=record.modalities,
        capabilities=dict(record.capabilities),
        reasoning=record.reasoning,
        features=frozenset(record.features) if record.features is not None else None,
        source="catalog",
        available=not retired,
        unavailable_reason=(
            f"retired by {record.vendor} on {record.retired_on.isoformat()}"
            if record.retired_on is not None
            else None
        ),
    )


def _rekey(info: ModelInfo, provider: str, name: str) -> ModelInfo:
    if info.provider == provider and info.name == name:
        return info
    return info.model_copy(update={"id": f"{provider}:{name}", "provider": provider, "name": name})


class Catalog:
    """The bundled model catalog: ``entries`` keyed ``"<vendor>:<name>"`` plus name matching.

    Iterating yields the ``ModelInfo`` of every entry in file order; ``len()`` counts them.
    """

    __slots__ = ("_data", "_entries", "_index", "_records")

    def __init__(self, data: CatalogFile) -> None:
        self._data = data
        records = {m.id: m for m in data.models}
        self._records: Mapping[str, CatalogModel] = MappingProxyType(records)
        self._entries: Mapping[str, ModelInfo] = MappingProxyType(
            {mid: _to_info(m) for mid, m in records.items()}
        )
        index: dict[str, dict[str, str]] = {}
        for m in data.models:
            names = index.setdefault(m.vendor, {})
            for n in (m.name, *m.snapshots):
                names[n.lower()] = m.id
        self._index = index

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], source: str = "catalog") -> Catalog:
        """Validate already-parsed JSON; problems raise ``CatalogError`` naming ``source``."""
        try:
            return cls(CatalogFile.model_validate(raw))
        except ValidationError as exc:
            problems = [
                (f"{source} " + ".".join(str(p) for p in err["loc"]), err["msg"])
                for err in exc.errors()
            ]
            raise CatalogError(problems) from None

    @classmethod
    def from_bytes(cls, raw: bytes | str, source: str = "catalog") -> Catalog:
        """Parse and validate catalog JSON text."""
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            raise CatalogError([(source, f"not valid JSON: {exc}")]) from None
        if not isinstance(parsed, dict):
            raise CatalogError([(source, "expected a JSON object at the top level")])
        return cls.from_mapping(parsed, source)

    @classmethod
    def from_path(cls, path: str | Path) -> Catalog:
        """Read, parse and validate a catalog file."""
        p = Path(path)
        return cls.from_bytes(p.read_bytes(), source=str(p))

    # -- data -----------------------------------------------------------------------------

    @property
    def entries(self) -> Mapping[str, ModelInfo]:
        """Every catalog model as ``ModelInfo`` (``source="catalog"``), keyed ``vendor:name``."""
        return self._entries

    @property
    def records(self) -> Mapping[str, CatalogModel]:
        """The raw records (snapshots, status, notes, derived, price history), keyed like entries."""
        return self._records

    @property
    def source(self) -> str | None:
        """Where the prices came from (``"genai-prices 0.2.5"``), or ``None`` for a hand-written file."""
        return self._data.source

    @property
    def catalog_date(self) -> date:
        """The day the catalog's facts were last reviewed."""
        return self._data.catalog_date

    @property
    def version(self) -> int:
        """The catalog file format version."""
        return self._data.version

    @property
    def vendors(self) -> tuple[str, ...]:
        """The provider types that have catalog entries."""
        return tuple(self._index)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[ModelInfo]:
        return iter(self._entries.values())

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._entries

    def __repr__(self) -> str:
        return f"Catalog({len(self)} models, catalog_date={self.catalog_date.isoformat()})"

    # -- queries --------------------------------------------------------------------------

    def match(self, provider_type: str, model_name: str) -> str | None:
        """The catalog id (``vendor:name``) whose family ``model_name`` belongs to, or ``None``."""
        names = self._index.get(provider_type)
        if not names:
            return None
        for candidate in candidate_names(model_name):
            found = names.get(candidate)
            if found is not None:
                return found
        return None

    def for_provider(self, provider_name: str, provider_type: str) -> list[ModelInfo]:
        """The catalog models of ``provider_type`` re-keyed as ``"<provider_name>:<name>"``.

        Types without catalog entries (``mock``, ``openai_compatible``) give ``[]``.
        """
        if provider_type not in self._index:
            return []
        return [
            _rekey(info, provider_name, info.name)
            for info in self._entries.values()
            if info.provider_type == provider_type
        ]

    def lookup(self, provider_type: str, model_name: str) -> ModelInfo | None:
        """The catalog family of ``model_name`` as ``ModelInfo`` with id ``type:model_name``.

        Matches the exact name, a listed snapshot, or a dated/versioned name by the rules of
        ``modelwire.catalog.matching``; ``None`` when nothing matches.
        """
        found = self.match(provider_type, model_name)
        if found is None:
            return None
        return _rekey(self._entries[found], provider_type, model_name)

    def find_by_name(self, model_name: str) -> ModelInfo | None:
        """``lookup`` across every vendor (OpenAI, then Anthropic, then Google)."""
        for vendor in self._index:
            info = self.lookup(vendor, model_name)
            if info is not None:
                return info
        return None

    def price_for(self, model_id: str) -> ModelCost | None:
        """The catalog price of ``model_id``.

        ``"<vendor>:<name>"`` ids use ``lookup``; any other provider (``mock:gpt-4o-mini``,
        ``work:gpt-4o``) matches the part after the colon against every vendor.
        """
        provider, sep, name = model_id.partition(":")
        if not sep:
            provider, name = "", model_id
        known = provider in self._index
        info = self.lookup(provider, name) if known else self.find_by_name(name)
        return info.cost if info is not None else None
