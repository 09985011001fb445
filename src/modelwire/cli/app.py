"""The ``modelwire`` command: sub-commands are registered here, each defined in its own module."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="modelwire",
    help="Call LLMs from several providers through one registry, and see what they cost.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # markdown: a docstring's paragraphs are reflowed to the terminal's width (rich keeps their
    # line breaks, and at 80 columns every long line wraps into a line of one word)
    rich_markup_mode="markdown",
)


def _show_version(value: bool) -> None:
    if value:
        from modelwire import __version__

        typer.echo(f"modelwire {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Call LLMs from several providers through one registry, and see what they cost."""


# Sub-command registrations (one line each; keep them in this block).
from modelwire.cli import ask_cmd as _ask  # noqa: E402
from modelwire.cli import config_cmd as _config  # noqa: E402
from modelwire.cli import demo as _demo  # noqa: E402
from modelwire.cli import discover_cmd as _discover  # noqa: E402
from modelwire.cli import health_cmd as _health  # noqa: E402
from modelwire.cli import keys_cmd as _keys  # noqa: E402
from modelwire.cli import limits_cmd as _limits  # noqa: E402
from modelwire.cli import models_cmd as _models  # noqa: E402
from modelwire.cli import prices_cmd as _prices  # noqa: E402
from modelwire.cli import serve_cmd as _serve  # noqa: E402
from modelwire.cli import usage_cmd as _usage  # noqa: E402

app.command()(_demo.demo)
app.command()(_models.models)
app.command()(_prices.prices)
app.command()(_ask.ask)
app.command()(_health.health)
app.command()(_discover.discover)
app.add_typer(_config.app, name="config")
app.add_typer(_usage.app, name="usage")
app.command()(_serve.serve)
app.add_typer(_keys.app, name="keys")
app.command()(_limits.limits)


def main() -> None:
    """Console-script entry point: user errors print one line and exit 2."""
    from modelwire.cli.errors import run_app

    run_app(app)
