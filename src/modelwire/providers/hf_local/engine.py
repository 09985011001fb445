"""The per-model worker: every ``generate`` call of one loaded model runs on its own thread.

Callers never touch the model or the tokenizer (a fast tokenizer is not safe to share between
threads): they put a ``Job`` on the queue and wait for its future. The worker renders the prompt
(chat template), encodes it, checks the context window, runs ``generate`` and decodes, one job at
a time, so calls from many threads are serialised without a lock held by any caller.

With ``max_batch_size > 1`` the worker batches: after taking a batchable job (a plain call without
a seed) it waits up to ``batch_wait_s`` for more jobs with the same generation parameters, pads
them (on the left for decoder-only models) and runs them as one ``generate``. A prompt so long that
the context window shortens its ``max_new_tokens`` shares a ``generate`` only with jobs left the
same limit, so every row keeps its own limit and a batched answer is the one the job gets alone
(greedy decoding). Streaming jobs run alone, with a ``TextIteratorStreamer`` the caller reads
while the worker generates.

Token counts are exact: ``input_tokens`` is the length of the encoded prompt, ``output_tokens`` the
number of tokens generated up to and including the first end-of-sequence token, or the token that
completed a stop string (the padding a finished row gets while the rest of its batch goes on is
not counted). A job whose ``cancel`` event is set stops at the next step.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from modelwire.config.schema import HuggingFaceLocalConfig
from modelwire.errors import (
    ContextWindowError,
    InvalidRequestError,
    ModelwireError,
    ProviderError,
)
from modelwire.providers.hf_local.architecture import ModelArchitecture
from modelwire.providers.hf_local.loader import LoadedModel, load_model
from modelwire.providers.hf_local.prompts import build_prompt
from modelwire.types import ChatRequest

__all__ = ["Engine", "GenerationResult", "Job", "ModelHandle", "generation_error"]


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """What one job produced."""

    text: str
    input_tokens: int
    output_tokens: int
    finish_reason: str


@dataclass
class Job:
    """One call waiting for the worker."""

    request: ChatRequest
    gen: dict[str, Any]
    model_id: str
    prefix: str = ""
    seed: int | None = None
    #: Generation halts once the generated text contains one of these (batched jobs share them).
    stops: tuple[str, ...] = ()
    batch_key: str | None = None
    streamer: Any = None
    cancel: threading.Event = field(default_factory=threading.Event)
    future: Future[GenerationResult] = field(default_factory=Future)


class Engine:
    """The worker thread and queue of one loaded model."""

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        provider: str,
        max_batch_size: int = 1,
        batch_wait_s: float = 0,
    ) -> None:
        self.loaded = loaded
        self.provider = provider
        self.max_batch_size = max_batch_size
        self.batch_wait_s = batch_wait_s
        self.batches_run = 0
        self.largest_batch = 0
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._backlog: deque[Job | None] = deque()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, job: Job) -> None:
        """Queue ``job``; the worker starts on the first job."""
        with self._lock:
            if self._closed:
                raise ModelwireError(f"{job.model_id}: the model was closed")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"hf-local:{job.model_id}", daemon=True
                )
                self._thread.start()
            self._queue.put(job)

    def close(self, timeout: float = 30.0) -> None:
        """Refuse new jobs, let the queued ones finish, stop the worker (waits up to ``timeout``)."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._queue.put(None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # -- worker --------------------------------------------------------------------------------

    def _take(self) -> Job | None:
        return self._backlog.popleft() if self._backlog else self._queue.get()

    def _run(self) -> None:
        while True:
            job = self._take()
            if job is None:
                break
            batch = [job]
            if job.batch_key is not None and self.max_batch_size > 1:
                self._collect(batch)
            self._execute(batch)
        closed = ModelwireError("the model was closed before this call ran")
        for left in [*self._backlog, *_drain(self._queue)]:
            if left is not None and left.future.set_running_or_notify_cancel():
                left.future.set_exception(closed)
                _end_stream(left)

    def _collect(self, batch: list[Job]) -> None:
        """Add queued jobs with the same parameters to ``batch``, waiting up to batch_wait_s."""
        key = batch[0].batch_key
        keep: deque[Job | None] = deque()
        while self._backlog:
            item = self._backlog.popleft()
            if item is None:  # close() was called: run this batch, then stop
                keep.append(None)
                keep.extend(self._backlog)
                self._backlog.clear()
            elif item.batch_key == key and len(batch) < self.max_batch_size:
                batch.append(item)
            else:
                keep.append(item)
        self._backlog = keep
        if None in keep:
            return
        deadline = time.monotonic() + self.batch_wait_s
        while len(batch) < self.max_batch_size:
            remaining = deadline - time.monotonic()
            try:
                item = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            if item is not None and item.batch_key == key:
                batch.append(item)
                continue
            self._backlog.append(item)
            if item is None:
                break

    def _execute(self, batch: list[Job]) -> None:
        live = [j for j in batch if j.future.set_running_or_notify_cancel()]
        groups: dict[int | None, list[tuple[Job, list[int]]]] = {}
        for job in live:
            try:
                ids = self._encode(job)
            except BaseException as exc:
                job.future.set_exception(exc)
                _end_stream(job)
                continue
            # Jobs of one batch share their parameters, but the context window may have
            # shortened a long prompt's max_new_tokens: each limit gets its own generate.
            groups.setdefault(job.gen.get("max_new_tokens"), []).append((job, ids))
        for ready in groups.values():
            self._execute_group(ready)

    def _execute_group(self, ready: list[tuple[Job, list[int]]]) -> None:
        """One ``generate`` for encoded jobs with the same generation arguments."""
        try:
            results = self._generate(ready)
        except BaseException as exc:
            error = exc if isinstance(exc, ModelwireError) else self._wrap(exc, ready[0][0])
            for job, _ in ready:
                job.future.set_exception(error)
                _end_stream(job)
            return
        self.batches_run += 1
        self.largest_batch = max(self.largest_batch, len(ready))
        for (job, _), result in zip(ready, results, strict=True):
            job.future.set_result(result)

    def _wrap(self, exc: BaseException, job: Job) -> ProviderError:
        return generation_error(exc, provider=self.provider, model_id=job.model_id)

    def _encode(self, job: Job) -> list[int]:
        tokenizer = self.loaded.tokenizer
        prompt = build_prompt(tokenizer, self.loaded.architecture, job.request, job.prefix)
        ids = list(
            tokenizer(prompt.text, add_special_tokens=prompt.add_special_tokens)["input_ids"]
        )
        window = self.loaded.context_window
        if not ids:
            ids = [self.loaded.pad_id]
        if window is not None and self.loaded.architecture is ModelArchitecture.DECODER_ONLY:
            room = window - len(ids)
            if room < 1:
                raise ContextWindowError(
                    f"the prompt is {len(ids)} tokens; {job.model_id} reads at most {window}",
                    provider=self.provider,
                    model_id=job.model_id,
                )
            job.gen["max_new_tokens"] = min(int(job.gen.get("max_new_tokens") or room), room)
        return ids

    def _generate(self, ready: list[tuple[Job, list[int]]]) -> list[GenerationResult]:
        import torch

        loaded = self.loaded
        decoder_only = loaded.architecture is ModelArchitecture.DECODER_ONLY
        width = max(len(ids) for _, ids in ready)
        rows, masks = [], []
        for _, ids in ready:
            pad = [loaded.pad_id] * (width - len(ids))
            ones, zeros = [1] * len(ids), [0] * len(pad)
            rows.append(pad + ids if decoder_only else ids + pad)
            masks.append(zeros + ones if decoder_only else ones + zeros)
        first = ready[0][0]
        kwargs = dict(first.gen)
        if first.streamer is not None:
            kwargs["streamer"] = first.streamer
        device = loaded.device
        jobs = [j for j, _ in ready]
        ends: dict[int, int] = {}
        with _seeded(first.seed, device), torch.inference_mode():
            out = loaded.model.generate(
                input_ids=torch.tensor(rows, device=device),
                attention_mask=torch.tensor(masks, device=device),
                stopping_criteria=_criteria(jobs, loaded, width if decoder_only else 1, ends),
                **kwargs,
            )
        generated = out[:, width:] if decoder_only else out[:, 1:]
        beams = int(kwargs.get("num_beams") or 1) > 1
        results = []
        for index, ((_, ids), row) in enumerate(zip(ready, generated.tolist(), strict=True)):
            # A row the criterion stopped is padded while its neighbours go on (and the pad
            # token is often the end-of-sequence token): only what it generated counts.
            end = ends.get(index)
            row = row if end is None else row[:end]
            cut = next((i for i, t in enumerate(row) if t in loaded.eos_ids), None)
            kept = row if cut is None else row[: cut + 1]
            if cut is None and beams and len(ready) > 1:
                while kept and kept[-1] == loaded.pad_id:  # where beams stopped is not known
                    kept.pop()
            text = loaded.tokenizer.decode(kept, skip_special_tokens=True)
            reason = "stop" if cut is not None else "length"
            results.append(GenerationResult(text, len(ids), len(kept), reason))
        return results


