"""The groups a ``ModelService`` routes, and what a group call needs to start.

``GroupRouter`` holds the groups one service routes: those under ``groups:`` in the registry's
configuration (built on first use), those added in code with ``add``, the virtual ``auto``
group (every available registered model, ``task_aware``) when no model or group is named so,
and the fallback chain of every model with ``fallbacks: [...]``: calling such a model runs the
failover group ``[model, *fallbacks]``, named after the model, with the model's own retry
settings (``retry:`` with ``max_attempts = 1 + max_retries`` of its provider entry).

Each attempt at a member runs the same machine as a direct call (``service.calls``) with a
one-attempt policy, so it is measured, priced and recorded as one usage event exactly like a
direct call, with the group's name and the attempt's number across the whole group call. The
group's retry policy replaces the members' own: a member is retried only in a later pass over
the group.

Routing hints ride along with the call parameters: ``task_type=`` (a ``TaskType`` or its name)
and ``capabilities=`` (``{"code": "strong"}`` or ``["code:strong", ...]``). They apply to
groups and ``auto``; a plain model id rejects them like any unknown parameter.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from modelwire.capabilities import CapabilityStrength
from modelwire.errors import MissingDependencyError, ModelwireError, ProviderError
from modelwire.routing.group import GroupCall, ModelGroup
from modelwire.routing.health import HealthMonitor, MemberHealth, Probe
from modelwire.routing.retry import SINGLE_ATTEMPT
from modelwire.routing.strategies import RouteHints
from modelwire.routing.tasks import parse_task_type
from modelwire.service.policies import retry_config_for
from modelwire.service.requests import Prompt, build_request
from modelwire.types import ChatRequest, ModelInfo

if TYPE_CHECKING:
    from modelwire.providers.base import ChatModel
    from modelwire.registry import ModelRegistry

__all__ = ["AUTO", "SINGLE_ATTEMPT", "GroupRouter", "Member", "parse_capabilities", "pop_hints"]

Member = Callable[[ModelInfo], "tuple[ChatModel, ChatRequest]"]
"""A group member's model object and its request (the group's, or one with its own defaults)."""

AUTO = "auto"
"""The name of the virtual group of every available model, routed ``task_aware``."""


def parse_capabilities(value: Any) -> dict[str, CapabilityStrength]:
    """``{"code": "strong"}``, ``["code:strong", "reasoning"]`` or ``"code:strong"`` → a dict.

    A capability named without a strength requires ``moderate``.
    """
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): CapabilityStrength.parse(v) for k, v in value.items()}
    items: Iterable[Any] = [value] if isinstance(value, str) else value
    out: dict[str, CapabilityStrength] = {}
    for item in items:
        name, _, strength = str(item).partition(":")
        out[name.strip()] = CapabilityStrength.parse(strength or "moderate")
    return out


def pop_hints(params: dict[str, Any]) -> RouteHints | None:
    """Remove ``task_type`` and ``capabilities`` from call parameters; the hints they give."""
    task = params.pop("task_type", None)
    caps = params.pop("capabilities", None)
    if task is None and caps is None:
        return None
    return RouteHints(
        task_type=parse_task_type(task) if task is not None else None,
        capabilities=parse_capabilities(caps) or None,
    )


class GroupRouter:
    """The groups of one ``ModelService``, and how a request runs through one."""

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry
        self._lock = threading.Lock()
        self._config: Any = None  # the registry configuration the table was built from
        self._configured: dict[str, tuple[Any, ModelGroup]] = {}  # name -> (its config, group)
        self._added: dict[str, ModelGroup] = {}
        self._groups: dict[str, ModelGroup] = {}
        self._names: dict[str, ModelGroup] = {}
        self._auto: ModelGroup | None = None
        self._chains: dict[str, ModelGroup] = {}
        self._version = 0

    # the table --------------------------------------------------------------------------------

    def _table(self) -> dict[str, ModelGroup]:
        """The groups by name, rebuilt when the registry's configuration was replaced.

        A configured group whose entry did not change keeps its object (and so its breakers
        and latency averages); groups added in code survive a reload.
        """
        config = self._registry.config
        if config is not self._config:
            with self._lock:
                if config is not self._config:
                    configured: dict[str, tuple[Any, ModelGroup]] = {}
                    for name, cfg in config.groups.items():
                        old = self._configured.get(name)
                        keep = old is not None and old[0] == cfg
                        group = old[1] if old and keep else ModelGroup.from_config(name, cfg)
                        configured[name] = (cfg, group)
                    self._configured = configured
                    self._config = config
                    self._rebuild()
        return self._groups

    @property
    def version(self) -> int:
        """A number that grows whenever the set of groups or their names change."""
        self._table()
        return self._version

    def _rebuild(self) -> None:
        """Recompute the name tables (caller holds the lock); code-added groups win."""
        groups = {name: group for name, (_, group) in self._configured.items()}
        groups.update(self._added)
        names: dict[str, ModelGroup] = {}
        for group in groups.values():
            names[group.name] = group
        for group in groups.values():
            for alias in group.aliases:
                names.setdefault(alias, group)
        self._groups, self._names = groups, names
        self._version += 1

    def add(self, group: ModelGroup, *, replace: bool = False) -> ModelGroup:
        """Route ``group`` by its name and aliases (``replace`` an existing one of that name)."""
        self._table()
        with self._lock:
            if group.name in self._groups and not replace:
                raise ValueError(f"group {group.name!r} already exists (pass replace=True)")
            self._added = {**self._added, group.name: group}
            self._rebuild()
        return group

    def remove(self, name: str) -> None:
        """Stop routing a group added in code (calls already running finish normally)."""
        self._table()
        with self._lock:
            if name in self._configured and name not in self._added:
                raise ValueError(f"group {name!r} comes from configuration; change it there")
            self._added = {k: v for k, v in self._added.items() if k != name}
            self._rebuild()

    def names(self) -> list[str]:
        """The names of the configured and added groups."""
        return sorted(self._table())

    def get(self, name: str) -> ModelGroup | None:
        """The group called ``name`` (or with that alias); ``auto`` unless a model has the name."""
        self._table()
        group = self._names.get(name)
        if group is not None:
            return group
        aliases = self._registry.config.aliases
        target = aliases.get(name)
        for _ in range(len(aliases)):  # a top-level alias of a group (maybe through aliases)
            if target is None or target in self._names:
                break
            target = aliases.get(target)
        if target is not None and target in self._names:
            return self._names[target]
        if name == AUTO and not self._registry.is_registered(name):
            return self._auto_group()
        return self._fallback_chain(name)

    def _fallback_chain(self, name: str) -> ModelGroup | None:
        """A model with ``fallbacks:`` runs as a failover group named after it."""
        registry = self._registry
        try:
            info = registry.get_model_info(name)
        except ModelwireError:
            return None  # the service's own lookup raises the error with suggestions
        if not info.fallbacks:
            return None
        members = tuple(dict.fromkeys((info.id, *info.fallbacks)))
        chain = self._chains.get(info.id)
        if chain is not None and chain.members == members:
            return chain
        retry = retry_config_for(registry, info)
        with self._lock:
            chain = self._chains.get(info.id)
            if chain is None or chain.members != members:
                chain = ModelGroup(info.id, members, strategy="failover", retry=retry)
                self._chains = {**self._chains, info.id: chain}
        return chain

    def _auto_group(self) -> ModelGroup:
        members = tuple(m.id for m in self._registry.list_models() if m.available)
        auto = self._auto
        if auto is not None and auto.members == members:
            return auto
        if not members:
            raise ModelwireError("'auto' needs at least one registered model")
        with self._lock:
            auto = self._auto
            if auto is None or auto.members != members:
                retry = self._registry.config.retry
                auto = ModelGroup(AUTO, members, strategy="task_aware", retry=retry)
                self._auto = auto
        return auto

    def health(self) -> dict[str, Any]:
        """Each group's ``health()``, by name."""
        return {name: group.health() for name, group in sorted(self._table().items())}

    def members_of(self, name: str) -> dict[str, MemberHealth]:
        """``model id → MemberHealth`` of the group called ``name`` now ({} once it is gone)."""
        group = self._table().get(name)
        return {} if group is None else {m: group.member_health(m) for m in group.members}

    def start_monitors(
        self, probe: Probe, interval_s: float, *, probe_all: bool = False
    ) -> list[HealthMonitor]:
        """One started ``HealthMonitor`` per group: it probes that group's members whose breaker
        is open (every member with ``probe_all``) and feeds the results to their breakers."""
        return [
            HealthMonitor(
                probe, functools.partial(self.members_of, name), interval_s, probe_all=probe_all
            ).start()
            for name in sorted(self._table())
        ]

    # running requests ------------------------------------------------------------------------

    def start(
        self, group: ModelGroup, prompt: Prompt, params: Mapping[str, Any]
    ) -> tuple[GroupCall, Member]:
        """Plan one call through ``group``: its ``GroupCall`` (routing's state machine) and how
        to get each member's model object and request."""
        rest = dict(params)
        hints = pop_hints(rest)
        request = build_request(prompt, rest)
        registry = self._registry

        def member(info: ModelInfo) -> tuple[ChatModel, ChatRequest]:
            try:
                model = registry.get_model(info.id)
            except ProviderError:
                raise
            except ModelwireError as err:  # a member that cannot be built: fail over, no retry
                raise ProviderError(
                    str(err),
                    provider=info.provider,
                    model_id=info.id,
                    retryable=False,
                    provider_wide=isinstance(err, MissingDependencyError),
                ) from err
            defaults = model.info.params
            return model, build_request(prompt, rest, defaults) if defaults else request

        return group.start(request, registry.get_model_info, hints), member
