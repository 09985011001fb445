"""Cross-check the bundled catalog against a public price list in LiteLLM's format.

LiteLLM ships ``model_prices_and_context_window.json`` (``..._backup.json`` inside the wheel):
a JSON object keyed by model name whose values give ``input_cost_per_token``,
``output_cost_per_token``, ``cache_read_input_token_cost``, ``cache_creation_input_token_cost``,
``max_input_tokens``, ``max_output_tokens`` and ``litellm_provider``. Get it without installing
LiteLLM::

    pip download --no-deps litellm -d /tmp/litellm
    unzip -j /tmp/litellm/litellm-*.whl 'litellm/model_prices_and_context_window_backup.json' \
        -d /tmp/litellm
    python tools/check_catalog_prices.py /tmp/litellm/model_prices_and_context_window_backup.json

Every catalog name and snapshot is compared with the vendor's own (first-party) entry. The
script prints each disagreement, then the names the reference does not list; ``--mirrors`` also
looks those up under resellers' keys (Bedrock for Anthropic, Vertex AI for Gemini), and
``--new`` lists first-party chat models of the three vendors that the catalog lacks. Exit
status: 1 when any price disagrees, otherwise 0 (limits and missing names are informational).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from modelwire.catalog import Catalog, CatalogModel  # noqa: E402

CATALOG_PATH = ROOT / "src" / "modelwire" / "catalog" / "models.json"
FIRST_PARTY = {"openai": "openai", "anthropic": "anthropic", "google": "gemini"}
PRICE_FIELDS = (
    ("input", "input_cost_per_token"),
    ("output", "output_cost_per_token"),
    ("cache_read", "cache_read_input_token_cost"),
    ("cache_write", "cache_creation_input_token_cost"),
)
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    kind: str  # "price", "tier", "limit", "missing", "mirror", "new"
    model_id: str
    name: str
    message: str

    def __str__(self) -> str:
        label = self.model_id
        if self.model_id.split(":", 1)[1] != self.name:
            label += f" [{self.name}]"
        return f"{self.kind:8} {label}: {self.message}"


def per_mtok(value: Any) -> Decimal | None:
    """A per-token float from the reference as an exact per-million price (``2.5e-06`` -> 2.5)."""
    if value is None:
        return None
    return (Decimal(repr(float(value))) * MILLION).normalize()


def _norm(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.normalize()


def reference_keys(record: CatalogModel, name: str) -> list[str]:
    """Keys under which the reference may list ``name`` as the vendor's own model."""
    if record.vendor == "google":
        return [f"gemini/{name}", name]
    return [name]


def mirror_keys(record: CatalogModel, name: str) -> list[str]:
    """Keys of resellers that usually carry the vendor's list price."""
    if record.vendor == "anthropic":
        vertex = re.sub(r"-(\d{8})$", r"@\1", name)
        return [f"anthropic.{name}-v1:0", f"anthropic.{name}-v2:0", f"vertex_ai/{vertex}"]
    if record.vendor == "google":
        return [f"vertex_ai/{name}", name]
    return [f"azure/{name}"]


def first_party(ref: Mapping[str, Any], record: CatalogModel, name: str) -> dict[str, Any] | None:
    """The reference entry for ``name`` published under the vendor's own provider."""
    for key in reference_keys(record, name):
        entry = ref.get(key)
        if isinstance(entry, dict) and entry.get("litellm_provider") == FIRST_PARTY[record.vendor]:
            return entry
    return None


def compare_prices(record: CatalogModel, name: str, entry: Mapping[str, Any]) -> Iterator[Finding]:
    """Price disagreements between ``record`` and one reference entry."""
    for ours_field, ref_field in PRICE_FIELDS:
        ours = _norm(getattr(record.price, ours_field))
        theirs = per_mtok(entry.get(ref_field))
        if ours != theirs:
            yield Finding(
                "price", record.id, name, f"{ours_field} ours {ours} vs reference {theirs}"
            )
    if not record.price.tiers:
        return
    tier = record.price.tiers[0]
    suffix = f"_above_{tier.above_tokens // 1000}k_tokens"
    for ours_field, ref_field in PRICE_FIELDS:
        ours = _norm(getattr(tier, ours_field))
        if ref_field + suffix not in entry:
            if ours is not None:
                msg = f"tier {ours_field} {ours}: reference has no {ref_field}{suffix}"
                yield Finding("tier", record.id, name, msg)
            continue
        theirs = per_mtok(entry[ref_field + suffix])
        if ours != theirs:
            msg = f"tier {ours_field} ours {ours} vs reference {theirs}"
            yield Finding("price", record.id, name, msg)


