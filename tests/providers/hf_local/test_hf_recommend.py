"""Model recommendations by capability and size tier: fallbacks (golden), updates, removal."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from modelwire.providers.hf_local.recommend import (
    SIZE_TIERS,
    ModelRecommendation,
    RecommendationRegistry,
    default_registry,
    detect_system_info,
    recommend,
    remove_recommendation,
    update_recommendations,
)

BIG_GPU = {"platform": "linux", "gpu_memory_gb": 192}
CPU_ONLY = {"platform": "linux", "gpu_memory_gb": 0}
A100_80 = {"platform": "linux", "gpu_memory_gb": 80}

QUERIES = [
    ("chat", "xlarge", None),
    ("chat", "xlarge", BIG_GPU),
    ("chat", "xlarge", A100_80),
    ("chat", "large", CPU_ONLY),
    ("code", "small", None),
    ("code", "xlarge", BIG_GPU),
    ("code", "xlarge", A100_80),
    ("reasoning", "medium", CPU_ONLY),
    ("summarization", "large", CPU_ONLY),
    ("summarization", "xlarge", BIG_GPU),
    ("translation", "medium", A100_80),
    ("translation", "large", CPU_ONLY),
    ("poetry", "small", None),
]


def _render(cap: str, tier: str, system: dict[str, Any] | None) -> dict[str, Any]:
    found = recommend(cap, tier, system, registry=RecommendationRegistry())
    key = f"{cap}/{tier}/{'any' if system is None else system['gpu_memory_gb']}GB"
    if found is None:
        return {key: None}
    return {
        key: {
            "model": found.model.model,
            "via": found.via,
            "found": f"{found.found_capability}/{found.found_tier}",
            "skipped": list(found.skipped),
        }
    }


def test_recommendation_fallbacks_golden(snapshot: Any) -> None:
    results: dict[str, Any] = {}
    for cap, tier, system in QUERIES:
        results.update(_render(cap, tier, system))
    assert results == snapshot


def test_fallback_kinds() -> None:
    reg = RecommendationRegistry()
    exact = reg.recommend("code", "small")
    assert exact is not None and exact.via == "exact"
    assert exact.model.model == "Qwen/Qwen2.5-Coder-3B-Instruct"
    other = reg.recommend("code", "xlarge", BIG_GPU)  # no code/xlarge: chat/xlarge serves code
    assert other is not None and other.via == "other_capability"
    assert other.found_capability == "chat"
    smaller = reg.recommend("chat", "xlarge", A100_80)  # 70B needs more than 80 GB
    assert smaller is not None and smaller.via == "smaller_tier" and smaller.found_tier == "large"
    assert smaller.skipped and "150 GB" in smaller.skipped[0]
    assert reg.recommend("poetry", "xlarge") is None


def test_every_default_fits_its_tier() -> None:
    for cap, tiers in default_registry().table().items():
        for tier, rec in tiers.items():
            assert rec.params_b <= SIZE_TIERS[tier], (cap, tier)
            assert cap in rec.capabilities


def test_update_merge_replace_and_remove() -> None:
    reg = RecommendationRegistry()
    mine = ModelRecommendation("me/tiny-coder", 1.5, ("code",))
    update_recommendations({"code": {"small": mine}}, registry=reg)
    assert reg.recommend("code", "small").model is mine  # type: ignore[union-attr]
    assert reg.recommend("code", "medium").model.model.endswith("Coder-14B-Instruct")  # type: ignore[union-attr]
    assert "chat" in reg.capabilities()  # merge kept the rest
    update_recommendations({"code": {"small": mine}}, merge=False, registry=reg)
    assert reg.capabilities() == ["code"]
    assert reg.recommend("chat", "small") is None
    assert remove_recommendation("code", "small", registry=reg) is True
    assert remove_recommendation("code", "small", registry=reg) is False
    assert reg.capabilities() == []
    fresh = RecommendationRegistry()
    assert fresh.remove("translation") is True and "translation" not in fresh.capabilities()


def test_updates_are_validated() -> None:
    reg = RecommendationRegistry()
    with pytest.raises(ValueError, match="do not fit tier"):
        reg.update({"chat": {"small": ModelRecommendation("big/one", 7, ("chat",))}})
    with pytest.raises(ValueError, match="unknown size tier"):
        reg.update({"chat": {"huge": ModelRecommendation("x/y", 1, ("chat",))}})
    with pytest.raises(ValueError, match="unknown size tier"):
        reg.recommend("chat", "tiny")
    assert reg.recommend("chat", "small").model.model == "Qwen/Qwen2.5-3B-Instruct"  # type: ignore[union-attr]


def test_requirements_platform_and_custom_keys() -> None:
    rec = ModelRecommendation(
        "x/mlx-model", 3, ("chat",), {"platforms": ("darwin",), "flash_attention": True}
    )
    assert rec.unmet(None) == []
    assert rec.unmet({"platform": "Darwin", "flash_attention": True}) == []
    problems = rec.unmet({"platform": "linux"})
    assert len(problems) == 2 and "darwin" in problems[0]


def test_concurrent_updates_and_reads_stay_consistent() -> None:
    reg = RecommendationRegistry()
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for j in range(50):
                rec = ModelRecommendation(f"w{i}/m{j}", 1, ("chat",))
                reg.update({f"cap{i}": {"small": rec}})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(200):
                found = reg.recommend("chat", "xlarge")
                assert found is not None and found.model.model.startswith("meta-llama/")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert all(reg.table()[f"cap{i}"]["small"].model == f"w{i}/m49" for i in range(4))


def test_detect_system_info_without_gpu_probe() -> None:
    info = detect_system_info(probe_gpu=False)
    assert info["platform"] and info["gpu_memory_gb"] == 0.0
