"""Regenerate src/modelwire/catalog/models.json from genai-prices and modelwire's own flags.

Usage:
    python tools/gen_catalog_prices.py            # rewrite src/modelwire/catalog/models.json
    python tools/gen_catalog_prices.py --check    # exit 1 (and say why) when the file is stale

Two inputs, one output:

- ``genai-prices`` (pinned in the ``dev`` extra) gives every price: input, output, cache read and
  write (5-minute and 1-hour), per-modality prices, per-use tool fees, input-size tiers and dated
  price history, plus the context window of models modelwire has not reviewed by hand.
- ``src/modelwire/catalog/flags.json`` gives what the source lacks: which source models are chat
  models modelwire calls (the rest are listed under ``skip`` with a reason), names and snapshots,
  status, limits reviewed by hand, modalities, reasoning, capabilities and features; and, for
  models it does not list, ``families``: the rule naming the reviewed model whose flags a new
  model inherits.

Prices stay exact: every number is the source's own ``Decimal`` (fees per 1,000 uses are divided
by 1,000 exactly); nothing passes through a float.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CATALOG_DIR = ROOT / "src" / "modelwire" / "catalog"
FLAGS_PATH = CATALOG_DIR / "flags.json"
MODELS_PATH = CATALOG_DIR / "models.json"
COMMAND = "python tools/gen_catalog_prices.py"
SOURCE_PACKAGE = "genai-prices"
VENDORS = ("openai", "anthropic", "google")

#: genai-prices price key -> the catalog price field (USD per million tokens).
TOKEN_PRICES = {
    "input_mtok": "input",
    "output_mtok": "output",
    "cache_read_mtok": "cache_read",
    "cache_write_mtok": "cache_write",
    "cache_write_1h_mtok": "cache_write_1h",
    "input_audio_mtok": "input_audio",
    "input_image_mtok": "input_image",
    "output_audio_mtok": "output_audio",
    "output_image_mtok": "output_image",
}
#: Price keys a tier may carry (``PriceTier`` has these five).
TIER_PRICES = ("input", "output", "cache_read", "cache_write", "cache_write_1h")
#: genai-prices fee per 1,000 uses -> the kind of server-side tool use.
TOOL_FEES = {"web_searches_kcount": "web_search", "storage_searches_kcount": "file_search"}
#: Prices the source knows that modelwire's ``ModelCost`` does not carry: recorded per price
#: under ``not_modelled`` so a reader sees what the cost leaves out.
NOT_MODELLED = frozenset(
    {
        "cache_audio_read_mtok",
        "cache_image_read_mtok",
        "input_video_mtok",
        "output_video_mtok",
    }
)

_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]*[a-z0-9]$")
#: Names the source prices like a chat model that belong to kinds the skip list leaves out
#: (search-priced and Responses-only variants): not made snapshots of the chat model.
_EXCLUDED_NAME = re.compile(r"search|codex")


class SourceError(Exception):
    """The source and the flags disagree (or the source holds something new)."""


@dataclass(frozen=True)
class Audit:
    """Which source models become which catalog records, and what is wrong."""

    #: (vendor, source model id) -> catalog record name
    records: Mapping[tuple[str, str], str]
    #: (vendor, source model id) -> reason it is not in the catalog
    skipped: Mapping[tuple[str, str], str]
    problems: tuple[str, ...]


def source_version() -> str:
    """The installed genai-prices version."""
    return metadata.version(SOURCE_PACKAGE)


def source_providers() -> dict[str, Any]:
    """The genai-prices providers of the three vendors, by vendor."""
    from genai_prices.data import providers

    by_id = {p.id: p for p in providers}
    return {vendor: by_id[vendor] for vendor in VENDORS}


def load_flags(path: Path = FLAGS_PATH) -> dict[str, Any]:
    """The flags file as parsed JSON."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# -- names ----------------------------------------------------------------------------------


#: A prefix or substring clause holds a whole name only when it ends in a date
#: (``gemini-2.5-flash-preview-05-20``); others are fragments (``claude-sonnet-4-2025``).
_DATED = re.compile(r"-(\d{2}-\d{2}|\d{4}-\d{2}-\d{2}|\d{8})$")


