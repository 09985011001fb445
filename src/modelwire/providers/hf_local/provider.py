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

Tools go through the tokenizer's chat template (``prompts``) when it renders them, and the
calls the model writes are read from its output (``tool_calls``: ``<tool_call>`` tags, or bare
JSON). A request with tools (or tool calls and results in its history) for a model whose
template does not render tools, and any request with images or documents (vision models are not
supported here), fail with ``UnsupportedFeatureError`` before anything is generated.

Structured output (``output=``) is prompted: the instructions (``output.output_instructions``)
are appended to the system prompt and the service reads the JSON out of the answer
(``parse_json_answer`` accepts a fenced block). A local model has no native JSON-schema mode and
no forced tool call: ``output_mode`` is always ``"prompted"``, and ``output_fallback`` says so
when ``"native"`` or ``"tool"`` was asked for (``"auto"`` uses prompted without a fallback).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import queue
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, ClassVar

from modelwire.config.schema import HuggingFaceLocalConfig, ProviderConfig
from modelwire.content import Part, TextPart, ToolCall, ToolResultPart
from modelwire.errors import (
    InvalidRequestError,
    ProviderError,
    TimeoutError,
    UnsupportedFeatureError,
)
from modelwire.output import output_instructions
from modelwire.providers.base import ChatModel, ProviderContext
from modelwire.providers.hf_local.architecture import ModelArchitecture
from modelwire.providers.hf_local.engine import (
    Engine,
    GenerationResult,
    Job,
    ModelHandle,
    generation_error,
)
from modelwire.providers.hf_local.loader import (
    LoadedModel,
    context_window_of,
    read_config_json,
    resolve_source,
)
from modelwire.providers.hf_local.params import generate_kwargs, resolve_params
from modelwire.providers.hf_local.prompts import uses_tools
from modelwire.providers.hf_local.stops import StopScanner, cut_at_stop
from modelwire.providers.hf_local.tool_calls import ToolCallScanner
from modelwire.types import ChatRequest, ChatResponse, ModelCost, ModelInfo, ToolCallDelta, Usage

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


class _JobOutput:
    """What a streaming job produces, read with ``next`` or ``anext``: the pieces of text its
    streamer yields, then its ``GenerationResult`` (the exact usage). The async reader takes
    each piece in a worker thread; closing stops the generation (a finished job ignores it).
    """

    def __init__(self, job: Job, timeout: float) -> None:
        self.job = job
        self._items = self._read(job, timeout)

    @staticmethod
    def _read(job: Job, timeout: float) -> Generator[str | GenerationResult, None, None]:
        yield from job.streamer  # raises queue.Empty when a piece takes over ``timeout``
        yield job.future.result(timeout=timeout)

    def __iter__(self) -> _JobOutput:
        return self

    def __next__(self) -> str | GenerationResult:
        return next(self._items)

    def __aiter__(self) -> _JobOutput:
        return self

    async def __anext__(self) -> str | GenerationResult:
        item = await asyncio.to_thread(next, self._items, None)
        if item is None:
            raise StopAsyncIteration
        return item

    def close(self) -> None:
        self.job.cancel.set()
        with contextlib.suppress(ValueError):  # still reading in a worker thread
            self._items.close()

    async def aclose(self) -> None:
        self.close()


class _LocalStreamState:
    """A local stream's accumulator: stop strings hide the text from the first one on (and
    cancel the job), tool calls are read out of the text (when the request offers tools), the
    final ``GenerationResult`` brings the usage."""

    def __init__(self, job: Job, tools: ToolCallScanner | None) -> None:
        self.job = job
        self.scanner = StopScanner(job.stops)
        self.tools = tools
        self.deltas: list[ToolCallDelta] = tools.deltas if tools is not None else []
        self.chars = 0
        self.finished = False
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.request_id: str | None = None
        self.output_mode = "prompted" if job.request.output is not None else None
        self._text: list[str] = []

    def feed(self, chunk: str | GenerationResult) -> str:
        tools = self.tools
        if isinstance(chunk, GenerationResult):
            text = self.scanner.flush()
            if tools is not None:
                text = tools.feed(text) + tools.finish()
            self.usage = Usage(input_tokens=chunk.input_tokens, output_tokens=chunk.output_tokens)
            self.finish_reason = _finish_reason(
                bool(self.tool_calls), self.scanner.stopped, chunk.finish_reason
            )
            self.finished = True
        else:
            text = self.scanner.feed(chunk)
            if self.scanner.stopped:
                self.job.cancel.set()
            if tools is not None:
                text = tools.feed(text)
        self.chars += len(text)
        if tools is not None and text:
            self._text.append(text)
        return text

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(self.tools.calls) if self.tools is not None else ()

    @property
    def parts(self) -> tuple[Part, ...]:
        return _parts("".join(self._text), self.tool_calls)


