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
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from modelwire.cli.errors import fail

if TYPE_CHECKING:
    from modelwire.usage.ledger import UsageLedger
    from modelwire.usage.limits import LimitStatus
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
    """The ledger at ``db`` for reading; a missing SQLite file is reported, not created, and a
    database that cannot be opened is one line (exit 2)."""
    from modelwire.cli.common import connect_ledger
    from modelwire.cli.errors import database_error
    from modelwire.usage.store import normalise_url, sqlite_path

    url = normalise_url(db)
    try:
        path = sqlite_path(url)
    except Exception as exc:  # not a URL SQLAlchemy can read
        fail(database_error(exc, url))
    if path is not None and not path.exists():
        fail(f"no usage ledger at {path} (nothing recorded yet, or pass --db)")
    ledger = connect_ledger(url)
    try:
        yield ledger
    finally:
        ledger.close()


def _check_when(**values: str | None) -> None:
    """Fail (exit 2) on a ``--since``/``--until`` value that cannot be read or is out of range."""
    from modelwire.usage.reports import parse_when

    for name, v in values.items():
        try:
            us = parse_when(v)
            if us is not None:
                _moment(us)
        except ValueError as exc:
            fail(str(exc))
        except OverflowError:
            fail(f"--{name} {v}: out of range (dates run from year 1 to 9999)")


