"""Recommended open models by capability and size tier, with optional system requirements.

Size tiers are parameter counts: ``small`` ≤ 4B, ``medium`` ≤ 14B, ``large`` ≤ 32B,
``xlarge`` ≤ 80B. Each capability (``chat``, ``code``, ``reasoning``, ``summarization``,
``translation``) has at most one recommendation per tier; a recommendation lists every
capability its model serves and may require a minimum GPU memory or a platform.

``recommend(capability, tier, system_info)`` returns the first of these that the system meets:

1. the capability's own recommendation at the tier;
2. another capability's recommendation at the tier whose model also serves the capability;
3. the same two steps at each smaller tier, largest first.

The answer says which step found it (``via``). The default registry is process-wide and
thread-safe (copy on write); ``update_recommendations`` and ``remove_recommendation`` change it.
"""

from __future__ import annotations

import platform as _platform
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "SIZE_TIERS",
    "ModelRecommendation",
    "Recommendation",
    "RecommendationRegistry",
    "default_registry",
    "detect_system_info",
    "recommend",
    "remove_recommendation",
    "update_recommendations",
]

#: Tier name → the largest parameter count (in billions) it holds, smallest tier first.
SIZE_TIERS: Mapping[str, float] = MappingProxyType(
    {"small": 4.0, "medium": 14.0, "large": 32.0, "xlarge": 80.0}
)

Via = Literal["exact", "other_capability", "smaller_tier", "smaller_tier_other_capability"]


@dataclass(frozen=True)
class ModelRecommendation:
    """One recommended model.

    ``requirements`` may hold ``min_gpu_memory_gb`` (the system's ``gpu_memory_gb`` must be at
    least this), ``platforms`` (the system's ``platform`` must be one of them) and any other
    key, which the system must report with an equal value.
    """

    model: str
    #: Nominal size in billions of parameters (as the model's name states it).
    params_b: float
    capabilities: tuple[str, ...]
    requirements: Mapping[str, Any] = field(default_factory=dict)
    architecture: str = "decoder_only"
    notes: str = ""

    def unmet(self, system_info: Mapping[str, Any] | None) -> list[str]:
        """Why ``system_info`` cannot run this model (empty when it can, or when unknown)."""
        if system_info is None:
            return []
        problems: list[str] = []
        for key, need in self.requirements.items():
            system_key = {"min_gpu_memory_gb": "gpu_memory_gb", "platforms": "platform"}.get(key)
            have = system_info.get(system_key or key)
            if key == "min_gpu_memory_gb":
                if have is None or float(have) < float(need):
                    problems.append(f"needs {need} GB of GPU memory (have {have or 0})")
            elif key == "platforms":
                if have is None or str(have).lower() not in {str(p).lower() for p in need}:
                    problems.append(f"runs on {', '.join(need)} (not {have})")
            elif have != need:
                problems.append(f"needs {key}={need!r} (have {have!r})")
        return problems


@dataclass(frozen=True)
class Recommendation:
    """The answer of ``recommend``: the model, and how it was found."""

    capability: str
    tier: str
    model: ModelRecommendation
    found_tier: str
    found_capability: str
    via: Via
    skipped: tuple[str, ...] = ()


def _check_tier(tier: str) -> str:
    if tier not in SIZE_TIERS:
        raise ValueError(f"unknown size tier {tier!r}; tiers: {', '.join(SIZE_TIERS)}")
    return tier


def _check_fits(tier: str, rec: ModelRecommendation) -> None:
    limit = SIZE_TIERS[_check_tier(tier)]
    if not 0 < rec.params_b <= limit:
        raise ValueError(f"{rec.model}: {rec.params_b}B parameters do not fit tier {tier!r}")


Table = dict[str, dict[str, ModelRecommendation]]


class RecommendationRegistry:
    """Recommendations by capability and tier; reads take no lock, writes swap a new table."""

    def __init__(self, table: Mapping[str, Mapping[str, ModelRecommendation]] | None = None):
        self._lock = threading.Lock()
        self._table: Table = {}
        self.update(table if table is not None else _defaults(), merge=False)

    def table(self) -> Table:
        """A copy of the whole table: capability → tier → recommendation."""
        return {cap: dict(tiers) for cap, tiers in self._table.items()}

    def capabilities(self) -> list[str]:
        """The capabilities that have at least one recommendation."""
        return sorted(self._table)

    def update(
        self, updates: Mapping[str, Mapping[str, ModelRecommendation]], merge: bool = True
    ) -> None:
        """Add or replace recommendations (``merge``), or replace the whole table."""
        for tiers in updates.values():
            for tier, rec in tiers.items():
                _check_fits(tier, rec)
        with self._lock:
            table: Table = self.table() if merge else {}
            for cap, tiers in updates.items():
                table.setdefault(cap, {}).update(tiers)
            self._table = table

    def remove(self, capability: str, tier: str | None = None) -> bool:
        """Remove one tier of a capability, or the whole capability; True if something went."""
        with self._lock:
            table = self.table()
            if tier is None:
                found = table.pop(capability, None) is not None
            else:
                found = table.get(capability, {}).pop(_check_tier(tier), None) is not None
                if capability in table and not table[capability]:
                    del table[capability]
            self._table = table
        return found

    def _candidates(self, capability: str, tier: str) -> Iterable[tuple[str, ModelRecommendation]]:
        table = self._table
        own = table.get(capability, {}).get(tier)
        if own is not None:
            yield capability, own
        for cap in sorted(table):
            rec = table[cap].get(tier)
            if cap != capability and rec is not None and capability in rec.capabilities:
                yield cap, rec

    def recommend(
        self,
        capability: str,
        tier: str = "medium",
        system_info: Mapping[str, Any] | None = None,
    ) -> Recommendation | None:
        """The best recommendation for ``capability`` at ``tier`` that the system can run."""
        tiers = list(SIZE_TIERS)
        start = tiers.index(_check_tier(tier))
        skipped: list[str] = []
        for found_tier in reversed(tiers[: start + 1]):
            for cap, rec in self._candidates(capability, found_tier):
                problems = rec.unmet(system_info)
                if problems:
                    skipped.append(f"{rec.model}: {'; '.join(problems)}")
                    continue
                same_tier = found_tier == tier
                same_cap = cap == capability
                via: Via = (
                    ("exact" if same_cap else "other_capability")
                    if same_tier
                    else ("smaller_tier" if same_cap else "smaller_tier_other_capability")
                )
                return Recommendation(capability, tier, rec, found_tier, cap, via, tuple(skipped))
        return None


