"""The models a configuration defines: the catalog's models of each configured provider entry,
overlaid field by field with the configuration's ``models:`` entries and ``aliases:``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from modelwire.config.entries import info_from_entry
from modelwire.config.provider_types import PROVIDER_TYPES
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
    for alias in config.aliases:
        target = _alias_model(alias, config, found, providers, cat)
        if target is not None and alias not in found[target].aliases:
            info = found[target]
            found[target] = info.model_copy(update={"aliases": (*info.aliases, alias)})
    return list(found.values())


def _alias_model(
    alias: str,
    config: Config,
    found: dict[str, ModelInfo],
    providers: Mapping[str, ProviderContext],
    cat: Catalog | None,
) -> str | None:
    """The model id a top-level alias stands for, registering it when it is a model the
    provider accepts without a ``models:`` entry (an open provider's name, a catalog model's
    dated snapshot); ``None`` for an alias of a group (the service routes those) or one that
    resolves to nothing (``config check`` reports it)."""
    target = config.aliases[alias]
    for _ in range(len(config.aliases)):  # an alias of an alias (configuration forbids cycles)
        if target not in config.aliases or target in found:
            break
        target = config.aliases[target]
    if target in found:
        return target
    if target in config.groups:
        return None
    provider, sep, name = target.partition(":")
    if not sep:  # a bare model name, if exactly one model has it
        named = [i.id for i in found.values() if i.name == target]
        return named[0] if len(named) == 1 else None
    ctx = providers.get(provider)
    if ctx is None or not name:
        return None
    base = catalog_base(cat, ctx.type, name) if cat is not None else None
    kind = PROVIDER_TYPES.get(ctx.type)
    if base is None and (kind is None or not kind.open_model_set()):
        return None
    data = base.model_dump(exclude={"id", "provider", "name", "source"}) if base else {}
    data["provider_type"] = ctx.type
    source = "catalog" if base is not None and ctx.type != "mock" else "config"
    found[target] = ModelInfo(id=target, source=source, **data)
    return target


def catalog_base(cat: Catalog, ptype: str, name: str) -> ModelInfo | None:
    """Catalog metadata for ``name``: its own type's entry (snapshots included), or, for the
    mock provider, any vendor's entry of that name; a mock stand-in is always available."""
    base = cat.lookup(ptype, name)
    if base is None and ptype == "mock":
        base = cat.find_by_name(name)
        if base is not None:
            base = base.model_copy(update={"available": True, "unavailable_reason": None})
    return base