def generation_error(exc: BaseException, *, provider: str, model_id: str) -> ProviderError:
    """The error of a failed generation: a bad argument (``ValueError``/``TypeError``, from
    ``generate`` or the prompt) is an invalid request, anything else a provider error. Neither
    is retried."""
    cls = InvalidRequestError if isinstance(exc, ValueError | TypeError) else ProviderError
    first_line = (str(exc).strip().splitlines() or [""])[0]
    error = cls(
        f"generation failed: {type(exc).__name__}: {first_line}",
        provider=provider,
        model_id=model_id,
    )
    error.__cause__ = exc
    return error


@contextlib.contextmanager
def _seeded(seed: int | None, device: str) -> Iterator[None]:
    """Seed torch's generators for one ``generate`` and put back their previous state after it,
    so a call's seed never changes the process-wide random state other code relies on."""
    if seed is None:
        yield
        return
    import torch

    devices = [torch.cuda.current_device()] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _criteria(jobs: list[Job], loaded: LoadedModel, start: int, ends: dict[int, int]) -> Any:
    """Stop a row when its job is cancelled, or when the text generated from position ``start``
    on contains one of the jobs' stop strings (so no tokens are generated, or counted, past
    it; the provider cuts the text just before the stop string).

    Without beams (one row per job), ``ends`` receives, for each row stopped this way, how many
    tokens it had generated when it stopped."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    stops = jobs[0].stops
    # Enough trailing tokens to hold the longest stop string (a token is at least one character
    # of text, a few decode to less); only the tail is decoded at each step.
    window = max((len(s) for s in stops), default=0) + 8
    decode = loaded.tokenizer.decode

    class _Stop(StoppingCriteria):  # type: ignore[misc,unused-ignore]
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            rows = input_ids.tolist()
            beams = max(len(rows) // len(jobs), 1)  # beam search: each job has that many rows
            flags = []
            for i, row in enumerate(rows):
                stop = jobs[min(i // beams, len(jobs) - 1)].cancel.is_set()
                if stops and not stop:
                    tail = decode(row[max(start, len(row) - window) :], skip_special_tokens=True)
                    stop = any(s in tail for s in stops)
                if stop and beams == 1:
                    ends.setdefault(i, len(row) - start)
                flags.append(stop)
            return torch.tensor(flags, dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([_Stop()])


def _end_stream(job: Job) -> None:
    if job.streamer is not None:
        job.streamer.text_queue.put(job.streamer.stop_signal)


def _drain(q: queue.SimpleQueue[Job | None]) -> list[Job | None]:
    out: list[Job | None] = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out


class ModelHandle:
    """One checkpoint of one provider entry: loaded once, on first use, with its engine.

    Concurrent first callers wait for the one load; a failed load is not cached.
    """

    def __init__(
        self,
        source: str,
        settings: HuggingFaceLocalConfig,
        *,
        provider: str,
        model_id: str,
        token: str | None = None,
    ) -> None:
        self.source = source
        self.settings = settings
        self.provider = provider
        self.model_id = model_id
        self._token = token
        self._lock = threading.Lock()
        self._engine: Engine | None = None

    def __repr__(self) -> str:
        return f"ModelHandle({self.source!r}, loaded={self._engine is not None})"

    @property
    def loaded(self) -> bool:
        """Whether the weights are in memory."""
        return self._engine is not None

    def engine(self) -> Engine:
        """The engine, loading the model first if needed."""
        engine = self._engine
        if engine is not None:
            return engine
        with self._lock:
            if self._engine is None:
                loaded = load_model(
                    self.source,
                    self.settings,
                    provider=self.provider,
                    model_id=self.model_id,
                    token=self._token,
                )
                self._engine = Engine(
                    loaded,
                    provider=self.provider,
                    max_batch_size=self.settings.max_batch_size,
                    batch_wait_s=self.settings.batch_wait_ms / 1000,
                )
            return self._engine

    def close(self) -> None:
        """Stop the worker and drop the weights."""
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()