def compare_limits(record: CatalogModel, name: str, entry: Mapping[str, Any]) -> Iterator[Finding]:
    """Context-window and max-output disagreements (the reference's input limit vs our window)."""
    ref_in, ref_out = entry.get("max_input_tokens"), entry.get("max_output_tokens")
    if ref_in is not None and ref_in != record.context_window:
        msg = f"context_window ours {record.context_window} vs reference max_input_tokens {ref_in}"
        yield Finding("limit", record.id, name, msg)
    if ref_out is not None and ref_out != record.max_output_tokens:
        msg = f"max_output_tokens ours {record.max_output_tokens} vs reference {ref_out}"
        yield Finding("limit", record.id, name, msg)


def check(
    catalog: Catalog, ref: Mapping[str, Any], *, mirrors: bool = False, new: bool = False
) -> list[Finding]:
    """Every finding for ``catalog`` against the reference ``ref``."""
    findings: list[Finding] = []
    known: set[str] = set()
    for record in catalog.records.values():
        for name in (record.name, *record.snapshots):
            known.add(name)
            entry = first_party(ref, record, name)
            if entry is not None:
                findings += compare_prices(record, name, entry)
                findings += compare_limits(record, name, entry)
                continue
            findings.append(Finding("missing", record.id, name, "not in the reference"))
            if mirrors:
                for key in mirror_keys(record, name):
                    mirror = ref.get(key)
                    if isinstance(mirror, dict):
                        diffs = [
                            f.message
                            for f in compare_prices(record, name, mirror)
                            if f.kind == "price"
                        ]
                        verdict = "; ".join(diffs) if diffs else "prices agree"
                        findings.append(Finding("mirror", record.id, name, f"{key}: {verdict}"))
    if new:
        vendor_of = {v: k for k, v in FIRST_PARTY.items()}
        for key, entry in sorted(ref.items()):
            if not isinstance(entry, dict) or entry.get("mode") != "chat":
                continue
            vendor = vendor_of.get(str(entry.get("litellm_provider")))
            name = key.removeprefix("gemini/")
            if vendor is None or name in known or name.startswith("ft:"):
                continue
            known.add(name)
            price = f"{per_mtok(entry.get('input_cost_per_token'))}"
            price += f"/{per_mtok(entry.get('output_cost_per_token'))}"
            findings.append(Finding("new", f"{vendor}:{name}", name, f"reference price {price}"))
    return findings


def main(argv: list[str] | None = None) -> int:
    """Print the report; return 1 when a price disagrees."""
    parser = argparse.ArgumentParser(description="Compare the catalog with a LiteLLM price list.")
    parser.add_argument("reference", type=Path, help="model_prices_and_context_window JSON file")
    parser.add_argument("--catalog", type=Path, default=CATALOG_PATH, help="catalog JSON file")
    parser.add_argument("--mirrors", action="store_true", help="check missing names at resellers")
    parser.add_argument("--new", action="store_true", help="list reference models we lack")
    args = parser.parse_args(argv)

    catalog = Catalog.from_path(args.catalog)
    ref = json.loads(args.reference.read_text(encoding="utf-8"))
    findings = check(catalog, ref, mirrors=args.mirrors, new=args.new)
    for finding in findings:
        print(finding)
    kinds = ("price", "tier", "limit", "missing", "new")
    counts = {k: sum(f.kind == k for f in findings) for k in kinds}
    names = sum(1 + len(r.snapshots) for r in catalog.records.values())
    print(
        f"checked {len(catalog)} models ({names} names): {counts['price']} price, "
        f"{counts['tier']} long-context and {counts['limit']} limit disagreements, "
        f"{counts['missing']} names not in the reference"
        + (f", {counts['new']} reference models not in the catalog" if args.new else "")
    )
    return 1 if counts["price"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
