"""Batches: many prompts to one model, bounded concurrency, results in input order, each item's
error kept with the item."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from modelwire.types import ChatResponse

__all__ = ["BatchResult", "arun_batch", "run_batch"]

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One item of ``invoke_batch``: the response, or the error that item raised."""

    index: int
    response: ChatResponse | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """True when the item succeeded."""
        return self.error is None

    @property
    def text(self) -> str | None:
        """The response text, or ``None`` when the item failed."""
        return self.response.text if self.response is not None else None


def _check(max_concurrency: int) -> None:
    if max_concurrency < 1:
        raise ValueError("max_concurrency must be at least 1")


def run_batch(
    call: Callable[[P], ChatResponse], prompts: Sequence[P], max_concurrency: int
) -> list[BatchResult]:
    """``call`` each prompt on a pool of at most ``max_concurrency`` threads."""
    _check(max_concurrency)

    def one(index: int, prompt: P) -> BatchResult:
        try:
            return BatchResult(index, call(prompt))
        except Exception as err:
            return BatchResult(index, error=err)

    if not prompts:
        return []
    workers = min(max_concurrency, len(prompts))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="modelwire-batch") as pool:
        return list(pool.map(one, range(len(prompts)), prompts))


async def arun_batch(
    call: Callable[[P], Awaitable[ChatResponse]], prompts: Sequence[P], max_concurrency: int
) -> list[BatchResult]:
    """Await ``call`` for each prompt, at most ``max_concurrency`` at a time."""
    _check(max_concurrency)
    gate = asyncio.Semaphore(max_concurrency)

    async def one(index: int, prompt: P) -> BatchResult:
        async with gate:
            try:
                return BatchResult(index, await call(prompt))
            except Exception as err:
                return BatchResult(index, error=err)

    return list(await asyncio.gather(*(one(i, p) for i, p in enumerate(prompts))))
