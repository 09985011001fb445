"""``HuggingFaceLocalChatModel``: a ``transformers`` model running in this process.

Configuration (``HuggingFaceLocalConfig``)::

    providers:
      local_hf: {type: huggingface_local, device: auto, model_dir: ~/models, max_batch_size: 4}
    models:
      local_hf:qwen-small: {name: Qwen/Qwen2.5-0.5B-Instruct, params: {temperature: 0.2}}
      local_hf:bart-cnn:   {name: /srv/models/bart-large-cnn, params: {task: summarization}}

The model name is a sub-directory of ``model_dir``, a local path or a Hub id, looked up again at
every call until a load succeeds (a failed lookup or load is never cached). Weights load on the
first call (once per provider entry and checkpoint, however many threads call first), and are
released by ``ProviderContext.close()``. Parameters are merged by ``params.resolve_params``.

Usage is exact (counted by the tokenizer). Cost: the model's configured prices, and zero for any
price not configured (the model runs on your own hardware), so local calls are never "unpriced".
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import contextlib
import json
import queue
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import Any, ClassVar

from modelwire.config.schema import HuggingFaceLocalConfig, ProviderConfig
from modelwire.errors import TimeoutError
from modelwire.providers.base import ChatModel, ProviderContext
from modelwire.providers.hf_local.engine import Engine, GenerationResult, Job, ModelHandle
from modelwire.providers.hf_local.loader import (
    context_window_of,
    read_config_json,
    resolve_source,
)
from modelwire.providers.hf_local.params import generate_kwargs, resolve_params
from modelwire.providers.hf_local.stops import StopScanner, cut_at_stop
from modelwire.types import ChatRequest, ChatResponse, ModelCost, ModelInfo, StreamEvent, Usage

__all__ = ["HuggingFaceLocalChatModel"]

_CALL_FIELDS = ("max_tokens", "temperature", "top_p", "stop", "seed")
_NOT_GENERATION = frozenset({"system", "timeout"})
_ZERO = ModelCost(input_per_mtok=0, output_per_mtok=0)


def _settings(config: ProviderConfig) -> HuggingFaceLocalConfig:
    if isinstance(config, HuggingFaceLocalConfig):
        return config
    return HuggingFaceLocalConfig.model_validate(config.model_dump(exclude_unset=True))


def _local_cost(cost: ModelCost | None) -> ModelCost:
    """Configured prices, with zero for any price left unset."""
    if cost is None:
        return _ZERO
    return cost.model_copy(
        update={
            "input_per_mtok": cost.input_per_mtok or 0,
            "output_per_mtok": cost.output_per_mtok or 0,
        }
    )


class HuggingFaceLocalChatModel(ChatModel):
    """A Hugging Face checkpoint run in-process with ``transformers``."""

    provider_type: ClassVar[str] = "huggingface_local"
    config_model: ClassVar[type[ProviderConfig]] = HuggingFaceLocalConfig
    open_model_set: ClassVar[bool] = True
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers")
    extra: ClassVar[str | None] = "huggingface"

    def __init__(self, info: ModelInfo, provider: ProviderContext) -> None:
        super().__init__(info.model_copy(update={"cost": _local_cost(info.cost)}), provider)
        self.settings = _settings(provider.config)
        self._loaded_source: str | None = None

    # -- the loaded model ----------------------------------------------------------------------

    @property
    def source(self) -> str:
        """What ``from_pretrained`` reads for this model's name, looked up now: a directory
        (under ``model_dir``, or the name as a path) or a Hub id.

        Raises ``MissingCheckpointError`` when the name is a path that names no directory.
        """
        return resolve_source(
            self.info.name, self.settings, provider=self.provider.name, model_id=self.info.id
        )

    def _handle_for(self, source: str) -> ModelHandle:
        def build() -> ModelHandle:
            return ModelHandle(
                source,
                self.settings,
                provider=self.provider.name,
                model_id=self.info.id,
                token=self.provider.api_key(),
            )

        return self.provider.client(f"hf_local:{source}", build, ModelHandle.close)

    def handle(self) -> ModelHandle:
        """The entry's handle of this model's checkpoint (shared by every model id naming it).

        While the checkpoint this model loaded is in memory, that one; otherwise the name is
        looked up again (``source``), so a checkpoint added under ``model_dir`` after a failed
        call is found by the next call.
        """
        loaded = self._loaded_source
        if loaded is not None:
            handle = self._handle_for(loaded)
            if handle.loaded:
                return handle
        return self._handle_for(self.source)

    def engine(self) -> Engine:
        """The loaded checkpoint's engine, loading it first if needed."""
        handle = self.handle()
        engine = handle.engine()
        self._loaded_source = handle.source
        return engine

    def _timeout(self, request: ChatRequest) -> float:
        return request.timeout or self.settings.timeout_s

    def _job(self, request: ChatRequest, *, stream: bool = False) -> tuple[Job, tuple[str, ...]]:
        engine = self.engine()
        loaded = engine.loaded
        call: dict[str, Any] = {k: getattr(request, k) for k in _CALL_FIELDS}
        call.update(request.provider_params)
        model = {k: v for k, v in self.info.params.items() if k not in _NOT_GENERATION}
        merged = resolve_params(
            loaded.architecture, model=model, call=call, task_params=loaded.task_params
        )
        gen = generate_kwargs(merged)
        stop = merged.get("stop") or ()
        stops = (stop,) if isinstance(stop, str) else tuple(str(s) for s in stop)
        seed = merged.get("seed")
        job = Job(
            request=request,
            gen=gen,
            model_id=self.info.id,
            prefix=str(merged.get("prefix") or ""),
            seed=seed,
            stops=tuple(s for s in stops if s),
        )
        if stream:
            from transformers import TextIteratorStreamer

            gen["num_beams"] = 1  # a streamer follows one sequence
            for key in ("length_penalty", "early_stopping"):
                gen.pop(key, None)
            job.streamer = TextIteratorStreamer(
                loaded.tokenizer,
                skip_prompt=True,
                timeout=self._timeout(request),
                skip_special_tokens=True,
            )
        elif seed is None:
            job.batch_key = json.dumps([gen, job.stops], sort_keys=True, default=str)
        engine.submit(job)
        return job, stops

    def _timed_out(self, job: Job, request: ChatRequest) -> TimeoutError:
        job.cancel.set()
        job.future.cancel()
        return TimeoutError(
            f"{self.info.id} did not answer within {self._timeout(request):g}s",
            provider=self.provider.name,
            model_id=self.info.id,
        )

    def _response(self, result: GenerationResult, stops: tuple[str, ...]) -> ChatResponse:
        text, stopped = cut_at_stop(result.text, stops)
        return ChatResponse(
            text=text,
            model_id=self.info.id,
            usage=Usage(input_tokens=result.input_tokens, output_tokens=result.output_tokens),
            finish_reason="stop" if stopped else result.finish_reason,
        )

    # -- calls ---------------------------------------------------------------------------------

    def invoke(self, request: ChatRequest) -> ChatResponse:
        """Generate the whole answer (queued behind other calls into this model)."""
        job, stops = self._job(request)
        try:
            result = job.future.result(timeout=self._timeout(request))
        except concurrent.futures.TimeoutError:
            raise self._timed_out(job, request) from None
        return self._response(result, stops)

    async def ainvoke(self, request: ChatRequest) -> ChatResponse:
        """The same as ``invoke``; the event loop waits on the job's future, not a thread."""
        job, stops = await asyncio.to_thread(self._job, request)
        try:
            result = await asyncio.wait_for(
                asyncio.wrap_future(job.future), timeout=self._timeout(request)
            )
        except builtins.TimeoutError:
            raise self._timed_out(job, request) from None
        except asyncio.CancelledError:
            job.cancel.set()
            raise
        return self._response(result, stops)

    def stream(self, request: ChatRequest) -> Generator[StreamEvent, None, None]:
        """Yield text as the worker generates it; the last event has the exact usage."""
        job, stops = self._job(request, stream=True)
        scanner = StopScanner(stops)
        finished = False
        try:
            for piece in job.streamer:
                shown = scanner.feed(piece)
                if shown:
                    yield StreamEvent(text=shown)
                if scanner.stopped:
                    job.cancel.set()
                    break
            tail = scanner.flush()
            if tail:
                yield StreamEvent(text=tail)
            result = job.future.result(timeout=self._timeout(request))
            finished = True
        except (queue.Empty, concurrent.futures.TimeoutError):
            raise self._timed_out(job, request) from None
        finally:
            if not finished:
                job.cancel.set()
        yield StreamEvent(
            done=True,
            model_id=self.info.id,
            usage=Usage(input_tokens=result.input_tokens, output_tokens=result.output_tokens),
            finish_reason="stop" if scanner.stopped else result.finish_reason,
        )

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """The same as ``stream``, for asyncio (each piece is awaited off the event loop)."""
        events = self.stream(request)
        done = object()
        try:
            while True:
                event = await asyncio.to_thread(next, events, done)
                if event is done:
                    return
                assert isinstance(event, StreamEvent)
                yield event
        finally:
            with contextlib.suppress(ValueError):  # still running in a worker thread
                events.close()

    # -- discovery -----------------------------------------------------------------------------

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        """The checkpoints under the entry's ``model_dir`` (sub-directories with a config.json).

        Nothing is loaded and nothing is downloaded; without ``model_dir`` the list is empty.
        """
        settings = _settings(provider.config)
        if not settings.model_dir:
            return []
        root = Path(settings.model_dir).expanduser()
        if not root.is_dir():
            return []
        out = []
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            config = read_config_json(sub)
            if config is None:
                continue
            out.append(
                ModelInfo(
                    id=f"{provider.name}:{sub.name}",
                    provider=provider.name,
                    provider_type=provider.type,
                    context_window=context_window_of(config),
                    cost=_ZERO,
                    source="discovered",
                )
            )
        return out
