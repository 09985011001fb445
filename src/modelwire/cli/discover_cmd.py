"""``modelwire discover``: ask the providers which models they serve, compared with the registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelwire.cli.errors import fail

if TYPE_CHECKING:
    from modelwire.discovery.changes import DiscoveryChanges
    from modelwire.discovery.result import DiscoveryResult


def discover(
    provider: Annotated[
        str | None, typer.Option("--provider", "-p", help="Only this provider entry.")
    ] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ignore the cache and ask the providers now.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Configuration file (default: search).")
    ] = None,
) -> None:
    """List the models the providers serve: new, gone, unavailable and unpriced ones.

    Provider errors are printed but do not fail the command (exit 0); configuration errors exit 2.
    """
    from modelwire.cli.common import load
    from modelwire.discovery import ModelDiscoveryService
    from modelwire.discovery.changes import compare
    from modelwire.errors import ConfigError, ModelNotFoundError
    from modelwire.registry.model_registry import ModelRegistry

    try:
        registry = ModelRegistry.from_config(load(config))
    except ConfigError as exc:
        fail(str(exc))
    if provider is not None and provider not in registry.providers:
        known = ", ".join(sorted(registry.providers)) or "none"
        fail(f"no provider {provider!r} is configured (configured: {known})")
    if not registry.providers:
        fail("no providers are configured: add one under 'providers:'")
    from modelwire.cli.progress import spinner

    with ModelDiscoveryService(registry, background=False) as service:
        try:
            with spinner("asking the providers for their models", enabled=not as_json):
                result = service.discover(
                    refresh=refresh, providers=[provider] if provider is not None else None
                )
        except (ConfigError, ModelNotFoundError) as exc:
            fail(str(exc))
        before = registry.list_models()
        plan = service.plan(result.listings)
    changes = compare(before, result, plan)
    if as_json:
        body = {
            "fetched_at": result.fetched_at.isoformat(),
            "from_cache": result.from_cache,
            "providers": list(result.providers),
            "cached_providers": list(result.cached_providers),
            **changes.to_json(),
            "models": [m.model_dump(mode="json") for m in result.models],
        }
        typer.echo(json.dumps(body, indent=2))
        return
    _print(result, changes)


def _print(result: DiscoveryResult, changes: DiscoveryChanges) -> None:
    from rich.markup import escape

    from modelwire.cli.tables import new_table, print_table, stdout_console

    console = stdout_console()
    asked = sorted({*result.providers, *result.errors})
    summary = new_table(
        ("provider", "id"),
        ("status", "text"),
        ("models", "num"),
        ("new", "num"),
        ("gone", "num"),
        ("unpriced", "num"),
        title=f"{len(result.models)} models from {len(asked)} providers",
    )
    for name in asked:
        status = "ok"
        if name in result.errors:
            status = "error, cached list" if name in result.cached_providers else "error"
        elif name in result.cached_providers:
            status = "cached"
        summary.add_row(
            name,
            status,
            str(sum(1 for m in result.models if m.provider == name)),
            str(sum(1 for i in changes.new if i.startswith(name + ":"))),
            str(sum(1 for i in changes.gone if i.startswith(name + ":"))),
            str(sum(1 for i in changes.unpriced if i.startswith(name + ":"))),
        )
    print_table(summary, console)
    rows: list[tuple[str, str, str]] = []
    rows += [(i, "new", "") for i in changes.new]
    rows += [(i, "gone", changes.unavailable.get(i, "removed")) for i in changes.gone]
    rows += [(i, "unavailable", r) for i, r in changes.unavailable.items() if i not in changes.gone]
    rows += [(i, "unpriced", "no known price") for i in changes.unpriced]
    if rows:
        table = new_table(
            ("model", "id"),
            ("change", "id"),
            ("detail", "text"),
            title="compared with the registry",
        )
        for row in rows:
            table.add_row(*row)
        print_table(table, console)
    else:
        console.print("no changes compared with the registry")
    when = result.fetched_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    origin = "from the cache" if result.from_cache else "live"
    console.print(f"[dim]fetched {when} ({origin})[/]", highlight=False)
    for name, message in sorted(result.errors.items()):
        console.print(f"[bold red]error[/] {escape(name)}: {escape(message)}", highlight=False)
