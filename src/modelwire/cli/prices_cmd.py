"""``modelwire prices [MODEL]``: what each model costs, where the price came from, and whether
configuration overrides it.

Without MODEL: one row per catalog model (and per configured model with its own ``cost:``), in
80 columns: input, output, cache read and write prices per million tokens, the day the price took
effect, and a note for what the row leaves out (tiers, fees, modality prices, a 1-hour cache
write price, history, an override). With MODEL: every price of that model, its tiers, tool fees
and dated history, its source and the catalog price that configuration replaced. ``--json``
prints the same for scripts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelwire.cli.common import price
from modelwire.cli.errors import fail

if TYPE_CHECKING:
    from modelwire.catalog import Catalog
    from modelwire.registry import ModelRegistry
    from modelwire.types import ModelCost, ModelInfo

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Configuration file (default: search).")
]

#: ModelCost field -> label, for the per-model view and the notes column.
EXTRA_PRICES = (
    ("cache_write_1h_per_mtok", "1h cache write"),
    ("input_audio_per_mtok", "audio in"),
    ("input_image_per_mtok", "image in"),
    ("output_audio_per_mtok", "audio out"),
    ("output_image_per_mtok", "image out"),
)
CONFIGURED = "configuration"


def prices(
    model: Annotated[
        str | None, typer.Argument(help="A model id, alias or name (default: every model).")
    ] = None,
    provider: Annotated[
        str | None, typer.Option("--provider", "-p", help="Only this provider or vendor.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Show the price of each model: input, output, cache, 1-hour cache writes, audio and
    image tokens, tool fees and input-size tiers; where each came from (source and date) and
    whether configuration overrides it."""
    from modelwire.catalog import load_catalog
    from modelwire.cli.common import load
    from modelwire.registry import ModelRegistry

    catalog = load_catalog()
    registry = ModelRegistry.from_config(load(config))
    if model is not None:
        info = _find(model, registry, catalog)
        rows = [_row(info, catalog)]
    else:
        rows = [_row(i, catalog) for i in _listed(registry, catalog)]
        if provider is not None:
            known = sorted({r["provider"] for r in rows} | set(registry.providers))
            if provider not in known:
                from modelwire.cli.models_cmd import did_you_mean

                fail(
                    f"no provider {provider!r}{did_you_mean(provider, known)}; known: "
                    f"{', '.join(known)}"
                )
            rows = [r for r in rows if r["provider"] == provider]
    if as_json:
        typer.echo(json.dumps([_json_row(r) for r in rows], indent=2))
        return
    if model is not None:
        _print_one(rows[0])
    else:
        _print_table(rows, catalog)


def _find(name: str, registry: ModelRegistry, catalog: Catalog) -> ModelInfo:
    """The model ``name`` names: the registry's (aliases, configuration), else the catalog's."""
    from modelwire.errors import ModelNotFoundError

    try:
        return registry.get_model_info(name)
    except ModelNotFoundError as exc:
        info = catalog.find_by_name(name) if ":" not in name else _catalog_id(name, catalog)
        if info is not None:
            return info
        from modelwire.cli.models_cmd import did_you_mean

        known = [i.id for i in catalog] + [i.id for i in registry.list_models()]
        hint = did_you_mean(name, known) or f" ({exc})"
        fail(f"unknown model {name!r}{hint}; modelwire prices lists every priced model")


def _catalog_id(model_id: str, catalog: Catalog) -> ModelInfo | None:
    vendor, _, name = model_id.partition(":")
    return catalog.lookup(vendor, name) if vendor in catalog.vendors else None


def _listed(registry: ModelRegistry, catalog: Catalog) -> list[ModelInfo]:
    """Every catalog model (the registry's version where the registry has the same id, so
    configuration shows), then the registry's other models, unpriced ones included."""
    registered = {i.id: i for i in registry.list_models()}
    out = [registered.pop(i.id, i) for i in catalog]
    return out + sorted(registered.values(), key=lambda i: i.id)


def _overridden(cost: ModelCost) -> bool:
    return (cost.source or "").startswith(CONFIGURED)


def in_force(cost: ModelCost, today: date) -> ModelCost:
    """The price in force on ``today``: ``cost`` or the newest of ``earlier`` that started."""
    if cost.effective_date is None or cost.effective_date <= today:
        return cost
    for older in cost.earlier:
        if older.effective_date is None or older.effective_date <= today:
            return older
    return cost


def _row(info: ModelInfo, catalog: Catalog) -> dict[str, Any]:
    cost = info.cost
    base = catalog.lookup(info.provider_type or "", info.name) if info.provider_type else None
    overridden = cost is not None and _overridden(cost)
    return {
        "id": info.id,
        "provider": info.provider,
        "cost": cost,
        "overridden": overridden,
        "catalog": base.cost if (base is not None and overridden) else None,
    }


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    cost: ModelCost | None = row["cost"]
    today = datetime.now(UTC).date()
    return {
        "id": row["id"],
        "provider": row["provider"],
        "prices": cost.model_dump(mode="json") if cost is not None else None,
        "in_force_today": (
            in_force(cost, today).model_dump(mode="json", exclude={"earlier"}) if cost else None
        ),
        "source": cost.source if cost is not None else None,
        "overridden_by_configuration": row["overridden"],
        "catalog_prices": row["catalog"].model_dump(mode="json") if row["catalog"] else None,
    }


