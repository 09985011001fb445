"""The settings of a provider entry: the common fields, and what built-in types add.

Each provider type's settings class is listed in the one table of provider types
(``config.provider_types``); plugins bring their own through their model class's
``config_model``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, SecretStr

from modelwire.config.bounds import (
    MAX_COUNT,
    MAX_DELAY_MS,
    MAX_SECONDS,
    SEED_BOUND,
    Strict,
    check_base_url,
)
from modelwire.config.secrets import mask_url

__all__ = [
    "HuggingFaceLocalConfig",
    "MockErrorKind",
    "MockProviderConfig",
    "OpenAICompatibleConfig",
    "ProviderConfig",
]


class ProviderConfig(Strict):
    """One provider entry: where to reach it and how long to wait."""

    type: str | None = None
    api_key: SecretStr | None = None
    base_url: Annotated[str | None, AfterValidator(check_base_url)] = None
    timeout_s: float = Field(default=60.0, gt=0, le=MAX_SECONDS)
    max_retries: int = Field(default=2, ge=0, le=20)
    headers: dict[str, str] = Field(default_factory=dict, repr=False)  # may carry credentials

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if name == "base_url" and value else value


class OpenAICompatibleConfig(ProviderConfig):
    """A server speaking OpenAI's Chat Completions (``openai_compatible``, ``huggingface``).

    ``structured_output``: how the server is asked for structured output (``output=``) —
    ``json_schema`` (a strict JSON schema in ``response_format``; an output the strict subset
    cannot express falls back to the next), ``json_object`` (JSON mode, with the schema as
    instructions in the system prompt), or ``prompted`` (the instructions only).
    """

    structured_output: Literal["json_schema", "json_object", "prompted"] = "json_schema"


MockErrorKind = Literal["rate_limit", "server", "timeout", "auth"]


class MockProviderConfig(ProviderConfig):
    """The built-in mock provider: deterministic replies with injectable latency and faults.

    With tools in a request: ``tool_calls`` says when the mock calls them (``auto``: unless the
    last message holds tool results; ``always``; ``never``), ``max_parallel_tool_calls`` how
    many tools one answer calls when the request allows parallel calls, and
    ``malformed_tool_calls`` the share of tool-calling answers whose arguments are broken JSON
    (a ``MalformedToolCallError``). A request's ``provider_params`` may override all three.
    """

    latency_ms: float = Field(default=0.0, ge=0, le=MAX_DELAY_MS)
    latency_jitter_ms: float = Field(default=0.0, ge=0, le=MAX_DELAY_MS)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    error_kinds: tuple[MockErrorKind, ...] = ("rate_limit", "server")
    retry_after_s: float = Field(default=1.0, ge=0, le=MAX_SECONDS)
    seed: int = Field(default=0, ge=-SEED_BOUND, lt=SEED_BOUND)
    stream_chunk_words: int = Field(default=3, ge=1, le=MAX_COUNT)
    tool_calls: Literal["auto", "always", "never"] = "auto"
    max_parallel_tool_calls: int = Field(default=2, ge=1, le=MAX_COUNT)
    malformed_tool_calls: float = Field(default=0.0, ge=0, le=1)


class HuggingFaceLocalConfig(ProviderConfig):
    """The in-process ``huggingface_local`` provider: where and how ``transformers`` models run.

    ``device``: ``cpu``, ``cuda`` or ``auto`` (CUDA when available, else CPU). ``dtype``: weight
    precision (``auto`` keeps the checkpoint's). ``max_batch_size``: how many concurrent
    non-streaming calls with equal parameters one forward pass may serve (1: one call at a time).
    ``trust_remote_code`` stays false unless you trust the checkpoint's own Python code.
    ``model_dir``: a directory whose sub-directories are models (``<name>`` resolves there first).
    ``local_files_only``: never contact the Hugging Face Hub.
    """

    device: Literal["cpu", "cuda", "auto"] = "cpu"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    max_batch_size: int = Field(default=1, ge=1, le=256)
    batch_wait_ms: float = Field(default=2.0, ge=0, le=1000)
    trust_remote_code: bool = False
    model_dir: str | None = None
    local_files_only: bool = False
