"""Turn user errors into one readable line and exit code 2, never a traceback.

Set ``MODELWIRE_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import typer

from modelwire.errors import ModelwireError


def _print_error(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(
        f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True
    )


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` to stderr as an error and exit with ``code``."""
    _print_error(message)
    raise typer.Exit(code)


def run_app(app: typer.Typer) -> None:
    """Run the typer app: modelwire errors exit 2 with their message; anything else unexpected
    exits 1 with one line (the traceback only when ``MODELWIRE_DEBUG`` is set)."""
    try:
        app(standalone_mode=True)
    except ModelwireError as exc:
        _print_error(str(exc))
        sys.exit(2)
    except (OSError, ValueError) as exc:
        if os.environ.get("MODELWIRE_DEBUG"):
            raise
        _print_error(f"{type(exc).__name__}: {exc}")
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("MODELWIRE_DEBUG"):
            raise
        _print_error(f"unexpected {type(exc).__name__}: {exc} (set MODELWIRE_DEBUG=1 for details)")
        sys.exit(1)
