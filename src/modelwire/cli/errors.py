"""Turn user errors into one readable line and exit code 2, never a traceback."""

from __future__ import annotations

import sys

import typer

from modelwire.errors import ModelwireError


def fail(message: str, code: int = 2) -> None:
    """Print ``message`` to stderr as an error and exit with ``code``."""
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def run_app(app: typer.Typer) -> None:
    """Run the typer app, mapping modelwire errors to exit 2 with a one-line message."""
    try:
        app(standalone_mode=True)
    except ModelwireError as exc:
        from rich.console import Console
        from rich.markup import escape

        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(2)
