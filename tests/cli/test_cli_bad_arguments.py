"""Every sub-command, given bad arguments, exits 2 with one readable line on stderr.

The cases run through ``run_app`` (what the ``modelwire`` console script runs), so click's usage
errors, configuration errors, pydantic errors, database errors and overflowing time ranges are
all seen as a user sees them: ``error: ...`` on one line, no traceback, no pydantic dump, no
SQLAlchemy "Background on this error" link, no password.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelwire.cli.app import app
from modelwire.cli.errors import run_app
from modelwire.usage.ledger import UsageLedger

UNREACHABLE_PG = "postgresql+psycopg://mw:hunter2@127.0.0.1:9/nothing"
MASKED_PG = "postgresql+psycopg://mw:***@127.0.0.1:9/nothing"

CONFIG = """\
providers:
  mock: {type: mock}
models:
  mock:alpha: {aliases: [alpha]}
usage: {enabled: false}
"""

# (case id, arguments, a fragment of the one line); {cfg}, {dir}, {db}, {missing}, {bad},
# {notdb} are replaced by paths made for each test
CASES: list[tuple[str, list[str], str]] = [
    ("root-unknown-command", ["nosuch"], "No such command 'nosuch'"),
    ("root-unknown-option", ["--bogus"], "No such option: --bogus"),
    # demo
    ("demo-calls-0", ["demo", "--calls", "0"], "'--calls'"),
    ("demo-concurrency", ["demo", "--concurrency", "1000"], "'--concurrency'"),
    ("demo-error-rate", ["demo", "--error-rate", "2"], "'--error-rate'"),
    ("demo-latency", ["demo", "--latency-ms", "-1"], "'--latency-ms'"),
    ("demo-latency-huge", ["demo", "--latency-ms", "1e300"], "'--latency-ms'"),
    ("demo-calls-huge", ["demo", "--calls", "1000000000"], "'--calls'"),
    ("demo-db-bogus", ["demo", "--db", "bogus://x"], "cannot use the database bogus://x"),
    ("demo-db-directory", ["demo", "--db", "{dir}"], "is a directory"),
    ("demo-db-not-a-database", ["demo", "--db", "{notdb}"], "file is not a database"),
    ("demo-db-unreachable", ["demo", "--db", UNREACHABLE_PG], MASKED_PG),
    # models
    ("models-provider", ["models", "-c", "{cfg}", "-p", "nosuch"], "no configured provider"),
    ("models-provider-typo", ["models", "-c", "{cfg}", "-p", "mok"], "did you mean 'mock'"),
    ("models-vendor-no-key", ["models", "-p", "openai"], "set OPENAI_API_KEY"),
    ("models-catalog-vendor", ["models", "--catalog", "-p", "opena"], "did you mean 'openai'"),
    ("models-capability", ["models", "--capability", "foo"], "unknown capability 'foo'"),
    ("models-capability-typo", ["models", "--capability", "cod"], "did you mean 'code'"),
    ("models-strength", ["models", "--capability", "code:ultra"], "code:ultra"),
    ("models-config-missing", ["models", "-c", "{missing}"], "file not found"),
    ("models-config-bad", ["models", "-c", "{bad}"], "latency_ms"),
    ("models-recommend", ["models", "--recommend", "nosuch"], "nosuch"),
    ("prices-model", ["prices", "-c", "{cfg}", "gpt-4o-mimi"], "did you mean"),
    ("prices-provider", ["prices", "-c", "{cfg}", "-p", "mok"], "did you mean 'mock'"),
    ("prices-config-missing", ["prices", "-c", "{missing}"], "file not found"),
    ("models-tier", ["models", "--recommend", "code", "--tier", "huge"], "huge"),
    ("models-gpu-memory", ["models", "--recommend", "code", "--gpu-memory", "x"], "'--gpu-memory'"),
    ("models-gpu-memory-neg", ["models", "--recommend", "code", "--gpu-memory", "-5"], "'--gpu-memory'"),
    # ask
    ("ask-no-model", ["ask", "-c", "{cfg}", "hi"], "no model chosen"),
    ("ask-no-prompt", ["ask", "-c", "{cfg}", "mock:alpha"], "no prompt"),
    ("ask-no-prompt-at-all", ["ask", "-c", "{cfg}", "-m", "alpha"], "no prompt"),
    ("ask-too-many-words", ["ask", "-c", "{cfg}", "alpha", "x", "hi"], "unexpected argument"),
    ("ask-unknown-model", ["ask", "-c", "{cfg}", "nope:zzz", "hi"], "unknown model 'nope:zzz'"),
    ("ask-max-tokens-0", ["ask", "-c", "{cfg}", "alpha", "hi", "--max-tokens", "0"], "'--max-tokens'"),
    ("ask-temperature-nan", ["ask", "-c", "{cfg}", "alpha", "hi", "--temperature", "nan"], "'--temperature'"),
    ("ask-temperature-neg", ["ask", "-c", "{cfg}", "alpha", "hi", "--temperature", "-1"], "'--temperature'"),
    ("ask-option-no-value", ["ask", "-c", "{cfg}", "alpha", "hi", "-o", "seed"], "key=value"),
    ("ask-option-range", ["ask", "-c", "{cfg}", "alpha", "hi", "-o", "top_p=7"], "top_p"),
    ("ask-strategy", ["ask", "-c", "{cfg}", "--provider-strategy", "random", "hi"], "random"),
    ("ask-providers-typo", ["ask", "-c", "{cfg}", "--providers", "mok", "hi"], "did you mean"),
    ("ask-task-type", ["ask", "-c", "{cfg}", "--task-type", "cooking", "hi"], "cooking"),
    ("ask-hints-on-model", ["ask", "-c", "{cfg}", "alpha", "hi", "--task-type", "code_generation"], "need a group"),
    ("ask-config-missing", ["ask", "-c", "{missing}", "alpha", "hi"], "file not found"),
    ("ask-db-bogus", ["ask", "-c", "{cfg}", "alpha", "hi", "--db", "bogus://x"], "bogus://x"),
    ("ask-db-directory", ["ask", "-c", "{cfg}", "alpha", "hi", "--db", "{dir}"], "is a directory"),
    ("ask-db-unreachable", ["ask", "-c", "{cfg}", "alpha", "hi", "--db", UNREACHABLE_PG], MASKED_PG),
    # health
    ("health-config-missing", ["health", "-c", "{missing}"], "file not found"),
    ("health-option", ["health", "--probe", "--bogus"], "No such option"),
    # discover
    ("discover-provider", ["discover", "-c", "{cfg}", "-p", "nope"], "no provider 'nope'"),
    ("discover-config-bad", ["discover", "-c", "{bad}"], "latency_ms"),
    # config
    ("config-check-missing", ["config", "check", "{missing}"], "file not found"),
    ("config-check-bad", ["config", "check", "{bad}"], "latency_ms"),
    ("config-show-missing", ["config", "show", "{missing}"], "file not found"),
    ("config-unknown", ["config", "nosuch"], "No such command"),
    # usage summary
    ("summary-since-overflow", ["usage", "summary", "--db", "{db}", "--since", "99999999999d"], "out of range"),
    ("summary-until-overflow", ["usage", "summary", "--db", "{db}", "--until", "99999999999w"], "out of range"),
    ("summary-since-unreadable", ["usage", "summary", "--db", "{db}", "--since", "yesterday"], "cannot read 'yesterday'"),
    ("summary-by", ["usage", "summary", "--db", "{db}", "--by", "colour"], "cannot group by colour"),
    ("summary-by-twice", ["usage", "summary", "--db", "{db}", "--by", "model,model"], "twice"),
    ("summary-db-missing", ["usage", "summary", "--db", "{missing}"], "no usage ledger"),
    ("summary-db-bogus", ["usage", "summary", "--db", "bogus://x"], "bogus://x"),
    ("summary-db-directory", ["usage", "summary", "--db", "{dir}"], "is a directory"),
    ("summary-db-not-a-database", ["usage", "summary", "--db", "{notdb}"], "file is not a database"),
    ("summary-db-unreachable", ["usage", "summary", "--db", UNREACHABLE_PG], MASKED_PG),
    # usage export, plot, tail
    ("export-format", ["usage", "export", "--db", "{db}", "--format", "xml"], "csv or jsonl"),
    ("export-until-overflow", ["usage", "export", "--db", "{db}", "--until", "99999999999d"], "out of range"),
    ("export-db-bogus", ["usage", "export", "--db", "bogus://x"], "bogus://x"),
    ("plot-since-overflow", ["usage", "plot", "--db", "{db}", "--since", "99999999999d"], "out of range"),
    ("plot-db-directory", ["usage", "plot", "--db", "{dir}"], "is a directory"),
    ("plot-out-missing-dir", ["usage", "plot", "--db", "{db}", "--out", "{dir}/no/x.png"], "No such file"),
    ("plot-out-format", ["usage", "plot", "--db", "{db}", "--out", "{dir}/x.xyz"], "not supported"),
    ("tail-lines", ["usage", "tail", "--db", "{db}", "-n", "-1"], "'-n' / '--lines'"),
    ("tail-interval", ["usage", "tail", "--db", "{db}", "--interval", "0"], "'--interval'"),
    ("tail-for", ["usage", "tail", "--db", "{db}", "--for", "-1"], "'--for'"),
    ("tail-db-unreachable", ["usage", "tail", "--db", UNREACHABLE_PG], MASKED_PG),
    ("usage-unknown", ["usage", "nosuch"], "No such command"),
    # serve
    ("serve-port", ["serve", "--port", "70000"], "'--port'"),
    ("serve-workers", ["serve", "--workers", "0"], "'--workers'"),
    ("serve-max-body", ["serve", "--max-body-mb", "0"], "'--max-body-mb'"),
    ("serve-log-level", ["serve", "-c", "{cfg}", "--db", "{db}", "--log-level", "loud"], "--log-level"),
    ("serve-usage-disabled", ["serve", "-c", "{cfg}"], "usage.enabled is false"),
    ("serve-config-bad", ["serve", "-c", "{bad}"], "latency_ms"),
    ("serve-db-unreachable", ["serve", "-c", "{cfg}", "--db", UNREACHABLE_PG], MASKED_PG),
    # keys
    ("keys-create-budget", ["keys", "create", "web", "--budget", "5/fortnight", "-c", "{cfg}", "--db", "{db}"], "unknown window"),
    ("keys-create-budget-form", ["keys", "create", "web", "--budget", "lots", "-c", "{cfg}", "--db", "{db}"], "AMOUNT/WINDOW"),
    ("keys-create-name", ["keys", "create", "a b", "-c", "{cfg}", "--db", "{db}"], "key name 'a b'"),
    ("keys-create-rpm", ["keys", "create", "web", "--rpm", "0"], "'--rpm'"),
    ("keys-create-models", ["keys", "create", "web", "-m", "a b", "-c", "{cfg}", "--db", "{db}"], "model pattern"),
    ("keys-create-usage-disabled", ["keys", "create", "web", "-c", "{cfg}"], "usage.enabled is false"),
    ("keys-list-db-bogus", ["keys", "list", "--db", "bogus://x"], "bogus://x"),
    ("keys-revoke-unknown", ["keys", "revoke", "nope", "-c", "{cfg}", "--db", "{db}"], "no active key named 'nope'"),
    ("keys-unknown", ["keys", "nosuch"], "No such command"),
    # limits
    ("limits-bad-config", ["limits", "-c", "{bad}"], "latency_ms"),
    ("limits-db-bogus", ["limits", "--db", "bogus://x", "-c", "{cfg}"], "bogus://x"),
    ("limits-db-dir", ["limits", "--db", "{dir}", "-c", "{cfg}"], "is a directory"),
    ("limits-usage-disabled", ["limits", "-c", "{cfg}"], "usage.enabled is false"),
]  # fmt: skip


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, str]:
    cfg = tmp_path / "modelwire.yaml"
    cfg.write_text(CONFIG)
    bad = tmp_path / "bad.yaml"
    bad.write_text("providers:\n  mock: {type: mock, latency_ms: -1}\n")
    notdb = tmp_path / "not-a-database.db"
    notdb.write_bytes(b"this is not SQLite\n" * 200)
    db = tmp_path / "usage.db"
    UsageLedger(db).close()
    folder = tmp_path / "folder.db"
    folder.mkdir()
    return {
        "cfg": str(cfg),
        "bad": str(bad),
        "notdb": str(notdb),
        "db": str(db),
        "dir": str(folder),
        "missing": str(tmp_path / "missing.yaml"),
    }


def run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """``run_app`` on ``args`` with nothing on stdin; returns the exit code."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(SystemExit) as stopped:
        run_app(app, args)
    code = stopped.value.code
    return code if isinstance(code, int) else 1


