"""Ask several providers for their model lists at once, each with its own deadline.

Each provider's ``list_models`` runs on its own daemon thread. ``ConcurrentLister.run`` waits for
each until that provider's deadline (measured from the start of the call) and no longer, so the
whole call takes at most the largest timeout however a provider misbehaves. A provider still
running at its deadline is reported as timed out and left to finish on its own thread; a later
call for that provider waits on the same thread rather than starting another, so a hung provider
costs at most one thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from modelwire.types import ModelInfo

__all__ = ["ConcurrentLister", "ListingOutcome", "describe_error"]

_MAX_MESSAGE = 400


def describe_error(exc: BaseException) -> str:
    """``"<ErrorType>: <message>"`` on one line, cut to a readable length."""
    text = " ".join(str(exc).split()) or "no message"
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 3] + "..."
    return f"{type(exc).__name__}: {text}"


@dataclass(frozen=True, slots=True)
class ListingOutcome:
    """One provider's answer: its models, or an error message (never both)."""

    models: tuple[ModelInfo, ...] | None = None
    error: str | None = None
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the provider answered with a list."""
        return self.models is not None


@dataclass(slots=True)
class _Job:
    started: float
    done: threading.Event = field(default_factory=threading.Event)
    outcome: ListingOutcome | None = None


class ConcurrentLister:
    """Runs listing functions on threads and collects their outcomes within deadlines."""

    def __init__(self, thread_prefix: str = "modelwire-discovery") -> None:
        self._prefix = thread_prefix
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()

    def _job(self, name: str, fn: Callable[[], list[ModelInfo]]) -> _Job:
        with self._lock:
            job = self._jobs.get(name)
            if job is not None and not job.done.is_set():
                return job  # still running from an earlier call: wait on it, start no other
            job = _Job(started=time.monotonic())
            self._jobs[name] = job

        def run() -> None:
            try:
                models = tuple(fn())
                job.outcome = ListingOutcome(
                    models=models, elapsed_s=time.monotonic() - job.started
                )
            except BaseException as exc:  # report everything, kill no thread silently
                job.outcome = ListingOutcome(
                    error=describe_error(exc), elapsed_s=time.monotonic() - job.started
                )
            finally:
                job.done.set()

        thread = threading.Thread(target=run, name=f"{self._prefix}-{name}", daemon=True)
        thread.start()
        return job

    def run(
        self, tasks: Mapping[str, tuple[Callable[[], list[ModelInfo]], float]]
    ) -> dict[str, ListingOutcome]:
        """Start every ``name -> (list_fn, timeout_s)`` task and gather the outcomes.

        Returns within ``max(timeout_s)`` (plus scheduling noise); a task not done by its own
        deadline gets a ``TimeoutError`` outcome.
        """
        start = time.monotonic()
        jobs = {name: self._job(name, fn) for name, (fn, _) in tasks.items()}
        order = sorted(tasks, key=lambda n: tasks[n][1])
        out: dict[str, ListingOutcome] = {}
        for name in order:
            timeout = tasks[name][1]
            job = jobs[name]
            job.done.wait(max(0.0, start + timeout - time.monotonic()))
            outcome = job.outcome if job.done.is_set() else None
            if outcome is None:
                outcome = ListingOutcome(
                    error=f"TimeoutError: no answer within {timeout:g}s",
                    elapsed_s=time.monotonic() - start,
                )
            out[name] = outcome
        return {name: out[name] for name in tasks}

    def running(self) -> list[str]:
        """Providers whose listing thread is still running (a hung provider, say)."""
        with self._lock:
            return sorted(n for n, j in self._jobs.items() if not j.done.is_set())
