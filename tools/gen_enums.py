"""Regenerate src/modelwire/enums.py (``ModelEnum``) from the bundled catalog.

Usage:
    python tools/gen_enums.py            # rewrite src/modelwire/enums.py
    python tools/gen_enums.py --check    # exit 1 (and say why) when the file is out of date

``ModelEnum`` has one member per catalog model, named ``<VENDOR>_<NAME>`` upper-cased with every
character other than a letter or digit turned into ``_`` (``openai:gpt-4o-mini`` ->
``OPENAI_GPT_4O_MINI``); its value is the model id.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from modelwire.catalog import Catalog, CatalogModel  # noqa: E402

CATALOG_PATH = ROOT / "src" / "modelwire" / "catalog" / "models.json"
ENUMS_PATH = ROOT / "src" / "modelwire" / "enums.py"
COMMAND = "python tools/gen_enums.py"
VENDOR_LABELS = {"openai": "OpenAI", "anthropic": "Anthropic", "google": "Google"}

HEADER = '''\
# GENERATED FILE: do not edit by hand.
# Source: src/modelwire/catalog/models.json (catalog version {version}, catalog_date {date}).
# Regenerate: `{command}` (with `--check`: exit 1 when this file is stale).
"""``ModelEnum``: one member per model of the bundled catalog.

Each member is a ``str`` equal to the model id, so ``ModelEnum.OPENAI_GPT_4O_MINI`` works anywhere
a model id does (``service.invoke_model(ModelEnum.OPENAI_GPT_4O_MINI, "hi")``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ModelEnum"]


class ModelEnum(StrEnum):
    """Ids (``"<vendor>:<name>"``) of the models in the bundled catalog."""
'''


def member_name(model_id: str) -> str:
    """``"openai:gpt-4o-mini"`` -> ``"OPENAI_GPT_4O_MINI"``."""
    return re.sub(r"[^A-Za-z0-9]", "_", model_id).upper()


def _money(value: object) -> str:
    return "n/a" if value is None else f"${value}"


def member_doc(record: CatalogModel) -> str:
    """A one-line description: vendor, name, prices, context window, status."""
    p = record.price
    doc = (
        f"{VENDOR_LABELS[record.vendor]} {record.name}: {_money(p.input)} in, "
        f"{_money(p.output)} out per MTok; {record.context_window:,} context"
    )
    if record.retired_on is not None:
        doc += f"; retired {record.retired_on.isoformat()}"
    elif record.status == "legacy":
        doc += "; legacy"
    return doc + "."


def render(catalog: Catalog) -> str:
    """The full text of enums.py for ``catalog``."""
    lines = [
        HEADER.format(
            version=catalog.version, date=catalog.catalog_date.isoformat(), command=COMMAND
        )
    ]
    seen: dict[str, str] = {}
    for model_id, record in catalog.records.items():
        name = member_name(model_id)
        if name in seen:
            raise SystemExit(f"enum member {name} would stand for both {seen[name]} and {model_id}")
        seen[name] = model_id
        lines.append(f'\n    {name} = "{model_id}"\n    """{member_doc(record)}"""\n')
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` verify) the enum module; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    parser.add_argument("--catalog", type=Path, default=CATALOG_PATH, help="catalog JSON file")
    parser.add_argument("--output", type=Path, default=ENUMS_PATH, help="enum module to write")
    args = parser.parse_args(argv)

    text = render(Catalog.from_path(args.catalog))
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
    if args.check:
        if current == text:
            print(f"{args.output} is up to date")
            return 0
        print(f"{args.output} is out of date with {args.catalog}; run `{COMMAND}`")
        return 1
    if current != text:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(f"{args.output} already up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
