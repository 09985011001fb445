"""Golden summary of the catalog, so every price or limit change shows up in review."""

from __future__ import annotations

from syrupy.assertion import SnapshotAssertion

from modelwire.catalog import load_catalog


def _fmt(value: object) -> str:
    return "-" if value is None else str(value)


def test_catalog_summary(snapshot: SnapshotAssertion) -> None:
    cat = load_catalog()
    rows = [f"catalog_date={cat.catalog_date.isoformat()} version={cat.version} models={len(cat)}"]
    for model_id, record in cat.records.items():
        p = record.price
        prices = " ".join(
            f"{k}={_fmt(v)}"
            for k, v in (
                ("in", p.input),
                ("out", p.output),
                ("cr", p.cache_read),
                ("cw", p.cache_write),
            )
        )
        tier = ""
        if p.long_context is not None:
            lc = p.long_context
            tier = f" >{lc.above_tokens}: in={lc.input} out={lc.output} cr={_fmt(lc.cache_read)}"
        rows.append(
            f"{model_id} | {prices} @{p.effective_date.isoformat()}{tier} | "
            f"ctx={record.context_window} out={record.max_output_tokens} | {record.status}"
            + (f" {record.retired_on.isoformat()}" if record.retired_on else "")
            + (f" | snapshots={','.join(record.snapshots)}" if record.snapshots else "")
        )
    assert rows == snapshot
