"""Feedback on stderr while a command waits: a spinner, or a bar over a known number of steps.

Both draw only when stderr is a terminal (so never into a pipe, a log file or a test's captured
output) and leave nothing behind when done. Commands pass ``enabled=False`` with ``--json``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

__all__ = ["Steps", "progress_bar", "spinner"]


def _stderr_terminal(enabled: bool) -> Console | None:
    """A console on stderr when ``enabled`` and stderr is a terminal."""
    if not enabled:
        return None
    from rich.console import Console

    console = Console(stderr=True)
    return console if console.is_terminal else None


@contextmanager
def spinner(message: str, *, enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A spinner with ``message`` on stderr while the block runs; yields a function that
    replaces the message."""
    console = _stderr_terminal(enabled)
    if console is None:
        yield lambda _message: None
        return
    with console.status(message) as status:
        yield lambda text: status.update(text)


class Steps:
    """What ``progress_bar`` yields: ``start(label)`` before a step, ``done()`` after it."""

    def start(self, label: str) -> None:
        """Show ``label`` as the step under way."""

    def done(self) -> None:
        """Count one step as finished."""


class _BarSteps(Steps):
    def __init__(self, bar: Progress, task: TaskID, message: str) -> None:
        self._bar, self._task, self._message = bar, task, message

    def start(self, label: str) -> None:
        self._bar.update(self._task, description=f"{self._message} {label}")

    def done(self) -> None:
        self._bar.advance(self._task)


@contextmanager
def progress_bar(message: str, total: int, *, enabled: bool = True) -> Iterator[Steps]:
    """A bar of ``total`` steps on stderr, labelled with the step under way."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = _stderr_terminal(enabled)
    if console is None:
        yield Steps()
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        yield _BarSteps(bar, bar.add_task(message, total=total), message)
