"""``reprice`` prices each stored row at the price in force at the row's own time, from all its
stored counts (1-hour cache writes, modality tokens, tool uses, per-request counts)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from modelwire.types import ModelCost, PriceTier, Usage
from modelwire.usage.ledger import UsageLedger
from tests.support.ledger import T0, event, ledger_url

__all__ = ["ledger_url"]

D = Decimal
M = 10**6
CHANGE = T0.date() + timedelta(days=2)  # the day the new price starts (00:00 UTC)


def test_each_row_is_priced_at_the_price_of_its_day(ledger_url: str) -> None:
    old = ModelCost(input_per_mtok="1", output_per_mtok="4", effective_date=date(2020, 1, 1))
    new = ModelCost(input_per_mtok="2", output_per_mtok="8", effective_date=CHANGE, earlier=(old,))
    times = [T0 + timedelta(hours=12 * i) for i in range(8)]  # from noon, twice a day
    with UsageLedger(ledger_url, prices={"mock:alpha": new}.get) as ledger:
        for i, ts in enumerate(times):
            ledger.record(
                event(
                    i,
                    model_id="mock:alpha",
                    status="ok",
                    input_tokens=1000,
                    output_tokens=100,
                    cache_read_tokens=0,
                    cache_write_tokens=0,
                    cost_usd=None,
                    timestamp=ts,
                )
            )
        assert ledger.reprice() == 8
        costs = [(r.timestamp.date(), r.cost_usd) for r in ledger.records()]
        before = (D(1000) * 1 + D(100) * 4) / M  # 0.0014
        after = (D(1000) * 2 + D(100) * 8) / M  # 0.0028
        assert costs == [(ts.date(), before if ts.date() < CHANGE else after) for ts in times]
        (total,) = ledger.summary(by=("model",))
        assert sum(ts.date() < CHANGE for ts in times) == 3  # noon, midnight, noon
        assert total["cost_usd"] == 3 * before + 5 * after
        assert ledger.summary(by=("day",)) == ledger.summary(by=("day",), source="rows")


def test_reprice_uses_every_stored_count(ledger_url: str) -> None:
    price = ModelCost(
        input_per_mtok="3",
        output_per_mtok="15",
        cache_write_per_mtok="3.75",
        cache_write_1h_per_mtok="6",
        input_audio_per_mtok="40",
        tool_use_fees={"web_search": D("0.01")},
        tiers=(PriceTier(above_input_tokens=200_000, input_per_mtok="6", output_per_mtok="22.5"),),
    )
    requests = (
        Usage(input_tokens=205_000, output_tokens=3_500),  # tiered on its own
        Usage(input_tokens=23_000, output_tokens=1_000, cache_write_tokens=2_000),
    )
    audio = event(
        1,
        model_id="mock:alpha",
        status="ok",
        input_tokens=5_000,
        output_tokens=10,
        cache_read_tokens=0,
        cache_write_tokens=3_000,
        cache_write_1h_tokens=1_000,
        input_audio_tokens=1_500,
        tool_uses={"web_search": 4},
        cost_usd=None,
    )
    compacted = event(
        2,
        model_id="mock:alpha",
        status="ok",
        input_tokens=228_000,
        output_tokens=4_500,
        cache_read_tokens=0,
        cache_write_tokens=2_000,
        iterations=requests,
        cost_usd=None,
    )
    with UsageLedger(ledger_url, prices={"mock:alpha": price}.get) as ledger:
        ledger.record(audio)
        ledger.record(compacted)
        assert ledger.reprice() == 2
        got = [r.cost_usd for r in ledger.records()]
    assert got == [
        (
            D(500) * 3  # uncached text: 5000 - 3000 written - 1500 audio
            + D(1_500) * 40  # audio input
            + D(2_000) * D("3.75")  # 5-minute writes
            + D(1_000) * 6  # 1-hour writes
            + D(10) * 15
        )
        / M
        + 4 * D("0.01"),
        (
            D(205_000) * 6
            + D(3_500) * D("22.5")  # above the tier
            + D(21_000) * 3
            + D(2_000) * D("3.75")
            + D(1_000) * 15
        )
        / M,
    ]
