"""Which retry policy a model's calls run with.

A model's own ``retry:`` entry in configuration wins; otherwise the global ``retry:`` with
``max_attempts = 1 + max_retries`` of its provider entry. Policies are built once per
configuration and shared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelwire.errors import ModelwireError
from modelwire.routing.retry import RetryPolicy

if TYPE_CHECKING:
    from modelwire.config.schema import RetryConfig
    from modelwire.registry import ModelRegistry
    from modelwire.types import ModelInfo

__all__ = ["RetryPolicies", "retry_config_for"]


def retry_config_for(registry: ModelRegistry, info: ModelInfo) -> RetryConfig:
    """The ``retry:`` settings the calls of ``info`` run with (see the module docstring)."""
    config = registry.config
    entry = config.models.get(info.id)
    if entry is not None and entry.retry is not None:
        return entry.retry
    try:
        max_retries = registry.provider(info.provider).config.max_retries
    except (KeyError, ModelwireError):
        return config.retry
    return config.retry.model_copy(update={"max_attempts": 1 + max_retries})


class RetryPolicies:
    """``RetryPolicy`` objects by model, rebuilt when the registry's configuration is replaced."""

    __slots__ = ("_config", "_policies", "_registry")

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry
        self._config: object = None
        self._policies: dict[str, RetryPolicy] = {}

    def for_model(self, info: ModelInfo) -> RetryPolicy:
        """The policy of ``info``'s calls (shared by every model of a provider entry that has
        no ``retry:`` of its own)."""
        config = self._registry.config
        if config is not self._config:
            self._policies, self._config = {}, config
        entry = config.models.get(info.id)
        own = entry is not None and entry.retry is not None
        key = info.id if own else info.provider
        policy = self._policies.get(key)
        if policy is None:
            policy = self._policies[key] = RetryPolicy.from_config(
                retry_config_for(self._registry, info)
            )
        return policy
