"""The ``modelwire usage plot`` figure: cost per day stacked by model, and tokens by caller.

Uses matplotlib's object API with the Agg canvas, so no display (and no global backend switch)
is needed. Unpriced calls are not drawn as $0: their count is stated in the title.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["render"]


def _token_segments(rows: Sequence[dict[str, Any]]) -> list[tuple[str, list[int]]]:
    """The stacked parts of each caller's tokens: text input and output, and the audio and
    image tokens (billed at their own prices) as parts of their own where there are any."""

    def media(r: dict[str, Any], side: str) -> int:
        return int(r.get(f"{side}_audio_tokens", 0)) + int(r.get(f"{side}_image_tokens", 0))

    segments = []
    for side in ("input", "output"):
        parts = [media(r, side) for r in rows]
        segments.append(
            (f"{side} tokens", [r[f"{side}_tokens"] - m for r, m in zip(rows, parts, strict=True)])
        )
        if any(parts):
            segments.append((f"audio and image {side}", parts))
    return segments


def render(
    by_day_model: Sequence[dict[str, Any]], by_caller: Sequence[dict[str, Any]], out: Path
) -> None:
    """Draw both panels from ``summary`` rows and save to ``out`` (format from its suffix)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    days = sorted({r["day"] for r in by_day_model})
    models = sorted({r["model"] for r in by_day_model})
    cost: dict[tuple[Any, str], float] = {}
    unpriced = 0
    for r in by_day_model:
        unpriced += r["unpriced_calls"]
        if r["cost_usd"] is not None:
            cost[(r["day"], r["model"])] = float(r["cost_usd"])

    fig = Figure(figsize=(11, 8), layout="constrained")
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(2, 1, height_ratios=(3, 2))
    x = list(range(len(days)))
    bottom = [0.0] * len(days)
    for m in models:
        values = [cost.get((d, m), 0.0) for d in days]
        if any(values):
            ax1.bar(x, values, bottom=bottom, label=m)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    title = "cost per day (USD), stacked by model"
    if unpriced:
        title += f" — {unpriced:,} unpriced calls not shown"
    ax1.set_title(title)
    ax1.set_xticks(x, [str(d) for d in days], rotation=45, ha="right")
    ax1.set_ylabel("USD")
    if models and any(bottom):
        ax1.legend(fontsize="small", ncols=2)
    if not days:
        ax1.text(0.5, 0.5, "no usage in this range", ha="center", transform=ax1.transAxes)

    callers = [r["caller"] or "(none)" for r in by_caller]
    y = list(range(len(callers)))
    left = [0] * len(callers)
    for label, counts in _token_segments(by_caller):
        ax2.barh(y, counts, left=left, label=label)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    ax2.set_yticks(y, callers)
    ax2.set_title("tokens by caller")
    ax2.set_xlabel("tokens")
    if callers:
        ax2.legend(fontsize="small")
    fig.savefig(out, dpi=100)
