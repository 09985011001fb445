"""Searches over registered models: by capability, price and context window.

Pure functions over ``ModelInfo`` lists; ``ModelRegistry`` applies them to its current snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from modelwire.capabilities import CapabilityStrength
from modelwire.types import ModelInfo

__all__ = ["by_capability", "find_models", "price_key"]


def price_key(info: ModelInfo) -> tuple[bool, Any, str]:
    """Sort key: cheapest input price first, unpriced models last, then by id."""
    price = info.cost.input_per_mtok if info.cost else None
    return (price is None, price or 0, info.id)


def find_models(
    infos: Iterable[ModelInfo],
    capabilities: Mapping[str, CapabilityStrength | str] | None = None,
    max_input_cost_per_mtok: float | str | None = None,
    min_context: int | None = None,
) -> list[ModelInfo]:
    """Available models meeting every requirement, cheapest input price first (unpriced last)."""
    need = {k: CapabilityStrength.parse(v) for k, v in (capabilities or {}).items()}
    limit = None if max_input_cost_per_mtok is None else Decimal(str(max_input_cost_per_mtok))
    out = []
    for info in infos:
        if not info.available:
            continue
        if any(info.capabilities.get(k, 0) < v for k, v in need.items()):
            continue
        price = info.cost.input_per_mtok if info.cost else None
        if limit is not None and (price is None or price > limit):
            continue
        if min_context is not None and (info.context_window or 0) < min_context:
            continue
        out.append(info)
    return sorted(out, key=price_key)


def by_capability(
    infos: Iterable[ModelInfo], capability: str, min_strength: CapabilityStrength | str
) -> list[ModelInfo]:
    """Available models with ``capability`` at ``min_strength`` or better: strongest first,
    cheapest among equals."""
    floor = CapabilityStrength.parse(min_strength)
    found = [i for i in infos if i.available and i.capabilities.get(capability, 0) >= floor]
    return sorted(found, key=lambda i: (-i.capabilities[capability], *price_key(i)))
