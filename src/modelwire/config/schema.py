"""Pydantic models of the configuration file.

Every model forbids unknown fields so a typo is an error, not a silently ignored setting.
Provider entries are validated against the settings class of their ``type``: the common fields
below, plus whatever that type adds (the mock provider's latency and error rate, for example).

Every number has an upper bound as well as a lower one, and floats must be finite, so a value
that validates cannot overflow later (``config.bounds`` holds the limits). Provider entries'
settings classes live in ``config.provider_settings`` and are re-exported here.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from modelwire.config.bounds import (
    MAX_COUNT,
    MAX_DELAY_MS,
    MAX_PRICE,
    MAX_SECONDS,
    MAX_TOKENS,
    MAX_TTL_S,
    MAX_WEIGHT,
    PRICE_PLACES,
    SEED_BOUND,
    check_price,
)
from modelwire.config.bounds import Strict as _Strict
from modelwire.config.limits import LimitRuleConfig, LimitsConfig
from modelwire.config.provider_settings import (
    HuggingFaceLocalConfig,
    MockErrorKind,
    MockProviderConfig,
    OpenAICompatibleConfig,
    ProviderConfig,
)
from modelwire.config.provider_types import BUILTIN_TYPES, PROVIDER_TYPES
from modelwire.config.secrets import mask_url
from modelwire.types import Price, Strength

__all__ = [
    "BUILTIN_PROVIDER_TYPES",
    "MAX_COUNT",
    "MAX_DELAY_MS",
    "MAX_PRICE",
    "MAX_SECONDS",
    "MAX_TEMPERATURE",
    "MAX_TOKENS",
    "MAX_TTL_S",
    "MAX_WEIGHT",
    "PRICE_PLACES",
    "SEED_BOUND",
    "BreakerConfig",
    "Config",
    "CostConfig",
    "DatedCostConfig",
    "DiscoveryConfig",
    "GroupConfig",
    "HuggingFaceLocalConfig",
    "LimitRuleConfig",
    "LimitsConfig",
    "MockErrorKind",
    "MockProviderConfig",
    "ModelEntry",
    "OpenAICompatibleConfig",
    "ProviderConfig",
    "RequestDefaults",
    "RetryConfig",
    "TierConfig",
    "UsageConfig",
    "check_price",
    "provider_settings_class",
    "resolve_provider_type",
]

BoundedPrice = Annotated[Price, AfterValidator(check_price)]


BUILTIN_PROVIDER_TYPES: dict[str, type[ProviderConfig]] = {
    name: t.settings_class() for name, t in BUILTIN_TYPES.items()
}
"""The settings class of each built-in provider type (a view of ``config.provider_types``)."""


def resolve_provider_type(name: str, raw_type: str | None) -> str:
    """The provider type of an entry: its ``type``, or its name when that is a known type."""
    if raw_type:
        return raw_type
    if PROVIDER_TYPES.get(name) is not None:
        return name
    known = ", ".join(sorted(PROVIDER_TYPES.names()))
    raise ValueError(
        f"provider {name!r} needs a 'type' (its name is not a known type; known types: {known})"
    )


def provider_settings_class(ptype: str) -> type[ProviderConfig]:
    """The settings class for a provider type (plugins may declare their own ``config_model``)."""
    return PROVIDER_TYPES.settings_class(ptype)


def _fees_known(fees: dict[str, Price]) -> dict[str, Price]:
    for kind, fee in fees.items():
        if fee is None:
            raise ValueError(f"tool_use_fees.{kind}: give a price per use, not null")
    return fees


class TierConfig(_Strict):
    """Prices for a request whose input exceeds ``above_input_tokens`` (unset: the base price)."""

    above_input_tokens: int = Field(ge=0, le=100_000_000)
    input_per_mtok: BoundedPrice = None
    output_per_mtok: BoundedPrice = None
    cache_read_per_mtok: BoundedPrice = None
    cache_write_per_mtok: BoundedPrice = None


class DatedCostConfig(_Strict):
    """Prices in USD per million tokens (fees: USD per use), in force from ``effective_date``."""

    input_per_mtok: BoundedPrice = None
    output_per_mtok: BoundedPrice = None
    cache_read_per_mtok: BoundedPrice = None
    cache_write_per_mtok: BoundedPrice = None
    effective_date: date | None = None
    cache_write_1h_per_mtok: BoundedPrice = None
    input_audio_per_mtok: BoundedPrice = None
    input_image_per_mtok: BoundedPrice = None
    output_audio_per_mtok: BoundedPrice = None
    output_image_per_mtok: BoundedPrice = None
    tool_use_fees: Annotated[dict[str, BoundedPrice], AfterValidator(_fees_known)] = Field(
        default_factory=dict
    )
    tiers: list[TierConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ascending_tiers(self) -> DatedCostConfig:
        starts = [t.above_input_tokens for t in self.tiers]
        if starts != sorted(set(starts)):
            raise ValueError("tiers: give each above_input_tokens once, in ascending order")
        return self


class CostConfig(DatedCostConfig):
    """A model's prices; each field set here replaces the catalog's (see docs/configuration.md).

    ``earlier``: the prices in force before ``effective_date``, newest first.
    """

    earlier: list[DatedCostConfig] | None = None


class RetryConfig(_Strict):
    """Retry policy: exponential backoff with full jitter, only for retryable errors."""

    max_attempts: int = Field(default=3, ge=1, le=20)
    base_delay_s: float = Field(default=0.5, ge=0, le=MAX_SECONDS)
    max_delay_s: float = Field(default=20.0, ge=0, le=MAX_SECONDS)
    max_retry_after_s: float = Field(default=60.0, ge=0, le=MAX_SECONDS)


MAX_TEMPERATURE = 10.0
"""Upper bound of a ``temperature`` in a model's ``params``."""


