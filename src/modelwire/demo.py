"""A demo usage ledger: a simulated month of traffic through the mock provider.

The usage-analysis notebook, ``examples/usage_report.py`` and anyone trying the reports without
keys use this. Every call really goes through ``ModelService`` and the mock provider (so tokens,
prices, errors, retries and failover are produced by the same code as in production); only two
things are simulated, because waiting for them would take a month:

* the **timestamp** of each event is moved to a simulated moment of the last ``days`` days
  (weekday business hours busier than nights and weekends, traffic growing over the month);
* the **latency** of each event is drawn per model (a log-normal around a typical median for
  that model, longer for longer answers), since the mock answers in microseconds.

    from modelwire.demo import build_demo_ledger
    ledger = build_demo_ledger("sqlite:///demo-usage.db")     # about 3,000 attempts
    ledger.summary(by=("model",))
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from modelwire.usage.events import UsageEvent, UsageSink

if TYPE_CHECKING:
    import os

    from modelwire.service.model_service import ModelService
    from modelwire.usage.ledger import UsageLedger

__all__ = ["CALLERS", "MODEL_LATENCY_MS", "DemoCaller", "build_demo_ledger", "fill_demo_ledger"]

#: Typical median latency (ms) of a short answer, per model (the simulated latencies).
MODEL_LATENCY_MS: dict[str, float] = {
    "openai:gpt-4o-mini": 550.0,
    "openai:gpt-4o": 1100.0,
    "anthropic:claude-haiku-4-5": 700.0,
    "anthropic:claude-sonnet-4-5": 1600.0,
    "google:gemini-2.5-flash": 450.0,
    "google:gemini-2.5-pro": 2300.0,
}


@dataclass(frozen=True)
class DemoCaller:
    """One simulated application: which models it calls, how often, with what prompts."""

    name: str
    models: tuple[str, ...]
    share: float
    context_chars: int = 0
    question_words: int = 30
    max_tokens: int = 256
    stream_share: float = 0.0


#: The callers of the demo month. ``rag-search`` sends a long shared context (cache reads).
CALLERS: tuple[DemoCaller, ...] = (
    DemoCaller("support-bot", ("mini", "anthropic:claude-haiku-4-5"), 0.34, stream_share=0.5),
    DemoCaller(
        "rag-search",
        ("google:gemini-2.5-flash", "openai:gpt-4o-mini"),
        0.26,
        context_chars=9000,
        question_words=20,
    ),
    DemoCaller("code-review", ("smart",), 0.14, question_words=400, max_tokens=900),
    DemoCaller("summariser", ("openai:gpt-4o", "google:gemini-2.5-pro"), 0.16, 2500, 10, 400),
    DemoCaller("nightly-eval", ("google:gemini-2.5-pro", "openai:gpt-4o"), 0.10, max_tokens=600),
)

_WORDS = [
    "invoice",
    "refund",
    "order",
    "shipping",
    "account",
    "password",
    "latency",
    "cache",
    "region",
    "deploy",
    "error",
    "timeout",
    "budget",
    "forecast",
    "customer",
    "ticket",
    "summary",
    "review",
    "function",
    "class",
    "module",
    "test",
]


class _Backdate:
    """A sink that moves each event to the simulated clock and gives it a simulated latency."""

    def __init__(self, target: UsageSink, seed: int) -> None:
        self.target = target
        self.now = datetime.now(UTC)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def record(self, event: UsageEvent) -> None:
        with self._lock:
            median = MODEL_LATENCY_MS.get(event.model_id, 800.0)
            spread = self._rng.lognormvariate(0.0, 0.35)
            latency = median * spread * (1.0 + event.output_tokens / 400.0)
            if event.status != "ok":
                latency *= 0.3
            ttft = latency * self._rng.uniform(0.15, 0.35) if event.stream else None
            at = self.now
            self.now = at + timedelta(milliseconds=latency)
        self.target.record(
            event._replace(
                timestamp=at,
                latency_ms=round(latency, 1),
                ttft_ms=None if ttft is None else round(ttft, 1),
            )
        )


def _service(sink: UsageSink, seed: int) -> ModelService:
    from modelwire.config.loader import load_config
    from modelwire.registry.model_registry import ModelRegistry
    from modelwire.service.model_service import ModelService

    def mock(error_rate: float) -> dict[str, Any]:
        return {
            "type": "mock",
            "seed": seed,
            "error_rate": error_rate,
            "error_kinds": ["rate_limit", "server"],
            "retry_after_s": 0.0,
        }

    config = load_config(
        overrides={
            "providers": {"openai": mock(0.02), "anthropic": mock(0.05), "google": mock(0.03)},
            "models": {"openai:gpt-4o-mini": {"aliases": ["mini"]}},
            "groups": {
                "smart": {
                    "strategy": "failover",
                    "members": ["anthropic:claude-sonnet-4-5", "openai:gpt-4o"],
                    "retry": {"max_attempts": 2, "base_delay_s": 0.0, "max_delay_s": 0.0},
                }
            },
            "retry": {"max_attempts": 3, "base_delay_s": 0.0, "max_delay_s": 0.0},
            "usage": {"enabled": False},
            "discovery": {"enabled": False},
        }
    )
    return ModelService(ModelRegistry.from_config(config), sink)


def _hour_weight(day: datetime, hour: int) -> float:
    business = 1.0 if 8 <= hour < 19 else 0.25
    weekend = 0.35 if day.weekday() >= 5 else 1.0
    return business * weekend


def _prompt(rng: random.Random, caller: DemoCaller, context: str) -> str:
    n = max(3, int(rng.gauss(caller.question_words, caller.question_words / 4)))
    question = " ".join(rng.choice(_WORDS) for _ in range(n))
    return f"{context}\n\nQuestion: {question}" if context else question


def fill_demo_ledger(
    sink: UsageSink,
    *,
    days: int = 30,
    calls_per_day: int = 90,
    seed: int = 7,
    end: datetime | None = None,
    callers: Sequence[DemoCaller] = CALLERS,
) -> int:
    """Send a simulated month of calls through mock providers into ``sink``; return the calls.

    Calls are spread over the ``days`` days before ``end`` (default: now, to the hour), busier on
    weekdays and in business hours, and growing by about half over the period. Every attempt
    (retries and failovers included) reaches ``sink`` as a ``UsageEvent``.
    """
    rng = random.Random(seed)
    end = (end or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    backdate = _Backdate(sink, seed)
    service = _service(backdate, seed)
    contexts = {c.name: "context " * (c.context_chars // 8) for c in callers}
    weights = [c.share for c in callers]
    calls = 0
    try:
        for day_index in range(days):
            day = start + timedelta(days=day_index)
            growth = 1.0 + 0.5 * day_index / max(1, days - 1)
            for hour in range(24):
                slot = day + timedelta(hours=hour)
                expected = calls_per_day * growth * _hour_weight(slot, hour) / 13.0
                n = _poisson(rng, expected)
                for when in sorted(rng.uniform(0, 3600) for _ in range(n)):
                    caller = rng.choices(callers, weights)[0]
                    model = rng.choice(caller.models)
                    backdate.now = slot + timedelta(seconds=when)
                    _one_call(service, rng, caller, model, contexts[caller.name])
                    calls += 1
    finally:
        service.registry.close()
    return calls


def _one_call(
    service: ModelService, rng: random.Random, caller: DemoCaller, model: str, context: str
) -> None:
    from modelwire.errors import ModelwireError

    prompt = _prompt(rng, caller, context)
    try:
        if rng.random() < caller.stream_share:
            for _ in service.stream_model(
                model, prompt, caller=caller.name, max_tokens=caller.max_tokens
            ):
                pass
        else:
            service.invoke_model(model, prompt, caller=caller.name, max_tokens=caller.max_tokens)
    except ModelwireError:
        pass  # the failed attempts are in the ledger; that is what the demo shows


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's method; ``lam`` is small here)."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def build_demo_ledger(url: str | os.PathLike[str] | None = None, **options: Any) -> UsageLedger:
    """A ``UsageLedger`` at ``url`` (default: an in-memory SQLite database) holding a demo month.

    ``options`` go to ``fill_demo_ledger`` (``days``, ``calls_per_day``, ``seed``, ``end``).
    The ledger is flushed before it is returned.
    """
    from modelwire.usage.ledger import UsageLedger

    ledger = UsageLedger(url if url is not None else "sqlite://", batch_size=2048)
    try:
        fill_demo_ledger(ledger, **options)
        ledger.flush()
    except BaseException:
        ledger.close()
        raise
    return ledger
