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


def _probe(service: ModelService, targets: list[str], *, show: bool) -> dict[str, str]:
    from modelwire.cli.progress import progress_bar

    results: dict[str, str] = {}
    with progress_bar("probing", len(targets), enabled=show) as steps:
        for name in targets:
            steps.start(name)
            try:
                service.invoke_model(name, "ping", max_tokens=1)
                results[name] = "ok"
            except Exception as exc:
                results[name] = f"{type(exc).__name__}: {exc}"
            steps.done()
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
        targets = _probe_targets(service, list(model or [])) if probe else []
        probes = _probe(service, targets, show=not as_json) if probe else {}
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
    from rich.markup import escape

    from modelwire.cli.tables import new_table, print_table, stdout_console

    console = stdout_console()
    stats = report["registry"]
    console.print(
        f"[bold]registry[/]: {stats['providers']} providers, {stats['models']} models "
        f"({stats['instantiated']} built), {stats['aliases']} aliases, "
        f"{len(stats['unavailable'])} unavailable"
    )
    probes: dict[str, str] = report["probes"]
    if report["models"]:
        table = new_table(
            ("model", "id"),
            ("probe", "id"),
            ("calls", "num"),
            ("errors", "num"),
            ("error rate", "num"),
            ("avg latency", "num"),
            title="models called",
        )
        for model_id, row in report["models"].items():
            latency = row["ewma_latency_ms"]
            outcome = probes.get(model_id)
            table.add_row(
                model_id,
                "-" if outcome is None else ("ok" if outcome == "ok" else "failed"),
                str(row["calls"]),
                str(row["errors"]),
                f"{row['error_rate']:.0%}",
                "-" if latency is None else f"{latency:.0f} ms",
            )
        print_table(table, console)
        for model_id, row in report["models"].items():
            if row["last_error"] and probes.get(model_id, "ok") == "ok":
                console.print(f"[red]last error {escape(model_id)}[/]: {escape(row['last_error'])}")
    for name, outcome in probes.items():
        if outcome != "ok":
            console.print(f"[red]probe {escape(name)}[/]: {escape(outcome)}")
    for name, group in report["groups"].items():
        table = new_table(
            ("member", "id"),
            ("breaker", "id"),
            ("calls", "num"),
            ("errors", "num"),
            ("consecutive failures", "num"),
            title=f"group {name} ({group['strategy']}, "
            f"{group['healthy_members']}/{len(group['members'])} healthy)",
        )
        for m in group["members"]:
            table.add_row(
                m["model_id"],
                m["state"],
                str(m["calls"]),
                str(m["errors"]),
                str(m["consecutive_failures"]),
            )
        print_table(table, console)
    if not report["groups"]:
        console.print("no groups configured")
