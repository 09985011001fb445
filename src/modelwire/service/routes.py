"""What a model name resolves to for a call, remembered until something it depends on changes.

The service resolves a name on every call: is it a group (or a model with fallbacks, which
runs as one)? which model object? which retry policy? The answers depend only on the registry's
models (``registry.version``), its configuration and the service's groups, so ``Routes`` keeps
the direct ones and drops them all when any of those three changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelwire.providers.base import ChatModel
    from modelwire.registry import ModelRegistry
    from modelwire.routing.group import ModelGroup
    from modelwire.routing.retry import RetryPolicy
    from modelwire.service.groups import GroupRouter
    from modelwire.service.policies import RetryPolicies

__all__ = ["Routes"]

Direct = tuple["ChatModel", "RetryPolicy"]


class Routes:
    """Name → a group, or a model with its retry policy (the latter cached)."""

    __slots__ = ("_cache", "_groups", "_policies", "_registry")

    def __init__(
        self, registry: ModelRegistry, groups: GroupRouter, policies: RetryPolicies
    ) -> None:
        self._registry = registry
        self._groups = groups
        self._policies = policies
        # (registry version, configuration object, groups version) and the routes valid for it;
        # replaced as one tuple, so a route resolved against an older state never lands in the
        # table of a newer one
        self._cache: tuple[tuple[int, object, int], dict[str, Direct]] = ((-1, None, -1), {})

    def resolve(self, name: str) -> ModelGroup | Direct:
        """The group ``name`` runs as, or its model and retry policy (raises for unknown names)."""
        registry = self._registry
        groups = self._groups
        stamp = (registry.version, registry.config, groups.version)
        seen, direct = self._cache
        if seen[0] != stamp[0] or seen[1] is not stamp[1] or seen[2] != stamp[2]:
            direct = {}
            self._cache = (stamp, direct)
        found = direct.get(name)
        if found is not None:
            return found
        group = groups.get(name)
        if group is not None:
            return group
        model = registry.get_model(name)
        found = direct[name] = (model, self._policies.for_model(model.info))
        return found