def _moment(us: int) -> datetime:
    """UTC microseconds since the epoch as a datetime (``OverflowError`` out of its range)."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


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
    wide: Annotated[
        bool,
        typer.Option(
            "--wide",
            help="Add cache and reasoning tokens, unpriced calls, p95 time to first token.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON rows (latency percentiles included).")
    ] = False,
    db: DbOpt = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Configuration file: its limits are shown, and its usage.database read "
            "unless --db is given (default: search).",
        ),
    ] = None,
) -> None:
    """Calls, errors, tokens and cost, grouped; then latency percentiles (p50, p95, p99) and
    time to first token of the successful attempts; then, where limits exist (``limits:`` of
    the configuration, gateway keys' budgets and rates), what is left of each."""
    from modelwire.cli.progress import spinner
    from modelwire.usage.reports import GROUP_KEYS, latency_percentiles

    keys = tuple(k.strip() for k in by.split(",") if k.strip())
    bad = [k for k in keys if k not in GROUP_KEYS]
    if bad:
        fail(f"cannot group by {', '.join(bad)}; choose from {', '.join(GROUP_KEYS)}")
    if len(set(keys)) != len(keys):
        fail(f"--by {by}: a key is given twice")
    _check_when(since=since, until=until)
    if db is None and config is not None:
        from modelwire.cli.common import load

        db = load(config).usage.database
    with open_ledger(db) as ledger, spinner("reading the ledger", enabled=not as_json):
        rows = ledger.summary(by=keys, since=since, until=until, caller=caller, model=model)
        uses = ledger.tool_uses(by=keys, since=since, until=until, caller=caller, model=model)
        latencies = latency_percentiles(
            ledger.engine, by=keys, since=since, until=until, caller=caller, model=model
        )
        url = ledger.url
        statuses = [] if as_json else _limits_left(config, ledger)
    if as_json:
        timing = {tuple(r[k] for k in keys): r for r in latencies}
        used = {tuple(r[k] for k in keys): r["tool_uses"] for r in uses}
        out = []
        for r in rows:
            group = tuple(r[k] for k in keys)
            found = timing.get(group, {})
            extra = {f: found.get(f) for f in _LATENCY_FIELDS}
            row = {k: _jsonable(v) for k, v in {**r, **extra}.items()}
            row["tool_uses"] = used.get(group, {})
            out.append(row)
        typer.echo(json.dumps(out, indent=2))
        return
    typer.echo(f"usage {describe_range(since, until)} · {url}")
    print_summary(rows, keys, latencies, wide=wide, tool_uses=uses)
    if statuses:
        from modelwire.cli.limits_cmd import print_statuses

        typer.echo("what is left of the limits (modelwire limits):")
        print_statuses(statuses)


def _limits_left(config: Path | None, ledger: UsageLedger) -> list[LimitStatus]:
    """The limits' status for the summary (a configuration that cannot be read: a note)."""
    from modelwire.cli.common import load
    from modelwire.cli.limits_cmd import limit_statuses
    from modelwire.errors import ConfigError

    try:
        cfg = load(config)
    except ConfigError as exc:
        typer.echo(f"limits not shown: the configuration cannot be read ({exc})", err=True)
        return []
    return limit_statuses(cfg, ledger)


_LATENCY_FIELDS = (
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "ttft_p50_ms",
    "ttft_p95_ms",
)


def describe_range(since: str | None, until: str | None) -> str:
    """``--since``/``--until`` in words: ``from 2026-03-01 00:00 to now (UTC)``, ``all time``."""
    from modelwire.usage.reports import parse_when

    def when(value: str | None) -> str | None:
        us = parse_when(value)
        return None if us is None else _moment(us).isoformat(sep=" ", timespec="minutes")[:16]

    start, end = when(since), when(until)
    if start is None and end is None:
        return "of all time"
    return f"from {start or 'the first row'} to {end or 'now'} (UTC)"


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if value < 10 else f"{value:,.0f}"


def print_summary(
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    latencies: Sequence[dict[str, Any]] = (),
    *,
    wide: bool = False,
    tool_uses: Sequence[dict[str, Any]] = (),
) -> None:
    """The summary table with a total line, then the server-side tool uses (``tool_uses``,
    when any), then the latency table (ttft: time to first token of the streamed attempts).

    ``cost`` sums the priced calls; a group with no priced call shows ``unpriced`` as its cost,
    never $0, and a line under the table counts the unpriced calls (a column with ``wide``).
    The counts billed at their own prices (1-hour cache writes, audio and image tokens) get a
    column each where they are not all zero.
    """
    from modelwire.cli.tables import new_table, print_table, stdout_console
    from modelwire.usage.reports import total_cost

    console = stdout_console()
    if not rows:
        console.print("no usage in this range")
        return
    fields = ["calls", "errors", "input_tokens", "output_tokens"]
    heads = ["calls", "errors", "input", "output"]
    if wide:
        fields += ["cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "unpriced_calls"]
        heads += ["cache read", "cache write", "reasoning", "unpriced"]
    for field, head in BILLED_COLUMNS:
        if any(r.get(field) for r in rows):
            fields.append(field)
            heads.append(head)
    total: dict[str, Any] = {f: sum(r[f] for r in rows) for f in (*fields, "unpriced_calls")}
    total["cost_usd"] = total_cost(rows)
    table = new_table(
        *((k, "id") for k in keys),
        *((h, "num") for h in heads),
        ("cost", "num"),
        show_footer=len(rows) > 1,
    )
    for i, column in enumerate(table.columns):
        if i < len(keys):
            column.footer = "total" if i == 0 else ""
        elif i < len(keys) + len(fields):
            column.footer = f"{total[fields[i - len(keys)]]:,}"
        else:
            column.footer = _cost_cell(total)
    for r in rows:
        cells = ["-" if r[k] is None else str(_jsonable(r[k])) for k in keys]
        table.add_row(*cells, *(f"{r[f]:,}" for f in fields), _cost_cell(r))
    print_table(table, console)
    unpriced = total["unpriced_calls"]
    if unpriced and not wide:
        calls = "call" if unpriced == 1 else "calls"
        console.print(f"{unpriced:,} {calls} unpriced (no known price): not in the cost")
    if tool_uses:
        _print_tool_uses(console, tool_uses, keys)
    if latencies:
        _print_latencies(console, latencies, keys, wide=wide)


#: The summary's counts billed at their own prices, shown where not all zero: field, heading.
BILLED_COLUMNS = (
    ("cache_write_1h_tokens", "1h cache write"),
    ("input_audio_tokens", "audio in"),
    ("input_image_tokens", "image in"),
    ("output_audio_tokens", "audio out"),
    ("output_image_tokens", "image out"),
)


def _print_tool_uses(console: Any, uses: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    from modelwire.cli.tables import new_table, print_table

    kinds = sorted({kind for r in uses for kind in r["tool_uses"]})
    table = new_table(
        *((k, "id") for k in keys),
        *((kind.replace("_", " "), "num") for kind in kinds),
        title="server-side tool uses",
    )
    for r in uses:
        cells = ["-" if r[k] is None else str(_jsonable(r[k])) for k in keys]
        table.add_row(*cells, *(f"{r['tool_uses'].get(kind, 0):,}" for kind in kinds))
    print_table(table, console)


def _print_latencies(
    console: Any, latencies: Sequence[dict[str, Any]], keys: Sequence[str], *, wide: bool
) -> None:
    from modelwire.cli.tables import new_table, print_table

    heads = ["ok", "p50", "p95", "p99", "ttft p50"]
    if wide:
        heads += ["ttft p95", "streamed"]
    table = new_table(
        *((k, "id") for k in keys),
        *((h, "num") for h in heads),
        title="latency of successful attempts (ms)",
    )
    for r in latencies:
        cells = ["-" if r[k] is None else str(_jsonable(r[k])) for k in keys]
        cells += [
            f"{r['ok_calls']:,}",
            _ms(r["latency_p50_ms"]),
            _ms(r["latency_p95_ms"]),
            _ms(r["latency_p99_ms"]),
            _ms(r["ttft_p50_ms"]),
        ]
        if wide:
            cells += [_ms(r["ttft_p95_ms"]), f"{r['streamed']:,}"]
        table.add_row(*cells)
    print_table(table, console)


@cache
def export_fields() -> tuple[str, ...]:
    """The fields of an export row: those of a ``UsageRecord`` (its id, then the stored columns
    in their order) with ``priced`` after the cost."""
    from modelwire.usage.columns import COLUMNS, Conversion

    fields = ["id"]
    for c in COLUMNS:
        fields.append(c.field)
        if c.conversion is Conversion.NANO_DOLLARS:
            fields.append("priced")
    return tuple(fields)


def _export_dict(r: UsageRecord) -> dict[str, Any]:
    d = r.to_json_dict()
    d["priced"] = r.cost_usd is not None
    return {k: d[k] for k in export_fields()}


def _csv_cell(value: Any) -> Any:
    """A CSV cell: empty for NULL (and for no tool uses or requests), JSON for those."""
    if value is None or value == []:
        return ""
    return json.dumps(value, separators=(",", ":")) if isinstance(value, dict | list) else value


def write_export(records: Iterator[UsageRecord], fmt: str, out: TextIO) -> int:
    """Write records as CSV (cost empty and ``priced`` false when unpriced) or JSON lines."""
    n = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=export_fields(), lineterminator="\n")
        writer.writeheader()
        for r in records:
            d = _export_dict(r)
            writer.writerow({k: _csv_cell(v) for k, v in d.items()})
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
    _check_when(since=since, until=until)
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
    from modelwire.cli.progress import spinner
    from modelwire.cli.usage_plot import render

    _check_when(since=since, until=until)
    with open_ledger(db) as ledger:
        kw: dict[str, Any] = {"since": since, "until": until, "caller": caller, "model": model}
        by_day = ledger.summary(by=("day", "model"), **kw)
        by_caller = ledger.summary(by=("caller",), **kw)
    try:
        with spinner(f"drawing {out}"), private_output(out) as target:
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
        float | None,
        typer.Option("--for", min=0.0, help="Stop following after this many seconds."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line (the export's fields).")
    ] = False,
    db: DbOpt = None,
) -> None:
    """The most recent attempts; with --follow, new ones as they are written."""
    from modelwire.usage.reports import iter_records

    def show(r: UsageRecord) -> None:
        typer.echo(json.dumps(_export_dict(r)) if as_json else tail_line(r))

    with open_ledger(db) as ledger:
        recent = list(ledger.records(limit=n, newest_first=True)) if n else []
        for r in reversed(recent):
            show(r)
        if not follow:
            return
        last = recent[0].id if recent else _max_id(ledger)
        stop = None if duration is None else time.monotonic() + duration
        try:
            while stop is None or time.monotonic() < stop:
                left = interval if stop is None else stop - time.monotonic()
                time.sleep(max(0.0, min(interval, left)))
                for r in iter_records(ledger.engine, after_id=last):
                    show(r)
                    last = r.id
        except KeyboardInterrupt:
            return


def _max_id(ledger: UsageLedger) -> int:
    with ledger.engine.connect() as conn:
        value = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM usage_calls").scalar()
    return int(value or 0)
