"""What a model name resolves to for a call, remembered until something it depends on changes.

``ModelService`` resolves a name on every call: is it a group (or a model with fallbacks, which
runs as one)? which model object? which retry policy? The answers depend only on the registry's
models (``registry.version``), its configuration and the service's groups, so ``Routes`` keeps
the direct ones and drops them all when any of those three changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelwire.providers.base import ChatModel
    from modelwire.routing.group import ModelGroup
    from modelwire.routing.retry import RetryPolicy
    from modelwire.service.model_service import ModelService

__all__ = ["Routes"]

Direct = tuple["ChatModel", "RetryPolicy"]


class Routes:
    """Name → a group, or a model with its retry policy (the latter cached)."""

    __slots__ = ("_cache", "_service")

    def __init__(self, service: ModelService) -> None:
        self._service = service
        # (registry version, configuration object, groups version) and the routes valid for it;
        # replaced as one tuple, so a route resolved against an older state never lands in the
        # table of a newer one
        self._cache: tuple[tuple[int, object, int], dict[str, Direct]] = ((-1, None, -1), {})

    def resolve(self, name: str) -> ModelGroup | Direct:
        """The group ``name`` runs as, or its model and retry policy (raises for unknown names)."""
        service = self._service
        registry = service.registry
        stamp = (registry.version, registry.config, service.groups.version)
        seen, direct = self._cache
        if seen[0] != stamp[0] or seen[1] is not stamp[1] or seen[2] != stamp[2]:
            direct = {}
            self._cache = (stamp, direct)
        found = direct.get(name)
        if found is not None:
            return found
        group = service.groups.get(name)
        if group is not None:
            return group
        model = registry.get_model(name)
        found = direct[name] = (model, service._retry_policy(model))
        return found
