"""``modelwire health``: registry counts, per-model call health and every group's breakers.

A fresh process has made no calls, so ``--probe`` sends one tiny request (``max_tokens=1``) to
each model named with ``--model``, or else to every configured model and group member, and
reports the result. Probing real providers costs a few tokens each; it is opt-in.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelwire.cli.common import build_service, load
from modelwire.cli.models_cmd import ConfigOpt

if TYPE_CHECKING:
    from modelwire.service.model_service import ModelService


def _probe_targets(service: ModelService, models: list[str]) -> list[str]:
    if models:
        return models
    config = service.registry.config
    names = list(config.models)
    for group in config.groups.values():
        names += [m for m in group.members if m not in names]
    return names


def _probe(service: ModelService, targets: list[str]) -> dict[str, str]:
    results: dict[str, str] = {}
    for name in targets:
        try:
            service.invoke_model(name, "ping", max_tokens=1)
            results[name] = "ok"
        except Exception as exc:
            results[name] = f"{type(exc).__name__}: {exc}"
    return results


def health(
    probe: Annotated[
        bool, typer.Option("--probe", help="Send one tiny request per model.")
    ] = False,
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Probe only these (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Show registry statistics, per-model health and the groups' circuit breakers."""
    service = build_service(load(config), ledger=False)
    try:
        probes = _probe(service, _probe_targets(service, list(model or []))) if probe else {}
        report: dict[str, Any] = {
            "registry": service.registry.stats(),
            "probes": probes,
            **service.health(),
        }
    finally:
        service.close()
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    _print(report)


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    stats = report["registry"]
    console.print(
        f"[bold]registry[/]: {stats['providers']} providers, {stats['models']} models "
        f"({stats['instantiated']} built), {stats['aliases']} aliases, "
        f"{len(stats['unavailable'])} unavailable"
    )
    if report["models"]:
        table = Table(title="models called")
        for col in ("model", "probe", "calls", "errors", "error rate", "avg latency", "last error"):
            table.add_column(
                col, justify="left" if col in ("model", "probe", "last error") else "right"
            )
        for model_id, row in report["models"].items():
            latency = row["ewma_latency_ms"]
            table.add_row(
                model_id,
                report["probes"].get(model_id, "-")[:40],
                str(row["calls"]),
                str(row["errors"]),
                f"{row['error_rate']:.0%}",
                "-" if latency is None else f"{latency:.0f} ms",
                row["last_error"] or "",
            )
        console.print(table)
    failed = {k: v for k, v in report["probes"].items() if v != "ok" and k not in report["models"]}
    for name, outcome in failed.items():
        console.print(f"[red]probe {name}[/]: {outcome}")
    for name, group in report["groups"].items():
        table = Table(
            title=f"group {name} ({group['strategy']}, "
            f"{group['healthy_members']}/{len(group['members'])} healthy)"
        )
        for col in ("member", "breaker", "calls", "errors", "consecutive failures"):
            table.add_column(col, justify="left" if col in ("member", "breaker") else "right")
        for m in group["members"]:
            table.add_row(
                m["model_id"],
                m["state"],
                str(m["calls"]),
                str(m["errors"]),
                str(m["consecutive_failures"]),
            )
        console.print(table)
    if not report["groups"]:
        console.print("no groups configured")
