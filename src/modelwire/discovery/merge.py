"""The pure merge of discovered model lists with configuration, the catalog and the registry.

``merge_models(current, listings, config=..., catalog=..., provider_types=...)`` takes the
registry's models as they are now and, for each provider that answered, the models it listed. It
returns a ``MergePlan``: the models after the merge, and the ``add``/``remove`` arguments of the
one ``ModelRegistry.update_models`` call that gets there. The rules (docs/discovery.md):

1. A listed model is first filled from the catalog (``Catalog.lookup``: exact name, listed
   snapshots, dated or versioned names of a family such as ``claude-3-5-sonnet-20241022``).
   Fields the provider reported (a context window, say) win over the catalog's; the catalog fills
   the rest, prices included. ``source`` is ``"catalog"`` when the catalog has the exact name,
   otherwise ``"discovered"``; a model neither configured nor in the catalog keeps the cost the
   provider gave, which for every built-in provider is ``None`` (unknown, never 0).
2. Configuration wins field by field: a ``models:`` entry is laid over the filled-in model exactly
   as ``ModelRegistry.from_config`` lays it over the catalog; a model registered by hand with
   ``source="config"`` keeps every field it set.
3. A listed model is available (``available=True``, no reason).
4. A registered model of a provider that answered but did not list it (by id, by wire name, or
   by another name of the same catalog family: Anthropic lists ``claude-sonnet-4-5-20250929``,
   users call ``claude-sonnet-4-5``) stays registered with ``available=False`` and a reason, unless it was only ever discovered
   (``source="discovered"`` and not configured): then it is removed.
5. Providers that did not answer are left exactly as they are.

The function is deterministic and idempotent: merging its own output with the same listings
changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelwire.types import ModelInfo

if TYPE_CHECKING:
    from modelwire.catalog import Catalog
    from modelwire.config.schema import Config

__all__ = ["MergePlan", "enrich", "merge_models", "not_listed_reason"]

# Identity and status fields: never copied between the provider's report and the catalog.
_IDENTITY = frozenset({"id", "provider", "name", "source", "available", "unavailable_reason"})


def not_listed_reason(provider: str) -> str:
    """The ``unavailable_reason`` of a model its provider no longer lists."""
    return f"not listed by provider {provider!r} during discovery"


@dataclass(frozen=True, slots=True)
class MergePlan:
    """The outcome of a merge.

    ``models`` is every model after the merge, sorted by id. ``add`` holds the new or changed
    models and ``remove`` the ids to drop: together the arguments of one
    ``ModelRegistry.update_models(add, remove)`` call. ``listed`` maps each provider that answered
    to the ids it listed (sorted).
    """

    models: tuple[ModelInfo, ...]
    add: tuple[ModelInfo, ...]
    remove: tuple[str, ...]
    listed: Mapping[str, tuple[str, ...]]

    def by_id(self) -> dict[str, ModelInfo]:
        """``models`` keyed by id."""
        return {m.id: m for m in self.models}

    @property
    def changed(self) -> bool:
        """True when applying the plan would change the registry."""
        return bool(self.add or self.remove)


@functools.cache
def _defaults() -> tuple[tuple[str, Any], ...]:
    """``ModelInfo``'s non-identity fields and their defaults (computed once)."""
    return tuple(
        (name, spec.get_default(call_default_factory=True))
        for name, spec in ModelInfo.model_fields.items()
        if name not in _IDENTITY
    )


def _reported(info: ModelInfo) -> dict[str, Any]:
    """The fields of ``info`` that differ from ``ModelInfo``'s defaults (identity excluded)."""
    out: dict[str, Any] = {}
    for field, default in _defaults():
        value = getattr(info, field)
        if value != default:
            out[field] = value
    return out


def _catalog_match(catalog: Catalog | None, ptype: str, name: str) -> ModelInfo | None:
    if catalog is None:
        return None
    found = catalog.lookup(ptype, name)
    if found is None and ptype == "mock":  # the mock serves vendor names (as the registry does)
        found = catalog.find_by_name(name)
    return found


def _family(catalog: Catalog | None, ptype: str, name: str) -> str | None:
    return catalog.match(ptype, name) if catalog is not None else None


