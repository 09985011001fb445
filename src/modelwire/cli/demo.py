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
    calls: Annotated[int, typer.Option("--calls", "-n", min=1, help="Calls to make.")] = 120,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64)] = 8,
    latency_ms: Annotated[float, typer.Option("--latency-ms", min=0)] = 20.0,
    error_rate: Annotated[float, typer.Option("--error-rate", min=0.0, max=1.0)] = 0.03,
    db: Annotated[
        str | None, typer.Option("--db", help="Ledger URL (default: user data dir).")
    ] = None,
) -> None:
    """Run mock models through the service: the three access styles, then N concurrent calls."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from modelwire.access import ModelNamespace
    from modelwire.config.loader import load_config
    from modelwire.enums import ModelEnum
    from modelwire.registry.model_registry import ModelRegistry
    from modelwire.service.model_service import ModelService
    from modelwire.usage.ledger import UsageLedger

    console = Console()
    config = load_config(overrides=demo_config(latency_ms, error_rate))
    ledger = UsageLedger(db or config.usage.database)
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
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress, ThreadPoolExecutor(concurrency) as pool:
        task = progress.add_task("calling models", total=len(jobs))
        futures = [
            pool.submit(service.invoke_model, m, p, caller=c, max_tokens=200) for m, p, c in jobs
        ]
        for fut in as_completed(futures):
            if fut.exception() is not None:
                failures += 1
            progress.advance(task)
    elapsed = time.perf_counter() - t0
    ledger.flush()
    rows = ledger.summary(by=("model",), since=started)
    service.close()
    _print_summary(console, rows, len(jobs), failures, elapsed)


def _print_summary(
    console: Any, rows: list[dict[str, Any]], calls: int, failures: int, elapsed: float
) -> None:
    from decimal import Decimal

    from rich import box
    from rich.table import Table

    cached = any(row["cache_read_tokens"] for row in rows)
    table = Table(title="usage this run (from the ledger)", box=box.SIMPLE_HEAD, pad_edge=False)
    columns = ["model", "calls", "errors", "in tok", "out tok", *(["cached"] if cached else [])]
    for col in [*columns, "cost"]:
        table.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
    total = Decimal(0)
    for row in sorted(rows, key=lambda r: str(r["model"])):
        total += row["cost_usd"] or 0
        cost = (
            money(row["cost_usd"]) if not row["unpriced_calls"] or row["cost_usd"] else "unpriced"
        )
        cells = [
            str(row["model"]),
            str(row["calls"]),
            str(row["errors"]),
            f"{row['input_tokens']:,}",
            f"{row['output_tokens']:,}",
        ]
        if cached:
            cells.append(f"{row['cache_read_tokens']:,}")
        table.add_row(*cells, cost)
    console.print(table)
    console.print(
        f"{calls} calls ({failures} failed after retries) in {elapsed:.2f}s "
        f"at {calls / elapsed:.0f} calls/s; total cost {money(total)}"
    )
