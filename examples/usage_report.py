"""A usage report: what the calls cost, per model, per caller and per day, from the ledger.

The script fills a ledger with two simulated weeks of demo traffic (mock providers, backdated;
see ``modelwire.demo``), then reads it back through the public API —
``ledger.summary(by=...)`` for totals and ``ledger.records(...)`` for rows — and writes a CSV of
the daily totals next to the database (``$MODELWIRE_EXAMPLE_OUT`` or a temporary directory).
Point ``UsageLedger`` at your own database to report on real usage; ``modelwire usage summary
--db URL --by model`` prints the same totals from the command line.

python examples/usage_report.py
"""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

from _setup import output_dir

from modelwire import UsageLedger
from modelwire.demo import fill_demo_ledger
from modelwire.usage.reports import format_usd

BARS = " ▁▂▃▄▅▆▇█"


def table(rows: list[dict[str, Any]], key: str) -> None:
    print(f"  {key:<30}{'calls':>7}{'errors':>8}{'in tok':>10}{'out tok':>9}{'cost':>13}")
    for r in sorted(rows, key=lambda r: r["cost_usd"] or Decimal(0), reverse=True):
        print(
            f"  {r[key] or '(none)'!s:<30}{r['calls']:>7}{r['errors']:>8}{r['input_tokens']:>10}"
            f"{r['output_tokens']:>9}{format_usd(r['cost_usd'], 4):>13}"
        )


def main() -> None:
    out = output_dir()
    db = out / "demo-usage.db"
    db.unlink(missing_ok=True)
    with UsageLedger(f"sqlite:///{db}") as ledger:
        calls = fill_demo_ledger(ledger, days=14, calls_per_day=40)
        (total,) = ledger.summary(by=())
        print(
            f"{calls} calls ({total['calls']} attempts) over 14 days, "
            f"{total['errors']} failed attempts, total {format_usd(total['cost_usd'], 4)}"
        )

        print("\nby model:")
        table(ledger.summary(by=("model",)), "model")
        print("\nby caller:")
        table(ledger.summary(by=("caller",)), "caller")

        daily = ledger.summary(by=("day",))
        costs = [float(r["cost_usd"] or 0) for r in daily]
        top = max(costs) or 1.0
        spark = "".join(BARS[round(c / top * (len(BARS) - 1))] for c in costs)
        print(f"\ncost per day {daily[0]['day']} .. {daily[-1]['day']}: {spark}")

        slowest = max(ledger.records(status="ok"), key=lambda rec: rec.latency_ms)
        print(
            f"slowest successful call: {slowest.model_id} for {slowest.caller}, "
            f"{slowest.latency_ms:.0f} ms at {slowest.timestamp:%Y-%m-%d %H:%M} UTC"
        )

        path = out / "daily_usage.csv"
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(daily[0]))
            writer.writeheader()
            writer.writerows(daily)
        print(f"daily totals written to {path}")


if __name__ == "__main__":
    main()
