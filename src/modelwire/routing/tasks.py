"""Task types, what each needs from a model, and a prompt → task heuristic.

``detect_task_type`` scores a prompt against a small table of weighted signals per task type
(regular expressions matched against the lower-cased prompt; each signal counts once however often it
matches) and returns the task type with the highest score. A task needs a score of at least
``MIN_SCORE`` to win; otherwise the prompt is ``conversational``. Ties are broken by
``TIE_BREAK_ORDER``: the more specific task (one that needs a rarer capability) wins, so a prompt
that mentions both an image and a story is a visual task. The signals are:

* code: fenced code blocks, inline code, language and framework names, "write a function /
  class / script / query", error messages and tracebacks, source-like syntax (``def f(``, ``=>``).
* math: equations and operators between numbers or variables (``3x^2 - 12x``), math words
  (solve, derivative, integral, prove, probability, prime), symbols (∫ √ π ∑ ≤).
* extraction: "extract", "pull out", "fill in", fields / schema / JSON object, and the documents
  things are extracted from (invoice, receipt, contract, resume, PDF).
* creative: story, poem, haiku, sonnet, lyrics, slogan, screenplay, novel, character, villain.
* data: CSV-like or Markdown tables, "analyse", dataset, trends, correlation, average,
  outliers, statistics, spreadsheet, KPI, survey, conversion rate.
* visual: image, photo, picture, screenshot, painting, an image file name, "what is in this",
  X-ray, camera frame.
* conversational: greetings, thanks, opinions and small talk (low weights: it is the default).

Only the first ``SCAN_HEAD_CHARS`` and last ``SCAN_TAIL_CHARS`` characters of a long prompt are
scanned, so detection costs well under a few milliseconds whatever the prompt's size.

The heuristic is deterministic and fast (a few dozen regex searches); it is golden-tested on the
labelled corpus in ``golden/prompts/tasks.yaml``. Pass ``task_type=`` explicitly when you know it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from modelwire.capabilities import CapabilityStrength

__all__ = [
    "MIN_SCORE",
    "SCAN_HEAD_CHARS",
    "SCAN_TAIL_CHARS",
    "TASK_CAPABILITY_REQUIREMENTS",
    "TIE_BREAK_ORDER",
    "TaskType",
    "capability_match",
    "detect_task_type",
    "parse_task_type",
    "score_task_types",
    "task_requirements",
]


class TaskType(StrEnum):
    """The kinds of work a prompt can ask for."""

    CODE_GENERATION = "code_generation"
    CREATIVE_WRITING = "creative_writing"
    DATA_ANALYSIS = "data_analysis"
    DOCUMENT_EXTRACTION = "document_extraction"
    MATHEMATICAL_PROBLEM_SOLVING = "mathematical_problem_solving"
    CONVERSATIONAL = "conversational"
    VISUAL_ANALYSIS = "visual_analysis"


S = CapabilityStrength

TASK_CAPABILITY_REQUIREMENTS: Mapping[TaskType, Mapping[str, CapabilityStrength]] = (
    MappingProxyType(
        {
            TaskType.CODE_GENERATION: MappingProxyType({"code": S.STRONG, "reasoning": S.MODERATE}),
            TaskType.CREATIVE_WRITING: MappingProxyType({"creative": S.STRONG, "chat": S.MODERATE}),
            TaskType.DATA_ANALYSIS: MappingProxyType(
                {"reasoning": S.STRONG, "structured": S.MODERATE, "math": S.MODERATE}
            ),
            TaskType.DOCUMENT_EXTRACTION: MappingProxyType(
                {"extraction": S.STRONG, "structured": S.MODERATE}
            ),
            TaskType.MATHEMATICAL_PROBLEM_SOLVING: MappingProxyType(
                {"math": S.STRONG, "reasoning": S.STRONG}
            ),
            TaskType.CONVERSATIONAL: MappingProxyType({"chat": S.STRONG}),
            TaskType.VISUAL_ANALYSIS: MappingProxyType(
                {"vision": S.STRONG, "reasoning": S.MODERATE}
            ),
        }
    )
)
"""What each task needs: capability name → minimum strength (names from modelwire.capabilities)."""

MIN_SCORE = 2
"""The score a task must reach to beat the ``conversational`` default."""

TIE_BREAK_ORDER: tuple[TaskType, ...] = (
    TaskType.VISUAL_ANALYSIS,
    TaskType.DOCUMENT_EXTRACTION,
    TaskType.MATHEMATICAL_PROBLEM_SOLVING,
    TaskType.CODE_GENERATION,
    TaskType.DATA_ANALYSIS,
    TaskType.CREATIVE_WRITING,
    TaskType.CONVERSATIONAL,
)
"""Equal scores go to the task listed first (the more specific one)."""

_LANGS = (
    r"python|javascript|typescript|java|kotlin|rust|golang|go code|c\+\+|c#|ruby|php|swift|"
    r"haskell|scala|sql|bash|shell script|powershell|react|vue|angular|django|flask|fastapi|"
    r"spring boot|rails|node\.?js|html|css"
)

_SIGNALS: dict[TaskType, tuple[tuple[str, int], ...]] = {
    TaskType.CODE_GENERATION: (
        (r"```", 3),
        (r"`[^`\n]+`", 1),
        (rf"\b(?:{_LANGS})\b", 2),
        (
            r"\b(?:write|create|implement|generate|build)\b[^.?!\n]{0,40}?\b(?:function|class|"
            r"method|script|program|query|component|endpoint|api|module|cli)\b",
            3,
        ),
        (r"\b(?:implement|refactor|debug|compile|unit tests?|regex|stack ?trace|traceback)\b", 2),
        (r"\b\w*(?:error|exception): ", 3),
        (r"\b(?:def|fn|func|function)\s+\w+\s*\(|=>|\bconst\s+\w+\s*=|#include|\breturn\b", 2),
        (r"\b(?:code|bug|algorithm|thread-safe|o\(1\)|o\(n\))", 1),
        (
            r"\b(?:linked list|hash ?map|binary tree|list comprehension|for loop|loop|array|"
            r"variable|null pointer|segfault|docker|kubernetes|container|git|npm|pip install|"
            r"compiler|exit code|deploy\w*|repository|library|framework|type hints?|async|"
            r"await|endpoint|time complexity)\b",
            2,
        ),
    ),
    TaskType.MATHEMATICAL_PROBLEM_SOLVING: (
        (r"\d\s*[a-z]\s*\^\s*\d|[a-z]\^\d|\d\s*[+\-*/^]\s*\d", 2),
        (r"(?:[a-z0-9)]\s*=\s*[-a-z0-9(])", 1),
        (r"\bsolve\b|\bequation", 2),
        (
            r"\b(?:derivative|integral|differentiate|integrate|prove|proof|theorem|irrational|"
            r"probability|prime numbers?|primes?\b|factorial|polynomial|matrix|eigen\w*|limit of)",
            3,
        ),
        (r"\bhow many ways\b|\bcatch up\b|\bkm/h\b|\bmph\b", 2),
        (r"\b(?:compute|calculate|math|square root|sin|cos|tan|log|sqrt)\b", 1),
        (r"[∫√π∑∏≤≥≠∞]|\\frac|\\int|\\sum", 3),
        (r"\d+(?:\.\d+)?\s*%\s+of\s+\$?\d", 3),
        (
            r"\b(?:simplify|evaluate|factori[sz]e|area|radius|circumference|perimeter|volume|"
            r"triangle|circle|angle|hypotenuse|fraction|percent(?:age)?|integers?|divisible|"
            r"sequence|series|sum of)\b",
            2,
        ),
    ),
    TaskType.DOCUMENT_EXTRACTION: (
        (r"\bextract\w*\b|\bpull out\b|\bparse\b", 3),
        (r"\bfill (?:in|this|out)\b|\bidentify all\b|\blist (?:all|every|the)\b", 2),
        (r"\bfields?\b|\bschema\b|\bjson object\b|\bkey[- ]value\b|\bstructured\b", 2),
        (
            r"\b(?:invoice|receipt|contract|resume|cv|pdf|press release|email thread|lease|form)\b",
            1,
        ),
        (r"\b(?:the following|below|attached)\b", 1),
        (
            r"\b(?:names?|e-?mail addresses|addresses|phone numbers?|order numbers?|dates?|"
            r"amounts?|action items|owners?|due dates?)\b",
            1,
        ),
        (r"\bjson\b|\bout of (?:this|the)\b|\b(?:notes?|transcript|article|e-?mail)\b", 1),
        (
            r"\b(?:find|get|identify|list|give me|summari[sz]e)\b[^.?!]{0,80}"
            r"\b(?:in|from) (?:this|these|the (?:following|attached))\b",
            2,
        ),
        (r"\b(?:bullet points|clauses?|date of birth|agreement|posting|statement)\b", 1),
    ),
    TaskType.CREATIVE_WRITING: (
        (
            r"\b(?:story|stories|poem|poetry|haiku|sonnet|limerick|lyrics|song|screenplay|"
            r"script for a|fairy tale|fable|novel|slogans?|tagline)\b",
            3,
        ),
        (r"\b(?:character|villain|hero|plot|backstory|chorus|verse|rhyme|fiction|fantasy)\b", 2),
        (r"\b(?:write|draft|compose|invent|imagine|craft)\b", 1),
        (r"\b(?:creative|catchy|whimsical|in the style of|once upon|funny|heartfelt)\b", 1),
        (r"\b(?:toast|speech|eulogy|monologue|bedtime|greeting card|love letter)\b", 2),
    ),
    TaskType.DATA_ANALYSIS: (
        (r"(?m)^[^,\n]+(?:,[^,\n]+){2,}\n[^,\n]+(?:,[^,\n]+){2,}$", 3),
        (r"(?m)^\s*\|.*\|.*\|\s*$", 3),
        (r"\banaly[sz]\w*\b|\bdataset\b|\bdata set\b|\bspreadsheet\b", 2),
        (
            r"\b(?:trends?|correlat\w*|average|mean|median|outliers?|statistic\w*|variance|"
            r"regression|distribution|segment\w*|kpis?|insights?|survey|conversion rate|"
            r"growing|growth|forecast\w*|year-over-year|yoy|nps|break(?:s)? down|breakdown)\b",
            2,
        ),
        (r"\b(?:table|chart|sales|revenue|quarterly|metrics?|compare|data)\b", 1),
        (r"\d+(?:\.\d+)?%", 1),
        (r"\bcsv\b|(?:\d+(?:\.\d+)?%\s*,\s*){2,}", 3),
        (
            r"(?m)^[\w .%$-]+(?:,[\w .%$-]+)+\n[\w .%$-]+(?:,[\w .%$-]+)+\n"
            r"[\w .%$-]+(?:,[\w .%$-]+)+$",
            3,
        ),
        (r"\b(?:these numbers|over time|going (?:up|down)|churn|traffic|most|highest|lowest)\b", 1),
    ),
    TaskType.VISUAL_ANALYSIS: (
        (
            r"\b(?:image|photo|photograph|picture|screenshot|painting|x-ray|drawing|frame|"
            r"selfie|scan|png|jpe?g|logo|meme)s?\b",
            3,
        ),
        (r"\.(?:png|jpe?g|gif|webp|bmp|tiff?)\b", 3),
        (r"\bwhat(?:'s| is) in this\b|\blook at this\b|\bvisible\b|\bcaption\b", 2),
        (r"\b(?:colou?rs?|handwritten|pixels?|camera|diagram|chart image)\b", 1),
    ),
    TaskType.CONVERSATIONAL: (
        (r"^\s*(?:hi|hello|hey|good (?:morning|evening|afternoon))\b", 2),
        (r"\b(?:thanks|thank you|how are you|what do you think|any advice|recommend)\b", 2),
        (r"\b(?:tell me|who|what's|feeling)\b", 1),
    ),
}


@functools.cache
def _compiled() -> dict[TaskType, tuple[tuple[re.Pattern[str], int], ...]]:
    """The signal tables, compiled on first use (keeps importing this module cheap)."""
    return {
        task: tuple((re.compile(p), w) for p, w in signals) for task, signals in _SIGNALS.items()
    }


SCAN_HEAD_CHARS = 3000
SCAN_TAIL_CHARS = 1000
"""Only the first and last characters of a long prompt are scanned (the instruction is nearly
always at one end; a pasted document in the middle would only add noise and time)."""


def _scanned(prompt: str) -> str:
    if len(prompt) <= SCAN_HEAD_CHARS + SCAN_TAIL_CHARS:
        return prompt
    return prompt[:SCAN_HEAD_CHARS] + "\n" + prompt[-SCAN_TAIL_CHARS:]


def score_task_types(prompt: str) -> dict[TaskType, int]:
    """The heuristic's score for every task type (each matching signal adds its weight once)."""
    prompt = _scanned(prompt).lower()  # lower-casing once beats re.IGNORECASE on every pattern
    tables = _compiled()
    return {
        task: sum(weight for pattern, weight in tables[task] if pattern.search(prompt))
        for task in TaskType
    }


