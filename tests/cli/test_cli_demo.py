"""``modelwire demo``: runs without keys, writes its attempts to the ledger, summarises them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from modelwire.cli.app import app
from modelwire.cli.demo import DEMO_MODELS
from modelwire.usage.ledger import UsageLedger


def test_demo_writes_the_ledger_and_prints_its_summary(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner(env={"COLUMNS": "100"}).invoke(
        app, ["demo", "--calls", "30", "--latency-ms", "1", "--db", db]
    )
    assert result.exit_code == 0, result.output
    for text in ("service object", "enum", "namespace", "usage this run", "total cost $"):
        assert text in result.output
    with UsageLedger(db) as ledger:
        rows = ledger.summary(by=("caller",))
    assert [r["caller"] for r in rows] == ["batch-job", "demo", "notebook", "web"]
    assert sum(r["calls"] for r in rows) >= 33  # 3 access-style calls + 30, plus retries
    assert all(r["cost_usd"] > 0 and r["unpriced_calls"] == 0 for r in rows)


def test_demo_counts_calls_and_attempts_consistently(tmp_path: Path) -> None:
    """Calls are first attempts; the table's totals and the closing line agree with the
    ledger, retries included."""
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner(env={"COLUMNS": "80"}).invoke(
        app, ["demo", "--calls", "40", "--latency-ms", "0", "--error-rate", "0.3", "--db", db]
    )
    assert result.exit_code == 0, result.output
    with UsageLedger(db) as ledger:
        records = list(ledger.records())
    calls = sum(r.attempt == 1 for r in records)
    failed = sum(r.status == "error" for r in records)
    assert calls == 43 and failed > 0  # 3 access styles + 40, whatever was retried
    summary = (
        f"43 calls (3 showing the access styles, 40 concurrent) in {len(records)} attempts; "
        f"{failed} attempts failed"
    )
    assert summary in " ".join(result.stdout.split())
    rows = {
        line.split()[0]: line.split()[1:4]
        for line in result.stdout.splitlines()
        if line.split()[:1] and line.split()[0] in DEMO_MODELS
    }
    assert set(rows) == {r.model_id for r in records}
    assert sum(int(c) for c, _, _ in rows.values()) == calls
    assert sum(int(a) for _, a, _ in rows.values()) == len(records)
    assert sum(int(f) for _, _, f in rows.values()) == failed
    assert "…" not in result.stdout
