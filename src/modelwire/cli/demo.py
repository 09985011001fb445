"""``modelwire demo``: the library end to end on the built-in mock provider, with no API keys.

The demo's configuration names its providers ``openai``, ``anthropic`` and ``google`` but gives
them ``type: mock``, so real model ids, enum members and namespace names work and carry the
catalog's real prices, while nothing leaves the machine.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelwire.cli.common import money

if TYPE_CHECKING:
    from modelwire.types import ChatResponse
    from modelwire.usage.ledger import UsageLedger

DEMO_MODELS = (
    "openai:gpt-4o-mini",
    "openai:gpt-4o",
    "anthropic:claude-sonnet-4-5",
    "anthropic:claude-haiku-4-5",
    "google:gemini-2.5-flash",
)
CALLERS = ("web", "batch-job", "notebook")
PROMPTS = (
    "Summarise the attached meeting notes in three bullet points.",
    "Write a Python function that merges two sorted lists.",
    "Translate 'good morning, how are you?' into French and German.",
    "Explain the difference between a mutex and a semaphore.",
    "Draft a polite reply declining a meeting invitation.",
)


def demo_config(latency_ms: float, error_rate: float) -> dict[str, Any]:
    """The demo's configuration: three mock providers under real provider names."""
    mock = {
        "type": "mock",
        "latency_ms": latency_ms,
        "latency_jitter_ms": latency_ms,
        "error_rate": error_rate,
        "error_kinds": ["rate_limit", "server"],
        "retry_after_s": 0.01,
        "seed": 7,
    }
    return {
        "providers": {"openai": mock, "anthropic": mock, "google": mock},
        "retry": {"base_delay_s": 0.01, "max_delay_s": 0.05},
    }


def demo(
    calls: Annotated[
        int, typer.Option("--calls", "-n", min=1, max=100_000, help="Calls to make.")
    ] = 120,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64)] = 8,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", min=0, max=10_000, help="Mock latency per call.")
    ] = 20.0,
    error_rate: Annotated[float, typer.Option("--error-rate", min=0.0, max=1.0)] = 0.03,
    db: Annotated[
        str | None, typer.Option("--db", help="Ledger URL (default: user data dir).")
    ] = None,
) -> None:
    """Run mock models through the service: the three access styles, then N concurrent calls."""
    from rich.console import Console

    from modelwire.access import ModelNamespace
    from modelwire.cli.common import connect_ledger
    from modelwire.cli.progress import progress_bar
    from modelwire.config.loader import load_config
    from modelwire.enums import ModelEnum
    from modelwire.registry import ModelRegistry
    from modelwire.service import ModelService

    console = Console(highlight=False, emoji=False)
    config = load_config(overrides=demo_config(latency_ms, error_rate))
    ledger = connect_ledger(db or config.usage.database)
    service = ModelService(ModelRegistry.from_config(config), ledger, caller="demo")
    started = datetime.now(UTC)
    console.print(f"[bold]modelwire demo[/] — mock providers, ledger at {ledger.url}")

    styles: tuple[tuple[str, str, Callable[[str], ChatResponse]], ...] = (
        (
            "service object",
            'service.invoke_model("openai:gpt-4o-mini", ...)',
            lambda p: service.invoke_model("openai:gpt-4o-mini", p, max_tokens=40),
        ),
        (
            "enum",
            "service(ModelEnum.ANTHROPIC_CLAUDE_SONNET_4_5, ...)",
            lambda p: service(ModelEnum.ANTHROPIC_CLAUDE_SONNET_4_5, p, max_tokens=40),
        ),
        (
            "namespace",
            "models.google.gemini_2_5_flash(...)",
            lambda p: ModelNamespace(service).google.gemini_2_5_flash(p, max_tokens=40),
        ),
    )
    for label, code, call in styles:
        resp = call("Say hello to a new modelwire user.")
        console.print(
            f"  [cyan]{label:<15}[/] {code}\n    → {resp.text[:70]!r} "
            f"[dim]({resp.model_id}, {resp.usage.total_tokens} tokens, "
            f"{money(resp.cost_usd)})[/]"
        )

    rng = random.Random(7)
    jobs = [
        (rng.choice(DEMO_MODELS), rng.choice(PROMPTS), c)
        for _, c in zip(range(calls), itertools.cycle(CALLERS), strict=False)
    ]
    failures = 0
    t0 = time.perf_counter()
    with (
        progress_bar("calling models", len(jobs)) as steps,
        ThreadPoolExecutor(concurrency) as pool,
    ):
        futures = [
            pool.submit(service.invoke_model, m, p, caller=c, max_tokens=200) for m, p, c in jobs
        ]
        for fut in as_completed(futures):
            if fut.exception() is not None:
                failures += 1
            steps.done()
    elapsed = time.perf_counter() - t0
    ledger.flush()
    rows = run_rows(ledger, started)
    service.close()
    _print_summary(console, rows, len(styles), len(jobs), failures, elapsed)


def run_rows(ledger: UsageLedger, since: datetime) -> list[dict[str, Any]]:
    """Per model since ``since``: calls (first attempts), attempts, failed attempts, tokens and
    cost, read back from the ledger."""
    from decimal import Decimal

    per: dict[str, dict[str, Any]] = {}
    for r in ledger.records(since=since):
        row = per.get(r.model_id)
        if row is None:
            row = per[r.model_id] = dict.fromkeys(
                ("calls", "attempts", "errors", "tokens", "unpriced_calls"), 0
            )
            row.update(model=r.model_id, cost_usd=Decimal(0))
        row["calls"] += r.attempt == 1
        row["attempts"] += 1
        row["errors"] += r.status == "error"
        row["tokens"] += r.input_tokens + r.output_tokens
        if r.cost_usd is None:
            row["unpriced_calls"] += 1
        else:
            row["cost_usd"] += r.cost_usd
    return [per[m] for m in sorted(per)]


def _print_summary(
    console: Any,
    rows: list[dict[str, Any]],
    style_calls: int,
    concurrent_calls: int,
    failures: int,
    elapsed: float,
) -> None:
    from decimal import Decimal

    from modelwire.cli.tables import new_table, print_table

    table = new_table(
        ("model", "id"),
        ("calls", "num"),
        ("attempts", "num"),
        ("failed", "num"),
        ("tokens", "num"),
        ("cost", "num"),
        title="usage this run (from the ledger)",
    )
    total = Decimal(0)
    for row in rows:
        total += row["cost_usd"]
        cost = money(row["cost_usd"]) if not row["unpriced_calls"] else "unpriced"
        table.add_row(
            row["model"],
            str(row["calls"]),
            str(row["attempts"]),
            str(row["errors"]),
            f"{row['tokens']:,}",
            cost,
        )
    print_table(table, console)
    calls = sum(row["calls"] for row in rows)
    attempts = sum(row["attempts"] for row in rows)
    failed = sum(row["errors"] for row in rows)
    console.print(
        f"{calls} calls ({style_calls} showing the access styles, {concurrent_calls} "
        f"concurrent) in {attempts} attempts; {failed} attempts failed, "
        f"{failures} calls failed after retries"
    )
    console.print(
        f"{concurrent_calls} concurrent calls in {elapsed:.2f}s at "
        f"{concurrent_calls / elapsed:.0f} calls/s; total cost {money(total)}"
    )
