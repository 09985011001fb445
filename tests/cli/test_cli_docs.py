"""docs/cli.md is generated from the typer app and must match it (tools/gen_cli_docs.py)."""

from __future__ import annotations

import itertools
import subprocess
import sys

import typer

from tests.support.paths import ROOT
from tools import gen_cli_docs


def test_cli_reference_is_current() -> None:
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == gen_cli_docs.render(), (
        "docs/cli.md is out of date: run python tools/gen_cli_docs.py"
    )


def test_every_command_and_option_is_documented() -> None:
    import typer.main

    from modelwire.cli.app import app

    page = gen_cli_docs.render()
    root = typer.main.get_command(app)
    for name, command in root.commands.items():
        assert f"## `modelwire {name}`" in page
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert opt in page, f"{name} {opt} missing from docs/cli.md"


def test_render_follows_the_app() -> None:
    """A new command and option appear in the page without editing it by hand."""
    app = typer.Typer(help="Top help.")

    @app.command()
    def greet(name: str, loud: bool = typer.Option(False, help="Shout it.")) -> None:
        """Say hello to NAME."""

    sub = typer.Typer(help="Grouped things.")

    @sub.command()
    def inner() -> None:
        """Do the inner thing."""

    app.add_typer(sub, name="grp")
    page = gen_cli_docs.render(app)
    assert "## `modelwire greet`" in page
    assert "Say hello to NAME." in page
    assert "`--loud / --no-loud`" in page and "Shout it." in page
    assert "| `NAME` |" in page
    assert "## `modelwire grp inner`" in page
    assert "[`inner`](#modelwire-grp-inner)" in page


def test_check_mode_exit_status() -> None:
    proc = subprocess.run(
        [sys.executable, "tools/gen_cli_docs.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


def _help_pages() -> dict[str, str]:
    """Every command's ``--help`` at 80 columns, by command path."""
    import typer.main
    from typer.testing import CliRunner

    from modelwire.cli.app import app

    def paths(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        found = [prefix]
        for name, sub in getattr(command, "commands", {}).items():
            found += paths(sub, (*prefix, name))
        return found

    runner = CliRunner()
    return {
        " ".join(path): runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"}).output
        for path in paths(typer.main.get_command(app))
    }


def test_help_paragraphs_flow_to_the_terminal_width() -> None:
    """At 80 columns a command's description is reflowed, never one line of the source
    wrapped into a line holding a single word."""
    pages = _help_pages()
    assert {"serve", "keys create", "usage summary", "limits"} <= set(pages)
    for name, page in pages.items():
        description = [line.strip() for line in page.split("╭")[0].splitlines()]
        for line, following in itertools.pairwise(description):
            if len(line.split()) == 1 and following and not line.endswith(":"):
                raise AssertionError(f"modelwire {name} --help: {line!r} alone on a line\n{page}")
    serve = " ".join(pages["serve"].split())
    assert "the configuration knows; every request is recorded" in serve
