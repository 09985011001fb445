"""``modelwire models --recommend CAP --tier T``: the recommended open model, and how it was found."""

from __future__ import annotations

import json
from typing import Any

import typer

from modelwire.cli.errors import fail

__all__ = ["show_recommendation"]

_VIA = {
    "exact": "recommended for this capability and tier",
    "other_capability": "another capability's model at this tier that also serves it",
    "smaller_tier": "this capability's model from a smaller tier",
    "smaller_tier_other_capability": "another capability's model from a smaller tier",
}


def show_recommendation(
    capability: str,
    tier: str,
    *,
    gpu_memory_gb: float | None = None,
    platform: str | None = None,
    as_json: bool = False,
) -> None:
    """Print ``recommend(capability, tier, system_info)`` as a panel or JSON.

    Requirements are checked only when ``gpu_memory_gb`` is given (``0`` means no GPU); the
    platform defaults to this machine's.
    """
    from modelwire.providers.hf_local.recommend import (
        SIZE_TIERS,
        default_registry,
        detect_system_info,
    )

    system: dict[str, Any] | None = None
    if gpu_memory_gb is not None:
        system = detect_system_info(probe_gpu=False)
        system["gpu_memory_gb"] = gpu_memory_gb
        if platform:
            system["platform"] = platform.lower()
    registry = default_registry()
    try:
        found = registry.recommend(capability, tier, system)
    except ValueError as exc:
        fail(str(exc))
        return
    if found is None:
        known = ", ".join(registry.capabilities())
        fail(
            f"no recommended model for {capability!r} at tier {tier!r} or below "
            f"(capabilities: {known})"
        )
        return
    rec = found.model
    data = {
        "capability": capability,
        "tier": tier,
        "model": rec.model,
        "params_b": rec.params_b,
        "architecture": rec.architecture,
        "serves": list(rec.capabilities),
        "requirements": dict(rec.requirements),
        "found_tier": found.found_tier,
        "found_capability": found.found_capability,
        "via": found.via,
        "skipped": list(found.skipped),
        "system": system,
    }
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape

    limit = SIZE_TIERS[tier]
    out = Console(emoji=False)
    out.print(f"[bold]{escape(rec.model)}[/]  ({rec.params_b:g}B, {rec.architecture})")
    out.print(f"  for {escape(capability)}, tier {tier} (≤ {limit:g}B): {_VIA[found.via]}")
    if found.via != "exact":
        out.print(f"  found under {escape(found.found_capability)} / {found.found_tier}")
    out.print(f"  serves: {', '.join(rec.capabilities)}")
    needs = ", ".join(f"{k}={v}" for k, v in rec.requirements.items()) or "none"
    out.print(f"  requirements: {escape(needs)}")
    for line in found.skipped:
        out.print(f"  [dim]skipped {escape(line)}[/]")
    if system is None:
        out.print("  [dim]requirements not checked: pass --gpu-memory GB (0 for none)[/]")
    out.print(
        f"  hub id: [cyan]{escape(rec.model)}[/] (serve it through a huggingface or "
        "huggingface_local provider entry)"
    )
