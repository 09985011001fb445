"""The notebooks run top to bottom without keys (a stuck cell times out) and are stored stripped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.paths import ROOT, kernel_path

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BUDGET_S = 60.0


#: Text each notebook must print (its headline results), so a silently skipped part fails.
EXPECTED: dict[str, tuple[str, ...]] = {
    "usage_analysis": (
        "every attempt with tokens is priced",
        "attempts, total cost $",
        "cost per caller, last 7 days",
        "spent on failed attempts: $",
        "time to first token, ",
        "caching saved $",
        "billed extras in this ledger: ",
        "projected month total: $",
        "refused by a limit: ",
        "limits now (spent + reserved of each limit, in its current window):",
        "(a running call's worst case, held in 2 limits until it settles)",
        "after the stream ended: reserved $0 in all limits together",
        "$0.06/day for caller=code-review: completed windows over budget: ",
    ),
    "tour": (
        "heavy modules loaded by `import modelwire`: []",
        "echo: Hello through the OpenAI SDK",
        "did you mean",
        "group 'resilient' answered by mock:gpt-4o-mini",
        "distinct model objects after 8 racing first uses: 1",
        "fake server stopped: True",
    ),
}


def test_notebooks_exist() -> None:
    assert {p.stem for p in NOTEBOOKS} >= set(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stripped(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [], f"{path.name} cell {index} has stored outputs"
        assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"
    assert "widgets" not in nb.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.endswith("_API_KEY") or key in {"MODELWIRE_LEDGER", "MODELWIRE_CONFIG"}:
            monkeypatch.delenv(key)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", kernel_path())  # the kernel imports this modelwire
    monkeypatch.setenv("MODELWIRE_ROOT", str(ROOT))
    monkeypatch.setenv("HOME", str(tmp_path))  # the default ledger/config dirs land here
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=BUDGET_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors
    text = "".join(
        out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert text.strip(), f"{path.name} printed nothing"
    assert "Traceback" not in text
    for expected in EXPECTED.get(path.stem, ()):
        assert expected in text, f"{path.name} did not print {expected!r}"
