"""Tables that stay readable at 80 columns and never cut an id or a number short.

Rich fits a table to the console by wrapping its columns and, when that is not enough, by
cutting cells with "…". ``print_table`` prints at the console's width (the terminal's, or
``COLUMNS``, or 80 for a pipe) when every ``no_wrap`` column (ids, numbers, money) fits whole
in it, text columns wrapping, and otherwise at the table's natural width, one line per row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

__all__ = ["TEXT_WIDTH", "new_table", "print_table", "stdout_console"]

#: The widest a text column grows before its cells wrap.
TEXT_WIDTH = 48


def stdout_console() -> Console:
    """A console on stdout without rich's number highlighting (tables carry their own style)."""
    from rich.console import Console

    return Console(highlight=False, emoji=False)


def _plain_cells_class() -> type[Table]:
    from rich.table import Table
    from rich.text import Text

    class PlainCells(Table):
        """A table whose string cells are shown as they are: an id like ``mock:a:`` is not
        rich markup or an emoji code (a model id or a caller name can look like either)."""

        def add_row(self, *renderables: Any, **options: Any) -> None:
            cells = [Text(c) if isinstance(c, str) else c for c in renderables]
            super().add_row(*cells, **options)

    return PlainCells


def new_table(*columns: tuple[str, str], title: str | None = None, **options: Any) -> Table:
    """A table of ``(header, kind)`` columns in the compact style of the CLI.

    ``kind`` is ``"id"`` (left, never cut), ``"num"`` (right, never cut) or ``"text"`` (left,
    wraps when the terminal is narrow, and past ``TEXT_WIDTH`` characters in any case).
    """
    from rich import box

    table = _plain_cells_class()(title=title, box=box.SIMPLE_HEAD, pad_edge=False, **options)
    for header, kind in columns:
        whole = kind in ("id", "num")
        table.add_column(
            header,
            justify="right" if kind == "num" else "left",
            no_wrap=whole,
            overflow="fold",
            max_width=None if whole else TEXT_WIDTH,
        )
    return table


def needed_width(console: Console, table: Table) -> int:
    """The narrowest width at which ``table`` shows every ``no_wrap`` cell whole."""
    from rich.measure import Measurement

    options = console.options
    total = table._extra_width
    for index, column in enumerate(table.columns):
        cells = [column.header, column.footer, *column.cells]
        need = 0
        for cell in cells:
            measured = Measurement.get(console, options, cell)
            need = max(need, measured.maximum if column.no_wrap else measured.minimum)
        total += need + table._get_padding_width(index)
    return total


def print_table(table: Table, console: Console | None = None) -> None:
    """Print ``table`` at the console's width when its ids and numbers fit whole; otherwise
    at its natural width (one line per row: the terminal folds lines, nothing is cut)."""
    from rich.measure import Measurement

    console = console or stdout_console()
    if needed_width(console, table) <= console.width:
        console.print(table)
        return
    natural = Measurement.get(console, console.options.update_width(1_000_000), table).maximum
    saved = console.width
    console.width = natural
    try:
        console.print(table)
    finally:
        console.width = saved