def assert_one_line(stderr: str, fragment: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    (line,) = lines
    assert line.startswith("error: "), line
    assert fragment in line, line
    for leak in ("Traceback", "Background on this error", "validation error", "hunter2", "╭"):
        assert leak not in line


@pytest.mark.parametrize(("args", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_arguments_exit_2_with_one_line(
    args: list[str],
    fragment: str,
    paths: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code = run([a.format(**paths) for a in args], monkeypatch)
    captured = capsys.readouterr()
    assert code == 2, captured
    assert_one_line(captured.err, fragment)
    assert captured.out == ""


def test_every_subcommand_has_a_case() -> None:
    """A new sub-command must get bad-argument cases here."""
    import typer.main

    root = typer.main.get_command(app)
    commands: list[str] = []
    for name, command in root.commands.items():
        subs = getattr(command, "commands", None)
        commands += [f"{name} {sub}" for sub in subs] if subs else [name]
    covered = {" ".join(a for a in c[1][:2] if not a.startswith("-")) for c in CASES}
    covered |= {c[1][0] for c in CASES}
    missing = [c for c in commands if c not in covered]
    assert not missing, f"no bad-argument case for: {missing}"


def test_help_and_version_still_exit_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--version"], monkeypatch) == 0
    assert capsys.readouterr().out.startswith("modelwire ")
    assert run(["usage", "summary", "--help"], monkeypatch) == 0
    assert "--since" in capsys.readouterr().out


def test_no_arguments_prints_the_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([], monkeypatch) == 2  # click's convention for a group called bare
    captured = capsys.readouterr()
    assert "demo" in captured.out + captured.err and "error:" not in captured.err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["ask", "mock:alpha", "hi", "--db", "bogus://x"], "cannot use the database bogus://x"),
        (["usage", "summary", "--since", "99999999999d"], "out of range"),
    ],
)
def test_console_script_prints_one_line(
    args: list[str], fragment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real entry point in a fresh process (no test harness in the way)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "modelwire.cli", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert proc.returncode == 2, proc.stderr
    assert_one_line(proc.stderr, fragment)


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("postgresql+psycopg://mw@127.0.0.1:9/x", "(pip install 'modelwire[postgres]')"),
        ("postgresql+psycopg2://mw@127.0.0.1:9/x", "write postgresql+psycopg://"),
    ],
)
def test_missing_database_driver_names_the_extra(
    url: str,
    hint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On an install without the [postgres] extra (simulated: its driver cannot be imported)."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    assert run(["usage", "summary", "--db", url], monkeypatch) == 2
    assert_one_line(capsys.readouterr().err, hint)


def test_one_line_drops_sqlalchemy_noise() -> None:
    from sqlalchemy.exc import OperationalError

    from modelwire.cli.errors import database_error, one_line

    exc = OperationalError("SELECT 1", {"a": 1}, Exception("disk I/O error\ndetail: full"))
    assert "Background on this error" in str(exc) and "[SQL:" in str(exc)
    assert database_error(exc) == "database error: disk I/O error; detail: full"
    wrapped = f"could not write 3 events: {exc}"
    assert one_line(wrapped) == (
        "could not write 3 events: (builtins.Exception) disk I/O error; detail: full"
    )
