"""``modelwire config check`` and ``modelwire config show``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from modelwire.config.loader import LoadOutcome
    from modelwire.config.schema import Config

app = typer.Typer(
    name="config",
    help="Check and show the configuration (file, MODELWIRE_* variables, built-in defaults).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

FileArg = Annotated[
    Path | None,
    typer.Argument(
        help="Configuration file (default: MODELWIRE_CONFIG, ./modelwire.yaml, user dir)."
    ),
]


def _load(file: Path | None) -> Config:
    """Load ``file`` (or search); on problems print each on its own line and exit 2."""
    from modelwire.config.loader import load_checked

    return _report(load_checked(file))


def _report(outcome: LoadOutcome) -> Config:
    """Print each warning, then each problem (and exit 2), one line each, on stderr."""
    for location, message in outcome.warnings:
        typer.echo(
            f"warning: {location}: {message}" if location else f"warning: {message}", err=True
        )
    if outcome.problems or outcome.config is None:
        lines = [f"{loc}: {msg}" if loc else msg for loc, msg in outcome.problems]
        if len(lines) == 1:  # one problem, one line
            typer.echo(f"error: {lines[0]}", err=True)
        else:
            typer.echo(f"error: {len(lines)} configuration problems", err=True)
            for line in lines:
                typer.echo(line, err=True)
        raise typer.Exit(2)
    return outcome.config


def _source(cfg: Config) -> str:
    return cfg.source or "built-in defaults (no configuration file found)"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@app.command("check")
def check(file: FileArg = None) -> None:
    """Validate the configuration; list every problem and exit 2 when there are any."""
    from modelwire.discovery.config_check import (
        check_config,  # references checked against cached lists
    )

    cfg = _report(check_config(file))
    counts = ", ".join(
        [
            _plural(len(cfg.providers), "provider"),
            _plural(len(cfg.models), "model"),
            _plural(len(cfg.groups), "group"),
        ]
    )
    typer.echo(f"OK {_source(cfg)}: {counts}")


@app.command("show")
def show(
    file: FileArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of YAML.")] = False,
) -> None:
    """Print the merged configuration (secrets masked) and the file it came from."""
    from modelwire.config.loader import config_to_dict

    cfg = _load(file)
    data = config_to_dict(cfg)
    if as_json:
        typer.echo(json.dumps({"source": cfg.source, "config": data}, indent=2))
        return
    import yaml

    typer.echo(f"# source: {_source(cfg)}")
    typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip("\n"))