def _output_fallback(request: ChatRequest) -> str | None:
    """Why a structured request is prompted although another mode was asked for."""
    if request.output_mode in ("native", "tool"):
        return (
            f"{request.output_mode}: a local model has neither a JSON-schema mode nor forced "
            "tool calls; the output is asked for in the prompt"
        )
    return None


def _prompted(request: ChatRequest) -> ChatRequest:
    """``request`` with its output's instructions appended to the system prompt."""
    assert request.output is not None
    instructions = output_instructions(request.output)
    system = f"{request.system}\n\n{instructions}" if request.system else instructions
    return request.model_copy(update={"system": system})


def _finish_reason(called: bool, stopped: bool, reason: str) -> str:
    if called:
        return "tool_calls"
    return "stop" if stopped else reason


def _parts(text: str, calls: tuple[ToolCall, ...]) -> tuple[Part, ...]:
    """The answer as parts when it called tools (its text first), else none."""
    if not calls:
        return ()
    return (TextPart(text=text), *calls) if text else calls


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

    def _job(self, request: ChatRequest, *, stream: bool = False) -> Job:
        """Queue ``request`` on the loaded model's worker (loading it first if needed)."""
        self._refuse_unreadable(request)
        if request.output is not None:
            request = _prompted(request)
        engine = self.engine()
        loaded = engine.loaded
        self._refuse_tools(request, loaded)
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
        return job

    def _refuse_unreadable(self, request: ChatRequest) -> None:
        """Images and documents, and tool results for calls the history never made, fail before
        the model is even loaded."""
        if request.is_plain:
            return
        media = sorted(request.needs() & {"images", "documents"})
        if media:
            raise UnsupportedFeatureError(
                f"{self.info.id} reads text only, and the request holds {' and '.join(media)} "
                "(huggingface_local does not run vision models)",
                provider=self.provider.name,
                model_id=self.info.id,
            )
        made: set[str] = set()
        for message in request.messages:
            for part in message.parts:
                if isinstance(part, ToolCall):
                    made.add(part.id)
                elif isinstance(part, ToolResultPart) and part.call_id not in made:
                    raise InvalidRequestError(
                        f"a tool result answers call id {part.call_id!r}, which no assistant "
                        "message of the request made",
                        provider=self.provider.name,
                        model_id=self.info.id,
                    )

    def _refuse_tools(self, request: ChatRequest, loaded: LoadedModel) -> None:
        """Tools for a model whose chat template cannot render them fail before generation."""
        if loaded.tools_supported or request.is_plain or not uses_tools(request):
            return
        if loaded.architecture is ModelArchitecture.ENCODER_DECODER:
            why = "encoder-decoder models have no chat template"
        elif not getattr(loaded.tokenizer, "chat_template", None):
            why = "its tokenizer has no chat template"
        else:
            why = "its tokenizer's chat template does not render tools"
        raise UnsupportedFeatureError(
            f"{self.info.id} cannot take tools: {why}",
            provider=self.provider.name,
            model_id=self.info.id,
        )

    def _tool_scanner(self, request: ChatRequest) -> ToolCallScanner | None:
        """A reader of the tool calls in the output, when the request offers tools."""
        if not request.tools or request.tool_choice == "none":
            return None
        return ToolCallScanner(
            [t.name for t in request.tools],
            max_calls=1 if request.parallel_tool_calls is False else None,
            provider=self.provider.name,
            model_id=self.info.id,
        )

    def _timed_out(self, job: Job, request: ChatRequest) -> TimeoutError:
        job.cancel.set()
        job.future.cancel()
        return TimeoutError(
            f"{self.info.id} did not answer within {self._timeout(request):g}s",
            provider=self.provider.name,
            model_id=self.info.id,
        )

    @contextlib.contextmanager
    def _waiting_for(self, job: Job, request: ChatRequest) -> Iterator[None]:
        """Around a wait for ``job``'s answer: a timeout cancels the job and is modelwire's
        ``TimeoutError``; a caller that stops waiting (cancelled, interrupted) cancels it too."""
        try:
            yield
        except builtins.TimeoutError:  # concurrent.futures' and asyncio's are this one
            raise self._timed_out(job, request) from None
        except BaseException:
            job.cancel.set()
            raise

    def _streaming_job(self, request: ChatRequest) -> _JobOutput:
        return _JobOutput(self._job(request, stream=True), self._timeout(request))

    # -- I/O: a blocking wait or an awaited future; the model loads off the event loop --------

    def send(self, request: ChatRequest) -> Job:
        """Queue the call (behind other calls into this model) and wait for its answer."""
        job = self._job(request)
        with self._waiting_for(job, request):
            job.future.result(timeout=self._timeout(request))
        return job

    async def asend(self, request: ChatRequest) -> Job:
        """The same as ``send``; the event loop awaits the job's future, not a thread."""
        job = await asyncio.to_thread(self._job, request)
        with self._waiting_for(job, request):
            await asyncio.wait_for(asyncio.wrap_future(job.future), self._timeout(request))
        return job

    def open_stream(self, request: ChatRequest) -> _JobOutput:
        """Queue a streaming call: its pieces of text as the worker generates them."""
        return self._streaming_job(request)

    async def aopen_stream(self, request: ChatRequest) -> _JobOutput:
        """The same as ``open_stream``, queued off the event loop."""
        return await asyncio.to_thread(self._streaming_job, request)

    # -- the pure parts ------------------------------------------------------------------------

    def parse_response(self, answer: Job, request: ChatRequest) -> ChatResponse:
        """The finished job's answer, cut at the first stop string, its tool calls read out."""
        result = answer.future.result()
        text, stopped = cut_at_stop(result.text, answer.stops)
        usage = Usage(input_tokens=result.input_tokens, output_tokens=result.output_tokens)
        tools = self._tool_scanner(request)
        if tools is None:
            response = ChatResponse(
                text=text,
                model_id=self.info.id,
                usage=usage,
                finish_reason="stop" if stopped else result.finish_reason,
            )
            if request.output is not None:
                response.output_mode = "prompted"
                response.output_fallback = _output_fallback(request)
            return response
        text = tools.feed(text) + tools.finish()
        calls = tuple(tools.calls)
        response = ChatResponse(
            text=text,
            model_id=self.info.id,
            usage=usage,
            finish_reason=_finish_reason(bool(calls), stopped, result.finish_reason),
            tool_calls=calls,
            parts=_parts(text, calls),
        )
        if request.output is not None:
            response.output_mode = "prompted"
            response.output_fallback = _output_fallback(request)
        return response

    def stream_state(self, chunks: Any) -> _LocalStreamState:
        """A stop scanner (and a tool-call reader, when the request offers tools) over the
        streamed pieces; the usage comes with the job's result."""
        return _LocalStreamState(chunks.job, self._tool_scanner(chunks.job.request))

    def map_error(
        self, error: Exception, request: ChatRequest, stream: Any | None = None
    ) -> ProviderError:
        """A stream that waited too long for a piece is a timeout (the job is cancelled);
        anything else a failed generation (``ValueError``/``TypeError``: an invalid request)."""
        if isinstance(stream, _LocalStreamState) and isinstance(
            error, queue.Empty | builtins.TimeoutError
        ):
            return self._timed_out(stream.job, request)
        return generation_error(error, provider=self.provider.name, model_id=self.info.id)

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
