"""Build a ``ModelInfo`` from a configuration entry laid over catalog metadata, field by field."""

from __future__ import annotations

from typing import Any

from modelwire.config.schema import ModelEntry
from modelwire.types import ModelCost, ModelInfo

__all__ = ["info_from_entry"]


def info_from_entry(
    model_id: str, entry: ModelEntry, base: ModelInfo | None, provider_type: str
) -> ModelInfo:
    """The configured model: every field set in ``entry`` wins over ``base`` (the catalog's)."""
    data: dict[str, Any] = (
        base.model_dump(exclude={"id", "provider", "name", "source"}) if base else {}
    )
    set_fields = entry.model_fields_set
    if entry.cost is not None:
        old = base.cost.model_dump() if base and base.cost else {}
        new = entry.cost.model_dump(exclude_unset=True)
        over = old.get("source")
        source = f"configuration (over {over})" if over else "configuration"
        data["cost"] = ModelCost.model_validate({**old, **new, "source": source})
    for field in ("context_window", "max_output_tokens", "reasoning"):
        if field in set_fields and getattr(entry, field) is not None:
            data[field] = getattr(entry, field)
    if entry.modalities is not None:
        data["modalities"] = tuple(entry.modalities)
    if entry.capabilities:
        data["capabilities"] = {**(base.capabilities if base else {}), **entry.capabilities}
    aliases = list(base.aliases if base else ())
    aliases += [a for a in entry.aliases if a not in aliases]
    data["aliases"] = tuple(aliases)
    if entry.fallbacks:
        data["fallbacks"] = tuple(entry.fallbacks)
    if entry.params:
        data["params"] = {**(base.params if base else {}), **entry.params}
    provider, _, name = model_id.partition(":")
    data["provider_type"] = provider_type
    return ModelInfo(
        id=model_id,
        provider=provider,
        name=entry.name or name,
        source="config",
        **data,
    )
