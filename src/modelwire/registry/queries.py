"""Registry queries that read the current snapshot: capability and price search, per-model
health and statistics. Mixed into ``ModelRegistry``; kept apart to keep that module small."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelwire.capabilities import CapabilityStrength
from modelwire.routing.health import MemberStats
from modelwire.types import ModelInfo

if TYPE_CHECKING:
    from modelwire.providers.base import ProviderContext

__all__ = ["RegistryQueries"]


class RegistryQueries:
    """Read-only queries over the registry's snapshot, and the per-model call counters."""

    _stats: dict[str, MemberStats]
    _providers: dict[str, ProviderContext]
    _snap: Any

    def list_models(self, provider: str | None = None) -> list[ModelInfo]:
        """Registered models, sorted by id, optionally of one provider entry."""
        infos = [s.info for s in self._snap.slots.values()]
        if provider is not None:
            infos = [i for i in infos if i.provider == provider]
        return sorted(infos, key=lambda i: i.id)

    if TYPE_CHECKING:

        def get_model_info(self, name: str) -> ModelInfo: ...

    def find_models(
        self,
        capabilities: Mapping[str, CapabilityStrength | str] | None = None,
        max_input_cost_per_mtok: float | str | None = None,
        min_context: int | None = None,
        provider: str | None = None,
    ) -> list[ModelInfo]:
        """Models meeting every requirement, cheapest input price first (unpriced last)."""
        from decimal import Decimal

        need = {k: CapabilityStrength.parse(v) for k, v in (capabilities or {}).items()}
        limit = None if max_input_cost_per_mtok is None else Decimal(str(max_input_cost_per_mtok))
        out = []
        for info in self.list_models(provider):
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
        return sorted(out, key=_price_key)

    def get_models_by_capability(
        self, capability: str, min_strength: CapabilityStrength | str = CapabilityStrength.BASIC
    ) -> list[ModelInfo]:
        """Available models with ``capability`` at ``min_strength`` or better: strongest first,
        cheapest among equals."""
        floor = CapabilityStrength.parse(min_strength)
        found = [
            i
            for i in self.list_models()
            if i.available and i.capabilities.get(capability, 0) >= floor
        ]
        return sorted(found, key=lambda i: (-i.capabilities[capability], *_price_key(i)))

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

    # health -------------------------------------------------------------------------------

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


def _price_key(info: ModelInfo) -> tuple[int, Any, str]:
    price = info.cost.input_per_mtok if info.cost else None
    return (price is None, price or 0, info.id)
