"""``modelwire models``: the registered models (and discovered ones), or the whole catalog.

The table fits 80 columns: id, aliases, context window and prices; ``--wide`` adds the cache
price, capabilities, source and availability. Models that ``modelwire discover`` found are read
from the discovery cache (no network). Unknown ``--provider`` or ``--capability`` values fail
with suggestions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelwire.cli.common import load, price
from modelwire.cli.errors import fail

if TYPE_CHECKING:
    from modelwire.capabilities import CapabilityStrength
    from modelwire.registry import ModelRegistry
    from modelwire.types import ModelInfo

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Configuration file (default: search).")
]

CATALOG_HINT = "modelwire models --catalog lists the whole catalog"


def models(
    provider: Annotated[
        str | None, typer.Option("--provider", "-p", help="Only this provider.")
    ] = None,
    capability: Annotated[
        list[str] | None,
        typer.Option("--capability", help="name[:min_strength], e.g. code:strong (repeatable)."),
    ] = None,
    wide: Annotated[
        bool,
        typer.Option("--wide", help="Add cache prices, capabilities, source and availability."),
    ] = False,
    catalog: Annotated[
        bool,
        typer.Option("--catalog", help="List the bundled catalog, whatever is configured."),
    ] = False,
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
        typer.Option(
            "--gpu-memory", min=0.0, help="GPU memory in GB to check --recommend against."
        ),
    ] = None,
) -> None:
    """List the registered models with prices, context windows and capabilities.

    Models that modelwire discover found are included from its cache (no network). With no
    provider configured, --catalog lists the bundled catalog.
    """
    if recommend is not None:
        from modelwire.cli.recommend_cmd import show_recommendation

        show_recommendation(recommend, tier, gpu_memory_gb=gpu_memory, as_json=as_json)
        return
    registry = None
    discovered_at = None
    if catalog:
        from modelwire.catalog import load_catalog

        cat = load_catalog()
        infos = list(cat)
        _check_provider(provider, sorted(cat.vendors), None)
    else:
        from modelwire.registry import ModelRegistry

        registry = ModelRegistry.from_config(load(config))
        _check_provider(provider, sorted(registry.providers), registry)
        infos, discovered_at = with_discovered(registry)
    needs = parse_needs(list(capability or []), infos)
    if provider is not None:
        infos = [i for i in infos if i.provider == provider]
    infos = matching(infos, needs)
    if as_json:
        typer.echo(json.dumps([i.model_dump(mode="json") for i in infos], indent=2))
        return
    if not infos:
        _explain_empty(registry, provider, needs)
        return
    _print(infos, wide=wide)
    _print_notes(registry, infos, discovered_at)


def _check_provider(
    provider: str | None, known: Sequence[str], registry: ModelRegistry | None
) -> None:
    """Fail (exit 2) when ``provider`` is not one of ``known``, with suggestions."""
    if provider is None or provider in known:
        return
    from modelwire.config.env import VENDOR_KEY_VARS

    if registry is not None and provider in VENDOR_KEY_VARS:
        keys = " or ".join(VENDOR_KEY_VARS[provider])
        fail(
            f"provider {provider!r} is not configured: set {keys} or add it under 'providers:' "
            f"(modelwire models --catalog -p {provider} lists its catalog models)"
        )
    what = "catalog vendor" if registry is None else "configured provider"
    fail(f"no {what} {provider!r}{did_you_mean(provider, known)}; known: {', '.join(known)}")


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the close matches of ``name``, or ``""``."""
    from modelwire.naming import suggest

    close = suggest(name, known)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def parse_needs(items: list[str], infos: Sequence[ModelInfo]) -> dict[str, CapabilityStrength]:
    """``name[:strength]`` filters; an unknown name or strength fails with suggestions."""
    from modelwire.capabilities import (
        DOMAIN_CAPABILITIES,
        OPERATIONAL_CAPABILITIES,
        TASK_CAPABILITIES,
        CapabilityStrength,
    )

    known = set(DOMAIN_CAPABILITIES | OPERATIONAL_CAPABILITIES | TASK_CAPABILITIES)
    for info in infos:
        known.update(info.capabilities)
    needs: dict[str, CapabilityStrength] = {}
    for item in items:
        name, _, strength = item.partition(":")
        name = name.strip()
        if name not in known:
            hint = did_you_mean(name, known)
            fail(f"unknown capability {name!r}{hint}; known: {', '.join(sorted(known))}")
        try:
            needs[name] = CapabilityStrength.parse(strength or "basic")
        except ValueError as exc:
            fail(f"--capability {item}: {exc}")
    return needs


