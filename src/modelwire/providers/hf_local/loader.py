"""Loading a tokenizer and model from a local directory or the Hub, once, on the chosen device.

``resolve_source`` maps a model name to what ``from_pretrained`` reads: a sub-directory of the
entry's ``model_dir``, a local path, or a Hub id. ``load_model`` reads the configuration first,
detects the architecture and refuses unsupported ones before any weights are read, then loads the
tokenizer and the matching ``AutoModelFor...`` class in evaluation mode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelwire.config.schema import HuggingFaceLocalConfig
from modelwire.errors import ConfigError, InvalidRequestError, ModelwireError
from modelwire.providers.hf_local.architecture import (
    ModelArchitecture,
    detect_architecture,
    ensure_supported,
)

__all__ = ["LoadedModel", "context_window_of", "load_model", "pick_device", "resolve_source"]

_POSITION_FIELDS = ("max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length")


@dataclass
class LoadedModel:
    """A ready model: weights, tokenizer and what the provider needs to know about them."""

    model: Any
    tokenizer: Any
    architecture: ModelArchitecture
    device: str
    context_window: int | None
    task_params: dict[str, Any] | None
    eos_ids: frozenset[int]
    pad_id: int


def resolve_source(name: str, settings: HuggingFaceLocalConfig) -> str:
    """``<model_dir>/<name>`` when that directory exists, else ``name`` (a path or Hub id)."""
    if settings.model_dir:
        candidate = Path(settings.model_dir).expanduser() / name
        if candidate.is_dir():
            return str(candidate)
    path = Path(name).expanduser()
    return str(path) if path.is_dir() else name


def context_window_of(config: Any) -> int | None:
    """The positions a model can attend to, when its configuration says (T5 does not)."""
    for name in _POSITION_FIELDS:
        value = config.get(name) if isinstance(config, dict) else getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def read_config_json(directory: Path) -> dict[str, Any] | None:
    """A local checkpoint's ``config.json``, or ``None``."""
    try:
        data = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def pick_device(setting: str, provider: str) -> str:
    """``cpu`` or ``cuda`` for the entry's ``device`` setting (``auto``: CUDA when present)."""
    import torch

    cuda = torch.cuda.is_available()
    if setting == "auto":
        return "cuda" if cuda else "cpu"
    if setting == "cuda" and not cuda:
        raise ConfigError(
            [(f"providers.{provider}.device", "cuda was asked for but torch sees no CUDA device")]
        )
    return setting


def _dtype_kwargs(setting: str) -> dict[str, Any]:
    import torch
    import transformers

    value: Any = "auto" if setting == "auto" else getattr(torch, setting)
    major, minor = (int(p) for p in transformers.__version__.split(".")[:2])
    return {"dtype" if (major, minor) >= (4, 56) else "torch_dtype": value}


def load_model(
    source: str,
    settings: HuggingFaceLocalConfig,
    *,
    provider: str,
    model_id: str,
    token: str | None = None,
) -> LoadedModel:
    """Load ``source`` (see the module docstring); errors name the model and stay one line."""
    import transformers

    common: dict[str, Any] = {
        "trust_remote_code": settings.trust_remote_code,
        "local_files_only": settings.local_files_only,
    }
    if token:
        common["token"] = token
    device = pick_device(settings.device, provider)
    try:
        config = transformers.AutoConfig.from_pretrained(source, **common)
    except (OSError, ValueError) as exc:
        raise InvalidRequestError(
            f"cannot load {source!r}: {str(exc).splitlines()[0]}",
            provider=provider,
            model_id=model_id,
        ) from None
    try:
        architecture = detect_architecture(config)
    except ValueError as exc:
        raise InvalidRequestError(
            f"{model_id}: {exc}", provider=provider, model_id=model_id
        ) from None
    ensure_supported(architecture, provider=provider, model_id=model_id)
    auto: Any = (
        transformers.AutoModelForCausalLM
        if architecture is ModelArchitecture.DECODER_ONLY
        else transformers.AutoModelForSeq2SeqLM
    )
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, **common)
        model = auto.from_pretrained(source, **common, **_dtype_kwargs(settings.dtype))
    except (OSError, ValueError) as exc:
        raise InvalidRequestError(
            f"cannot load {source!r}: {str(exc).splitlines()[0]}",
            provider=provider,
            model_id=model_id,
        ) from None
    model.to(device)
    model.eval()
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token_id is None:
            raise ModelwireError(f"{model_id}: the tokenizer has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left" if architecture is ModelArchitecture.DECODER_ONLY else "right"
    gen = model.generation_config
    if gen.pad_token_id is None:
        gen.pad_token_id = tokenizer.pad_token_id
    eos = gen.eos_token_id if gen.eos_token_id is not None else tokenizer.eos_token_id
    eos_ids = frozenset(eos if isinstance(eos, list) else [] if eos is None else [eos])
    task_params = getattr(config, "task_specific_params", None)
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        architecture=architecture,
        device=device,
        context_window=context_window_of(config),
        task_params=dict(task_params) if isinstance(task_params, dict) else None,
        eos_ids=eos_ids,
        pad_id=int(tokenizer.pad_token_id),
    )
