"""huggingface_local batching: a batched answer is the answer the same call gets alone.

Greedy decoding is deterministic, so every row of a batch must come out as the same request run
on its own, token for token, whatever its neighbours' prompt lengths, limits or stop strings.
The tiny checkpoints have a word-level tokenizer (one token per word), so equal texts and equal
token counts mean equal tokens.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may reach the Hub
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("tokenizers")
torch.set_num_threads(1)

from modelwire import errors  # noqa: E402
from modelwire.config.schema import Config, HuggingFaceLocalConfig  # noqa: E402
from modelwire.providers.hf_local.engine import Engine, GenerationResult, Job  # noqa: E402
from modelwire.providers.hf_local.loader import load_model  # noqa: E402
from modelwire.providers.hf_local.provider import HuggingFaceLocalChatModel  # noqa: E402
from modelwire.registry import ModelRegistry  # noqa: E402
from modelwire.service import ModelService  # noqa: E402
from modelwire.types import ChatRequest  # noqa: E402
from tests.support.hf_tiny_models import CORPUS, build_gpt2, build_t5  # noqa: E402

GPT2 = "hf:tiny-gpt2"
WORDS = sorted({w for line in CORPUS for w in line.split()})
#: 50 words: with the chat template, 56 prompt tokens, leaving 8 of the 64-token context.
LONG_PROMPT = " ".join((CORPUS[7].split() * 5)[:50])


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hf_batch_models")
    build_gpt2(root / "tiny-gpt2")
    build_gpt2(root / "padless-gpt2", pad=False)  # pads with its end-of-sequence token
    build_t5(root / "tiny-t5")
    return root


@pytest.fixture(scope="module")
def engines(model_dir: Path) -> Iterator[dict[str, Engine]]:
    settings = HuggingFaceLocalConfig(type="huggingface_local", local_files_only=True)
    out = {
        name: Engine(
            load_model(str(model_dir / name), settings, provider="hf", model_id=f"hf:{name}"),
            provider="hf",
        )
        for name in ("tiny-gpt2", "padless-gpt2", "tiny-t5")
    }
    assert out["padless-gpt2"].loaded.pad_id in out["padless-gpt2"].loaded.eos_ids
    yield out
    for engine in out.values():
        engine.close()


def _job(name: str, prompt: str, max_tokens: int, stops: tuple[str, ...]) -> Job:
    return Job(
        request=ChatRequest.build(prompt),
        gen={"max_new_tokens": max_tokens, "do_sample": False},
        model_id=f"hf:{name}",
        stops=stops,
    )


def _outcome(job: Job) -> GenerationResult | type[BaseException]:
    error = job.future.exception(timeout=0)
    return type(error) if error is not None else job.future.result(timeout=0)


requests = st.lists(
    st.tuples(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=60).map(" ".join),
        st.sampled_from([1, 3, 8, 12]),
    ),
    min_size=2,
    max_size=4,
)


@settings(max_examples=25, deadline=None)
# a row stopped by a stop string is padded with the end-of-sequence token while "blue" goes on
@example(name="padless-gpt2", batch=[("one two", 12), ("blue", 12)], stop="at")
# T5's first generated token is its pad token: a real token, not padding
@example(name="tiny-t5", batch=[(":", 1), (":", 1)], stop="")
@given(
    name=st.sampled_from(["tiny-gpt2", "padless-gpt2", "tiny-t5"]),
    batch=requests,
    stop=st.sampled_from(["", "at", ":", "the", "two"]),
)
def test_every_row_of_a_batch_is_the_request_run_alone(
    engines: dict[str, Engine], name: str, batch: list[tuple[str, int]], stop: str
) -> None:
    engine = engines[name]
    stops = (stop,) if stop else ()
    together = [_job(name, prompt, limit, stops) for prompt, limit in batch]
    engine._execute(together)  # the worker's step, run here: no threads, no timing
    for job, (prompt, limit) in zip(together, batch, strict=True):
        alone = _job(name, prompt, limit, stops)
        engine._execute([alone])
        assert _outcome(job) == _outcome(alone), (prompt, limit)


def test_a_long_prompt_no_longer_shortens_its_neighbours(engines: dict[str, Engine]) -> None:
    engine = engines["tiny-gpt2"]
    short, long = (_job("tiny-gpt2", p, 12, ()) for p in ("one two", LONG_PROMPT))
    engine._execute([short, long])
    assert long.gen["max_new_tokens"] == 8  # the context window's room
    assert short.future.result(timeout=0).output_tokens == 12
    assert long.future.result(timeout=0).output_tokens == 8


def test_concurrent_calls_with_mixed_lengths_and_limits_match_their_solo_answers(
    model_dir: Path,
) -> None:
    """Through the service: threads call at once, the worker batches what it can."""
    config = Config.model_validate(
        {
            "providers": {
                "hf": {
                    "type": "huggingface_local",
                    "model_dir": str(model_dir),
                    "local_files_only": True,
                    "max_batch_size": 8,
                    "batch_wait_ms": 300,
                }
            }
        }
    )
    service = ModelService(ModelRegistry.from_config(config, catalog=False))
    calls: list[tuple[str, int]] = [
        ("one two", 12),
        (LONG_PROMPT, 12),  # clamped to 8 by the context window
        ("red", 12),
        ("hello there how are you", 12),
        ("blue green", 5),
        (LONG_PROMPT, 5),  # room for 8: keeps its 5
        ("the quick fox", 5),
    ]
    try:
        solo = [
            service.invoke_model(GPT2, prompt, max_tokens=limit, temperature=0)
            for prompt, limit in calls
        ]
        model = service.registry.get_model(GPT2)
        assert isinstance(model, HuggingFaceLocalChatModel)
        engine = model.handle().engine()
        runs_before = engine.batches_run
        results: list[Any] = [None] * len(calls)
        barrier = threading.Barrier(len(calls))

        def call(i: int) -> None:
            barrier.wait(timeout=10)
            prompt, limit = calls[i]
            results[i] = service.invoke_model(GPT2, prompt, max_tokens=limit, temperature=0)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(len(calls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert engine.largest_batch > 1  # some calls really shared a generate
        assert engine.batches_run - runs_before < len(calls)
        for (prompt, limit), alone, got in zip(calls, solo, results, strict=True):
            assert (got.text, got.usage, got.finish_reason) == (
                alone.text,
                alone.usage,
                alone.finish_reason,
            ), (prompt, limit)
        assert solo[0].usage.output_tokens == 12 and solo[1].usage.output_tokens == 8
    finally:
        service.registry.close()


def test_a_prompt_past_the_window_fails_alone_in_its_batch(engines: dict[str, Engine]) -> None:
    engine = engines["tiny-gpt2"]
    fits, too_long = (_job("tiny-gpt2", p, 4, ()) for p in ("one two", "one " * 70))
    engine._execute([fits, too_long])
    assert fits.future.result(timeout=0).output_tokens == 4
    with pytest.raises(errors.ContextWindowError):
        too_long.future.result(timeout=0)