def detect_task_type(prompt: str) -> TaskType:
    """Guess the task a prompt asks for; ``conversational`` when nothing stands out.

    The highest score wins if it reaches ``MIN_SCORE``; equal scores are decided by
    ``TIE_BREAK_ORDER``. See the module docstring for the signals.
    """
    scores = score_task_types(prompt)
    best = max(TIE_BREAK_ORDER, key=lambda t: (scores[t], -TIE_BREAK_ORDER.index(t)))
    if scores[best] < MIN_SCORE:
        return TaskType.CONVERSATIONAL
    return best


def parse_task_type(value: Any) -> TaskType:
    """Accept a ``TaskType`` or its value in any case (``"Code_Generation"``, ``"code-generation"``)."""
    if isinstance(value, TaskType):
        return value
    if isinstance(value, str):
        key = value.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return TaskType(key)
        except ValueError:
            pass
    known = ", ".join(t.value for t in TaskType)
    raise ValueError(f"unknown task type {value!r}; expected one of {known}")


def task_requirements(task: TaskType | str) -> Mapping[str, CapabilityStrength]:
    """The capability requirements of a task type."""
    return TASK_CAPABILITY_REQUIREMENTS[parse_task_type(task)]


def capability_match(
    capabilities: Mapping[str, CapabilityStrength],
    requirements: Mapping[str, CapabilityStrength],
) -> tuple[float, int]:
    """How well a model's capabilities meet requirements: ``(coverage, surplus)``.

    ``coverage`` is the mean over the requirements of ``min(have / need, 1)`` (1.0 means every
    requirement is met; a missing capability counts 0). ``surplus`` is how many strength levels
    the model has beyond what is required, summed. Rank by coverage first; among full matches
    prefer the cheaper model, and use the surplus only after that.
    """
    if not requirements:
        return 1.0, 0
    coverage = 0.0
    surplus = 0
    for name, need in requirements.items():
        have = int(capabilities.get(name, 0))
        coverage += min(have / int(need), 1.0)
        surplus += max(have - int(need), 0)
    return round(coverage / len(requirements), 6), surplus
