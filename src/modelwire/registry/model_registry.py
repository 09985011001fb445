"""ModelRegistry: every model an application may use, readable from any thread without a lock.

Readers load ``self._snap`` (one attribute read) and look up plain dicts in it. Writers build a new
``_Snapshot`` under a write lock and swap it in, so a reader sees either the old or the new state,
never a half-updated one. Each model id has a ``_Slot`` that builds its model object at most once
(per-slot lock, outside the write lock); a failed build is not cached.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwire.errors import ModelNotFoundError, ModelwireError
from modelwire.naming import normalise, suggest
from modelwire.providers.base import ProviderContext
from modelwire.providers.factory import ModelFactory
from modelwire.registry.queries import RegistryQueries
from modelwire.routing.health import MemberStats
from modelwire.types import ModelInfo

if TYPE_CHECKING:
    from modelwire.config.schema import Config
    from modelwire.discovery import DiscoveryResult
    from modelwire.providers.base import ChatModel

__all__ = ["DuplicateModelError", "ModelRegistry"]


class DuplicateModelError(ModelwireError, ValueError):
    """``register_model`` found the id (or an alias) taken and ``replace`` was false."""


class _Slot:
    __slots__ = ("info", "instance", "lock")

    def __init__(self, info: ModelInfo) -> None:
        self.info = info
        self.instance: ChatModel | None = None
        self.lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class _Snapshot:
    slots: Mapping[str, _Slot] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    version: int = 0
    #: ids and aliases → slot, so a warm lookup by either is one dict read
    lookup: Mapping[str, _Slot] = field(default_factory=dict)

    @classmethod
    def build(cls, slots: dict[str, _Slot], aliases: dict[str, str], version: int) -> _Snapshot:
        """A snapshot with its lookup table (aliases never shadow ids)."""
        lookup = {a: slots[t] for a, t in aliases.items() if t in slots}
        lookup.update(slots)
        return cls(slots, aliases, version, lookup)


class ModelRegistry(RegistryQueries):
    """Thread-safe registry of models: lock-free reads, atomic writes, lazy exactly-once builds."""

    _snap: _Snapshot

    def __init__(
        self,
        factory: ModelFactory | None = None,
        config: Config | None = None,
        providers: Mapping[str, ProviderContext] | None = None,
    ) -> None:
        if config is None:
            from modelwire.config.schema import Config

            config = Config()
        self.config: Config = config
        self._providers: dict[str, ProviderContext] = dict(providers or {})
        for name, pcfg in config.providers.items():
            self._providers.setdefault(name, ProviderContext(name, pcfg))
        self.factory = factory or ModelFactory(self.provider)
        if factory is not None and factory._provider_lookup is None:
            factory._provider_lookup = self.provider
        self._snap = _Snapshot()
        self._write_lock = threading.Lock()
        self._stats: dict[str, MemberStats] = {}
        self._retired: list[ProviderContext] = []
        self._configured_ids: frozenset[str] = frozenset()

    # construction -------------------------------------------------------------------------

    @classmethod
    def from_config(
        cls, config: Config | str | Path | None = None, *, catalog: bool = True
    ) -> ModelRegistry:
        """A registry of every configured provider's catalog models plus the configured models.

        ``config`` is a ``Config``, a path to a YAML file, or ``None`` for the default search.
        Configured fields win over the catalog's, field by field.
        """
        from modelwire.config.schema import Config

        if not isinstance(config, Config):
            from modelwire.config.loader import load_config

            config = load_config(config)
        registry = cls(config=config)
        configured = registry._configured_models(config, catalog=catalog)
        registry.update_models(configured)
        registry._configured_ids = frozenset(i.id for i in configured)
        return registry

    def _configured_models(self, config: Config, *, catalog: bool) -> list[ModelInfo]:
        from modelwire.catalog.entries import info_from_entry

        found: dict[str, ModelInfo] = {}
        cat = None
        if catalog:
            from modelwire.catalog import load_catalog

            cat = load_catalog()
            for name, ctx in self._providers.items():
                for info in cat.for_provider(name, ctx.type):
                    found[info.id] = info
        for model_id, entry in config.models.items():
            provider = model_id.partition(":")[0]
            ptype = self._providers[provider].type
            base = found.get(model_id)
            if base is None and cat is not None:
                base = self._catalog_base(cat, ptype, model_id.partition(":")[2])
            found[model_id] = info_from_entry(model_id, entry, base, ptype)
        for alias, target in config.aliases.items():
            if target in found and alias not in found[target].aliases:
                info = found[target]
                found[target] = info.model_copy(update={"aliases": (*info.aliases, alias)})
        return list(found.values())

    @staticmethod
    def _catalog_base(cat: Any, ptype: str, name: str) -> ModelInfo | None:
        """Catalog metadata for ``name``: its own type's entry (snapshots included), or, for the
        mock provider, any vendor's entry of that name; a mock stand-in is always available."""
        base: ModelInfo | None = cat.lookup(ptype, name)
        if base is None and ptype == "mock":
            base = cat.find_by_name(name)
            if base is not None:
                base = base.model_copy(update={"available": True, "unavailable_reason": None})
        return base

    # providers ----------------------------------------------------------------------------

    @property
    def providers(self) -> Mapping[str, ProviderContext]:
        """The configured provider entries, by name."""
        return self._providers

    def provider(self, name: str) -> ProviderContext:
        """The provider entry called ``name``."""
        try:
            return self._providers[name]
        except KeyError:
            raise ModelNotFoundError(
                name, suggest(name, self._providers), detail="no such provider is configured"
            ) from None

    # writes -------------------------------------------------------------------------------

    def register_model(self, info: ModelInfo, replace: bool = False) -> None:
        """Add a model. With ``replace=True`` an existing id is swapped for the new definition;
        calls already running on the old model object finish normally."""
        self.update_models([info], replace=replace)

    def unregister_model(self, model_id: str) -> None:
        """Remove a model (by id or alias) and its aliases."""
        with self._write_lock:
            snap = self._snap
            canonical = self._canonical(snap, model_id)
            if canonical is None:
                raise ModelNotFoundError(model_id, suggest(model_id, self._names(snap)))
            slots = dict(snap.slots)
            del slots[canonical]
            aliases = {a: t for a, t in snap.aliases.items() if t != canonical}
            self._snap = _Snapshot.build(slots, aliases, snap.version + 1)

    @property
    def version(self) -> int:
        """A number that grows with every change to the set of models (add, replace, remove,
        reload); compare it to tell whether the registry changed since a read."""
        return self._snap.version

    def update_models(
        self,
        add: Iterable[ModelInfo] = (),
        remove: Iterable[str] = (),
        *,
        replace: bool = True,
        if_version: int | None = None,
    ) -> bool:
        """Add, replace and remove models in one atomic swap (used by discovery and reload).

        With ``if_version`` the swap happens only if ``version`` still equals it — nothing
        changed since the caller read the models it computed the update from — and the call
        returns ``False`` otherwise (nothing applied). Returns ``True`` when applied.
        """
        add = list(add)
        for info in add:
            if info.provider not in self._providers:
                raise ModelwireError(
                    f"cannot register {info.id!r}: provider {info.provider!r} is not configured"
                )
        with self._write_lock:
            snap = self._snap
            if if_version is not None and snap.version != if_version:
                return False
            slots = dict(snap.slots)
            aliases = dict(snap.aliases)
            for model_id in remove:
                if slots.pop(model_id, None) is not None:
                    aliases = {a: t for a, t in aliases.items() if t != model_id}
            for info in add:
                old = slots.get(info.id)
                if old is not None and not replace:
                    raise DuplicateModelError(f"model {info.id!r} is already registered")
                if old is not None:
                    aliases = {a: t for a, t in aliases.items() if t != info.id}
                slots[info.id] = _Slot(info)
            for info in add:
                for alias in info.aliases:
                    taken = aliases.get(alias)
                    if alias in slots or (taken is not None and taken != info.id and not replace):
                        raise DuplicateModelError(
                            f"alias {alias!r} of {info.id!r} is already used by {taken or alias!r}"
                        )
                    aliases[alias] = info.id
            self._snap = _Snapshot.build(slots, aliases, snap.version + 1)
        return True

    def replace_model(self, info: ModelInfo) -> None:
        """Swap in a new definition of a registered model; in-flight calls finish on the old one."""
        if not self.is_registered(info.id):
            raise ModelNotFoundError(info.id, suggest(info.id, self._names(self._snap)))
        self.update_models([info], replace=True)

    def reload(self, config: Config | str | Path | None = None, *, catalog: bool = True) -> None:
        """Apply a new configuration without a restart.

        Provider entries whose settings are unchanged keep their clients; changed or new ones get
        fresh ones (the old clients stay open for in-flight calls until ``close()``). Models the
        old configuration (or catalog) defined and the new one does not are removed; models
        registered in code or by discovery stay, unless their provider entry is gone. Everything
        is swapped in at once: no reader sees a model that exists before and after the reload
        go missing.
        """
        from modelwire.config.schema import Config

        if not isinstance(config, Config):
            from modelwire.config.loader import load_config

            config = load_config(config)
        old_providers = self._providers
        providers = dict(old_providers)
        changed: set[str] = set()
        for name, pcfg in config.providers.items():
            old = old_providers.get(name)
            if old is None or old.config != pcfg:
                if old is not None:
                    self._retired.append(old)
                providers[name] = ProviderContext(name, pcfg)
                changed.add(name)
        self._providers = providers  # old and new entries both resolve while the models swap
        wanted = {i.id: i for i in self._configured_models(config, catalog=catalog)}
        with self._write_lock:
            snap = self._snap
            slots: dict[str, _Slot] = {}
            for model_id, slot in snap.slots.items():
                info = slot.info
                gone = model_id in self._configured_ids or info.provider not in config.providers
                if model_id not in wanted and not gone:
                    slots[model_id] = _Slot(info) if info.provider in changed else slot
            for model_id, info in wanted.items():
                old_slot = snap.slots.get(model_id)
                if old_slot is not None and old_slot.info == info and info.provider not in changed:
                    slots[model_id] = old_slot  # unchanged: keep the built model object
                else:
                    slots[model_id] = _Slot(info)
            aliases = {a: i.id for i in (sl.info for sl in slots.values()) for a in i.aliases}
            self._snap = _Snapshot.build(slots, aliases, snap.version + 1)
            self._configured_ids = frozenset(wanted)
            self.config = config
        self._providers = {n: providers[n] for n in config.providers}
        for name in set(old_providers) - set(config.providers):
            self._retired.append(old_providers[name])

    # reads (lock-free) --------------------------------------------------------------------

    def get_model(self, name: str) -> ChatModel:
        """The model object for an id or alias, built on first use (exactly once)."""
        slot = self._snap.lookup.get(name)
        if slot is None:
            slot = self._slot_for(name)
        instance = slot.instance
        if instance is not None:
            return instance
        with slot.lock:
            if slot.instance is None:
                slot.instance = self.factory.create_model(
                    slot.info, self.provider(slot.info.provider)
                )
            return slot.instance

    def get_model_info(self, name: str) -> ModelInfo:
        """The metadata of a model (id or alias)."""
        slot = self._snap.lookup.get(name)
        return (slot or self._slot_for(name)).info

    def resolve(self, name: str) -> str:
        """The canonical id of an id, alias, or unambiguous bare model name."""
        slot = self._snap.lookup.get(name)
        return (slot or self._slot_for(name)).info.id

    def is_registered(self, name: str) -> bool:
        """True when ``name`` is a registered id or alias (no model is created)."""
        snap = self._snap
        return name in snap.slots or name in snap.aliases

    def discover_models(self, refresh: bool = False, **options: Any) -> DiscoveryResult:
        """Ask the providers for their models and merge them in, in one atomic update.

        Short for ``ModelDiscoveryService(self, **options).discover(refresh)`` then ``apply``.
        """
        from modelwire.discovery import ModelDiscoveryService

        options.setdefault("background", False)
        with ModelDiscoveryService(self, **options) as discovery:
            result = discovery.discover(refresh=refresh)
            discovery.apply(result)
        return result

    def close(self) -> None:
        """Release every provider entry's clients (models stay registered; clients rebuild)."""
        retired, self._retired = self._retired, []
        for ctx in [*self._providers.values(), *retired]:
            ctx.close()

    def __enter__(self) -> ModelRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self._snap.slots)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.is_registered(name)

    def __repr__(self) -> str:
        return f"ModelRegistry(models={len(self)}, providers={sorted(self._providers)})"

    # name resolution ----------------------------------------------------------------------

    @staticmethod
    def _names(snap: _Snapshot) -> list[str]:
        return [*snap.slots, *snap.aliases]

    def _canonical(self, snap: _Snapshot, name: str) -> str | None:
        if name in snap.slots:
            return name
        return snap.aliases.get(name)

    def _slot_for(self, name: str) -> _Slot:
        """Slow path of a lookup: alias, bare name, or an open provider's new id."""
        snap = self._snap
        target = snap.aliases.get(name)
        if target is not None and target in snap.slots:
            return snap.slots[target]
        if not isinstance(name, str) or not name:
            raise ModelNotFoundError(str(name), detail="a model name must be a non-empty string")
        provider, sep, model = name.partition(":")
        if not sep:
            matches = [s for s in snap.slots.values() if s.info.name == name]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                ids = sorted(s.info.id for s in matches)
                raise ModelNotFoundError(name, ids, detail="ambiguous bare model name")
        elif provider in self._providers and model:
            slot = self._open_slot(provider, model, name)
            if slot is not None:
                return slot
        raise ModelNotFoundError(name, suggest(name, self._names(snap)))

    def _open_slot(self, provider: str, model: str, model_id: str) -> _Slot | None:
        """Register on first use an id the provider accepts: any id of an open provider (mock,
        OpenAI-compatible servers), or a catalog model's dated snapshot of a known vendor."""
        ctx = self._providers[provider]
        from modelwire.catalog import load_catalog

        base = self._catalog_base(load_catalog(), ctx.type, model)
        if base is None and not self.factory.provider_class(ctx.type).open_model_set:
            return None
        data = base.model_dump(exclude={"id", "provider", "name", "source"}) if base else {}
        data["provider_type"] = ctx.type
        source = "catalog" if base is not None and ctx.type != "mock" else "config"
        info = ModelInfo(id=model_id, source=source, **data)
        with contextlib.suppress(DuplicateModelError):  # another thread registered it first
            self.update_models([info], replace=False)
        return self._snap.slots[model_id]

    def resolve_attribute(self, provider: str, attr: str) -> str:
        """Map a namespace attribute (``models.openai.gpt_4o_mini``) to a model id."""
        ctx = self.provider(provider)
        want = normalise(attr)
        snap = self._snap
        ids = sorted(
            i
            for i, s in snap.slots.items()
            if s.info.provider == provider and (normalise(s.info.name) == want)
        )
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            raise ModelNotFoundError(f"{provider}.{attr}", ids, detail="ambiguous name")
        alias_hits = sorted(
            {
                t
                for a, t in snap.aliases.items()
                if normalise(a) == want and t.startswith(provider + ":")
            }
        )
        if len(alias_hits) == 1:
            return alias_hits[0]
        if self.factory.provider_class(ctx.type).open_model_set:
            from modelwire.catalog import load_catalog

            known = sorted(
                {i.name for i in load_catalog().entries.values() if normalise(i.name) == want}
            )
            return f"{provider}:{known[0] if known else attr.replace('_', '-')}"
        names = [s.info.name for s in snap.slots.values() if s.info.provider == provider]
        raise ModelNotFoundError(
            f"{provider}.{attr}", [f"{provider}.{normalise(n)}" for n in suggest(attr, names)]
        )
