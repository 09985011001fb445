"""No tracked file cites a design document kept outside the repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import ROOT

# Built from parts so that this file does not match its own search.
FORBIDDEN = ("DESIGN" + ".md", "../" + "shared")


def _tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return [ROOT / name for name in out.decode().split("\0") if name]


def _citations(text: str) -> list[str]:
    return [word for word in FORBIDDEN if word in text]


def test_the_search_finds_a_citation() -> None:
    assert _citations("see " + FORBIDDEN[0] + " §4") == [FORBIDDEN[0]]
    assert _citations("link to " + FORBIDDEN[1] + "/notes") == [FORBIDDEN[1]]
    assert _citations("see docs/design.md") == []


def test_no_tracked_file_cites_a_file_outside_the_repository() -> None:
    files = _tracked_files()
    assert len(files) > 100  # the listing really is the repository's
    offenders = []
    for path in files:
        if path == Path(__file__).resolve() or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        found = _citations(text)
        if found:
            offenders.append(f"{path.relative_to(ROOT)}: {', '.join(found)}")
    assert not offenders, "files citing outside the repository:\n" + "\n".join(offenders)