def _rec(
    model: str, params_b: float, caps: str, arch: str = "decoder_only", **req: Any
) -> ModelRecommendation:
    return ModelRecommendation(model, params_b, tuple(caps.split()), req, arch)


def _defaults() -> Table:
    """The built-in table (open-weight models; GPU needs are for 16-bit weights)."""
    return {
        "chat": {
            "small": _rec("Qwen/Qwen2.5-3B-Instruct", 3.1, "chat summarization translation"),
            "medium": _rec("microsoft/phi-4", 14.0, "chat code reasoning", min_gpu_memory_gb=32),
            "large": _rec(
                "Qwen/Qwen2.5-32B-Instruct", 32.0, "chat code summarization", min_gpu_memory_gb=70
            ),
            "xlarge": _rec(
                "meta-llama/Llama-3.3-70B-Instruct",
                70.0,
                "chat code summarization translation",
                min_gpu_memory_gb=150,
            ),
        },
        "code": {
            "small": _rec("Qwen/Qwen2.5-Coder-3B-Instruct", 3.1, "code chat"),
            "medium": _rec(
                "Qwen/Qwen2.5-Coder-14B-Instruct", 14.0, "code chat", min_gpu_memory_gb=32
            ),
            "large": _rec(
                "Qwen/Qwen2.5-Coder-32B-Instruct", 32.0, "code chat", min_gpu_memory_gb=70
            ),
        },
        "reasoning": {
            "small": _rec("microsoft/Phi-4-mini-reasoning", 3.8, "reasoning"),
            "medium": _rec(
                "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B",
                14.0,
                "reasoning code",
                min_gpu_memory_gb=32,
            ),
            "large": _rec("Qwen/QwQ-32B", 32.0, "reasoning code chat", min_gpu_memory_gb=70),
            "xlarge": _rec(
                "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
                70.0,
                "reasoning code",
                min_gpu_memory_gb=150,
            ),
        },
        "summarization": {
            "small": _rec("facebook/bart-large-cnn", 0.4, "summarization", "encoder_decoder"),
        },
        "translation": {
            "small": _rec(
                "facebook/nllb-200-distilled-1.3B", 1.3, "translation", "encoder_decoder"
            ),
            "medium": _rec(
                "google/madlad400-10b-mt",
                10.7,
                "translation",
                "encoder_decoder",
                min_gpu_memory_gb=24,
            ),
        },
    }


_default: RecommendationRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> RecommendationRegistry:
    """The process-wide registry (built on first use)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = RecommendationRegistry()
    return _default


def recommend(
    capability: str,
    tier: str = "medium",
    system_info: Mapping[str, Any] | None = None,
    *,
    registry: RecommendationRegistry | None = None,
) -> Recommendation | None:
    """The recommended model for ``capability`` at ``tier`` (see the module docstring)."""
    return (registry or default_registry()).recommend(capability, tier, system_info)


def update_recommendations(
    updates: Mapping[str, Mapping[str, ModelRecommendation]],
    merge: bool = True,
    *,
    registry: RecommendationRegistry | None = None,
) -> None:
    """Add or replace recommendations in the default (or given) registry."""
    (registry or default_registry()).update(updates, merge=merge)


def remove_recommendation(
    capability: str, tier: str | None = None, *, registry: RecommendationRegistry | None = None
) -> bool:
    """Remove one tier of a capability, or the capability, from the default (or given) registry."""
    return (registry or default_registry()).remove(capability, tier)


def detect_system_info(probe_gpu: bool = True) -> dict[str, Any]:
    """This machine's ``platform`` and, when ``torch`` is installed and sees CUDA,
    ``gpu_memory_gb`` (the largest device's memory)."""
    info: dict[str, Any] = {"platform": _platform.system().lower(), "gpu_memory_gb": 0.0}
    if probe_gpu:
        import importlib.util

        if importlib.util.find_spec("torch") is not None:
            import torch

            if torch.cuda.is_available():
                sizes = [
                    torch.cuda.get_device_properties(i).total_memory
                    for i in range(torch.cuda.device_count())
                ]
                info["gpu_memory_gb"] = round(max(sizes) / 1024**3, 1)
    return info
