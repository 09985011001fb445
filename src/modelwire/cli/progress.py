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

__all__ = ["progress_bar", "spinner"]


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


@contextmanager
def progress_bar(
    message: str, total: int, *, enabled: bool = True
) -> Iterator[Callable[[str], None]]:
    """A bar of ``total`` steps on stderr; yields ``step(label)``, called after each step."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = _stderr_terminal(enabled)
    if console is None:
        yield lambda _label: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(message, total=total)

        def step(label: str) -> None:
            bar.update(task, advance=1, description=f"{message} {label}")

        yield step
