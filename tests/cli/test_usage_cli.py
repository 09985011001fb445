"""``modelwire usage``: summary, export, plot and tail against a fixed ledger."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from syrupy.assertion import SnapshotAssertion
from typer.testing import CliRunner

from modelwire.cli.app import app
from modelwire.usage import reports
from modelwire.usage.ledger import UsageLedger
from tests.support.ledger import event, make_url

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "cli.db"
    with UsageLedger(path) as ledger:
        for i in range(90):
            ledger.record(event(i))
    yield str(path)


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "120"})
    return result.exit_code, result.stdout, result.stderr


def test_summary_table(db: str, snapshot: SnapshotAssertion) -> None:
    code, out, err = invoke("usage", "summary", "--db", db, "--by", "model,status")
    assert code == 0, err
    assert "unpriced" in out
    title, *lines = [line.rstrip() for line in out.splitlines()]
    assert title == f"usage of all time · sqlite:///{db}"
    assert lines == snapshot


def test_all_unpriced_group_says_unpriced_not_zero(tmp_path: Path) -> None:
    path = tmp_path / "u.db"
    with UsageLedger(path) as ledger:
        ledger.record(event(0, model_id="mock:nameless", cost_usd=None))
    code, out, _ = invoke("usage", "summary", "--db", str(path))
    assert code == 0
    row = next(line for line in out.splitlines() if "mock:nameless" in line)  # usage table
    assert row.split()[-1] == "unpriced"
    assert "1 call unpriced" in out
    assert "$0" not in out


def test_summary_json_matches_the_api(db: str) -> None:
    code, out, _ = invoke("usage", "summary", "--db", db, "--by", "day,caller", "--json")
    assert code == 0
    rows = json.loads(out)
    with UsageLedger(db) as ledger:
        api = ledger.summary(by=("day", "caller"))
    assert len(rows) == len(api)
    for got, want in zip(rows, api, strict=True):
        assert got["day"] == want["day"].isoformat()
        assert got["caller"] == want["caller"]
        assert got["calls"] == want["calls"]
        assert got["cost_usd"] == (None if want["cost_usd"] is None else str(want["cost_usd"]))


def test_summary_filters(db: str) -> None:
    code, out, _ = invoke(
        "usage", "summary", "--db", db, "--by", "caller", "--caller", "web", "--json"
    )
    assert code == 0
    assert [r["caller"] for r in json.loads(out)] == ["web"]
    code, out, _ = invoke("usage", "summary", "--db", db, "--since", "1d", "--json")
    assert code == 0 and json.loads(out) == []  # the fixed ledger is in March 2026
    code, out, _ = invoke(
        "usage", "summary", "--db", db, "--since", "2026-03-02", "--until", "2026-03-03"
    )
    assert code == 0 and "mock:alpha" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--by", "colour"), "cannot group by colour"),
        (("--since", "yesterday"), "cannot read 'yesterday'"),
    ],
)
def test_summary_user_errors(db: str, args: tuple[str, ...], message: str) -> None:
    code, _, err = invoke("usage", "summary", "--db", db, *args)
    assert code == 2
    assert message in err.replace("\n", " ")


def test_missing_database_is_reported_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nothing.db"
    code, _, err = invoke("usage", "summary", "--db", str(path))
    assert code == 2 and "no usage ledger" in err
    assert not path.exists()
    code, _, err = invoke("usage", "tail")  # default path in the (isolated) user data dir
    assert code == 2 and "no usage ledger" in err


def test_export_csv_and_jsonl(db: str, tmp_path: Path) -> None:
    code, out, _ = invoke("usage", "export", "--db", db, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 90
    unpriced = [r for r in rows if r["priced"] == "False"]
    assert unpriced and all(r["cost_usd"] == "" for r in unpriced)
    assert rows[1]["cost_usd"] == "0.000101" and rows[1]["timestamp"].endswith("+00:00")

    target = tmp_path / "out.jsonl"
    code, _, err = invoke("usage", "export", "--db", db, "--format", "jsonl", "--out", str(target))
    assert code == 0 and "wrote 90 rows" in err
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(lines) == 90
    assert {line["cost_usd"] is None for line in lines} == {True, False}
    assert all(line["priced"] == (line["cost_usd"] is not None) for line in lines)
    assert Decimal(lines[1]["cost_usd"]) == Decimal("0.000101")

    code, _, err = invoke("usage", "export", "--db", db, "--format", "xml")
    assert code == 2 and "csv or jsonl" in err


def test_plot_writes_a_png(db: str, tmp_path: Path) -> None:
    out = tmp_path / "cost.png"
    code, _, err = invoke("usage", "plot", "--db", db, "--since", "2026-01-01", "--out", str(out))
    assert code == 0, err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 10_000
    empty = tmp_path / "empty.png"
    code, _, _ = invoke("usage", "plot", "--db", db, "--since", "1d", "--out", str(empty))
    assert code == 0 and empty.exists()


def test_tail_last_rows(db: str) -> None:
    code, out, _ = invoke("usage", "tail", "--db", db, "-n", "3")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert [line.split()[2] for line in lines] == ["#88", "#89", "#90"]
    assert "unpriced" in out or "$" in out


def test_tail_follow_prints_new_rows_and_stops(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    following = threading.Event()
    polls = reports.iter_records

    def first_poll_seen(*args: Any, **kwargs: Any) -> Any:
        following.set()
        return polls(*args, **kwargs)

    monkeypatch.setattr(reports, "iter_records", first_poll_seen)

    def writer() -> None:
        assert following.wait(30)  # the last row is printed: only new rows from here on
        with UsageLedger(db, sync=True) as ledger:
            for i in range(3):
                ledger.record(event(1000 + i, caller="late"))
                time.sleep(0.05)

    t = threading.Thread(target=writer)
    t.start()
    # --for leaves the writer ample time on a loaded machine
    code, out, _ = invoke(
        "usage", "tail", "--db", db, "-n", "1", "--follow", "--interval", "0.2", "--for", "10"
    )
    t.join()
    assert code == 0  # --for ended the follow on its own
    lines = out.splitlines()
    assert lines[0].split()[2] == "#90"
    assert [line.split()[2] for line in lines[1:]] == ["#91", "#92", "#93"]
    assert all("caller late" in line for line in lines[1:])


@pytest.mark.postgres
def test_commands_work_on_postgresql(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = make_url("postgres", tmp_path, request)
    with UsageLedger(url) as ledger:
        for i in range(30):
            ledger.record(event(i))
        api = ledger.summary(by=("model",))
    code, out, err = invoke("usage", "summary", "--db", url, "--json")
    assert code == 0, err
    assert [r["calls"] for r in json.loads(out)] == [r["calls"] for r in api]
    code, out, _ = invoke("usage", "export", "--db", url, "--format", "jsonl")
    assert code == 0 and len(out.splitlines()) == 30
    code, out, _ = invoke("usage", "tail", "--db", url, "-n", "2")
    assert code == 0 and len(out.splitlines()) == 2
    # the title names the database with its password masked (trust auth ignores the password)
    from sqlalchemy.engine import make_url as parse_url

    with_password = parse_url(url).set(password="hunter2").render_as_string(hide_password=False)
    code, out, err = invoke("usage", "summary", "--db", with_password)
    assert code == 0, err
    title = out.splitlines()[0]
    assert title.startswith("usage of all time · postgresql+psycopg://")
    assert ":***@" in title and "hunter2" not in out


def test_summary_title_names_the_range_and_the_database(db: str) -> None:
    code, out, _ = invoke("usage", "summary", "--db", db)
    assert code == 0
    assert out.splitlines()[0] == f"usage of all time · sqlite:///{db}"
    code, out, _ = invoke(
        "usage", "summary", "--db", db, "--since", "2026-03-02", "--until", "2026-03-03T06:00"
    )
    assert code == 0
    assert out.splitlines()[0].startswith(
        "usage from 2026-03-02 00:00 to 2026-03-03 06:00 (UTC) · sqlite:///"
    )


@pytest.fixture
def timed_db(tmp_path: Path) -> str:
    """100 successful attempts of mock:timed taking 1..100 ms (every other one streamed, first
    token at a tenth of it), and slow failures that percentiles must leave out."""
    path = tmp_path / "timed.db"
    with UsageLedger(path) as ledger:
        for i in range(1, 101):
            ttft = i / 10 if i % 2 == 0 else None
            ledger.record(
                event(i, model_id="mock:timed", status="ok", error_type=None, latency_ms=i,
                      ttft_ms=ttft, stream=ttft is not None)
            )  # fmt: skip
        for i in range(5):
            ledger.record(
                event(i, model_id="mock:timed", status="error", error_type="TimeoutError",
                      latency_ms=30_000.0)
            )  # fmt: skip
    return str(path)


def test_summary_latency_percentiles(timed_db: str) -> None:
    code, out, _ = invoke("usage", "summary", "--db", timed_db, "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["calls"] == 105 and row["errors"] == 5
    assert (row["latency_p50_ms"], row["latency_p95_ms"], row["latency_p99_ms"]) == (50, 95, 99)
    # ttft of the streamed attempts 2, 4, ..., 100: 0.2 .. 10.0 ms, 50 values
    assert row["ttft_p50_ms"] == pytest.approx(5.0) and row["ttft_p95_ms"] == pytest.approx(9.6)
    code, out, _ = invoke("usage", "summary", "--db", timed_db)
    assert code == 0
    assert "latency of successful attempts" in out
    rows = [x.split() for x in out.splitlines() if x.split()[:1] == ["mock:timed"]]
    assert rows[1] == ["mock:timed", "100", "50", "95", "99", "5.0"]  # after the usage row


@given(
    values=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=200),
    percent=st.sampled_from([50, 95, 99]),
)
def test_nearest_rank_percentile(values: list[float], percent: int) -> None:
    from modelwire.usage.reports import _nearest_rank

    ordered = sorted(values)
    found = _nearest_rank(ordered, percent)
    assert found in values
    share = percent / 100 * len(values)
    assert sum(v <= found for v in values) >= share  # at least p% at or below it
    assert sum(v < found for v in values) < share  # and fewer than p% strictly below


def test_tail_json_lines(db: str) -> None:
    code, out, _ = invoke("usage", "tail", "--db", db, "-n", "3", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [88, 89, 90]
    assert {"model_id", "status", "cost_usd", "latency_ms", "ttft_ms", "priced"} <= set(rows[0])


def test_tables_at_80_columns_never_cut_ids_or_numbers(tmp_path: Path) -> None:
    long_id = "mock:an-unusually-long-model-name-from-a-vendor-2026-03-01-preview"
    path = tmp_path / "wide.db"
    with UsageLedger(path) as ledger:
        for i in range(3):
            ledger.record(event(i, model_id=long_id, input_tokens=123_456_789))
            ledger.record(event(i, model_id="mock:short", input_tokens=5))
    for args in ((), ("--wide",), ("--by", "model,caller,day")):
        result = runner.invoke(app, ["usage", "summary", "--db", str(path), *args],
                               env={"COLUMNS": "80"})  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "…" not in result.stdout
        assert long_id in result.stdout and "370,370,382" in result.stdout  # the total
    short = runner.invoke(
        app, ["usage", "summary", "--db", str(path), "--model", "mock:short"], env={"COLUMNS": "80"}
    )
    title, *tables = short.stdout.splitlines()
    assert str(path) in title
    assert max(len(line) for line in tables) <= 80


def test_export_and_plot_files_are_owner_only(db: str, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.csv"
    code, _, err = invoke("usage", "export", "--db", db, "--out", str(fresh))
    assert code == 0, err
    assert fresh.stat().st_mode & 0o777 == 0o600
    assert len(fresh.read_text().splitlines()) == 91

    existing = tmp_path / "existing.jsonl"
    existing.write_text("old\n")
    existing.chmod(0o644)
    code, _, err = invoke(
        "usage", "export", "--db", db, "--format", "jsonl", "--out", str(existing)
    )
    assert code == 0, err
    assert existing.stat().st_mode & 0o777 == 0o600
    assert len(existing.read_text().splitlines()) == 90

    pytest.importorskip("matplotlib")
    plot = tmp_path / "cost.png"
    plot.write_bytes(b"")
    plot.chmod(0o666)
    code, _, err = invoke("usage", "plot", "--db", db, "--since", "2026-01-01", "--out", str(plot))
    assert code == 0, err
    assert plot.stat().st_mode & 0o777 == 0o600
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no temporary file left beside the outputs


def test_a_failed_export_leaves_the_old_file_and_no_temporary(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelwire.cli import usage_cmd

    def half_then_fail(records: Any, fmt: str, out: Any) -> int:
        out.write("partial\n")
        raise OSError("disk full")

    monkeypatch.setattr(usage_cmd, "write_export", half_then_fail)
    target = tmp_path / "out" / "usage.csv"
    target.parent.mkdir()
    target.write_text("previous export\n")
    code, _, _ = invoke("usage", "export", "--db", db, "--out", str(target))
    assert code != 0
    assert target.read_text() == "previous export\n"
    assert [p.name for p in target.parent.iterdir()] == ["usage.csv"]


def test_export_into_a_pipe_writes_in_place(db: str, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo, 0o644)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    code, _, err = invoke("usage", "export", "--db", db, "--format", "jsonl", "--out", str(fifo))
    reader.join(30)
    assert code == 0, err
    assert len(received[0].splitlines()) == 90
    assert stat.S_ISFIFO(fifo.stat().st_mode) and fifo.stat().st_mode & 0o777 == 0o644


def test_export_to_a_missing_folder_is_one_line(db: str, tmp_path: Path) -> None:
    code, _, err = invoke("usage", "export", "--db", db, "--out", str(tmp_path / "no" / "x.csv"))
    assert code == 2
    assert "cannot write" in err and "Traceback" not in err


def test_billed_counts_and_tool_uses_show_only_where_recorded(
    db: str, tmp_path: Path, snapshot: SnapshotAssertion
) -> None:
    code, plain, _ = invoke("usage", "summary", "--db", db)
    assert code == 0
    assert "audio in" not in plain and "tool uses" not in plain  # all zero: not shown
    path = tmp_path / "billed.db"
    with UsageLedger(path) as ledger:
        ledger.record(event(0, model_id="mock:alpha", status="ok", caller="web"))
        ledger.record(
            event(
                1,
                model_id="mock:alpha",
                status="ok",
                caller="web",
                input_audio_tokens=40,
                tool_uses={"web_search": 3, "web_fetch": 1},
            )
        )
        ledger.record(
            event(2, model_id="mock:beta", status="ok", caller="web", tool_uses={"web_search": 2})
        )
    code, out, err = invoke("usage", "summary", "--db", str(path), "--by", "model")
    assert code == 0, err
    lines = [line.rstrip() for line in out.splitlines()[1:]]
    assert "audio in" in out and "1h cache write" not in out and "image out" not in out
    assert "server-side tool uses" in out
    assert lines == snapshot
    code, out, _ = invoke("usage", "summary", "--db", str(path), "--by", "model", "--json")
    rows = {r["model"]: r for r in json.loads(out)}
    assert rows["mock:alpha"]["tool_uses"] == {"web_fetch": 1, "web_search": 3}
    assert rows["mock:beta"]["tool_uses"] == {"web_search": 2}
    assert (rows["mock:alpha"]["input_audio_tokens"], rows["mock:beta"]["input_audio_tokens"]) == (
        40,
        0,
    )
    code, out, _ = invoke("usage", "export", "--db", str(path), "--format", "csv")
    exported = list(csv.DictReader(io.StringIO(out)))
    assert [r["tool_uses"] for r in exported] == [
        "",
        '{"web_search":3,"web_fetch":1}',
        '{"web_search":2}',
    ]
    assert {r["iterations"] for r in exported} == {""}
