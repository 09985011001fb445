"""Batch calls of ``ModelService`` (a mixin): many prompts, bounded concurrency, results in
input order, each item's error kept with the item."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelwire.types import ChatResponse

if TYPE_CHECKING:
    from modelwire.service.model_service import Prompt

__all__ = ["BatchCalls", "BatchResult"]


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


class BatchCalls:
    """``invoke_batch`` and ``ainvoke_batch``."""

    if TYPE_CHECKING:

        def _name(self, model: str | None) -> str: ...

        def invoke_model(
            self,
            model: str | None = None,
            prompt: Prompt = "",
            *,
            caller: str | None = None,
            **params: Any,
        ) -> ChatResponse: ...

        async def ainvoke_model(
            self,
            model: str | None = None,
            prompt: Prompt = "",
            *,
            caller: str | None = None,
            **params: Any,
        ) -> ChatResponse: ...

    def invoke_batch(
        self,
        model: str | None,
        prompts: Sequence[Prompt],
        *,
        max_concurrency: int = 8,
        caller: str | None = None,
        **params: Any,
    ) -> list[BatchResult]:
        """Call one model with many prompts, at most ``max_concurrency`` at once.

        Results come back in input order; an item that fails carries its error and the others
        are unaffected.
        """
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        name = self._name(model)

        def one(index: int, prompt: Prompt) -> BatchResult:
            try:
                return BatchResult(index, self.invoke_model(name, prompt, caller=caller, **params))
            except Exception as err:
                return BatchResult(index, error=err)

        if not prompts:
            return []
        workers = min(max_concurrency, len(prompts))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="modelwire-batch") as pool:
            return list(pool.map(one, range(len(prompts)), prompts))

    async def ainvoke_batch(
        self,
        model: str | None,
        prompts: Sequence[Prompt],
        *,
        max_concurrency: int = 8,
        caller: str | None = None,
        **params: Any,
    ) -> list[BatchResult]:
        """The same as ``invoke_batch``, for asyncio."""
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        gate = asyncio.Semaphore(max_concurrency)
        name = self._name(model)

        async def one(index: int, prompt: Prompt) -> BatchResult:
            async with gate:
                try:
                    resp = await self.ainvoke_model(name, prompt, caller=caller, **params)
                    return BatchResult(index, resp)
                except Exception as err:
                    return BatchResult(index, error=err)

        return list(await asyncio.gather(*(one(i, p) for i, p in enumerate(prompts))))
