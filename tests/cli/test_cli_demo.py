"""``modelwire demo``: runs without keys, writes its attempts to the ledger, summarises them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from modelwire.cli.app import app
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
