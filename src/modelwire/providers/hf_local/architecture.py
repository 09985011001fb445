"""Model architecture detection from a checkpoint's configuration.

The architecture decides how a model is driven: decoder-only models generate a continuation of a
(chat-templated) prompt, encoder-decoder models map an input text to an output text
(summarisation, translation). Encoder-only, vision, multimodal and speech models are recognised
so they can be refused with a clear message instead of failing deep inside ``transformers``.

``detect_architecture`` reads a ``transformers`` ``PretrainedConfig`` or a plain mapping (the
parsed ``config.json``), so it is testable without ``transformers`` installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from modelwire.errors import UnsupportedModelError

__all__ = [
    "SUPPORTED_ARCHITECTURES",
    "ModelArchitecture",
    "UnsupportedModelError",
    "detect_architecture",
    "ensure_supported",
]


class ModelArchitecture(StrEnum):
    """The families that decide how a model is driven."""

    DECODER_ONLY = "decoder_only"
    ENCODER_DECODER = "encoder_decoder"
    ENCODER_ONLY = "encoder_only"
    VISION = "vision"
    MULTIMODAL = "multimodal"
    SPEECH = "speech"


#: Architectures ``huggingface_local`` can run today.
SUPPORTED_ARCHITECTURES = frozenset(
    {ModelArchitecture.DECODER_ONLY, ModelArchitecture.ENCODER_DECODER}
)


_SPEECH_TYPES = frozenset(
    {
        "whisper",
        "wav2vec2",
        "wav2vec2-conformer",
        "hubert",
        "wavlm",
        "speech_to_text",
        "speecht5",
        "seamless_m4t",
        "seamless_m4t_v2",
        "data2vec-audio",
        "moonshine",
        "musicgen",
        "bark",
        "encodec",
        "unispeech",
        "sew",
    }
)
_MULTIMODAL_TYPES = frozenset(
    {
        "clip",
        "siglip",
        "blip",
        "blip-2",
        "instructblip",
        "llava",
        "llava_next",
        "llava_onevision",
        "idefics",
        "idefics2",
        "idefics3",
        "paligemma",
        "qwen2_vl",
        "qwen2_5_vl",
        "mllama",
        "pixtral",
        "fuyu",
        "kosmos-2",
        "chameleon",
        "git",
        "smolvlm",
        "internvl",
        "gemma3",
        "vision-encoder-decoder",
    }
)
_VISION_TYPES = frozenset(
    {
        "vit",
        "deit",
        "beit",
        "convnext",
        "convnextv2",
        "resnet",
        "swin",
        "swinv2",
        "dinov2",
        "detr",
        "yolos",
        "segformer",
        "mobilevit",
        "efficientnet",
        "regnet",
        "sam",
        "mask2former",
    }
)
_ENCODER_TYPES = frozenset(
    {
        "bert",
        "roberta",
        "distilbert",
        "albert",
        "electra",
        "deberta",
        "deberta-v2",
        "xlm-roberta",
        "camembert",
        "modernbert",
        "mpnet",
    }
)
_SPEECH_HEADS = ("SpeechSeq2Seq", "ForCTC", "ForAudioClassification", "ForTextToSpeech")
_MULTIMODAL_HEADS = ("ForVision2Seq", "ForImageTextToText", "VisionEncoderDecoder")
_VISION_HEADS = (
    "ForImageClassification",
    "ForObjectDetection",
    "ForSemanticSegmentation",
    "ForDepthEstimation",
    "ForMaskGeneration",
)
_DECODER_HEADS = ("ForCausalLM", "LMHeadModel")
_ENCODER_HEADS = (
    "ForMaskedLM",
    "ForSequenceClassification",
    "ForTokenClassification",
    "ForQuestionAnswering",
    "ForMultipleChoice",
)


def _field(config: Any, name: str) -> Any:
    if isinstance(config, Mapping):
        return config.get(name)
    return getattr(config, name, None)


def _has_head(architectures: list[str], heads: tuple[str, ...]) -> bool:
    return any(h in a for a in architectures for h in heads)


def detect_architecture(config: Any) -> ModelArchitecture:
    """The architecture of a checkpoint, from its configuration object or ``config.json`` dict.

    Raises ``ValueError`` when nothing in the configuration says what the model is.
    """
    model_type = str(_field(config, "model_type") or "").lower()
    architectures = [str(a) for a in (_field(config, "architectures") or [])]
    if model_type in _SPEECH_TYPES or _has_head(architectures, _SPEECH_HEADS):
        return ModelArchitecture.SPEECH
    has_vision_part = _field(config, "vision_config") is not None
    if (
        model_type in _MULTIMODAL_TYPES
        or _has_head(architectures, _MULTIMODAL_HEADS)
        or has_vision_part
    ):
        return ModelArchitecture.MULTIMODAL
    if model_type in _VISION_TYPES or _has_head(architectures, _VISION_HEADS):
        return ModelArchitecture.VISION
    if _field(config, "is_encoder_decoder") or _has_head(architectures, ("Seq2SeqLM",)):
        return ModelArchitecture.ENCODER_DECODER
    if _has_head(architectures, _DECODER_HEADS):
        return ModelArchitecture.DECODER_ONLY
    if model_type in _ENCODER_TYPES or _has_head(architectures, _ENCODER_HEADS):
        return ModelArchitecture.ENCODER_ONLY
    if _field(config, "is_decoder"):
        return ModelArchitecture.DECODER_ONLY
    raise ValueError(
        f"cannot tell the architecture of model_type={model_type or '?'!r}, "
        f"architectures={architectures}"
    )


def ensure_supported(
    architecture: ModelArchitecture, *, provider: str, model_id: str
) -> ModelArchitecture:
    """Return ``architecture`` when it can run here; raise ``UnsupportedModelError`` otherwise."""
    if architecture in SUPPORTED_ARCHITECTURES:
        return architecture
    hint = {
        ModelArchitecture.ENCODER_ONLY: "it encodes text but does not generate any",
        ModelArchitecture.VISION: "it takes images",
        ModelArchitecture.MULTIMODAL: "it takes images or audio alongside text",
        ModelArchitecture.SPEECH: "it takes or produces audio",
    }[architecture]
    supported = ", ".join(sorted(a.value for a in SUPPORTED_ARCHITECTURES))
    raise UnsupportedModelError(
        f"{model_id}: {architecture.value} models are not supported yet by huggingface_local "
        f"({hint}); supported: {supported}",
        provider=provider,
        model_id=model_id,
    )
