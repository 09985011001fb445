"""huggingface_local end to end: tiny checkpoints built on the spot, run through modelwire.

Each result is checked against ``transformers`` driven directly on the same checkpoint, so the
text and the token counts are those of the real pipelines, not of a stand-in.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may reach the Hub
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("tokenizers")
torch.set_num_threads(1)  # tiny models: one thread is fastest, and fair to parallel test workers

from modelwire import errors  # noqa: E402
from modelwire.config.schema import Config  # noqa: E402
from modelwire.providers.hf_local import engine as engine_module  # noqa: E402
from modelwire.providers.hf_local.architecture import UnsupportedModelError  # noqa: E402
from modelwire.providers.hf_local.provider import HuggingFaceLocalChatModel  # noqa: E402
from modelwire.registry.model_registry import ModelRegistry  # noqa: E402
from modelwire.service.model_service import ModelService  # noqa: E402
from modelwire.types import ChatRequest, StreamEvent, Usage  # noqa: E402
from tests.support.hf_tiny_models import (  # noqa: E402
    CHAT_TEMPLATE,
    build_gpt2,
    build_t5,
    write_config_only,
)

GPT2 = "hf:tiny-gpt2"
T5 = "hf:tiny-t5"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hf_models")
    build_gpt2(root / "tiny-gpt2")
    build_gpt2(root / "plain-gpt2", chat_template=None)
    build_t5(root / "tiny-t5")
    write_config_only(
        root / "tiny-bert", {"model_type": "bert", "architectures": ["BertForMaskedLM"]}
    )
    write_config_only(
        root / "tiny-whisper",
        {
            "model_type": "whisper",
            "is_encoder_decoder": True,
            "architectures": ["WhisperForConditionalGeneration"],
        },
    )
    return root


def _service(model_dir: Path, **settings: Any) -> ModelService:
    cfg = Config.model_validate(
        {
            "providers": {
                "hf": {
                    "type": "huggingface_local",
                    "model_dir": str(model_dir),
                    "local_files_only": True,
                    **settings,
                }
            },
            "models": {
                T5: {"params": {"task": "summarization"}},
                "hf:priced-gpt2": {
                    "name": "tiny-gpt2",
                    "cost": {"input_per_mtok": "1.5"},
                },
            },
        }
    )
    return ModelService(ModelRegistry.from_config(cfg, catalog=False))


@pytest.fixture
def service(model_dir: Path) -> Iterator[ModelService]:
    svc = _service(model_dir)
    yield svc
    svc.registry.close()


class Direct:
    """The same checkpoint driven by ``transformers`` alone, for reference answers."""

    def __init__(self, path: Path, seq2seq: bool = False) -> None:
        auto = transformers.AutoModelForSeq2SeqLM if seq2seq else transformers.AutoModelForCausalLM
        self.tok = transformers.AutoTokenizer.from_pretrained(path)
        self.model = auto.from_pretrained(path).eval()
        self.seq2seq = seq2seq

    def chat_ids(self, messages: list[dict[str, str]]) -> list[int]:
        text = self.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return list(self.tok(text, add_special_tokens=False)["input_ids"])

    def generate(self, ids: list[int], **kw: Any) -> tuple[str, int]:
        with torch.inference_mode():
            out = self.model.generate(
                torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long), **kw
            )
        new = out[0, 1:] if self.seq2seq else out[0, len(ids) :]
        row = new.tolist()
        eos = self.tok.eos_token_id
        if eos in row:
            row = row[: row.index(eos) + 1]
        return self.tok.decode(row, skip_special_tokens=True), len(row)


@pytest.fixture(scope="module")
def direct_gpt2(model_dir: Path) -> Direct:
    return Direct(model_dir / "tiny-gpt2")


def test_decoder_only_uses_the_chat_template_and_counts_exactly(
    service: ModelService, direct_gpt2: Direct
) -> None:
    resp = service.invoke_model(GPT2, "hello there", system="be brief", max_tokens=6, temperature=0)
    ids = direct_gpt2.chat_ids(
        [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}]
    )
    text, n_out = direct_gpt2.generate(ids, max_new_tokens=6, do_sample=False)
    assert resp.text == text and resp.text
    assert resp.usage == Usage(input_tokens=len(ids), output_tokens=n_out)
    assert resp.finish_reason in {"stop", "length"}
    assert resp.cost_usd == Decimal(0)  # local, no price configured
    assert resp.model_id == GPT2


def test_configured_price_is_used_and_missing_prices_are_zero(service: ModelService) -> None:
    resp = service.invoke_model("hf:priced-gpt2", "hello", max_tokens=3, temperature=0)
    assert resp.cost_usd == Decimal("1.5") * resp.usage.input_tokens / 1_000_000


def test_without_a_chat_template_the_prompt_is_plain_text(
    model_dir: Path, service: ModelService
) -> None:
    plain = Direct(model_dir / "plain-gpt2")
    assert not plain.tok.chat_template
    resp = service.invoke_model("hf:plain-gpt2", "one two three", max_tokens=4, temperature=0)
    ids = list(plain.tok("one two three")["input_ids"])
    assert resp.usage.input_tokens == len(ids) == 3
    assert resp.text == plain.generate(ids, max_new_tokens=4, do_sample=False)[0]
    assert CHAT_TEMPLATE not in resp.text


def test_encoder_decoder_summarization_uses_the_checkpoint_prefix(
    model_dir: Path, service: ModelService
) -> None:
    direct = Direct(model_dir / "tiny-t5", seq2seq=True)
    resp = service.invoke_model(T5, "the cat sat on the mat")
    ids = list(direct.tok("summarize : the cat sat on the mat")["input_ids"])
    # capability layer (beams, greedy) + checkpoint layer (prefix, lengths)
    text, n_out = direct.generate(
        ids,
        max_new_tokens=7,
        min_new_tokens=2,
        num_beams=4,
        length_penalty=2.0,
        no_repeat_ngram_size=3,
        do_sample=False,
    )
    assert resp.usage == Usage(input_tokens=len(ids), output_tokens=n_out)
    assert resp.text == text
    assert 2 <= n_out <= 7


def test_stream_yields_pieces_and_exact_usage(service: ModelService) -> None:
    whole = service.invoke_model(GPT2, "red green blue", max_tokens=8, temperature=0)
    events = list(service.stream_model(GPT2, "red green blue", max_tokens=8, temperature=0))
    *pieces, final = events
    assert final.done and not any(e.done for e in pieces)
    assert len(pieces) > 1  # really streamed, one word at a time
    assert "".join(e.text for e in pieces).strip() == whole.text.strip()
    assert final.usage == whole.usage
    assert final.cost_usd == Decimal(0)


def test_stop_strings_cut_invoke_and_stream(service: ModelService) -> None:
    whole = service.invoke_model(GPT2, "one two", max_tokens=8, temperature=0)
    words = whole.text.split()
    assert len(words) >= 3
    stop = words[2]
    cut = service.invoke_model(GPT2, "one two", max_tokens=8, temperature=0, stop=[stop])
    assert cut.text == whole.text[: whole.text.find(stop)]
    assert cut.finish_reason == "stop"
    # generation halted at the stop string: fewer tokens generated, and only those counted
    assert cut.usage.output_tokens < whole.usage.output_tokens
    streamed = list(service.stream_model(GPT2, "one two", max_tokens=8, temperature=0, stop=stop))
    assert "".join(e.text for e in streamed[:-1]) == cut.text
    assert streamed[-1].finish_reason == "stop"


def test_ainvoke_and_astream(service: ModelService) -> None:
    expected = service.invoke_model(GPT2, "blue", max_tokens=5, temperature=0)

    async def main() -> tuple[list[Any], list[StreamEvent]]:
        answers = await asyncio.gather(
            *(service.ainvoke_model(GPT2, "blue", max_tokens=5, temperature=0) for _ in range(4))
        )
        events = [e async for e in service.astream_model(GPT2, "blue", max_tokens=5, temperature=0)]
        return list(answers), events

    answers, events = asyncio.run(main())
    assert [a.text for a in answers] == [expected.text] * 4
    assert all(a.usage == expected.usage for a in answers)
    assert events[-1].done and events[-1].usage == expected.usage
    assert "".join(e.text for e in events[:-1]).strip() == expected.text.strip()


def _count_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = engine_module.load_model

    def counting(source: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(engine_module, "load_model", counting)
    return calls


def _hammer(service: ModelService, prompts: list[str], **params: Any) -> list[Any]:
    results: list[Any] = [None] * len(prompts)
    barrier = threading.Barrier(len(prompts))

    def call(i: int) -> None:
        barrier.wait(timeout=10)
        results[i] = service.invoke_model(GPT2, prompts[i], **params)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r is not None for r in results)
    return results


def test_threads_load_once_and_get_the_serial_answers(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads = _count_loads(monkeypatch)
    svc = _service(model_dir)
    try:
        prompts = ["one two", "red green", "hello there", "the quick fox"] * 2
        results = _hammer(svc, prompts, max_tokens=5, temperature=0)
        assert len(loads) == 1  # exactly once, however many threads asked first
        for prompt, got in zip(prompts, results, strict=True):
            alone = svc.invoke_model(GPT2, prompt, max_tokens=5, temperature=0)
            assert (got.text, got.usage) == (alone.text, alone.usage)
    finally:
        svc.registry.close()


def test_batching_serves_concurrent_calls_in_one_pass(model_dir: Path) -> None:
    svc = _service(model_dir, max_batch_size=4, batch_wait_ms=300)
    try:
        prompts = ["one two three", "red", "hello there how are you", "blue green"]
        results = _hammer(svc, prompts, max_tokens=4, temperature=0)
        model = svc.registry.get_model(GPT2)
        assert isinstance(model, HuggingFaceLocalChatModel)
        engine = model.handle().engine()
        assert engine.largest_batch > 1
        direct = Direct(model_dir / "tiny-gpt2")
        for prompt, got in zip(prompts, results, strict=True):
            ids = direct.chat_ids([{"role": "user", "content": prompt}])
            text, n_out = direct.generate(ids, max_new_tokens=4, do_sample=False)
            assert got.usage == Usage(input_tokens=len(ids), output_tokens=n_out)
            assert got.text == text
    finally:
        svc.registry.close()


def test_streams_and_batched_calls_interleave(model_dir: Path) -> None:
    svc = _service(model_dir, max_batch_size=3, batch_wait_ms=100)
    try:
        prompts = ["one two", "red green", "blue", "hello there", "the quick fox", "seven"]
        expected = {p: svc.invoke_model(GPT2, p, max_tokens=5, temperature=0).text for p in prompts}
        got: dict[str, str] = {}
        barrier = threading.Barrier(len(prompts))

        def run(i: int, prompt: str) -> None:
            barrier.wait(timeout=10)
            if i % 2:
                events = list(svc.stream_model(GPT2, prompt, max_tokens=5, temperature=0))
                assert events[-1].done
                got[prompt] = "".join(e.text for e in events[:-1]).strip()
            else:
                got[prompt] = svc.invoke_model(GPT2, prompt, max_tokens=5, temperature=0).text

        threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(prompts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert {p: t.strip() for p, t in expected.items()} == got
    finally:
        svc.registry.close()


def test_close_releases_the_weights_and_the_next_call_reloads(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads = _count_loads(monkeypatch)
    svc = _service(model_dir)
    try:
        svc.invoke_model(GPT2, "one", max_tokens=2)
        model = svc.registry.get_model(GPT2)
        assert isinstance(model, HuggingFaceLocalChatModel) and model.handle().loaded
        svc.registry.close()
        svc.invoke_model(GPT2, "one", max_tokens=2)
        assert len(loads) == 2
    finally:
        svc.registry.close()


@pytest.mark.parametrize(
    ("name", "kind"), [("tiny-bert", "encoder_only"), ("tiny-whisper", "speech")]
)
def test_unsupported_architectures_are_refused(service: ModelService, name: str, kind: str) -> None:
    with pytest.raises(UnsupportedModelError, match=f"{kind} models are not supported yet"):
        service.invoke_model(f"hf:{name}", "hi")


def test_prompt_longer_than_the_context_window(service: ModelService) -> None:
    with pytest.raises(errors.ContextWindowError, match="reads at most 64"):
        service.invoke_model(GPT2, "one two three " * 30, max_tokens=2)


def test_an_unknown_generation_argument_is_an_invalid_request(service: ModelService) -> None:
    with pytest.raises(errors.InvalidRequestError, match="generation failed: ValueError"):
        service.invoke_model(GPT2, "one", max_tokens=2, provider_params={"no_such_knob": 1})
    assert service.invoke_model(GPT2, "one", max_tokens=2).usage.output_tokens >= 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_cuda_is_a_config_error_and_auto_falls_back(model_dir: Path) -> None:
    svc = _service(model_dir, device="cuda")
    try:
        with pytest.raises(errors.ConfigError, match=r"providers\.hf\.device"):
            svc.invoke_model(GPT2, "one", max_tokens=1)
    finally:
        svc.registry.close()
    svc = _service(model_dir, device="auto", dtype="float32")
    try:
        assert svc.invoke_model(GPT2, "one", max_tokens=1).usage.output_tokens == 1
        model = svc.registry.get_model(GPT2)
        assert isinstance(model, HuggingFaceLocalChatModel)
        assert model.handle().engine().loaded.device == "cpu"
    finally:
        svc.registry.close()


def test_a_seed_makes_sampling_repeatable(service: ModelService) -> None:
    def sample(seed: int) -> str:
        return service.invoke_model(GPT2, "one", max_tokens=8, temperature=1.0, seed=seed).text

    first = sample(3)
    assert sample(3) == first
    assert any(sample(seed) != first for seed in (4, 5, 6))


def test_a_seed_leaves_the_process_random_state_alone(service: ModelService) -> None:
    import torch

    torch.manual_seed(1234)
    expected = torch.rand(3)  # what the process draws next without any seeded call
    torch.manual_seed(1234)
    service.invoke_model(GPT2, "one", max_tokens=4, temperature=1.0, seed=99)
    assert torch.equal(torch.rand(3), expected)


def test_missing_checkpoint_is_a_clear_error(service: ModelService) -> None:
    with pytest.raises(errors.InvalidRequestError, match="cannot load"):
        service.invoke_model("hf:no-such-model", "hi")


def test_list_models_scans_the_model_dir(service: ModelService) -> None:
    ctx = service.registry.provider("hf")
    infos = HuggingFaceLocalChatModel.list_models(ctx)
    by_id = {i.id: i for i in infos}
    assert sorted(by_id) == sorted(
        f"hf:{n}" for n in ("plain-gpt2", "tiny-bert", "tiny-gpt2", "tiny-t5", "tiny-whisper")
    )
    assert by_id[GPT2].context_window == 64 and by_id[T5].context_window is None
    assert all(i.cost is not None and i.cost.input_per_mtok == 0 for i in infos)
    assert not any(
        isinstance(h, engine_module.ModelHandle) and h.loaded for h in ctx._clients.values()
    )


def test_a_slow_call_times_out_and_is_cancelled(
    service: ModelService, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.invoke_model(GPT2, "one", max_tokens=2)  # loaded
    seen: list[engine_module.Job] = []
    real = engine_module.Engine._generate

    def slow(self: Any, ready: Any) -> Any:
        seen.extend(job for job, _ in ready)
        threading.Event().wait(0.5)
        return real(self, ready)

    monkeypatch.setattr(engine_module.Engine, "_generate", slow)
    with pytest.raises(errors.TimeoutError, match=r"did not answer within 0\.05s"):
        model = service.registry.get_model(GPT2)
        model.invoke(ChatRequest.build("one", max_tokens=2, timeout=0.05))  # no retries
    assert seen and seen[0].cancel.is_set()


def test_closing_a_stream_early_cancels_the_generation(
    service: ModelService, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = _recorded_jobs(monkeypatch)
    _slow_streamer(monkeypatch, 0.02)  # ~20 ms per generated token
    events = service.stream_model(GPT2, "one two", max_tokens=30, temperature=0)
    first = next(events)
    assert first.text and not first.done
    events.close()
    (job,) = jobs
    assert job.cancel.is_set()
    result = job.future.result(timeout=10)
    assert result.output_tokens < 15  # stopped soon after the close, not at 30


def test_missing_torch_names_the_extra(
    service: ModelService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelwire.providers.factory import MissingDependencyError

    monkeypatch.setattr(HuggingFaceLocalChatModel, "requires", ("modelwire_absent_module",))
    with pytest.raises(MissingDependencyError, match=r"modelwire\[huggingface\]"):
        service.invoke_model("hf:another-model", "hi")


def _slow_streamer(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    put = transformers.TextIteratorStreamer.put

    def slow_put(self: Any, value: Any) -> None:
        threading.Event().wait(seconds)
        put(self, value)

    monkeypatch.setattr(transformers.TextIteratorStreamer, "put", slow_put)


def _recorded_jobs(monkeypatch: pytest.MonkeyPatch) -> list[engine_module.Job]:
    jobs: list[engine_module.Job] = []
    submit = engine_module.Engine.submit

    def recording(self: Any, job: engine_module.Job) -> None:
        jobs.append(job)
        submit(self, job)

    monkeypatch.setattr(engine_module.Engine, "submit", recording)
    return jobs


def test_closing_an_async_stream_early_cancels_the_generation(
    service: ModelService, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = _recorded_jobs(monkeypatch)
    _slow_streamer(monkeypatch, 0.02)

    async def first_then_close() -> StreamEvent:
        events = service.astream_model(GPT2, "one two", max_tokens=30, temperature=0)
        first = await anext(events)
        await events.aclose()
        return first

    first = asyncio.run(first_then_close())
    assert first.text and not first.done
    (job,) = jobs
    assert job.cancel.is_set()
    assert job.future.result(timeout=10).output_tokens < 15


@pytest.mark.parametrize("style", ["stream", "astream", "ainvoke"])
def test_a_call_waiting_too_long_times_out_and_is_cancelled(
    service: ModelService, monkeypatch: pytest.MonkeyPatch, style: str
) -> None:
    service.invoke_model(GPT2, "one", max_tokens=2)  # loaded
    jobs = _recorded_jobs(monkeypatch)
    real = engine_module.Engine._generate

    def slow(self: Any, ready: Any) -> Any:
        threading.Event().wait(0.5)
        return real(self, ready)

    monkeypatch.setattr(engine_module.Engine, "_generate", slow)
    model = service.registry.get_model(GPT2)
    request = ChatRequest.build("one", max_tokens=2, timeout=0.05)  # no retries: the model

    async def consume() -> None:
        if style == "ainvoke":
            await model.ainvoke(request)
        else:
            [e async for e in model.astream(request)]

    with pytest.raises(errors.TimeoutError, match=r"did not answer within 0\.05s"):
        if style == "stream":
            list(model.stream(request))
        else:
            asyncio.run(consume())
    (job,) = jobs
    assert job.cancel.is_set()


def test_a_failing_prompt_is_an_invalid_request_in_every_call_style(
    service: ModelService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``ValueError`` from the worker (here the prompt) is mapped the same way whichever way
    the call was made: an invalid request naming the error's first line."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("the chat template failed\nat line 3")

    monkeypatch.setattr(engine_module, "build_prompt", broken)
    model = service.registry.get_model(GPT2)
    request = ChatRequest.build("one", max_tokens=2)

    async def collect() -> list[StreamEvent]:
        return [e async for e in model.astream(request)]

    calls = [
        lambda: model.invoke(request),
        lambda: list(model.stream(request)),
        lambda: asyncio.run(model.ainvoke(request)),
        lambda: asyncio.run(collect()),
    ]
    for call in calls:
        with pytest.raises(errors.InvalidRequestError) as info:
            call()
        assert "generation failed: ValueError: the chat template failed" in str(info.value)
        assert "line 3" not in str(info.value)
        assert info.value.__cause__.type_name == "builtins.ValueError"  # type: ignore[union-attr]
