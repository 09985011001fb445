"""Relative links in the docs map, the migration page and the generated references resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PAGES = ["docs/index.md", "docs/coming-from.md", "docs/cli.md", "docs/api.md"]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """GitHub-style anchors of a Markdown file's headings."""
    out: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            keep = "".join(c for c in title if c.isalnum() or c in " -_")
            out.add(keep.replace(" ", "-"))
    return out


def _links(page: str) -> list[str]:
    text = (ROOT / page).read_text(encoding="utf-8")
    return [m for m in LINK.findall(text) if not m.startswith(("http://", "https://", "mailto:"))]


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_resolve(page: str) -> None:
    base = (ROOT / page).parent
    broken: list[str] = []
    for link in _links(page):
        target, _, anchor = link.partition("#")
        path = (base / target).resolve() if target else ROOT / page
        missing_anchor = bool(anchor) and path.suffix == ".md" and path.exists()
        if not path.exists() or (missing_anchor and anchor not in _anchors(path)):
            broken.append(link)
    assert not broken, f"{page}: broken links {broken}"


def test_index_links_every_docs_page() -> None:
    linked = {Path(link.partition("#")[0]).name for link in _links("docs/index.md")}
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"index.md"}
    assert pages <= linked, f"docs/index.md does not link {sorted(pages - linked)}"
