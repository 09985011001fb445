"""docs/cli.md is generated from the typer app and must match it (tools/gen_cli_docs.py)."""

from __future__ import annotations

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
