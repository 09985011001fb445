"""Golden tables: exact cost of (model, usage) cases through the ledger, and a fixed summary."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from modelwire.catalog import load_catalog
from modelwire.catalog.pricing import compute_cost, to_nanos
from modelwire.types import ModelCost, Usage
from modelwire.usage.events import UsageEvent
from modelwire.usage.ledger import UsageLedger
from modelwire.usage.reports import format_usd
from tests.support.ledger import event

CONFIGURED = {
    "work:tiny": ModelCost(input_per_mtok="0.000001", output_per_mtok="0.000003"),
    "work:cache-priced": ModelCost(
        input_per_mtok="2",
        output_per_mtok="8",
        cache_read_per_mtok="0.5",
        cache_write_per_mtok="2.5",
    ),
    "work:no-cache-price": ModelCost(input_per_mtok="1.2", output_per_mtok="4.8"),
    "work:input-only": ModelCost(input_per_mtok="1"),  # no output price: unpriced
    "work:free": ModelCost(input_per_mtok="0", output_per_mtok="0"),
}

# (model id, input, output, cache read, cache write, reasoning)
CASES: list[tuple[str, int, int, int, int, int]] = [
    ("openai:gpt-4o-mini", 1000, 500, 0, 0, 0),
    ("openai:gpt-4o-mini", 1000, 500, 200, 0, 0),
    ("openai:gpt-4o-mini", 1, 1, 0, 0, 0),
    ("openai:gpt-4o", 128_000, 16_384, 64_000, 0, 0),
    ("openai:o1", 2_000, 12_000, 0, 0, 10_000),
    ("openai:o3-mini", 5_000, 3_000, 1_024, 0, 2_500),
    ("openai:gpt-4.1-nano", 7, 3, 0, 0, 0),
    ("anthropic:claude-sonnet-4-5", 10_000, 800, 6_000, 2_000, 0),
    ("anthropic:claude-sonnet-4-5", 3, 1, 0, 3, 0),
    ("anthropic:claude-3-5-haiku-latest", 50_000, 1_000, 0, 50_000, 0),
    ("anthropic:claude-opus-4-1", 200_000, 4_096, 150_000, 40_000, 1_024),
    ("google:gemini-2.5-pro", 30_000, 2_000, 10_000, 0, 1_500),
    ("google:gemini-2.5-flash", 1_000_000, 65_536, 0, 0, 60_000),
    ("google:gemini-2.0-flash", 123_457, 6_789, 100_000, 0, 0),
    ("mock:gpt-4o-mini", 333, 333, 111, 0, 0),
    ("work:tiny", 1, 1, 0, 0, 0),
    ("work:tiny", 999_999_999, 1, 0, 0, 0),
    ("work:cache-priced", 10_000, 1_000, 4_000, 3_000, 0),
    ("work:no-cache-price", 10_000, 1_000, 4_000, 3_000, 0),
    ("work:input-only", 10_000, 1_000, 0, 0, 0),
    ("work:free", 10_000, 1_000, 0, 0, 0),
    ("work:unknown", 10_000, 1_000, 500, 0, 0),
    ("openai:gpt-4o-mini", 0, 0, 0, 0, 0),
    ("anthropic:claude-sonnet-4-5", 1_000, 0, 1_000, 0, 0),
]


def price_for(model_id: str) -> ModelCost | None:
    if model_id.startswith("work:"):
        return CONFIGURED.get(model_id)
    return load_catalog().price_for(model_id)


def test_cost_table_through_the_ledger(tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    assert len(CASES) >= 20
    table: list[dict[str, Any]] = []
    with UsageLedger(tmp_path / "u.db", prices=price_for) as ledger:
        for n, (model_id, tin, tout, tcr, tcw, treas) in enumerate(CASES):
            usage = Usage(
                input_tokens=tin,
                output_tokens=tout,
                cache_read_tokens=tcr,
                cache_write_tokens=tcw,
                reasoning_tokens=treas,
            )
            price = price_for(model_id)
            cost = compute_cost(usage, price)
            ledger.record(
                UsageEvent(
                    model_id=model_id,
                    provider=model_id.partition(":")[0],
                    caller=f"case-{n:02d}",
                    cost_usd=cost,
                    request_id=str(n),
                    input_tokens=tin,
                    output_tokens=tout,
                    cache_read_tokens=tcr,
                    cache_write_tokens=tcw,
                    reasoning_tokens=treas,
                )
            )
            table.append(
                {
                    "model": model_id,
                    "usage": f"in={tin} out={tout} cache_read={tcr} cache_write={tcw} "
                    f"reasoning={treas}",
                    "prices": None
                    if price is None
                    else {k: str(v) for k, v in price.model_dump(exclude_defaults=True).items()},
                    "cost": format_usd(cost),
                    "nanos": to_nanos(cost),
                }
            )
        stored = {int(r.request_id or -1): r for r in ledger.records()}
        # Repricing with the same prices changes nothing: the stored value is the computed one.
        assert ledger.reprice() == 0
    for n, row in enumerate(table):
        got = stored[n].cost_usd
        assert (None if got is None else to_nanos(got)) == row["nanos"], CASES[n]
    assert table == snapshot


def test_cost_formula_by_hand() -> None:
    mini = load_catalog().price_for("openai:gpt-4o-mini")
    # 800 uncached × 0.15 + 200 cached × 0.075 + 500 out × 0.60, per million
    usage = Usage(input_tokens=1000, cache_read_tokens=200, output_tokens=500)
    assert compute_cost(usage, mini) == Decimal("0.000435")
    sonnet = CONFIGURED["work:cache-priced"]
    # 3000 uncached × 2 + 4000 read × 0.5 + 3000 write × 2.5 + 1000 out × 8
    usage = Usage(
        input_tokens=10_000, cache_read_tokens=4_000, cache_write_tokens=3_000, output_tokens=1_000
    )
    assert compute_cost(usage, sonnet) == Decimal("0.0235")
    # Reasoning tokens are part of output: charged once, at the output price.
    o1 = load_catalog().price_for("openai:o1")
    with_reasoning = Usage(input_tokens=0, output_tokens=1_000, reasoning_tokens=900)
    assert compute_cost(with_reasoning, o1) == Decimal("0.06")
    assert compute_cost(usage, CONFIGURED["work:input-only"]) is None
    assert compute_cost(usage, None) is None
    assert format_usd(None) == "unpriced"
    assert format_usd(Decimal("7.5E-7")) == "$0.00000075"
    assert format_usd(Decimal("0.000")) == "$0"
    assert format_usd(Decimal("0.0004"), places=2) == "<$0.01"
    assert format_usd(Decimal("12.345"), places=2) == "$12.34"


@pytest.fixture
def fixed_ledger(tmp_path: Path) -> Iterator[UsageLedger]:
    with UsageLedger(tmp_path / "fixed.db") as ledger:
        for i in range(120):
            ledger.record(event(i))
        yield ledger


def jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
        | {"cost_usd": None if r["cost_usd"] is None else str(r["cost_usd"])}
        for r in rows
    ]


@pytest.mark.parametrize(
    "by", [("model",), ("model", "day"), ("caller", "status"), ("group",), ("provider", "hour")]
)
def test_summary_of_a_fixed_ledger(
    fixed_ledger: UsageLedger, by: tuple[str, ...], snapshot: SnapshotAssertion
) -> None:
    rows = fixed_ledger.summary(by=by)
    assert sum(r["calls"] for r in rows) == 120
    assert jsonable(rows[:12]) == snapshot  # the first 12 groups keep the snapshot readable
