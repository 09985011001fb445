"""``modelwire keys``: the gateway's virtual keys, in the ledger's database.

``create`` prints the new key once, alone on stdout (``KEY=$(modelwire keys create web)``);
the database keeps only a salted hash of it. ``list`` never shows a key, only its public start.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from modelwire.cli.common import load
from modelwire.cli.models_cmd import ConfigOpt

if TYPE_CHECKING:
    from modelwire.gateway.keys import KeyStore

app = typer.Typer(
    name="keys",
    help="Create, list and revoke the gateway's virtual keys (kept in the ledger database).",
    no_args_is_help=True,
)

DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Ledger URL (default: usage.database of the configuration)."),
]

NOT_ENFORCED = (
    "note: the gateway enforces the budget and request rate, shared by all its processes "
    "through the ledger's database (modelwire limits shows them)"
)


@contextmanager
def _store(config: ConfigOpt, db: str | None) -> Iterator[KeyStore]:
    from modelwire.cli.serve_cmd import open_keys_ledger
    from modelwire.gateway.keys import KeyStore

    ledger = open_keys_ledger(load(config), db)
    try:
        yield KeyStore(lambda: ledger.engine)
    finally:
        ledger.close()


@app.command("create")
def create_cmd(
    name: Annotated[str, typer.Argument(help="The key's name: the caller its usage rows carry.")],
    budget: Annotated[
        str | None,
        typer.Option(help="USD per window: 50/month (hour, day, week, month or total)."),
    ] = None,
    rpm: Annotated[
        int | None, typer.Option(min=1, max=1_000_000, help="Requests per minute.")
    ] = None,
    models: Annotated[
        list[str] | None,
        typer.Option(
            "--models",
            "-m",
            help="Model names it may call, fnmatch patterns (repeatable or comma-separated; "
            "default: every model).",
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Create a virtual key and print it once (only a salted hash of it is stored)."""
    from modelwire.gateway.keys import check_name, check_patterns, parse_budget

    check_name(name)
    parsed = parse_budget(budget) if budget is not None else None
    patterns = check_patterns(models or [])
    with _store(config, db) as store:
        key, token = store.create(name, budget=parsed, rpm=rpm, models=patterns)
    typer.echo(token)
    typer.echo(
        f"created key {key.name!r} ({key.label}_...): it is shown this once, store it now",
        err=True,
    )
    if key.has_limits:
        typer.echo(NOT_ENFORCED, err=True)


@app.command("list")
def list_cmd(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List the keys: name, public start, limits, models, created and revoked."""
    with _store(config, db) as store:
        keys = store.list(include_revoked=include_revoked)
    rows = [k.describe() for k in keys]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no keys (modelwire keys create NAME)", err=True)
        return
    from modelwire.cli.tables import new_table, print_table

    columns = [("name", "id"), ("key", "id"), ("budget", "num"), ("rpm", "num")]
    columns += [("models", "text"), ("created (UTC)", "id")]
    if include_revoked:
        columns.append(("revoked (UTC)", "id"))
    table = new_table(*columns)
    for r in rows:
        cells = [r["name"], r["key"], r["budget"] or "-", str(r["rpm"] or "-")]
        cells += [", ".join(r["models"]) or "all", _minute(r["created"])]
        if include_revoked:
            cells.append(_minute(r["revoked"]))
        table.add_row(*cells)
    print_table(table)
    if any(k.has_limits for k in keys):
        typer.echo(NOT_ENFORCED, err=True)


@app.command("revoke")
def revoke_cmd(
    name: Annotated[str, typer.Argument(help="The name of the key to revoke.")],
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Revoke a key: every gateway refuses it within its key refresh time (5 s by default)."""
    with _store(config, db) as store:
        key = store.revoke(name)
    typer.echo(f"revoked key {key.name!r} ({key.label}_...)", err=True)


def _minute(moment: str | None) -> str:
    """An ISO time to the minute, for the table (``-`` for none)."""
    return moment[:16].replace("T", " ") if moment else "-"
