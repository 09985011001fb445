"""``modelwire models`` and ``modelwire ask``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from modelwire.cli.common import load, price
from modelwire.cli.errors import fail

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Configuration file (default: search).")
]


def models(
    provider: Annotated[
        str | None, typer.Option("--provider", "-p", help="Only this provider.")
    ] = None,
    capability: Annotated[
        list[str] | None,
        typer.Option("--capability", help="name[:min_strength], e.g. code:strong (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    config: ConfigOpt = None,
    recommend: Annotated[
        str | None,
        typer.Option("--recommend", help="Recommend an open model for this capability instead."),
    ] = None,
    tier: Annotated[
        str, typer.Option("--tier", help="Size tier for --recommend: small|medium|large|xlarge.")
    ] = "small",
    gpu_memory: Annotated[
        float | None,
        typer.Option("--gpu-memory", help="GPU memory in GB to check --recommend against."),
    ] = None,
) -> None:
    """List the registered models with prices, context windows and capabilities."""
    if recommend is not None:
        from modelwire.cli.recommend_cmd import show_recommendation

        show_recommendation(recommend, tier, gpu_memory_gb=gpu_memory, as_json=as_json)
        return
    from modelwire.registry.model_registry import ModelRegistry

    registry = ModelRegistry.from_config(load(config))
    needs: dict[str, str] = {}
    for item in capability or []:
        name, _, strength = item.partition(":")
        needs[name] = strength or "basic"
    try:
        infos = (
            registry.find_models(capabilities=needs, provider=provider)
            if needs
            else (registry.list_models(provider))
        )
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps([i.model_dump(mode="json") for i in infos], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(infos)} models", show_lines=False)
    for col in ("id", "context", "in $/M", "out $/M", "cache read $/M", "capabilities", "source"):
        table.add_column(col, justify="right" if "$" in col or col == "context" else "left")
    for i in infos:
        cost = i.cost
        table.add_row(
            i.id + ("" if i.available else " (unavailable)"),
            f"{i.context_window:,}" if i.context_window else "-",
            price(cost.input_per_mtok if cost else None),
            price(cost.output_per_mtok if cost else None),
            price(cost.cache_read_per_mtok if cost else None),
            ", ".join(f"{k}:{v}" for k, v in sorted(i.capabilities.items())),
            i.source,
        )
    Console().print(table)
