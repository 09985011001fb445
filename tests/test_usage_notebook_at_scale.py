"""The usage notebook on a ledger a team lead might have: 25 models, 12 callers, failures that
billed tokens, models without a known price (the notebook must say so before any figure), and
budgets in the configuration and on a gateway key (set against the spend of every window)."""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from modelwire.gateway.keys import KeyStore
from modelwire.usage.events import UsageEvent
from modelwire.usage.ledger import UsageLedger
from tests.support.paths import ROOT, kernel_path

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def _fill(path: Path) -> None:
    rng = random.Random(7)
    models = [f"openai:model-{n:02d}" for n in range(22)] + [
        "local:unpriced-a",
        "local:unpriced-b",
        "local:unpriced-c",
    ]
    start = datetime.now(UTC) - timedelta(days=20)
    with UsageLedger(path) as ledger:
        for n in range(1500):
            model = models[n % len(models)]
            failed = n % 17 == 0
            tokens = rng.randint(50, 2000)
            ledger.record(
                UsageEvent(
                    model_id=model,
                    provider=model.partition(":")[0],
                    status="error" if failed else "ok",
                    attempt=2 if n % 11 == 0 else 1,
                    caller=f"team-{n % 12:02d}",
                    error_type=("RateLimitError", "ProviderTimeoutError")[n % 2]
                    if failed
                    else None,
                    input_tokens=tokens,
                    output_tokens=tokens // 3,
                    cache_read_tokens=tokens // 4,
                    cost_usd=None if model.startswith("local:") else Decimal(tokens) / 10**6,
                    latency_ms=rng.uniform(100, 3000),
                    ttft_ms=rng.uniform(50, 400) if n % 3 == 0 else None,
                    stream=n % 3 == 0,
                    timestamp=start + timedelta(minutes=19 * n),
                )
            )


def test_the_usage_notebook_warns_of_unpriced_rows_and_folds_many_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "team.db"
    _fill(db)
    with UsageLedger(db) as ledger:
        KeyStore(lambda: ledger.engine).create("team-02", budget="0.02/week")
    config = tmp_path / "modelwire.yaml"
    config.write_text(
        "limits:\n  rules:\n"
        "    - {budget: 0.005/day, caller: team-01}\n"
        "    - {requests_per_minute: 100, model: 'openai:*'}\n"
    )
    for key in list(os.environ):
        if key.endswith("_API_KEY"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MODELWIRE_CONFIG", str(config))
    monkeypatch.setenv("MODELWIRE_LEDGER", f"sqlite:///{db}")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", kernel_path())  # the kernel imports this modelwire
    monkeypatch.setenv("HOME", str(tmp_path))
    nb = nbformat.read(ROOT / "notebooks" / "usage_analysis.ipynb", as_version=4)
    # Draw into files so the folding of 25 models into the top ones plus "other" can be read back.
    nb.cells.insert(
        1,
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as _plt\n_legends = []\n_show = _plt.show\n"
            "def _record():\n"
            "    for ax in _plt.gcf().axes:\n"
            "        legend = ax.get_legend()\n"
            "        if legend is not None:\n"
            "            _legends.append([t.get_text() for t in legend.get_texts()])\n"
            "    _plt.close('all')\n"
            "_plt.show = _record\n"
        ),
    )
    nb.cells.append(
        nbformat.v4.new_code_cell("import json\nprint('LEGENDS', json.dumps(_legends))")
    )
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    text = "".join(
        out.get("text", "") + str(out.get("data", {}).get("text/plain", "")) for out in outputs
    )
    assert "WARNING: " in text and "have no known price" in text
    for unpriced in ("local:unpriced-a", "local:unpriced-b", "local:unpriced-c"):
        assert unpriced in text
    assert "spent on failed attempts: $" in text and "streamed attempts:" in text
    assert "limits now (spent + reserved of each limit, in its current window):" in text
    assert "caller=team-02" in text and "model=openai:*" in text  # the key's, the rate
    assert "$0.005/day for caller=team-01: completed windows over budget: " in text
    over_days = text.split("$0.005/day for caller=team-01: completed windows over budget: ")[1]
    assert int(over_days.split(" of ")[0]) > 0  # the spend of some past days passed the budget
    legends = json.loads(text[text.index("LEGENDS ") + 8 :].strip().splitlines()[0])
    assert legends, "no chart drew a legend"
    assert max(len(labels) for labels in legends) <= 9  # the 8 largest plus "other"
    assert any("other" in labels for labels in legends)
