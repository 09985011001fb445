"""The models a configuration defines: the catalog's models of each configured provider entry,
overlaid field by field with the configuration's ``models:`` entries and ``aliases:``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from modelwire.config.entries import info_from_entry
from modelwire.types import ModelInfo

if TYPE_CHECKING:
    from modelwire.catalog import Catalog
    from modelwire.config.schema import Config
    from modelwire.providers.base import ProviderContext

__all__ = ["catalog_base", "configured_models"]


def configured_models(
    config: Config, providers: Mapping[str, ProviderContext], *, catalog: bool = True
) -> list[ModelInfo]:
    """Every model ``config`` defines for ``providers`` (configured fields win over the
    catalog's; ``catalog=False`` leaves the catalog out)."""
    found: dict[str, ModelInfo] = {}
    cat = None
    if catalog:
        from modelwire.catalog import load_catalog

        cat = load_catalog()
        for name, ctx in providers.items():
            for info in cat.for_provider(name, ctx.type):
                found[info.id] = info
    for model_id, entry in config.models.items():
        provider, _, name = model_id.partition(":")
        ptype = providers[provider].type
        base = found.get(model_id)
        if base is None and cat is not None:
            base = catalog_base(cat, ptype, name)
        found[model_id] = info_from_entry(model_id, entry, base, ptype)
    for alias, target in config.aliases.items():
        if target in found and alias not in found[target].aliases:
            info = found[target]
            found[target] = info.model_copy(update={"aliases": (*info.aliases, alias)})
    return list(found.values())


def catalog_base(cat: Catalog, ptype: str, name: str) -> ModelInfo | None:
    """Catalog metadata for ``name``: its own type's entry (snapshots included), or, for the
    mock provider, any vendor's entry of that name; a mock stand-in is always available."""
    base = cat.lookup(ptype, name)
    if base is None and ptype == "mock":
        base = cat.find_by_name(name)
        if base is not None:
            base = base.model_copy(update={"available": True, "unavailable_reason": None})
    return base
