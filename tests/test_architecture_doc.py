"""docs/architecture.md lists every module of the package once, and nothing that is not there."""

from __future__ import annotations

import re

from tests.support.paths import ROOT

SRC = ROOT / "src" / "modelwire"


def test_the_module_table_matches_the_tree() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = page.split("## Modules", 1)[1].split("\n## ", 1)[0]
    listed: list[str] = []
    for row in table.splitlines():
        if row.startswith("| `"):
            listed += re.findall(r"`([\w/]+\.py)`", row.split("|")[1])
    tree = sorted(
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py")
    )
    assert sorted(listed) == tree
    assert len(listed) == len(set(listed)), "a module is listed twice"