def _clause_values(clause: Any) -> Iterator[str]:
    for attr in ("equals", "ends_with"):
        value = getattr(clause, attr, None)
        if isinstance(value, str):
            yield value
    for attr in ("starts_with", "contains"):
        value = getattr(clause, attr, None)
        if isinstance(value, str) and _DATED.search(value):
            yield value
    for attr in ("or_", "and_"):
        for sub in getattr(clause, attr, None) or ():
            yield from _clause_values(sub)


def exact_names(provider: Any, model: Any) -> list[str]:
    """The model names the source itself routes to ``model``, id first (valid catalog names)."""
    names: list[str] = []
    for value in (model.id, *_clause_values(model.match)):
        n = value.lower()
        if n in names or not _NAME.match(n) or (names and _EXCLUDED_NAME.search(n)):
            continue
        if provider.find_model(n) is model:
            names.append(n)
    return names


# -- prices ---------------------------------------------------------------------------------


def _exact(value: Any, where: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise SourceError(f"{where}: expected a Decimal price, got {value!r}")
    return value


_CENTS = Decimal("0.01")


def _money(value: Decimal) -> str:
    """The price as a plain decimal string with at least two decimals (``"0.60"``, ``"0.125"``).

    Padding with zeros never changes the value: it only keeps the catalog's cents style.
    """
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(_CENTS)
    return format(value, "f")


def convert_price(model_price: Any, where: str) -> dict[str, Any]:
    """One genai-prices ``ModelPrice`` as a catalog price (without date, history or source)."""
    from genai_prices.types import TieredPrices

    out: dict[str, Any] = {}
    fees: dict[str, str] = {}
    tiers: dict[int, dict[str, str]] = {}
    not_modelled: list[str] = []
    for key, value in sorted(vars(model_price).items()):
        if value is None or key.startswith("_"):
            continue
        if key in TOOL_FEES:
            per_thousand = _exact(value, f"{where} {key}")
            fee = per_thousand / 1000
            if fee * 1000 != per_thousand:
                raise SourceError(f"{where} {key}: {per_thousand} / 1000 is not exact")
            fees[TOOL_FEES[key]] = _money(fee)
            continue
        if key in NOT_MODELLED:
            not_modelled.append(key.removesuffix("_mtok"))
            continue
        field = TOKEN_PRICES.get(key)
        if field is None:
            raise SourceError(f"{where}: unknown price key {key!r}; teach {COMMAND} about it")
        if isinstance(value, TieredPrices):
            out[field] = _money(_exact(value.base, f"{where} {key}"))
            for tier in value.tiers:
                if field not in TIER_PRICES:
                    not_modelled.append(f"{field} above {tier.start} tokens")
                    continue
                price = _exact(tier.price, f"{where} {key} tier")
                tiers.setdefault(int(tier.start), {})[field] = _money(price)
        else:
            out[field] = _money(_exact(value, f"{where} {key}"))
    price: dict[str, Any] = {
        f: out.get(f) for f in ("input", "output", "cache_read", "cache_write")
    }
    for f in ("cache_write_1h", "input_audio", "input_image", "output_audio", "output_image"):
        if f in out:
            price[f] = out[f]
    if fees:
        price["tool_fees"] = dict(sorted(fees.items()))
    if tiers:
        price["tiers"] = [
            {"above_tokens": start, **{f: t[f] for f in TIER_PRICES if f in t}}
            for start, t in sorted(tiers.items())
        ]
    if not_modelled:
        price["not_modelled"] = sorted(set(not_modelled))
    return price


def dated_prices(model: Any, where: str) -> list[tuple[Any, Any]]:
    """``[(start_date or None, ModelPrice)]``, oldest first."""
    from genai_prices.types import ModelPrice, StartDateConstraint

    if isinstance(model.prices, ModelPrice):
        return [(None, model.prices)]
    out: list[tuple[Any, Any]] = []
    for i, conditional in enumerate(model.prices):
        constraint = conditional.constraint
        if constraint is None:
            if i != 0:
                raise SourceError(f"{where}: an undated price after a dated one")
            out.append((None, conditional.prices))
        elif isinstance(constraint, StartDateConstraint):
            out.append((constraint.start_date, conditional.prices))
        else:
            raise SourceError(f"{where}: unsupported price constraint {constraint!r}")
    dates = [d for d, _ in out if d is not None]
    if dates != sorted(set(dates)):
        raise SourceError(f"{where}: dated prices are not in ascending order")
    return out


def catalog_price(
    model: Any, vendor: str, version: str, undated_effective: str | None
) -> dict[str, Any]:
    """The catalog ``price`` of a source model: the newest price, ``earlier`` ones newest first.

    The source's undated (first) price takes ``undated_effective`` (the day the flags record
    for it) as its date, or none.
    """
    where = f"{vendor}/{model.id}"
    history: list[dict[str, Any]] = []
    for start, model_price in dated_prices(model, where):
        entry = convert_price(model_price, where)
        entry["effective_date"] = start.isoformat() if start is not None else undated_effective
        history.append(entry)
    newest = history[-1]
    earlier = list(reversed(history[:-1]))
    if earlier:
        newest["earlier"] = earlier
    newest["source"] = f"{SOURCE_PACKAGE} {version}: {where}"
    return newest


# -- records --------------------------------------------------------------------------------

_FLAG_FIELDS = (
    "modalities",
    "reasoning",
    "capabilities",
    "features",
)


def _family(flags: Mapping[str, Any], vendor: str, source_id: str) -> Mapping[str, Any] | None:
    for rule in flags["families"]:
        if rule["vendor"] == vendor and re.search(rule["pattern"], source_id):
            return rule  # type: ignore[no-any-return]
    return None


def audit(flags: Mapping[str, Any], providers: Mapping[str, Any]) -> Audit:
    """Match every source model of the three vendors to a flags record, a family or a skip."""
    problems: list[str] = []
    skipped: dict[tuple[str, str], str] = {}
    for group in flags["skip"]:
        for source_id in group["models"]:
            key = (group["vendor"], source_id)
            if key in skipped:
                problems.append(f"{key[0]}/{source_id} is skipped twice")
            skipped[key] = group["reason"]
    records: dict[tuple[str, str], str] = {}
    for m in flags["models"]:
        provider = providers[m["vendor"]]
        source_id = m.get("source_model")
        model = (
            next((x for x in provider.models if x.id == source_id), None)
            if source_id
            else provider.find_model(m["name"])
        )
        if model is None:
            problems.append(
                f"{m['vendor']}:{m['name']} has flags but {SOURCE_PACKAGE} has no price for it"
            )
            continue
        key = (m["vendor"], model.id)
        if key in skipped:
            problems.append(f"{key[0]}/{model.id} is both skipped and the source of {m['name']}")
        records.setdefault(key, m["name"])
    for vendor, provider in providers.items():
        for model in provider.models:
            key = (vendor, model.id)
            if key in records or key in skipped:
                continue
            if _family(flags, vendor, model.id) is None:
                problems.append(
                    f"{vendor}/{model.id} is in {SOURCE_PACKAGE} but neither in the catalog "
                    "(a flags model or a family rule) nor skipped with a reason"
                )
                continue
            names = exact_names(provider, model)
            if not names:
                problems.append(f"{vendor}/{model.id} has no valid model name to call it by")
                continue
            records[key] = names[0]
    for vendor, source_id in skipped:
        if not any(m.id == source_id for m in providers[vendor].models):
            problems.append(f"skip list names {vendor}/{source_id}, which the source lacks")
    return Audit(records=records, skipped=skipped, problems=tuple(problems))


def build(flags: Mapping[str, Any], providers: Mapping[str, Any], version: str) -> dict[str, Any]:
    """The whole catalog file (as JSON-ready data)."""
    result = audit(flags, providers)
    if result.problems:
        raise SourceError("\n".join(result.problems))
    by_name = {(m["vendor"], m["name"]): m for m in flags["models"]}
    claimed: dict[tuple[str, str], str] = {}
    for m in flags["models"]:
        for n in (m["name"], *m.get("snapshots", ())):
            claimed[(m["vendor"], n)] = m["name"]
    models: list[dict[str, Any]] = []
    for vendor in VENDORS:
        provider = providers[vendor]
        for m in flags["models"]:
            if m["vendor"] != vendor:
                continue
            source_id = m.get("source_model")
            model = (
                next(x for x in provider.models if x.id == source_id)
                if source_id
                else provider.find_model(m["name"])
            )
            models.append(_reviewed_record(m, model, provider, version, claimed))
        for model in provider.models:
            key = (vendor, model.id)
            name = result.records.get(key)
            if name is None or (vendor, name) in by_name:
                continue
            rule = _family(flags, vendor, model.id)
            assert rule is not None
            models.append(_derived_record(vendor, model, provider, rule, by_name, version, claimed))
    return {
        "version": 1,
        "catalog_date": flags["catalog_date"],
        "currency": "USD",
        "price_unit": "per million tokens",
        "source": f"{SOURCE_PACKAGE} {version}",
        "generated_by": COMMAND,
        "models": models,
    }


def _extra_snapshots(
    vendor: str, names: Sequence[str], claimed: dict[tuple[str, str], str], owner: str
) -> list[str]:
    """The source's names for a record that no other record owns or extends.

    A name that prefixes another record's name is left out: the source prices ``gpt-5-chat``
    as ``gpt-5``, but ``gpt-5-chat-latest`` is a record of its own with other limits, and
    version-suffix matching would otherwise split the two.
    """
    out = []
    for n in names:
        if (vendor, n) in claimed:
            continue
        others = (name for (v, name), o in claimed.items() if v == vendor and o != owner)
        if any(other.startswith(n + "-") for other in others):
            continue
        claimed[(vendor, n)] = owner
        out.append(n)
    return out


def _reviewed_record(
    m: Mapping[str, Any],
    model: Any,
    provider: Any,
    version: str,
    claimed: dict[tuple[str, str], str],
) -> dict[str, Any]:
    vendor = m["vendor"]
    snapshots = list(m.get("snapshots", ()))
    if provider.find_model(m["name"]) is model and model.id == m["name"]:
        snapshots += _extra_snapshots(vendor, exact_names(provider, model), claimed, m["name"])
    record: dict[str, Any] = {
        "vendor": vendor,
        "name": m["name"],
        "snapshots": snapshots,
        "status": m.get("status", "current"),
        "retired_on": m.get("retired_on"),
        "price": catalog_price(model, vendor, version, m.get("effective_date")),
        "context_window": m["context_window"],
        "max_output_tokens": m["max_output_tokens"],
    }
    for f in _FLAG_FIELDS:
        if f in m:
            record[f] = m[f]
    if m.get("notes"):
        record["notes"] = m["notes"]
    record["derived"] = {"flags": "reviewed", "context_window": "reviewed"}
    return record


def _derived_record(
    vendor: str,
    model: Any,
    provider: Any,
    rule: Mapping[str, Any],
    by_name: Mapping[tuple[str, str], Mapping[str, Any]],
    version: str,
    claimed: dict[tuple[str, str], str],
) -> dict[str, Any]:
    like = by_name.get((vendor, rule["like"]))
    if like is None:
        raise SourceError(f"family rule {rule['pattern']!r}: no flags model {rule['like']!r}")
    names = exact_names(provider, model)
    name = names[0]
    if (vendor, name) in claimed:
        raise SourceError(f"{vendor}/{model.id}: the name {name!r} already belongs to a record")
    claimed[(vendor, name)] = name
    snapshots = _extra_snapshots(vendor, names[1:], claimed, name)
    settings = {**{f: like[f] for f in _FLAG_FIELDS if f in like}, **rule.get("set", {})}
    if model.context_window:
        context_window, context_from = int(model.context_window), SOURCE_PACKAGE
    else:
        context_window, context_from = int(like["context_window"]), f"like {like['name']}"
    max_output = min(int(like["max_output_tokens"]), context_window)
    status = settings.pop("status", "legacy" if model.deprecated else "current")
    record: dict[str, Any] = {
        "vendor": vendor,
        "name": name,
        "snapshots": snapshots,
        "status": status,
        "retired_on": None,
        "price": catalog_price(model, vendor, version, None),
        "context_window": context_window,
        "max_output_tokens": max_output,
        **settings,
        "derived": {
            "flags": f"like {like['name']}",
            "context_window": context_from,
        },
    }
    return record


# -- output ---------------------------------------------------------------------------------


def render(data: Mapping[str, Any]) -> str:
    """The catalog file's text (stable key order, two-space indent, trailing newline)."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def generate(flags_path: Path = FLAGS_PATH) -> str:
    """The text ``models.json`` should have for the installed genai-prices and the flags."""
    return render(build(load_flags(flags_path), source_providers(), source_version()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    parser.add_argument("--output", type=Path, default=MODELS_PATH)
    parser.add_argument("--flags", type=Path, default=FLAGS_PATH)
    args = parser.parse_args(argv)
    try:
        text = generate(args.flags)
    except SourceError as exc:
        print(f"{COMMAND}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        if current != text:
            print(f"{args.output} is out of date: run `{COMMAND}`")
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
