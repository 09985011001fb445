"""The namespace access style and the lazily built default service.

    from modelwire import models
    models.openai.gpt_4o_mini("Hello")         # -> ChatResponse, through default_service()
    models.anthropic.claude_sonnet_4_5.stream("Hi")

Attribute names match model names with dots, dashes and underscores treated alike. The default
service is built on first use from the default configuration search (``load_config()``), with a
usage ledger when ``usage.enabled`` is true; ``set_default_service`` replaces it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from modelwire.naming import suggest

if TYPE_CHECKING:
    from modelwire.service.binding import BoundModel
    from modelwire.service.model_service import ModelService

__all__ = [
    "ModelNamespace",
    "ProviderNamespace",
    "default_service",
    "models",
    "set_default_service",
]

_default: ModelService | None = None
_default_lock = threading.Lock()


def default_service() -> ModelService:
    """The process-wide service behind ``models``, built once on first use."""
    global _default
    service = _default
    if service is not None:
        return service
    with _default_lock:
        if _default is None:
            _default = _build_default()
        return _default


def set_default_service(service: ModelService | None) -> None:
    """Replace the default service (``None`` rebuilds it from configuration on next use)."""
    global _default
    with _default_lock:
        _default = service


def _build_default() -> ModelService:
    from modelwire.config.loader import load_config
    from modelwire.registry.model_registry import ModelRegistry
    from modelwire.service.model_service import ModelService

    config = load_config()
    registry = ModelRegistry.from_config(config)
    ledger = None
    if config.usage.enabled:
        from modelwire.usage.ledger import UsageLedger

        ledger = UsageLedger(
            config.usage.database,
            batch_size=config.usage.batch_size,
            flush_interval_ms=config.usage.flush_interval_ms,
            store_prompts=config.usage.store_prompts,
        )
    return ModelService(registry, ledger, store_prompts=config.usage.store_prompts)


class ProviderNamespace:
    """``models.<provider>``: attributes are that provider's models, as ``BoundModel``s."""

    __slots__ = ("_provider", "_service")

    def __init__(self, provider: str, service: ModelService | None = None) -> None:
        self._provider = provider
        self._service = service

    def _svc(self) -> ModelService:
        return self._service or default_service()

    def __getattr__(self, attr: str) -> BoundModel:
        if attr.startswith("__"):
            raise AttributeError(attr)
        service = self._svc()
        model_id = service.registry.resolve_attribute(self._provider, attr)
        return service.bind(model_id)

    def __dir__(self) -> list[str]:
        from modelwire.naming import normalise

        registry = self._svc().registry
        return sorted(normalise(i.name) for i in registry.list_models(self._provider))

    def __repr__(self) -> str:
        return f"<models.{self._provider}>"


class ModelNamespace:
    """``models``: attributes are the configured provider entries."""

    __slots__ = ("_service",)

    def __init__(self, service: ModelService | None = None) -> None:
        self._service = service

    def __getattr__(self, provider: str) -> ProviderNamespace:
        if provider.startswith("__"):
            raise AttributeError(provider)
        service = self._service or default_service()
        if provider not in service.registry.providers:
            from modelwire.errors import ModelNotFoundError

            raise ModelNotFoundError(
                f"models.{provider}",
                [f"models.{p}" for p in suggest(provider, service.registry.providers)],
                detail="no such provider is configured",
            )
        return ProviderNamespace(provider, self._service)

    def __dir__(self) -> list[str]:
        return sorted((self._service or default_service()).registry.providers)

    def __repr__(self) -> str:
        return "<modelwire.models>"


models = ModelNamespace()
