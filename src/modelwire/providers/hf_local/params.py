"""Layered generation parameters for in-process models, merged by one function.

Layers, lowest first (a later layer wins, key by key; ``None`` means "not set here"):

1. ``base``: defaults every model starts from (``BASE_DEFAULTS``);
2. ``architecture``: what suits the family (``ARCHITECTURE_DEFAULTS``: encoder-decoder models
   decode greedily and default to the ``text2text`` task, decoder-only ones to ``chat``);
3. ``capability``: what suits the task (``CAPABILITY_DEFAULTS``: summary lengths and beams, a
   low temperature for code);
4. ``checkpoint``: the checkpoint's own ``task_specific_params`` for the task (T5's
   ``"summarize: "`` prefix, for example);
5. ``model``: the ``params`` of the model's configuration entry;
6. ``call``: the request's arguments (``max_tokens``, ``temperature``, ``top_p``, ``stop``,
   ``seed``) and its ``provider_params``.

The task is itself a parameter (``task``): the capability layer is chosen by the task the
model, checkpoint or call layers name, falling back to the architecture's default.

Parameter names are modelwire's (``max_tokens``, ``min_tokens``, ``temperature``, ``top_p``,
``top_k``, ``num_beams``, ...); ``generate_kwargs`` translates them to ``generate()`` arguments.
Keys modelwire does not know are passed to ``generate()`` untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from modelwire.providers.hf_local.architecture import ModelArchitecture

__all__ = [
    "ARCHITECTURE_DEFAULTS",
    "BASE_DEFAULTS",
    "CAPABILITY_DEFAULTS",
    "LAYER_ORDER",
    "PROVIDER_KEYS",
    "LayeredParams",
    "checkpoint_layer",
    "generate_kwargs",
    "merge_layers",
    "resolve_params",
]

LAYER_ORDER: tuple[str, ...] = ("base", "architecture", "capability", "checkpoint", "model", "call")

BASE_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {"max_tokens": 256, "temperature": 0.7, "top_p": 1.0, "top_k": 50, "repetition_penalty": 1.0}
)

ARCHITECTURE_DEFAULTS: Mapping[ModelArchitecture, Mapping[str, Any]] = MappingProxyType(
    {
        ModelArchitecture.DECODER_ONLY: MappingProxyType({"task": "chat"}),
        ModelArchitecture.ENCODER_DECODER: MappingProxyType(
            {"task": "text2text", "temperature": 0.0, "num_beams": 1}
        ),
    }
)

CAPABILITY_DEFAULTS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "chat": MappingProxyType({}),
        "code": MappingProxyType({"temperature": 0.2, "top_p": 0.95}),
        "text2text": MappingProxyType({}),
        "summarization": MappingProxyType(
            {
                "max_tokens": 142,
                "min_tokens": 8,
                "num_beams": 4,
                "length_penalty": 2.0,
                "no_repeat_ngram_size": 3,
                "temperature": 0.0,
            }
        ),
        "translation": MappingProxyType({"max_tokens": 256, "num_beams": 4, "temperature": 0.0}),
    }
)

#: Keys the provider consumes itself; they never reach ``generate()``.
PROVIDER_KEYS = frozenset({"task", "prefix", "stop", "seed", "source_lang", "target_lang"})

_RENAMES = {"max_tokens": "max_new_tokens", "min_tokens": "min_new_tokens"}
_SAMPLING = ("temperature", "top_p", "top_k")
_BEAM_ONLY = ("length_penalty", "early_stopping")


@dataclass(frozen=True)
class LayeredParams:
    """Merged parameters, and for each key the layer that set it."""

    values: Mapping[str, Any] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def task(self) -> str:
        """The task the parameters were resolved for."""
        return str(self.values.get("task") or "chat")

    def get(self, key: str, default: Any = None) -> Any:
        """One merged value."""
        return self.values.get(key, default)


def merge_layers(layers: Sequence[tuple[str, Mapping[str, Any] | None]]) -> LayeredParams:
    """Merge named layers, lowest first; a later non-``None`` value wins, key by key."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, layer in layers:
        for key, value in (layer or {}).items():
            if value is None:
                continue
            values[key] = value
            sources[key] = name
    return LayeredParams(values, sources)


def checkpoint_layer(task_params: Mapping[str, Any] | None, task: str) -> dict[str, Any]:
    """The checkpoint's ``task_specific_params`` for ``task``, in modelwire's names.

    Translation entries are named ``translation_<src>_to_<tgt>``; the first one is used.
    Only the prompt ``prefix`` and output lengths are taken: beams and penalties stay with the
    capability layer so one model behaves like the others.
    """
    if not task_params:
        return {}
    entry: Any = task_params.get(task)
    if entry is None and task == "translation":
        entry = next((v for k, v in task_params.items() if k.startswith("translation")), None)
    if not isinstance(entry, Mapping):
        return {}
    out: dict[str, Any] = {}
    if isinstance(entry.get("prefix"), str):
        out["prefix"] = entry["prefix"]
    if isinstance(entry.get("max_length"), int):
        out["max_tokens"] = entry["max_length"]
    if isinstance(entry.get("min_length"), int):
        out["min_tokens"] = entry["min_length"]
    return out


def resolve_params(
    architecture: ModelArchitecture,
    *,
    model: Mapping[str, Any] | None = None,
    call: Mapping[str, Any] | None = None,
    task_params: Mapping[str, Any] | None = None,
) -> LayeredParams:
    """The standard stack (``LAYER_ORDER``) for a model of ``architecture``.

    ``task_params`` is the checkpoint's ``task_specific_params``. The task is the last one
    named by the call, the model entry, or the architecture.
    """
    arch = dict(ARCHITECTURE_DEFAULTS.get(architecture, {}))
    task = str((call or {}).get("task") or (model or {}).get("task") or arch.get("task") or "chat")
    return merge_layers(
        [
            ("base", BASE_DEFAULTS),
            ("architecture", arch),
            ("capability", CAPABILITY_DEFAULTS.get(task, {})),
            ("checkpoint", checkpoint_layer(task_params, task)),
            ("model", model),
            ("call", call),
        ]
    )


def generate_kwargs(params: LayeredParams | Mapping[str, Any]) -> dict[str, Any]:
    """``generate()`` keyword arguments for merged parameters.

    A temperature of 0 (or ``do_sample=False``) means greedy decoding: the sampling knobs are
    dropped. Beam-only knobs are dropped without beams. ``PROVIDER_KEYS`` are left out.
    """
    values = dict(params.values if isinstance(params, LayeredParams) else params)
    greedy = values.get("do_sample") is False or values.get("temperature") == 0
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in PROVIDER_KEYS or key == "do_sample":
            continue
        if key in _SAMPLING and greedy:
            continue
        if key in _BEAM_ONLY and int(values.get("num_beams") or 1) <= 1:
            continue
        out[_RENAMES.get(key, key)] = value
    out["do_sample"] = not greedy
    return out
