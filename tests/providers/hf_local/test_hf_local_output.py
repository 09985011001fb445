"""Structured output on a local model: prompted (the instructions in the system prompt the
chat template renders), ``output_mode="prompted"`` and a fallback when another mode was asked;
a fenced JSON answer validates. A tiny checkpoint built on the spot runs the real pipeline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may reach the Hub
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
torch.set_num_threads(1)

from modelwire import errors  # noqa: E402
from modelwire.config.schema import Config  # noqa: E402
from modelwire.output import OutputSpec  # noqa: E402
from modelwire.providers.hf_local import engine as engine_module  # noqa: E402
from modelwire.registry.model_registry import ModelRegistry  # noqa: E402
from modelwire.service.model_service import ModelService  # noqa: E402
from modelwire.types import ChatRequest  # noqa: E402
from tests.support.hf_tiny_models import build_gpt2  # noqa: E402

GPT2 = "hf:tiny-gpt2"


class City(BaseModel):
    name: str
    population: int


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hf-output")
    build_gpt2(root / "tiny-gpt2", context=512)  # room for the instructions
    return root


@pytest.fixture
def service(model_dir: Path) -> Iterator[ModelService]:
    cfg = Config.model_validate(
        {
            "providers": {
                "hf": {
                    "type": "huggingface_local",
                    "model_dir": str(model_dir),
                    "local_files_only": True,
                }
            }
        }
    )
    svc = ModelService(ModelRegistry.from_config(cfg, catalog=False))
    yield svc
    svc.registry.close()


@pytest.fixture
def prompts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The prompts the engine renders, in order."""
    seen: list[str] = []
    real = engine_module.build_prompt

    def recording(*args: Any, **kwargs: Any) -> Any:
        prompt = real(*args, **kwargs)
        seen.append(prompt if isinstance(prompt, str) else str(prompt))
        return prompt

    monkeypatch.setattr(engine_module, "build_prompt", recording)
    return seen


@pytest.mark.parametrize(
    ("asked", "fallback"),
    [("auto", None), ("prompted", None), ("native", "native: "), ("tool", "tool: ")],
)
def test_the_output_is_asked_for_in_the_prompt(
    service: ModelService, prompts: list[str], asked: str, fallback: str | None
) -> None:
    with pytest.raises(errors.OutputValidationError) as caught:  # a tiny random model: no JSON
        service.invoke_model(
            GPT2, "a city", output=City, output_mode=asked, max_tokens=4, temperature=0
        )
    assert "It must validate against this JSON schema (City)" in prompts[-1]
    assert '"population"' in prompts[-1]
    model = service.registry.get_model(GPT2)
    request = ChatRequest.build(
        "a city", output=OutputSpec.of(City), output_mode=asked, max_tokens=4, temperature=0
    )
    resp = model.invoke(request)
    assert resp.text == caught.value.raw_text  # the same greedy answer, unvalidated here
    assert resp.output_mode == "prompted"
    assert (resp.output_fallback or "").startswith(fallback or "")
    assert bool(resp.output_fallback) == bool(fallback)
    *_, last = model.stream(request)
    assert last.done and last.output_mode == "prompted"


def test_a_fenced_json_answer_validates(
    service: ModelService, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = '```json\n{"name": "Lisbon", "population": 545000}\n```'

    def generate(self: Any, ready: list[Any]) -> list[Any]:
        return [engine_module.GenerationResult(answer, 3, 9, "stop") for _ in ready]

    monkeypatch.setattr(engine_module.Engine, "_generate", generate)
    resp = service.invoke_model(GPT2, "a city", output=City)
    assert resp.output == City(name="Lisbon", population=545000)
    assert resp.text == answer and resp.output_mode == "prompted"