class RequestDefaults(_Strict):
    """The request fields a model's ``params`` may set (every other key is passed to the
    provider as is, and must be plain JSON data)."""

    system: str | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS)
    temperature: float | None = Field(default=None, ge=0, le=MAX_TEMPERATURE)
    top_p: float | None = Field(default=None, ge=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = Field(default=None, ge=-SEED_BOUND, lt=SEED_BOUND)
    timeout: float | None = Field(default=None, gt=0, le=MAX_SECONDS)


class ModelEntry(_Strict):
    """Configuration of one model; fields given here win over the catalog, field by field."""

    name: str | None = None
    aliases: list[str] = Field(default_factory=list)
    cost: CostConfig | None = None
    context_window: int | None = Field(default=None, ge=1, le=MAX_TOKENS)
    max_output_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS)
    modalities: list[str] | None = None
    capabilities: dict[str, Strength] = Field(default_factory=dict)
    reasoning: bool | None = None
    fallbacks: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    retry: RetryConfig | None = None


class BreakerConfig(_Strict):
    """Circuit breaker of each group member."""

    failure_threshold: int = Field(default=5, ge=1, le=MAX_COUNT)
    failure_rate: float = Field(default=0.5, gt=0, le=1)
    min_calls: int = Field(default=20, ge=1, le=MAX_COUNT)
    window: int = Field(default=50, ge=1, le=MAX_COUNT)
    cooldown_s: float = Field(default=30.0, ge=0, le=MAX_SECONDS)


GroupStrategy = Literal[
    "failover", "round_robin", "weighted", "cost_optimized", "latency", "task_aware"
]


class GroupConfig(_Strict):
    """A named group of models that behaves like one model."""

    strategy: GroupStrategy = "failover"
    members: list[str] = Field(min_length=1)
    weights: dict[str, Annotated[float, Field(ge=0, le=MAX_WEIGHT)]] = Field(default_factory=dict)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    circuit_breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    aliases: list[str] = Field(default_factory=list)


class UsageConfig(_Strict):
    """Where usage rows go."""

    enabled: bool = True
    database: str | None = None
    store_prompts: bool = False
    batch_size: int = Field(default=512, ge=1, le=MAX_COUNT)
    flush_interval_ms: int = Field(default=200, ge=1, le=int(MAX_DELAY_MS))
    #: How long a limits reservation lasts when its process dies before settling it.
    reservation_lease_s: float = Field(default=600.0, ge=0.001, le=MAX_SECONDS)

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if name == "database" and value else value


class DiscoveryConfig(_Strict):
    """Live model discovery from the providers' APIs."""

    enabled: bool = True
    ttl_s: float = Field(default=3600.0, ge=0, le=MAX_TTL_S)
    timeout_s: float = Field(default=10.0, gt=0, le=MAX_SECONDS)
    refresh_interval_s: float | None = Field(default=None, gt=0, le=MAX_TTL_S)


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
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
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