def enrich(info: ModelInfo, catalog: Catalog | None, provider_type: str) -> ModelInfo:
    """A listed model filled in from the catalog (rule 1 of the module docstring).

    Both inputs are valid ``ModelInfo``, so the result is a copy of one with fields of the other
    (``model_copy``, no second validation: this runs for every listed model).
    """
    base = _catalog_match(catalog, provider_type, info.name)
    if base is None:
        if info.source == "discovered" and info.provider_type:
            return info  # nothing to fill in: the provider's report as it is
        return info.model_copy(
            update={"source": "discovered", "provider_type": info.provider_type or provider_type}
        )
    update = _reported(info)
    exact = catalog is not None and f"{provider_type}:{info.name}" in catalog
    update.update(
        id=info.id,
        provider=info.provider,
        name=info.name,
        source="catalog" if exact else "discovered",
        provider_type=info.provider_type or provider_type,
        available=True,
        unavailable_reason=None,
    )
    return base.model_copy(update=update)


def _union(first: Iterable[str], second: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*first, *second]))


def _configured(
    model_id: str,
    base: ModelInfo,
    old: ModelInfo | None,
    config: Config,
    provider_type: str,
) -> ModelInfo | None:
    """Rule 2: the configured form of a listed model, or ``None`` when it is not configured."""
    entry = config.models.get(model_id)
    if entry is not None:
        from modelwire.config.entries import info_from_entry

        info = info_from_entry(model_id, entry, base, provider_type)
        extra = [alias for alias, target in sorted(config.aliases.items()) if target == model_id]
        aliases = _union(_union(info.aliases, extra), old.aliases if old else ())
        return info.model_copy(update={"aliases": aliases})
    if old is not None and old.source == "config":  # registered by hand: its fields win
        data = base.model_dump(exclude=set(_IDENTITY))
        data.update(_reported(old))
        data["aliases"] = _union(old.aliases, base.aliases)
        return ModelInfo(id=old.id, provider=old.provider, name=old.name, source="config", **data)
    return None


def merge_models(
    current: Iterable[ModelInfo],
    listings: Mapping[str, Sequence[ModelInfo]],
    *,
    config: Config,
    catalog: Catalog | None,
    provider_types: Mapping[str, str] | None = None,
) -> MergePlan:
    """Merge each answering provider's listing into ``current`` (see the module docstring).

    ``listings`` maps a provider name to the models it listed; providers absent from it are left
    untouched. ``provider_types`` maps provider names to types (default: the name itself).
    """
    types = provider_types or {}
    before = {m.id: m for m in current}
    after = dict(before)
    remove: list[str] = []
    listed: dict[str, tuple[str, ...]] = {}
    for provider in sorted(listings):
        ptype = types.get(provider, provider)
        seen: dict[str, ModelInfo] = {}
        for found in listings[provider]:
            if found.provider == provider and found.id not in seen:
                seen[found.id] = found
        names = {m.name for m in seen.values()}
        families = {_family(catalog, ptype, n) for n in names} - {None}
        listed[provider] = tuple(sorted(seen))
        for model_id, found in seen.items():
            old = before.get(model_id)
            base = enrich(found, catalog, ptype)
            info = _configured(model_id, base, old, config, ptype)
            if info is None:
                info = base
                if old is not None and old.aliases:
                    info = info.model_copy(update={"aliases": _union(info.aliases, old.aliases)})
            if not info.available or info.unavailable_reason is not None:
                info = info.model_copy(update={"available": True, "unavailable_reason": None})
            after[model_id] = info
        if ptype == "mock":
            continue  # the mock serves any name: a model it does not list is still available
        for model_id, old in before.items():
            if old.provider != provider or model_id in seen:
                continue
            if old.name in names or _family(catalog, ptype, old.name) in families:
                # served: under its wire name, or as another name of a listed catalog family
                # (Anthropic lists dated ids; ``claude-sonnet-4-5`` is their floating alias)
                if not old.available:
                    after[model_id] = old.model_copy(
                        update={"available": True, "unavailable_reason": None}
                    )
                continue
            if old.source == "discovered" and model_id not in config.models:
                remove.append(model_id)
                del after[model_id]
            elif old.available or not old.unavailable_reason:
                after[model_id] = old.model_copy(
                    update={"available": False, "unavailable_reason": not_listed_reason(provider)}
                )
    add = tuple(after[i] for i in sorted(after) if before.get(i) != after[i])
    return MergePlan(
        models=tuple(after[i] for i in sorted(after)),
        add=add,
        remove=tuple(sorted(remove)),
        listed=listed,
    )
