"""``modelwire usage``: totals, exports, plots and recent calls from the usage ledger.

Every command takes ``--db URL`` (a SQLAlchemy URL or a SQLite file path; default: the ledger in
the user data dir). Unknown prices show as ``unpriced``, never as $0. Files written with
``--out`` are readable by their owner only (0600).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from modelwire.cli.errors import fail

if TYPE_CHECKING:
    from modelwire.usage.ledger import UsageLedger
    from modelwire.usage.rows import UsageRecord

app = typer.Typer(
    name="usage",
    help="Inspect the usage ledger: totals, exports, plots and recent calls.",
    no_args_is_help=True,
)

DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Ledger URL or SQLite file (default: the user data dir ledger)."),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(help="Start: 7d (last 7 calendar days), 12h, 30m, or an ISO date/datetime."),
]
UntilOpt = Annotated[str | None, typer.Option(help="End (exclusive), same forms as --since.")]
CallerOpt = Annotated[str | None, typer.Option(help="Only this caller.")]
ModelOpt = Annotated[str | None, typer.Option(help="Only this model id.")]


@contextmanager
def open_ledger(db: str | None) -> Iterator[UsageLedger]:
    """The ledger at ``db`` for reading; a missing SQLite file is reported, not created."""
    from modelwire.usage.ledger import UsageLedger
    from modelwire.usage.store import normalise_url, sqlite_path

    url = normalise_url(db)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        fail(f"no usage ledger at {path} (nothing recorded yet, or pass --db)")
    try:
        ledger = UsageLedger(url)
    except Exception as exc:
        from modelwire.errors import ModelwireError

        if isinstance(exc, ModelwireError):
            raise
        fail(f"cannot open the usage ledger: {type(exc).__name__}: {exc}")
        raise  # unreachable: fail() exits
    try:
        yield ledger
    finally:
        ledger.close()


def _check_when(*values: str | None) -> None:
    from modelwire.usage.reports import parse_when

    for v in values:
        try:
            parse_when(v)
        except ValueError as exc:
            fail(str(exc))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _cost_cell(row: dict[str, Any]) -> str:
    from modelwire.usage.reports import format_usd

    return format_usd(row["cost_usd"], places=6)


@app.command("summary")
def summary_cmd(
    by: Annotated[
        str, typer.Option(help="Group by any of model,provider,caller,group,day,hour,status.")
    ] = "model",
    since: SinceOpt = None,
    until: UntilOpt = None,
    caller: CallerOpt = None,
    model: ModelOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows.")] = False,
    db: DbOpt = None,
) -> None:
    """Calls, errors, tokens and cost, grouped."""
    from modelwire.usage.reports import GROUP_KEYS

    keys = tuple(k.strip() for k in by.split(",") if k.strip())
    bad = [k for k in keys if k not in GROUP_KEYS]
    if bad:
        fail(f"cannot group by {', '.join(bad)}; choose from {', '.join(GROUP_KEYS)}")
    _check_when(since, until)
    with open_ledger(db) as ledger:
        rows = ledger.summary(by=keys, since=since, until=until, caller=caller, model=model)
    if as_json:
        typer.echo(json.dumps([{k: _jsonable(v) for k, v in r.items()} for r in rows], indent=2))
        return
    print_summary(rows, keys)


def print_summary(rows: Sequence[dict[str, Any]], keys: Sequence[str], width: int = 0) -> None:
    """A rich table of summary rows with a total line.

    ``cost`` sums the priced calls; ``unpriced`` counts calls whose price was unknown (a group
    with no priced call shows ``unpriced`` as its cost, never $0).
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from modelwire.usage.reports import total_cost

    console = Console(highlight=False)
    if width or not console.is_terminal:  # piped: do not squeeze the table into 80 columns
        console = Console(highlight=False, width=width or 200)
    if not rows:
        console.print("no usage in this range")
        return
    table = Table(show_footer=len(rows) > 1, box=box.SIMPLE_HEAD)
    fields = ("calls", "errors", "input_tokens", "output_tokens", "unpriced_calls")
    heads = ("calls", "errors", "input", "output", "unpriced")
    total: dict[str, Any] = {f: sum(r[f] for r in rows) for f in fields}
    total["cost_usd"] = total_cost(rows)
    for i, k in enumerate(keys):
        table.add_column(k, footer="total" if i == 0 else "", no_wrap=True)
    for f, h in zip(fields, heads, strict=True):
        table.add_column(h, justify="right", footer=f"{total[f]:,}", no_wrap=True)
    table.add_column("cost", justify="right", footer=_cost_cell(total), no_wrap=True)
    for r in rows:
        cells = ["-" if r[k] is None else str(_jsonable(r[k])) for k in keys]
        table.add_row(*cells, *(f"{r[f]:,}" for f in fields), _cost_cell(r))
    console.print(table)


_EXPORT_FIELDS = (
    "id",
    "timestamp",
    "model_id",
    "provider",
    "caller",
    "group",
    "attempt",
    "status",
    "error_type",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_usd",
    "priced",
    "latency_ms",
    "ttft_ms",
    "request_id",
    "stream",
    "prompt",
    "output",
)


