"""Golden summary of the catalog, so every price or limit change shows up in review."""

from __future__ import annotations

from syrupy.assertion import SnapshotAssertion

from modelwire.catalog import CatalogTier, DatedPrice, load_catalog


def _fmt(value: object) -> str:
    return "-" if value is None else str(value)


def _tier(t: CatalogTier) -> str:
    return (
        f" >{t.above_tokens}: in={_fmt(t.input)} out={_fmt(t.output)} "
        f"cr={_fmt(t.cache_read)} cw={_fmt(t.cache_write)}"
    )


def _price(p: DatedPrice) -> str:
    fields = (
        ("in", p.input),
        ("out", p.output),
        ("cr", p.cache_read),
        ("cw", p.cache_write),
        ("cw1h", p.cache_write_1h),
        ("in_audio", p.input_audio),
        ("in_image", p.input_image),
        ("out_audio", p.output_audio),
        ("out_image", p.output_image),
    )
    text = " ".join(f"{k}={_fmt(v)}" for k, v in fields[:4])
    text += "".join(f" {k}={v}" for k, v in fields[4:] if v is not None)
    text += "".join(f" fee:{k}={v}" for k, v in p.tool_fees.items())
    text += f" @{_fmt(p.effective_date)}"
    return text + "".join(_tier(t) for t in p.tiers)


def test_catalog_summary(snapshot: SnapshotAssertion) -> None:
    cat = load_catalog()
    rows = [
        f"catalog_date={cat.catalog_date.isoformat()} version={cat.version} models={len(cat)} "
        f"source={cat.source}"
    ]
    for model_id, record in cat.records.items():
        p = record.price
        earlier = "".join(f" | before: {_price(e)}" for e in p.earlier)
        rows.append(
            f"{model_id} | {_price(p)}{earlier} | "
            f"ctx={record.context_window} out={record.max_output_tokens} | {record.status}"
            + (f" {record.retired_on.isoformat()}" if record.retired_on else "")
            + (f" | snapshots={','.join(record.snapshots)}" if record.snapshots else "")
            + f" | flags={record.derived.get('flags', '-')}"
        )
    assert rows == snapshot
