"""Pydantic models of the configuration file (DESIGN.md §3).

Every model forbids unknown fields so a typo is an error, not a silently ignored setting.
Provider entries are validated against the settings class of their ``type``: the common fields
below, plus whatever that type adds (the mock provider's latency and error rate, for example).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from modelwire.types import Price, Strength

__all__ = [
    "BUILTIN_PROVIDER_TYPES",
    "BreakerConfig",
    "Config",
    "CostConfig",
    "DiscoveryConfig",
    "GroupConfig",
    "HuggingFaceLocalConfig",
    "MockProviderConfig",
    "ModelEntry",
    "ProviderConfig",
    "RetryConfig",
    "UsageConfig",
    "provider_settings_class",
    "resolve_provider_type",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderConfig(_Strict):
    """One provider entry: where to reach it and how long to wait."""

    type: str | None = None
    api_key: SecretStr | None = None
    base_url: str | None = None
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=20)
    headers: dict[str, str] = Field(default_factory=dict, repr=False)  # may carry credentials


MockErrorKind = Literal["rate_limit", "server", "timeout", "auth"]


class MockProviderConfig(ProviderConfig):
    """The built-in mock provider: deterministic replies with injectable latency and faults.

    With tools in a request: ``tool_calls`` says when the mock calls them (``auto``: unless the
    last message holds tool results; ``always``; ``never``), ``max_parallel_tool_calls`` how
    many tools one answer calls when the request allows parallel calls, and
    ``malformed_tool_calls`` the share of tool-calling answers whose arguments are broken JSON
    (a ``MalformedToolCallError``). A request's ``provider_params`` may override all three.
    """

    latency_ms: float = Field(default=0.0, ge=0)
    latency_jitter_ms: float = Field(default=0.0, ge=0)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    error_kinds: tuple[MockErrorKind, ...] = ("rate_limit", "server")
    retry_after_s: float = Field(default=1.0, ge=0)
    seed: int = 0
    stream_chunk_words: int = Field(default=3, ge=1)
    tool_calls: Literal["auto", "always", "never"] = "auto"
    max_parallel_tool_calls: int = Field(default=2, ge=1)
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


BUILTIN_PROVIDER_TYPES: dict[str, type[ProviderConfig]] = {
    "mock": MockProviderConfig,
    "openai": ProviderConfig,
    "openai_compatible": ProviderConfig,
    "anthropic": ProviderConfig,
    "google": ProviderConfig,
    "huggingface": ProviderConfig,
    "huggingface_local": HuggingFaceLocalConfig,
}


def resolve_provider_type(name: str, raw_type: str | None) -> str:
    """The provider type of an entry: its ``type``, or its name when that is a known type."""
    if raw_type:
        return raw_type
    if name in BUILTIN_PROVIDER_TYPES:
        return name
    known = ", ".join(sorted(BUILTIN_PROVIDER_TYPES))
    raise ValueError(
        f"provider {name!r} needs a 'type' (its name is not a known type; known types: {known})"
    )


def provider_settings_class(ptype: str) -> type[ProviderConfig]:
    """The settings class for a provider type (plugins may declare their own ``config_model``)."""
    cls = BUILTIN_PROVIDER_TYPES.get(ptype)
    if cls is not None:
        return cls
    from modelwire.providers.factory import (
        ModelFactory,
    )  # plugins are looked up only for unknown types

    return ModelFactory.default().settings_class(ptype)


class CostConfig(_Strict):
    """Prices in USD per million tokens."""

    input_per_mtok: Price = None
    output_per_mtok: Price = None
    cache_read_per_mtok: Price = None
    cache_write_per_mtok: Price = None
    effective_date: date | None = None


class RetryConfig(_Strict):
    """Retry policy: exponential backoff with full jitter, only for retryable errors."""

    max_attempts: int = Field(default=3, ge=1, le=20)
    base_delay_s: float = Field(default=0.5, ge=0)
    max_delay_s: float = Field(default=20.0, ge=0)
    max_retry_after_s: float = Field(default=60.0, ge=0)


class ModelEntry(_Strict):
    """Configuration of one model; fields given here win over the catalog, field by field."""

    name: str | None = None
    aliases: list[str] = Field(default_factory=list)
    cost: CostConfig | None = None
    context_window: int | None = Field(default=None, ge=1)
    max_output_tokens: int | None = Field(default=None, ge=1)
    modalities: list[str] | None = None
    capabilities: dict[str, Strength] = Field(default_factory=dict)
    reasoning: bool | None = None
    fallbacks: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    retry: RetryConfig | None = None


class BreakerConfig(_Strict):
    """Circuit breaker of each group member."""

    failure_threshold: int = Field(default=5, ge=1)
    failure_rate: float = Field(default=0.5, gt=0, le=1)
    min_calls: int = Field(default=20, ge=1)
    window: int = Field(default=50, ge=1)
    cooldown_s: float = Field(default=30.0, ge=0)


GroupStrategy = Literal[
    "failover", "round_robin", "weighted", "cost_optimized", "latency", "task_aware"
]


class GroupConfig(_Strict):
    """A named group of models that behaves like one model."""

    strategy: GroupStrategy = "failover"
    members: list[str] = Field(min_length=1)
    weights: dict[str, float] = Field(default_factory=dict)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    circuit_breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    aliases: list[str] = Field(default_factory=list)


class UsageConfig(_Strict):
    """Where usage rows go."""

    enabled: bool = True
    database: str | None = None
    store_prompts: bool = False
    batch_size: int = Field(default=512, ge=1)
    flush_interval_ms: int = Field(default=200, ge=1)


class DiscoveryConfig(_Strict):
    """Live model discovery from the providers' APIs."""

    enabled: bool = True
    ttl_s: float = Field(default=3600.0, ge=0)
    timeout_s: float = Field(default=10.0, gt=0)
    refresh_interval_s: float | None = Field(default=None, gt=0)


class Config(_Strict):
    """The whole configuration. ``source`` names the file it came from, if any."""

    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    models: dict[str, ModelEntry] = Field(default_factory=dict)
    groups: dict[str, GroupConfig] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)
    default_model: str | None = None
    caller: str | None = None
    retry: RetryConfig = Field(default_factory=RetryConfig)
    usage: UsageConfig = Field(default_factory=UsageConfig)
    discovery: DiscoveryConfig = Field(default_factory=DiscoveryConfig)
    source: str | None = Field(default=None, exclude=True)

    @field_validator("providers", mode="before")
    @classmethod
    def _typed_providers(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for name, raw in value.items():
            if isinstance(raw, ProviderConfig) or not isinstance(raw, dict | type(None)):
                out[name] = raw
                continue
            raw = dict(raw or {})
            ptype = resolve_provider_type(str(name), raw.get("type"))
            raw["type"] = ptype
            try:
                out[name] = provider_settings_class(ptype).model_validate(raw)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ValueError(f"{where}: {first['msg']}") from None
        return out

    @model_validator(mode="after")
    def _cross_check(self) -> Config:
        for model_id in self.models:
            provider, sep, name = model_id.partition(":")
            if not sep or not provider or not name:
                raise ValueError(f"models: key {model_id!r} must look like '<provider>:<model>'")
            if provider not in self.providers:
                raise ValueError(
                    f"models.{model_id}: provider {provider!r} is not configured under providers"
                )
        return self