def _export_dict(r: UsageRecord) -> dict[str, Any]:
    d = r.to_json_dict()
    d["priced"] = r.cost_usd is not None
    return {k: d[k] for k in _EXPORT_FIELDS}


def write_export(records: Iterator[UsageRecord], fmt: str, out: TextIO) -> int:
    """Write records as CSV (cost empty and ``priced`` false when unpriced) or JSON lines."""
    n = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=_EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for r in records:
            d = _export_dict(r)
            writer.writerow({k: "" if v is None else v for k, v in d.items()})
            n += 1
    else:
        for r in records:
            out.write(json.dumps(_export_dict(r)) + "\n")
            n += 1
    return n


@contextmanager
def private_output(out: Path) -> Iterator[Path]:
    """The path to write ``out``'s content to, owner-only (0600).

    A new file is made beside ``out`` and renamed over it once written: an existing file is
    replaced whatever its mode, and a failed write leaves ``out`` as it was. Anything that is
    not a regular file (``/dev/null``, a pipe) is written in place and its mode left alone.
    """
    if out.exists() and not out.is_file():
        yield out
        return
    try:
        fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=out.suffix)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    os.close(fd)
    try:
        yield Path(name)
        os.replace(name, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


@app.command("export")
def export_cmd(
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    caller: CallerOpt = None,
    model: ModelOpt = None,
    db: DbOpt = None,
) -> None:
    """Every stored attempt, one per line."""
    if fmt not in ("csv", "jsonl"):
        fail(f"unknown --format {fmt!r}: use csv or jsonl")
    _check_when(since, until)
    with open_ledger(db) as ledger:
        records = ledger.records(since=since, until=until, caller=caller, model=model)
        if out is None:
            write_export(records, fmt, sys.stdout)
            return
        with private_output(out) as target, target.open("w", encoding="utf-8", newline="") as fh:
            n = write_export(records, fmt, fh)
    typer.echo(f"wrote {n} rows to {out}", err=True)


@app.command("plot")
def plot_cmd(
    out: Annotated[Path, typer.Option(help="PNG (or SVG/PDF) file to write.")] = Path("cost.png"),
    since: SinceOpt = "30d",
    until: UntilOpt = None,
    caller: CallerOpt = None,
    model: ModelOpt = None,
    db: DbOpt = None,
) -> None:
    """Cost per day stacked by model, and tokens by caller (matplotlib, no display needed)."""
    from modelwire.cli.usage_plot import render

    _check_when(since, until)
    with open_ledger(db) as ledger:
        kw: dict[str, Any] = {"since": since, "until": until, "caller": caller, "model": model}
        by_day = ledger.summary(by=("day", "model"), **kw)
        by_caller = ledger.summary(by=("caller",), **kw)
    try:
        with private_output(out) as target:
            render(by_day, by_caller, target)
    except ImportError:
        fail("usage plot needs matplotlib: pip install 'modelwire[notebook]'")
    typer.echo(f"wrote {out}")


def tail_line(r: UsageRecord) -> str:
    """One stored attempt on one line."""
    from modelwire.usage.reports import format_usd

    ts = r.timestamp.strftime("%Y-%m-%d %H:%M:%S")
    err = f" {r.error_type}" if r.error_type else ""
    return (
        f"{ts}  #{r.id}  {r.model_id}  {r.status}{err}  attempt {r.attempt}  "
        f"in {r.input_tokens} out {r.output_tokens}  {format_usd(r.cost_usd)}  "
        f"{r.latency_ms:.0f} ms  caller {r.caller or '-'}  {r.request_id or ''}".rstrip()
    )


@app.command("tail")
def tail_cmd(
    n: Annotated[int, typer.Option("-n", "--lines", min=0, help="How many recent rows.")] = 20,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new rows.")] = False,
    interval: Annotated[
        float, typer.Option(min=0.1, max=60.0, help="Seconds between polls with --follow.")
    ] = 1.0,
    duration: Annotated[
        float | None, typer.Option("--for", help="Stop following after this many seconds.")
    ] = None,
    db: DbOpt = None,
) -> None:
    """The most recent attempts; with --follow, new ones as they are written."""
    from modelwire.usage.reports import iter_records

    with open_ledger(db) as ledger:
        recent = list(ledger.records(limit=n, newest_first=True)) if n else []
        for r in reversed(recent):
            typer.echo(tail_line(r))
        if not follow:
            return
        last = recent[0].id if recent else _max_id(ledger)
        stop = None if duration is None else time.monotonic() + duration
        try:
            while stop is None or time.monotonic() < stop:
                left = interval if stop is None else stop - time.monotonic()
                time.sleep(max(0.0, min(interval, left)))
                for r in iter_records(ledger.engine, after_id=last):
                    typer.echo(tail_line(r))
                    last = r.id
        except KeyboardInterrupt:
            return


def _max_id(ledger: UsageLedger) -> int:
    with ledger.engine.connect() as conn:
        value = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM usage_calls").scalar()
    return int(value or 0)
