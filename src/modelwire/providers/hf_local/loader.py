"""Loading a tokenizer and model from a local directory or the Hub, once, on the chosen device.

``resolve_source`` maps a model name to what ``from_pretrained`` reads: a sub-directory of the
entry's ``model_dir``, a local path, or a Hub id. A name that can only be a path
(``looks_like_path``) and names no directory is a ``MissingCheckpointError`` naming the
directories looked at, never a Hub lookup. ``load_model`` reads the configuration first, detects the architecture and refuses
unsupported ones before any weights are read, then loads the tokenizer and the matching
``AutoModelFor...`` class in evaluation mode, and notes whether the chat template takes tools.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelwire.config.schema import HuggingFaceLocalConfig
from modelwire.errors import (
    ConfigError,
    InvalidRequestError,
    MissingCheckpointError,
    ModelwireError,
)
from modelwire.providers.hf_local.architecture import (
    ModelArchitecture,
    detect_architecture,
    ensure_supported,
)
from modelwire.providers.hf_local.prompts import template_supports_tools

__all__ = [
    "LoadedModel",
    "MissingCheckpointError",
    "context_window_of",
    "load_model",
    "looks_like_path",
    "pick_device",
    "resolve_source",
]

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
    #: Whether the chat template renders tools (``prompts.template_supports_tools``).
    tools_supported: bool = False


def looks_like_path(name: str) -> bool:
    """Whether ``name`` can only be a local path, not a Hub id (``name`` or ``owner/name``).

    Absolute, ``~``, ``./`` and ``../`` names are paths, and so are names with a backslash (or
    the platform's separator, when it is not ``/``) or with more than one ``/``.
    """
    if name in {".", ".."} or name.startswith(("~", "./", "../", ".\\", "..\\")):
        return True
    return (
        os.path.isabs(name)
        or "\\" in name
        or (os.sep != "/" and os.sep in name)
        or name.count("/") > 1
    )


def _model_dir_candidate(name: str, settings: HuggingFaceLocalConfig) -> Path | None:
    """``<model_dir>/<name>`` for a relative name, when the entry has a ``model_dir``."""
    path = Path(name).expanduser()
    if not settings.model_dir or path.is_absolute():
        return None
    return Path(settings.model_dir).expanduser() / path


def _describe(path: Path) -> str:
    return f"{path} (a file)" if path.exists() else str(path)


def resolve_source(
    name: str, settings: HuggingFaceLocalConfig, *, provider: str, model_id: str
) -> str:
    """``<model_dir>/<name>`` when that directory exists, else ``name`` as a local directory,
    else ``name`` as a Hub id.

    Looks at the file system on every call (a checkpoint may appear at any time). A name that
    ``looks_like_path`` and names no directory raises ``MissingCheckpointError``.
    """
    tried: list[Path] = []
    candidate = _model_dir_candidate(name, settings)
    if candidate is not None:
        if candidate.is_dir():
            return str(candidate)
        tried.append(candidate)
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if not looks_like_path(name):
        return name
    absolute = path.absolute()
    if absolute not in tried:
        tried.append(absolute)
    raise MissingCheckpointError(
        f"cannot load {name!r}: no checkpoint directory at "
        + " or ".join(_describe(p) for p in tried),
        provider=provider,
        model_id=model_id,
    )


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
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        candidate = None if Path(source).is_dir() else _model_dir_candidate(source, settings)
        if candidate is not None:  # a model_dir entry that is not there, nor on the Hub
            raise MissingCheckpointError(
                f"cannot load {source!r}: no checkpoint directory at {_describe(candidate)} "
                f"(model_dir), and not from the Hub: {reason}",
                provider=provider,
                model_id=model_id,
            ) from None
        raise InvalidRequestError(
            f"cannot load {source!r}: {reason}", provider=provider, model_id=model_id
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
        tools_supported=(
            architecture is ModelArchitecture.DECODER_ONLY and template_supports_tools(tokenizer)
        ),
    )