#: The short notes of the table's last column, explained under it.
LEGEND = (
    "1h: 1-hour cache-write price; audio/image: modality prices; tools: per-use tool fees; "
    "tier: input-size tiers; dated: earlier or scheduled prices; conf: set by configuration"
)


def _notes(cost: ModelCost, shown: ModelCost, overridden: bool) -> str:
    notes = []
    if shown.cache_write_1h_per_mtok is not None:
        notes.append("1h")
    if shown.input_audio_per_mtok is not None or shown.output_audio_per_mtok is not None:
        notes.append("audio")
    if shown.input_image_per_mtok is not None or shown.output_image_per_mtok is not None:
        notes.append("image")
    if shown.tool_use_fees:
        notes.append("tools")
    if shown.tiers:
        notes.append("tier")
    if cost.earlier:
        notes.append("dated")
    if overridden:
        notes.append("conf")
    return " ".join(notes)


def _print_table(rows: Sequence[dict[str, Any]], catalog: Catalog) -> None:
    from modelwire.cli.tables import new_table, print_table

    today = datetime.now(UTC).date()
    by_provider: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_provider.setdefault(row["provider"], []).append(row)
    for provider, group in by_provider.items():
        cells = [_cells(row, today) for row in group]
        headers = [(provider, "id"), ("in", "num"), ("out", "num"), ("read", "num")]
        headers += [("write", "num"), ("since", "num"), ("also", "text")]
        # a column no row of this provider fills (Gemini has no cache-write price) is left out
        keep = [
            i for i in range(len(headers)) if i < 3 or any(c[i] not in ("-", "") for c in cells)
        ]
        table = new_table(*(headers[i] for i in keep))
        for row_cells in cells:
            table.add_row(*(row_cells[i] for i in keep))
        print_table(table)
    import textwrap

    typer.echo(
        textwrap.fill(
            "USD per million tokens in force today (read, write: cache reads and 5-minute "
            f"cache writes). Source: {catalog.source or 'the catalog'}, catalog of "
            f"{catalog.catalog_date.isoformat()}. {LEGEND}. `modelwire prices MODEL` shows "
            "every price, fee, tier and date.",
            width=80,
        )
    )


def _cells(row: dict[str, Any], today: date) -> list[str]:
    cost: ModelCost | None = row["cost"]
    name = row["id"].partition(":")[2]
    if cost is None:
        return [name, "-", "-", "-", "-", "-", "unpriced"]
    shown = in_force(cost, today)
    return [
        name,
        price(shown.input_per_mtok),
        price(shown.output_per_mtok),
        price(shown.cache_read_per_mtok),
        price(shown.cache_write_per_mtok),
        str(shown.effective_date or "-"),
        _notes(cost, shown, row["overridden"]),
    ]


def _price_lines(cost: ModelCost, indent: str = "  ") -> list[str]:
    lines = [
        f"{indent}input {price(cost.input_per_mtok)}  output {price(cost.output_per_mtok)}  "
        f"cache read {price(cost.cache_read_per_mtok)}  "
        f"cache write {price(cost.cache_write_per_mtok)}"
    ]
    extras = [
        f"{label} {price(getattr(cost, field))}"
        for field, label in EXTRA_PRICES
        if getattr(cost, field) is not None
    ]
    if extras:
        lines.append(indent + "  ".join(extras))
    for kind, fee in sorted(cost.tool_use_fees.items()):
        lines.append(f"{indent}{kind}: ${fee.normalize():f} per use")
    for tier in cost.tiers:
        parts = [
            f"{label} {price(value)}"
            for label, value in (
                ("input", tier.input_per_mtok),
                ("output", tier.output_per_mtok),
                ("cache read", tier.cache_read_per_mtok),
                ("cache write", tier.cache_write_per_mtok),
                ("1h cache write", tier.cache_write_1h_per_mtok),
            )
            if value is not None
        ]
        lines.append(f"{indent}above {tier.above_input_tokens:,} input tokens: {'  '.join(parts)}")
    return lines


def _print_one(row: dict[str, Any]) -> None:
    cost: ModelCost | None = row["cost"]
    typer.echo(f"{row['id']}  (USD per million tokens)")
    if cost is None:
        typer.echo("  unpriced: neither the catalog nor configuration gives a price")
        return
    since = cost.effective_date.isoformat() if cost.effective_date else "a date the source omits"
    typer.echo(f"from {since}:")
    for line in _price_lines(cost):
        typer.echo(line)
    for older in cost.earlier:
        start = older.effective_date.isoformat() if older.effective_date else "the start"
        typer.echo(f"before that, from {start}:")
        for line in _price_lines(older):
            typer.echo(line)
    typer.echo(f"source: {cost.source or 'configuration'}")
    base: ModelCost | None = row["catalog"]
    if base is not None:
        typer.echo("configuration overrides the catalog price:")
        for line in _price_lines(base):
            typer.echo(line)
