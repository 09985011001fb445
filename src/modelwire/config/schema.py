"""Pydantic models of the configuration file.

Every model forbids unknown fields so a typo is an error, not a silently ignored setting.
Provider entries are validated against the settings class of their ``type``: the common fields
below, plus whatever that type adds (the mock provider's latency and error rate, for example).

Every number has an upper bound as well as a lower one, and floats must be finite, so a value
that validates cannot overflow later (a timer of ``1e300`` seconds, a window of ``10**20`` calls).
The bounds are generous: the ``MAX_*`` constants below, documented in docs/configuration.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
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
    "MAX_COUNT",
    "MAX_DELAY_MS",
    "MAX_PRICE",
    "MAX_SECONDS",
    "MAX_TEMPERATURE",
    "MAX_TOKENS",
    "MAX_TTL_S",
    "MAX_WEIGHT",
    "PRICE_PLACES",
    "BreakerConfig",
    "Config",
    "CostConfig",
    "DiscoveryConfig",
    "GroupConfig",
    "HuggingFaceLocalConfig",
    "MockProviderConfig",
    "ModelEntry",
    "ProviderConfig",
    "RequestDefaults",
    "RetryConfig",
    "UsageConfig",
    "check_price",
    "provider_settings_class",
    "resolve_provider_type",
]

MAX_SECONDS = 86_400.0
"""Upper bound of every duration in seconds (timeouts, backoff delays, cool-downs): one day."""
MAX_DELAY_MS = 3_600_000.0
"""Upper bound of durations in milliseconds (mock latency, usage flush interval): one hour."""
MAX_TTL_S = 2_592_000.0
"""Upper bound of discovery's cache lifetime and refresh interval: 30 days."""
MAX_COUNT = 1_000_000
"""Upper bound of counts (breaker thresholds and window, usage batch size, words per chunk)."""
MAX_TOKENS = 100_000_000
"""Upper bound of a model's context window and output limit, in tokens."""
MAX_WEIGHT = 1_000_000.0
"""Upper bound of a member's weight in a ``weighted`` group."""
MAX_PRICE = Decimal(1_000_000)
"""Upper bound of a price, in USD per million tokens."""
PRICE_PLACES = 12
"""Most decimal places a price may have (trailing zeros do not count)."""

_SEED_BOUND = 2**63


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_base_url(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"expected an http:// or https:// URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL with a host")
    return value


def check_price(value: Decimal | None) -> Decimal | None:
    """``value`` if it is a usable price, with trailing zeros past the last decimal place dropped.

    A price is finite, from 0 to :data:`MAX_PRICE` and has at most :data:`PRICE_PLACES` decimal
    places, so every cost computed from it stays exact and fits the ledger.
    """
    if value is None:
        return None
    if not value.is_finite() or value < 0 or value > MAX_PRICE:
        raise ValueError(f"expected a price from 0 to {MAX_PRICE} USD per million tokens")
    if value == 0:
        return Decimal(0)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if exponent < -PRICE_PLACES:  # drop trailing zeros (exactly: no context rounding)
        zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
        kept = min(exponent + zeros, 0)
        if kept < -PRICE_PLACES:
            raise ValueError(f"expected a price with at most {PRICE_PLACES} decimal places")
        value = Decimal((sign, digits[: len(digits) - (kept - exponent)], kept))
    return value


BoundedPrice = Annotated[Price, AfterValidator(check_price)]


class ProviderConfig(_Strict):
    """One provider entry: where to reach it and how long to wait."""

    type: str | None = None
    api_key: SecretStr | None = None
    base_url: Annotated[str | None, AfterValidator(_check_base_url)] = None
    timeout_s: float = Field(default=60.0, gt=0, le=MAX_SECONDS)
    max_retries: int = Field(default=2, ge=0, le=20)
    headers: dict[str, str] = Field(default_factory=dict, repr=False)  # may carry credentials


MockErrorKind = Literal["rate_limit", "server", "timeout", "auth"]


class MockProviderConfig(ProviderConfig):
    """The built-in mock provider: deterministic replies with injectable latency and faults."""

    latency_ms: float = Field(default=0.0, ge=0, le=MAX_DELAY_MS)
    latency_jitter_ms: float = Field(default=0.0, ge=0, le=MAX_DELAY_MS)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    error_kinds: tuple[MockErrorKind, ...] = ("rate_limit", "server")
    retry_after_s: float = Field(default=1.0, ge=0, le=MAX_SECONDS)
    seed: int = Field(default=0, ge=-_SEED_BOUND, lt=_SEED_BOUND)
    stream_chunk_words: int = Field(default=3, ge=1, le=MAX_COUNT)


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
    from modelwire.factory import ModelFactory  # plugins are looked up only for unknown types

    return ModelFactory.default().settings_class(ptype)


class CostConfig(_Strict):
    """Prices in USD per million tokens."""

    input_per_mtok: BoundedPrice = None
    output_per_mtok: BoundedPrice = None
    cache_read_per_mtok: BoundedPrice = None
    cache_write_per_mtok: BoundedPrice = None
    effective_date: date | None = None


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
    seed: int | None = Field(default=None, ge=-_SEED_BOUND, lt=_SEED_BOUND)
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
