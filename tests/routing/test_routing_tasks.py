"""Task types, their capability requirements, and the prompt → task heuristic."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import modelwire
from modelwire.capabilities import (
    DOMAIN_CAPABILITIES,
    OPERATIONAL_CAPABILITIES,
    TASK_CAPABILITIES,
    CapabilityStrength,
)
from modelwire.routing.tasks import (
    MIN_SCORE,
    TASK_CAPABILITY_REQUIREMENTS,
    TaskType,
    capability_match,
    detect_task_type,
    parse_task_type,
    score_task_types,
    task_requirements,
)

S = CapabilityStrength


def _corpus(golden_dir: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load((golden_dir / "prompts" / "tasks.yaml").read_text(encoding="utf-8"))
    return list(data["prompts"])


def test_corpus_is_large_and_covers_every_task(golden_dir: Path) -> None:
    corpus = _corpus(golden_dir)
    counts = Counter(parse_task_type(p["task"]) for p in corpus)
    assert len(corpus) >= 40
    assert set(counts) == set(TaskType)
    assert min(counts.values()) >= 5


def test_detected_types_match_golden(golden_dir: Path, snapshot: Any) -> None:
    detected = {p["prompt"]: str(detect_task_type(p["prompt"])) for p in _corpus(golden_dir)}
    assert detected == snapshot


def test_accuracy_against_labels(golden_dir: Path) -> None:
    corpus = _corpus(golden_dir)
    right = sum(detect_task_type(p["prompt"]) == parse_task_type(p["task"]) for p in corpus)
    assert right / len(corpus) >= 0.90, f"{right}/{len(corpus)}"


def test_every_task_type_is_detected_somewhere(golden_dir: Path) -> None:
    assert {detect_task_type(p["prompt"]) for p in _corpus(golden_dir)} == set(TaskType)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("", TaskType.CONVERSATIONAL),
        ("ok", TaskType.CONVERSATIONAL),
        ("```\nprint(1)\n```", TaskType.CODE_GENERATION),
        ("Write a Python function that sorts a list", TaskType.CODE_GENERATION),
        ("Solve 2x + 3 = 7", TaskType.MATHEMATICAL_PROBLEM_SOLVING),
        ("Extract the fields name and date as JSON", TaskType.DOCUMENT_EXTRACTION),
        ("Write a poem", TaskType.CREATIVE_WRITING),
        ("a,b,c\n1,2,3\n4,5,6", TaskType.DATA_ANALYSIS),
        ("Describe this image", TaskType.VISUAL_ANALYSIS),
    ],
)
def test_examples(prompt: str, expected: TaskType) -> None:
    assert detect_task_type(prompt) is expected


def test_tie_break_prefers_the_more_specific_task() -> None:
    # "story" (creative, 3) and "image" (visual, 3) tie: visual comes first in TIE_BREAK_ORDER.
    prompt = "story image"
    scores = score_task_types(prompt)
    assert scores[TaskType.CREATIVE_WRITING] == scores[TaskType.VISUAL_ANALYSIS] >= MIN_SCORE
    assert detect_task_type(prompt) is TaskType.VISUAL_ANALYSIS


def test_below_min_score_is_conversational() -> None:
    prompt = "compare"  # a single weight-1 data signal
    assert 0 < score_task_types(prompt)[TaskType.DATA_ANALYSIS] < MIN_SCORE
    assert detect_task_type(prompt) is TaskType.CONVERSATIONAL


@given(st.text(max_size=400))
def test_detection_is_total_and_deterministic(prompt: str) -> None:
    first = detect_task_type(prompt)
    assert isinstance(first, TaskType)
    assert detect_task_type(prompt) is first


def test_requirements_use_known_capabilities() -> None:
    known = OPERATIONAL_CAPABILITIES | TASK_CAPABILITIES | DOMAIN_CAPABILITIES
    assert set(TASK_CAPABILITY_REQUIREMENTS) == set(TaskType)
    for reqs in TASK_CAPABILITY_REQUIREMENTS.values():
        assert reqs
        assert set(reqs) <= known
        assert all(isinstance(v, CapabilityStrength) for v in reqs.values())
    assert task_requirements("code_generation")["code"] is S.STRONG
    assert task_requirements(TaskType.VISUAL_ANALYSIS)["vision"] is S.STRONG
    with pytest.raises(TypeError):
        TASK_CAPABILITY_REQUIREMENTS[TaskType.CONVERSATIONAL]["chat"] = S.BASIC  # type: ignore[index]


def test_parse_task_type() -> None:
    assert parse_task_type("Code-Generation") is TaskType.CODE_GENERATION
    assert parse_task_type(" visual analysis ") is TaskType.VISUAL_ANALYSIS
    assert parse_task_type(TaskType.CONVERSATIONAL) is TaskType.CONVERSATIONAL
    with pytest.raises(ValueError, match="unknown task type 'poetry'; expected one of"):
        parse_task_type("poetry")
    with pytest.raises(ValueError):
        parse_task_type(3)


def test_capability_match() -> None:
    reqs = {"code": S.STRONG, "reasoning": S.MODERATE}
    assert capability_match({"code": S.STRONG, "reasoning": S.MODERATE}, reqs) == (1.0, 0)
    assert capability_match({"code": S.EXCEPTIONAL, "reasoning": S.STRONG}, reqs) == (1.0, 2)
    # code 2/3 met, reasoning missing: (2/3 + 0) / 2
    assert capability_match({"code": S.MODERATE}, reqs) == (round(1 / 3, 6), 0)
    assert capability_match({}, reqs) == (0.0, 0)
    assert capability_match({"chat": S.BASIC}, {}) == (1.0, 0)


def test_lazy_public_export() -> None:
    assert modelwire.detect_task_type is detect_task_type


def test_long_prompts_are_scanned_at_both_ends_only() -> None:
    filler = "lorem ipsum " * 2000
    assert detect_task_type("Write a poem about autumn.\n" + filler) is TaskType.CREATIVE_WRITING
    assert detect_task_type(filler + "\nWrite a poem about autumn.") is TaskType.CREATIVE_WRITING
    middle = filler + " Describe this image. " + filler
    assert detect_task_type(middle) is TaskType.CONVERSATIONAL
