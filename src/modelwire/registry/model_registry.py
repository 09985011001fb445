"""ModelRegistry: every model an application may use, readable from any thread without a lock.

Readers load ``self._snap`` (one attribute read) and look up plain dicts in it. Writers build a new
``Snapshot`` under a write lock and swap it in, so a reader sees either the old or the new state,
never a half-updated one. Each model id has a ``Slot`` that builds its model object at most once
(per-slot lock, outside the write lock); a failed build is not cached.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from modelwire.capabilities import CapabilityStrength
from modelwire.discovery.lookup import ListingLookup
from modelwire.errors import DuplicateModelError, ModelNotFoundError, ModelwireError
from modelwire.naming import normalise, suggest
from modelwire.providers.base import ProviderContext
from modelwire.providers.factory import ModelFactory
from modelwire.registry import queries
from modelwire.registry.build import catalog_base, configured_models
from modelwire.registry.snapshot import Slot, Snapshot
from modelwire.registry.stats import MemberStats
from modelwire.types import ModelInfo

if TYPE_CHECKING:
    from modelwire.config.schema import Config
    from modelwire.discovery import DiscoveryResult
    from modelwire.providers.base import ChatModel

__all__ = ["DuplicateModelError", "ModelRegistry", "ModelUpdate"]


class ModelUpdate(Protocol):
    """What ``update_models_from``'s plan returns (discovery's ``MergePlan`` is one)."""

    @property
    def add(self) -> Iterable[ModelInfo]: ...

    @property
    def remove(self) -> Iterable[str]: ...


U = TypeVar("U", bound=ModelUpdate)


class ModelRegistry:
    """Thread-safe registry of models: lock-free reads, atomic writes, lazy exactly-once builds."""

    _snap: Snapshot

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
        self._snap = Snapshot()
        self._write_lock = threading.Lock()
        self._stats: dict[str, MemberStats] = {}
        self._configured_ids: frozenset[str] = frozenset()
        #: the providers' own model lists, consulted when a ``<provider>:<name>`` misses;
        #: replace it to choose the cache dir or the clock (``ListingLookup(registry, ...)``)
        self.listing_lookup = ListingLookup(self)

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
        configured = configured_models(config, registry._providers, catalog=catalog)
        registry.update_models(configured)
        registry._configured_ids = frozenset(i.id for i in configured)
        return registry

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
            canonical = snap.canonical(model_id)
            if canonical is None:
                raise ModelNotFoundError(model_id, suggest(model_id, snap.names()))
            slots = dict(snap.slots)
            del slots[canonical]
            aliases = {a: t for a, t in snap.aliases.items() if t != canonical}
            self._snap = Snapshot.build(slots, aliases, snap.version + 1)

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
        add = self._known_providers(add)
        with self._write_lock:
            snap = self._snap
            if if_version is not None and snap.version != if_version:
                return False
            self._snap = self._updated(snap, add, remove, replace)
        return True

    def update_models_from(self, plan: Callable[[list[ModelInfo]], U]) -> U:
        """Compute an update from the registered models and apply it in one atomic swap.

        ``plan(models)`` runs under the write lock, so no other write comes between what it
        read and what it changes; it returns an object with ``add`` (models, replacing any of
        the same id) and ``remove`` (ids). It must be quick and do no I/O: readers never wait
        for it, but other writers do. Returns what ``plan`` returned.
        """
        with self._write_lock:
            update = plan(self.list_models())
            add = self._known_providers(update.add)
            if add or update.remove:
                self._snap = self._updated(self._snap, add, update.remove, True)
        return update

    def _known_providers(self, add: Iterable[ModelInfo]) -> list[ModelInfo]:
        add = list(add)
        for info in add:
            if info.provider not in self._providers:
                raise ModelwireError(
                    f"cannot register {info.id!r}: provider {info.provider!r} is not configured"
                )
        return add

    @staticmethod
    def _updated(
        snap: Snapshot, add: list[ModelInfo], remove: Iterable[str], replace: bool
    ) -> Snapshot:
        """``snap`` with ``remove`` removed and ``add`` added (the caller holds the lock)."""
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
            slots[info.id] = Slot(info)
        for info in add:
            for alias in info.aliases:
                taken = aliases.get(alias)
                if alias in slots or (taken is not None and taken != info.id and not replace):
                    raise DuplicateModelError(
                        f"alias {alias!r} of {info.id!r} is already used by {taken or alias!r}"
                    )
                aliases[alias] = info.id
        return Snapshot.build(slots, aliases, snap.version + 1)

    def replace_model(self, info: ModelInfo) -> None:
        """Swap in a new definition of a registered model; in-flight calls finish on the old one."""
        if not self.is_registered(info.id):
            raise ModelNotFoundError(info.id, suggest(info.id, self._snap.names()))
        self.update_models([info], replace=True)

    def reload(self, config: Config | str | Path | None = None, *, catalog: bool = True) -> None:
        """Apply a new configuration without a restart.

        Provider entries whose settings are unchanged keep their clients; changed or new ones get
        fresh ones (the old entry's clients are closed as soon as no call uses them). Models the
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
        retired: list[ProviderContext] = []
        for name, pcfg in config.providers.items():
            old = old_providers.get(name)
            if old is None or old.config != pcfg:
                if old is not None:
                    retired.append(old)
                providers[name] = ProviderContext(name, pcfg)
                changed.add(name)
        self._providers = providers  # old and new entries both resolve while the models swap
        wanted = {i.id: i for i in configured_models(config, providers, catalog=catalog)}
        with self._write_lock:
            snap = self._snap
            slots: dict[str, Slot] = {}
            for model_id, slot in snap.slots.items():
                info = slot.info
                gone = model_id in self._configured_ids or info.provider not in config.providers
                if model_id not in wanted and not gone:
                    slots[model_id] = Slot(info) if info.provider in changed else slot
            for model_id, info in wanted.items():
                old_slot = snap.slots.get(model_id)
                if old_slot is not None and old_slot.info == info and info.provider not in changed:
                    slots[model_id] = old_slot  # unchanged: keep the built model object
                else:
                    slots[model_id] = Slot(info)
            aliases = {a: i.id for i in (sl.info for sl in slots.values()) for a in i.aliases}
            self._snap = Snapshot.build(slots, aliases, snap.version + 1)
            self._configured_ids = frozenset(wanted)
            self.config = config
        self._providers = {n: providers[n] for n in config.providers}
        retired += [old_providers[n] for n in set(old_providers) - set(config.providers)]
        for ctx in retired:
            ctx.retire()  # closed now, or when the last call still using it finishes

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
        for ctx in self._providers.values():
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

    # queries (lock-free) ------------------------------------------------------------------

    def list_models(self, provider: str | None = None) -> list[ModelInfo]:
        """Registered models, sorted by id, optionally of one provider entry."""
        infos = [s.info for s in self._snap.slots.values()]
        if provider is not None:
            infos = [i for i in infos if i.provider == provider]
        return sorted(infos, key=lambda i: i.id)

    def find_models(
        self,
        capabilities: Mapping[str, CapabilityStrength | str] | None = None,
        max_input_cost_per_mtok: float | str | None = None,
        min_context: int | None = None,
        provider: str | None = None,
    ) -> list[ModelInfo]:
        """Models meeting every requirement, cheapest input price first (unpriced last)."""
        return queries.find_models(
            self.list_models(provider), capabilities, max_input_cost_per_mtok, min_context
        )

    def get_models_by_capability(
        self, capability: str, min_strength: CapabilityStrength | str = CapabilityStrength.BASIC
    ) -> list[ModelInfo]:
        """Available models with ``capability`` at ``min_strength`` or better: strongest first,
        cheapest among equals."""
        return queries.by_capability(self.list_models(), capability, min_strength)

    def find_models_with_capabilities(
        self, requirements: Mapping[str, CapabilityStrength | str]
    ) -> dict[str, list[ModelInfo]]:
        """Models meeting every requirement, grouped by provider (cheapest first in each)."""
        grouped: dict[str, list[ModelInfo]] = {}
        for info in self.find_models(capabilities=requirements):
            grouped.setdefault(info.provider, []).append(info)
        return grouped

    def get_capabilities_for_model(self, name: str) -> dict[str, CapabilityStrength]:
        """A model's capability strengths (id or alias)."""
        return dict(self.get_model_info(name).capabilities)

    # call statistics ------------------------------------------------------------------------

    def observe(
        self, model_id: str, ok: bool, latency_ms: float, error: BaseException | None = None
    ) -> None:
        """Count one finished call of ``model_id`` (the service reports every attempt here)."""
        stats = self._stats.get(model_id)
        if stats is None:
            stats = self._stats.setdefault(model_id, MemberStats())
        if ok:
            stats.observe_success(latency_ms)
        else:
            stats.observe_failure(error)

    def health(self) -> dict[str, dict[str, Any]]:
        """Per model that has been called: calls, errors, error rate, latency average, last
        error, and whether it is available."""
        snap = self._snap
        out: dict[str, dict[str, Any]] = {}
        for model_id, stats in sorted(self._stats.items()):
            row = stats.snapshot()
            row["error_rate"] = round(row["errors"] / row["calls"], 4) if row["calls"] else 0.0
            slot = snap.slots.get(model_id)
            row["available"] = slot.info.available if slot else False
            row["registered"] = slot is not None
            out[model_id] = row
        return out

    def stats(self) -> dict[str, Any]:
        """Counts of providers, models, aliases, built model objects, unavailable models, and
        calls and errors per model."""
        snap = self._snap
        by_provider: dict[str, int] = {}
        for slot in snap.slots.values():
            by_provider[slot.info.provider] = by_provider.get(slot.info.provider, 0) + 1
        return {
            "providers": len(self._providers),
            "models": len(snap.slots),
            "aliases": len(snap.aliases),
            "instantiated": sum(1 for s in snap.slots.values() if s.instance is not None),
            "models_by_provider": dict(sorted(by_provider.items())),
            "unavailable": sorted(i for i, s in snap.slots.items() if not s.info.available),
            "calls": {m: st.calls for m, st in sorted(self._stats.items())},
            "errors": {m: st.errors for m, st in sorted(self._stats.items()) if st.errors},
            "version": snap.version,
        }

    # name resolution ----------------------------------------------------------------------

    def _slot_for(self, name: str) -> Slot:
        """Slow path of a lookup: alias, bare name, an open provider's new id, or a model the
        provider lists."""
        snap = self._snap
        target = snap.aliases.get(name)
        if target is not None and target in snap.slots:
            return snap.slots[target]
        if not isinstance(name, str) or not name:
            raise ModelNotFoundError(str(name), detail="a model name must be a non-empty string")
        provider, sep, model = name.partition(":")
        listed: list[str] = []
        detail = ""
        if not sep:
            matches = snap.models_named(name)
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                ids = sorted(s.info.id for s in matches)
                raise ModelNotFoundError(name, ids, detail="ambiguous bare model name")
        elif provider in self._providers and model:
            slot = self._open_slot(provider, model, name)
            if slot is not None:
                return slot
            listing = self.listing_lookup.known(provider)  # what _open_slot consulted
            if listing is not None:
                listed = listing.ids()
                if listing.error is None:
                    detail = f"provider {provider!r} does not list it"
        raise ModelNotFoundError(name, suggest(name, [*snap.names(), *listed]), detail=detail)

    def _open_slot(self, provider: str, model: str, model_id: str) -> Slot | None:
        """Register on first use an id the provider accepts: any id of an open provider (mock,
        OpenAI-compatible servers), a catalog model's dated snapshot of a known vendor, or a
        model the provider lists (its listing is read from the discovery cache, or asked for at
        most once per ``discovery.ttl_s``; no lock of the registry is held meanwhile)."""
        ctx = self._providers[provider]
        from modelwire.catalog import load_catalog

        base = catalog_base(load_catalog(), ctx.type, model)
        if base is None and not self.factory.provider_class(ctx.type).open_model_set:
            listed = self.listing_lookup.find(provider, model)
            return self._register_first(listed) if listed is not None else None
        data = base.model_dump(exclude={"id", "provider", "name", "source"}) if base else {}
        data["provider_type"] = ctx.type
        source = "catalog" if base is not None and ctx.type != "mock" else "config"
        return self._register_first(ModelInfo(id=model_id, source=source, **data))

    def _register_first(self, info: ModelInfo) -> Slot:
        """Register ``info`` unless another thread registered its id first; its slot either way."""
        with contextlib.suppress(DuplicateModelError):
            self.update_models([info], replace=False)
        return self._snap.slots[info.id]

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
