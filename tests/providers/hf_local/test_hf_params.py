"""Layered parameters of in-process Hugging Face models (golden) and architecture detection."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelwire.providers.hf_local.architecture import (
    ModelArchitecture,
    UnsupportedModelError,
    detect_architecture,
    ensure_supported,
)
from modelwire.providers.hf_local.params import (
    LAYER_ORDER,
    generate_kwargs,
    merge_layers,
    resolve_params,
)

DEC = ModelArchitecture.DECODER_ONLY
ENC_DEC = ModelArchitecture.ENCODER_DECODER
T5_TASKS = {
    "summarization": {"prefix": "summarize: ", "max_length": 200, "min_length": 30},
    "translation_en_to_de": {"prefix": "translate English to German: ", "max_length": 300},
}

CASES: dict[str, dict[str, Any]] = {
    "decoder_defaults": {"architecture": DEC},
    "decoder_code_task_from_model": {"architecture": DEC, "model": {"task": "code"}},
    "decoder_call_beats_model": {
        "architecture": DEC,
        "model": {"temperature": 0.3, "max_tokens": 64, "top_k": 10},
        "call": {"temperature": 0.9, "stop": ["\n\n"], "seed": 7},
    },
    "decoder_greedy_call": {"architecture": DEC, "call": {"temperature": 0, "max_tokens": 5}},
    "encoder_decoder_defaults": {"architecture": ENC_DEC},
    "t5_summarization_checkpoint_layer": {
        "architecture": ENC_DEC,
        "model": {"task": "summarization"},
        "task_params": T5_TASKS,
    },
    "t5_translation_call_task": {
        "architecture": ENC_DEC,
        "call": {"task": "translation", "max_tokens": 40},
        "task_params": T5_TASKS,
    },
    "summarization_model_override_and_passthrough": {
        "architecture": ENC_DEC,
        "model": {"task": "summarization", "num_beams": 2, "prefix": "tl;dr: "},
        "call": {"max_tokens": 60, "diversity_penalty": None, "custom_knob": 3},
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_layered_merge_golden(case: str, snapshot: Any) -> None:
    spec = CASES[case]
    merged = resolve_params(
        spec["architecture"],
        model=spec.get("model"),
        call=spec.get("call"),
        task_params=spec.get("task_params"),
    )
    assert {
        "values": dict(sorted(merged.values.items())),
        "sources": dict(sorted(merged.sources.items())),
        "generate": dict(sorted(generate_kwargs(merged).items())),
    } == snapshot


def test_each_layer_beats_the_ones_below() -> None:
    layers = [(name, {"k": name, name: 1}) for name in LAYER_ORDER]
    for i in range(1, len(layers) + 1):
        merged = merge_layers(layers[:i])
        assert merged.values["k"] == LAYER_ORDER[i - 1]
        assert merged.sources["k"] == LAYER_ORDER[i - 1]
        assert all(merged.sources[n] == n for n, _ in layers[:i])


@given(
    st.lists(
        st.tuples(
            st.sampled_from(LAYER_ORDER),
            st.dictionaries(
                st.sampled_from(["a", "b", "c"]), st.none() | st.integers(), max_size=3
            ),
        ),
        max_size=6,
    )
)
def test_merge_is_last_non_none_wins(layers: list[tuple[str, dict[str, Any]]]) -> None:
    merged = merge_layers(layers)
    for key in ("a", "b", "c"):
        setters = [(n, layer[key]) for n, layer in layers if layer.get(key) is not None]
        if setters:
            assert (merged.sources[key], merged.values[key]) == setters[-1]
        else:
            assert key not in merged.values


def test_greedy_drops_sampling_knobs_and_beam_knobs_need_beams() -> None:
    kw = generate_kwargs({"temperature": 0, "top_p": 0.5, "length_penalty": 2.0, "num_beams": 1})
    assert kw == {"num_beams": 1, "do_sample": False}
    kw = generate_kwargs({"temperature": 0.5, "top_p": 0.5, "max_tokens": 3, "seed": 1})
    assert kw == {"temperature": 0.5, "top_p": 0.5, "max_new_tokens": 3, "do_sample": True}


ARCH_CASES = {
    "gpt2": ({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}, DEC),
    "llama": ({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}, DEC),
    "t5": ({"model_type": "t5", "is_encoder_decoder": True}, ENC_DEC),
    "bart": (
        {
            "model_type": "bart",
            "architectures": ["BartForConditionalGeneration"],
            "is_encoder_decoder": True,
        },
        ENC_DEC,
    ),
    "bert": (
        {"model_type": "bert", "architectures": ["BertForMaskedLM"]},
        ModelArchitecture.ENCODER_ONLY,
    ),
    "whisper": (
        {
            "model_type": "whisper",
            "is_encoder_decoder": True,
            "architectures": ["WhisperForConditionalGeneration"],
        },
        ModelArchitecture.SPEECH,
    ),
    "vit": (
        {"model_type": "vit", "architectures": ["ViTForImageClassification"]},
        ModelArchitecture.VISION,
    ),
    "llava": (
        {
            "model_type": "llava",
            "vision_config": {},
            "architectures": ["LlavaForConditionalGeneration"],
        },
        ModelArchitecture.MULTIMODAL,
    ),
    "qwen2_vl": (
        {"model_type": "qwen2_vl", "architectures": ["Qwen2VLForConditionalGeneration"]},
        ModelArchitecture.MULTIMODAL,
    ),
}


@pytest.mark.parametrize("name", sorted(ARCH_CASES))
def test_architecture_detection(name: str) -> None:
    config, expected = ARCH_CASES[name]
    assert detect_architecture(config) is expected


def test_unknown_architecture_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot tell"):
        detect_architecture({"model_type": "mystery"})


@pytest.mark.parametrize(
    "arch",
    [
        ModelArchitecture.ENCODER_ONLY,
        ModelArchitecture.VISION,
        ModelArchitecture.MULTIMODAL,
        ModelArchitecture.SPEECH,
    ],
)
def test_unsupported_architectures_are_refused_clearly(arch: ModelArchitecture) -> None:
    with pytest.raises(UnsupportedModelError, match="not supported yet") as info:
        ensure_supported(arch, provider="hf", model_id="hf:some/model")
    assert info.value.model_id == "hf:some/model" and not info.value.retryable
    assert ensure_supported(DEC, provider="hf", model_id="x:y") is DEC