def matching(infos: Sequence[ModelInfo], needs: dict[str, CapabilityStrength]) -> list[ModelInfo]:
    """The models meeting every capability need: by id, or cheapest first when filtering."""
    if not needs:
        return sorted(infos, key=lambda i: i.id)
    found = [
        i
        for i in infos
        if i.available and all(i.capabilities.get(k, 0) >= v for k, v in needs.items())
    ]

    def cheapest(info: ModelInfo) -> tuple[bool, object, str]:
        cost = info.cost.input_per_mtok if info.cost else None
        return (cost is None, cost or 0, info.id)

    return sorted(found, key=cheapest)


def with_discovered(registry: ModelRegistry) -> tuple[list[ModelInfo], str | None]:
    """The registry's models merged with the listings in the discovery cache (no network),
    and when the oldest of those listings was fetched (``None`` when nothing is cached)."""
    models = registry.list_models()
    if not registry.config.discovery.enabled:
        return models, None
    from modelwire.discovery import ModelDiscoveryService

    with ModelDiscoveryService(registry, background=False) as service:
        cache = service.cache
        stored = cache.load() if cache is not None else {}
        usable = {
            name: entry
            for name, entry in stored.items()
            if name in registry.providers and entry.matches(registry.provider(name))
        }
        if not usable:
            return models, None
        plan = service.plan({name: entry.models for name, entry in usable.items()})
    oldest = min(entry.fetched_at for entry in usable.values())
    return list(plan.models), oldest.strftime("%Y-%m-%d %H:%M UTC")


def _print(infos: Sequence[ModelInfo], *, wide: bool) -> None:
    from modelwire.cli.tables import new_table, print_table

    shown = list(infos) if wide else [i for i in infos if i.available]
    with_aliases = any(i.aliases for i in shown)
    columns = [("id", "id"), *([("aliases", "text")] if with_aliases else [])]
    columns += [("context", "num"), ("in $/M", "num"), ("out $/M", "num")]
    if wide:
        columns += [
            ("cache read $/M", "num"),
            ("capabilities", "text"),
            ("source", "id"),
            ("available", "text"),
        ]
    table = new_table(*columns, title=f"{len(shown)} models")
    for i in shown:
        cost = i.cost
        cells = [i.id, *([", ".join(i.aliases)] if with_aliases else [])]
        cells += [
            f"{i.context_window:,}" if i.context_window else "-",
            price(cost.input_per_mtok if cost else None),
            price(cost.output_per_mtok if cost else None),
        ]
        if wide:
            cells += [
                price(cost.cache_read_per_mtok if cost else None),
                ", ".join(f"{k}:{v}" for k, v in sorted(i.capabilities.items())),
                i.source,
                "yes" if i.available else "no",
            ]
        table.add_row(*cells)
    print_table(table)


def _print_notes(
    registry: ModelRegistry | None, infos: Sequence[ModelInfo], discovered_at: str | None
) -> None:
    """Lines under the table: unavailable models, discovered ones, groups."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, emoji=False)
    for i in infos:
        if not i.available:
            reason = i.unavailable_reason or "unavailable"
            console.print(f"[dim]unavailable: {escape(i.id)} ({escape(reason)})[/]")
    found = sum(1 for i in infos if i.source == "discovered")
    if discovered_at is not None:
        console.print(
            f"[dim]{found} discovered (listings cached {discovered_at}; "
            "modelwire discover refreshes them)[/]"
        )
    groups = registry.config.groups if registry is not None else {}
    for name, group in sorted(groups.items()):
        console.print(
            f"group {escape(name)} ({group.strategy}): {escape(', '.join(group.members))}"
        )


def _explain_empty(
    registry: ModelRegistry | None, provider: str | None, needs: dict[str, CapabilityStrength]
) -> None:
    """Say why the list is empty and what to do about it."""
    from modelwire.config.env import VENDOR_KEY_VARS

    if needs or provider is not None:
        wanted = ", ".join(f"{k}:{v}" for k, v in needs.items())
        what = " and ".join(x for x in (f"provider {provider}" if provider else "", wanted) if x)
        typer.echo(f"no model matches {what}; {CATALOG_HINT}")
        return
    if registry is None:
        typer.echo("the catalog is empty")
        return
    keys = ", ".join(v for names in VENDOR_KEY_VARS.values() for v in names)
    vendors = sorted(n for n, c in registry.providers.items() if c.type in VENDOR_KEY_VARS)
    if vendors:
        typer.echo(
            f"no models: providers {', '.join(vendors)} are configured but list no models; "
            f"run modelwire discover, or {CATALOG_HINT}"
        )
        return
    typer.echo(
        f"no models: no provider API key is set ({keys}) and the configuration names no "
        f"models; {CATALOG_HINT}, and modelwire demo runs without keys"
    )
