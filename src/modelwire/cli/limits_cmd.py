"""``modelwire limits``: every budget and rate, what is spent, reserved and left, and when it
resets: the configuration's ``limits:`` and the gateway keys' ``--budget`` and ``--rpm``, read
from the ledger's database (what every process sharing it has spent)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from modelwire.cli.common import load, money
from modelwire.cli.models_cmd import ConfigOpt

if TYPE_CHECKING:
    from modelwire.config.schema import Config
    from modelwire.usage.ledger import UsageLedger
    from modelwire.usage.limits import LimitStatus

__all__ = ["limit_statuses", "limits", "print_statuses"]

DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Ledger URL (default: usage.database of the configuration)."),
]


def limit_statuses(config: Config, ledger: UsageLedger) -> list[LimitStatus]:
    """The status of the configuration's limits and of the active keys' limits."""
    from sqlalchemy import inspect

    from modelwire.usage.limits import Limits

    found = Limits.from_config(
        config.limits, lambda: ledger.engine, lease_s=config.usage.reservation_lease_s
    )
    if inspect(ledger.engine).has_table("gateway_keys"):
        from modelwire.gateway.keys import KeyStore
        from modelwire.gateway.limits import limits_of

        for key in KeyStore(lambda: ledger.engine).list():
            for limit in limits_of(key):
                found.add(limit)
    return found.status()


def _amount(value: Decimal, budget: bool) -> str:
    return money(value) if budget else f"{value:f}"


def print_statuses(statuses: list[LimitStatus]) -> None:
    """The statuses as a table that fits 80 columns (the window is in the limit: ``/month``,
    ``/min``)."""
    from modelwire.cli.tables import new_table, print_table

    table = new_table(
        ("limit", "text"),
        ("scope", "text"),
        ("spent", "num"),
        ("reserved", "num"),
        ("left", "num"),
        ("resets at", "id"),
    )
    for s in statuses:
        budget = s.limit.is_budget
        never = "never" if budget else "-"
        resets = s.resets_at.strftime("%m-%d %H:%M") if s.resets_at else never
        table.add_row(
            s.limit.rule.replace(" requests/", " req/").replace(" tokens/", " tok/"),
            s.limit.scope,
            _amount(s.spent, budget),
            _amount(s.reserved, budget),
            _amount(s.left, budget),
            resets,
        )
    print_table(table)


def limits(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Every limit (configuration and gateway keys): window, spent, reserved, left, resets at.

    Budgets are USD per calendar window in limits.timezone; rates count the last window_s
    seconds. Spent and reserved are those of every process sharing the ledger's database.
    """
    from modelwire.cli.common import connect_ledger
    from modelwire.cli.serve_cmd import ledger_url

    cfg = load(config)
    ledger = connect_ledger(ledger_url(cfg, db))
    try:
        statuses = limit_statuses(cfg, ledger)
    finally:
        ledger.close()
    if as_json:
        typer.echo(json.dumps([s.as_dict() for s in statuses], indent=2))
        return
    if not statuses:
        typer.echo(
            "no limits (limits: in the configuration, or keys create --budget/--rpm)", err=True
        )
        return
    typer.echo(f"limits · resets in {cfg.limits.timezone} (month-day hour:minute)")
    print_statuses(statuses)
