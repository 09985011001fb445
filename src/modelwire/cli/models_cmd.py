"""``modelwire models`` and ``modelwire ask``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from modelwire.cli.common import build_service, load, money, price
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
    from modelwire.registry import ModelRegistry

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


def ask(
    model: Annotated[str, typer.Argument(help="Model id, alias or group.")],
    prompt: Annotated[str, typer.Argument(help="The prompt.")],
    stream: Annotated[bool, typer.Option("--stream", help="Print text as it arrives.")] = False,
    system: Annotated[str | None, typer.Option("--system", help="System prompt.")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens")] = None,
    temperature: Annotated[float | None, typer.Option("--temperature")] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Ledger URL for this call's usage.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the response as JSON.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Ask one model one question and print the answer with its tokens, cost and latency."""
    service = build_service(load(config), db=db)
    params: dict[str, Any] = {
        "system": system,
        "max_tokens": max_tokens,
        "temperature": temperature,
    }
    try:
        if stream and not as_json:
            final = None
            for event in service.stream_model(model, prompt, **params):
                if event.done:
                    final = event
                else:
                    typer.echo(event.text, nl=False)
            typer.echo()
            if final is not None and final.usage is not None:
                _footer(
                    final.model_id or model,
                    final.usage.input_tokens,
                    final.usage.output_tokens,
                    money(final.cost_usd),
                    final.latency_ms or 0,
                )
            return
        resp = service.invoke_model(model, prompt, **params)
    finally:
        service.close()
    if as_json:
        typer.echo(resp.model_dump_json(indent=2))
        return
    typer.echo(resp.text)
    _footer(
        resp.model_id,
        resp.usage.input_tokens,
        resp.usage.output_tokens,
        money(resp.cost_usd),
        resp.latency_ms,
    )


def _footer(model_id: str, tin: int, tout: int, cost: str, latency_ms: float) -> None:
    from rich.console import Console

    Console(stderr=True).print(
        f"[dim]{model_id} · {tin} in / {tout} out tokens · {cost} · {latency_ms:.0f} ms[/]",
        highlight=False,
    )
