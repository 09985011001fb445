"""The CLI's tables never cut an id or a number; spinners and bars draw only on a terminal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from modelwire.cli import progress
from modelwire.cli.tables import new_table, print_table

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-:._/", min_size=1, max_size=90)
numbers = st.integers(0, 10**15).map(lambda n: f"{n:,}")
words = st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=12), max_size=12).map(" ".join)


def render(table_rows: list[tuple[str, str, str]], width: int) -> str:
    table = new_table(("id", "id"), ("note", "text"), ("count", "num"), title="t")
    for row in table_rows:
        table.add_row(*row)
    out = io.StringIO()
    print_table(table, Console(file=out, width=width, highlight=False, color_system=None))
    return out.getvalue()


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(ids, words, numbers), min_size=1, max_size=6),
    width=st.integers(20, 160),
)
def test_ids_and_numbers_are_never_cut(rows: list[tuple[str, str, str]], width: int) -> None:
    text = render(rows, width)
    assert "…" not in text
    lines = text.splitlines()
    for model_id, _, count in rows:
        assert any(model_id in line for line in lines), (model_id, text)
        assert any(count in line for line in lines), (count, text)


def test_a_table_that_fits_keeps_the_console_width() -> None:
    text = render([("mock:alpha", "a short note", "1,234")], 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    long_note = " ".join(["word"] * 40)
    text = render([("mock:alpha", long_note, "1")], 80)
    assert max(len(line) for line in text.splitlines()) <= 80  # the note wraps instead


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Make stderr look like a terminal; returns what is drawn on it."""
    drawn = io.StringIO()
    console = Console(file=drawn, force_terminal=True, width=80)
    monkeypatch.setattr(progress, "_stderr_terminal", lambda enabled: console if enabled else None)
    return drawn


def test_spinner_and_bar_draw_on_a_terminal(terminal: io.StringIO) -> None:
    with progress.spinner("working") as update:
        update("still working")
    assert "still working" in terminal.getvalue()
    with progress.progress_bar("probing", 2) as steps:
        steps.start("model-a")
        steps.done()
        steps.start("model-b")
        steps.done()
    assert "2/2" in terminal.getvalue()


def test_nothing_drawn_when_disabled(terminal: io.StringIO) -> None:
    with progress.spinner("working", enabled=False) as update:
        update("still working")
    with progress.progress_bar("probing", 2, enabled=False) as steps:
        steps.start("a")
        steps.done()
    assert terminal.getvalue() == ""


def test_nothing_drawn_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert progress._stderr_terminal(True) is None  # pytest's captured stderr
    with progress.spinner("working"), progress.progress_bar("probing", 1) as steps:
        steps.start("a")
        steps.done()
    assert capsys.readouterr().err == ""


def test_discover_and_health_spin_only_without_json(terminal: io.StringIO, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from modelwire.cli.app import app

    path = tmp_path / "modelwire.yaml"
    path.write_text("providers:\n  mock: {type: mock}\nmodels:\n  mock:a: {}\n")
    runner = CliRunner(env={"COLUMNS": "80"})
    as_json = runner.invoke(app, ["discover", "--json", "-c", str(path)])
    probed = runner.invoke(app, ["health", "--probe", "--json", "-c", str(path)])
    assert as_json.exit_code == 0 and probed.exit_code == 0
    json.loads(as_json.stdout)
    assert json.loads(probed.stdout)["probes"] == {"mock:a": "ok"}
    assert terminal.getvalue() == ""
    assert runner.invoke(app, ["discover", "--refresh", "-c", str(path)]).exit_code == 0
    assert "asking the providers" in terminal.getvalue()
    assert runner.invoke(app, ["health", "--probe", "-c", str(path)]).exit_code == 0
    assert "1/1" in terminal.getvalue()
