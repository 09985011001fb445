"""ModelService: the one object applications call models through.

``invoke_model`` resolves a name (id, alias, enum member or group), builds a ``ChatRequest``,
calls the model with the retry policy, and returns a ``ChatResponse`` with usage, exact cost and
latency. Every attempt, failed ones included, is one ``UsageEvent`` sent to the ledger.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelwire.assemble import plain_request
from modelwire.errors import ModelwireError, ProviderError
from modelwire.service.attempt import Attempt
from modelwire.service.batch import BatchCalls, BatchResult
from modelwire.service.binding import BoundModel
from modelwire.service.groups import SINGLE_ATTEMPT, GroupRouter
from modelwire.service.routes import Routes
from modelwire.service.streaming import StreamCalls
from modelwire.types import ChatRequest, ChatResponse, Message, normalise_messages

if TYPE_CHECKING:
    from modelwire.providers.base import ChatModel
    from modelwire.registry.model_registry import ModelRegistry
    from modelwire.routing.health import HealthMonitor
    from modelwire.routing.retry import RetryPolicy
    from modelwire.usage.events import UsageSink

__all__ = ["BatchResult", "BoundModel", "ModelService", "Prompt"]

Prompt = str | Message | Mapping[str, Any] | Sequence[Message | Mapping[str, Any]]

_REQUEST_FIELDS = frozenset(
    ("system", "max_tokens", "temperature", "top_p", "stop", "seed", "timeout")
)
_ACCEPTED = _REQUEST_FIELDS | {"provider_params"}


class ModelService(StreamCalls, BatchCalls):
    """Invoke models by name: plain, streaming, async and batch, with usage recorded per attempt."""

    def __init__(
        self,
        registry: ModelRegistry | None = None,
        ledger: UsageSink | None = None,
        *,
        default_model: str | None = None,
        caller: str | None = None,
        store_prompts: bool = False,
    ) -> None:
        if registry is None:
            from modelwire.registry.model_registry import ModelRegistry

            registry = ModelRegistry.from_config()
        self.registry = registry
        self.ledger = ledger
        self.default_model = default_model or registry.config.default_model
        self.caller = caller if caller is not None else registry.config.caller
        self.store_prompts = store_prompts
        self._policies: dict[str, RetryPolicy] = {}
        self._policies_for: object = None
        #: Model groups routed by name (``groups:`` in configuration, ``auto``, or ``add``ed).
        self.groups = GroupRouter(self)
        #: Names resolved to a group or a model and its retry policy (cached per registry state).
        self.routes = Routes(self)
        self._monitors: list[HealthMonitor] = []

    def __repr__(self) -> str:
        return (
            f"ModelService(models={len(self.registry)}, default_model={self.default_model!r}, "
            f"caller={self.caller!r}, ledger={type(self.ledger).__name__ if self.ledger else None})"
        )

    # request building ---------------------------------------------------------------------

    def _name(self, model: str | None) -> str:
        name = model if model is not None else self.default_model
        if not name:
            raise ModelwireError("no model given and no default_model configured")
        return str(name)

    @staticmethod
    def build_request(
        prompt: Prompt, params: Mapping[str, Any], defaults: Mapping[str, Any] | None = None
    ) -> ChatRequest:
        """A ``ChatRequest`` from a prompt and call parameters; ``defaults`` fill unset fields."""
        if type(prompt) is str and not defaults:  # the common call: a prompt, plain parameters
            request = plain_request(prompt, params)
            if request is not None:
                return request
        if not params and not defaults:
            return ChatRequest(messages=normalise_messages(prompt))
        fields: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        if defaults:
            for key, value in defaults.items():
                (fields if key in _REQUEST_FIELDS else extra)[key] = value
        for key, value in params.items():
            if key in _REQUEST_FIELDS:
                if value is not None:
                    fields[key] = value
            elif key != "provider_params":
                unknown = sorted(set(params) - _ACCEPTED)
                raise TypeError(f"unexpected parameter(s): {', '.join(unknown)}")
        stop = fields.get("stop")
        if isinstance(stop, str):
            fields["stop"] = (stop,)
        elif stop is not None:
            fields["stop"] = tuple(stop)
        passthrough = params.get("provider_params")
        if passthrough:
            extra.update(passthrough)
        return ChatRequest(messages=normalise_messages(prompt), provider_params=extra, **fields)

    def _retry_policy(self, model: ChatModel) -> RetryPolicy:
        """The model's ``retry:`` from its configuration entry, else the global ``retry:`` with
        ``max_attempts = 1 + max_retries`` of its provider entry (cached per configuration)."""
        config = self.registry.config
        if config is not self._policies_for:
            self._policies, self._policies_for = {}, config
        entry = config.models.get(model.info.id)
        key = (
            model.info.id if entry is not None and entry.retry is not None else model.provider.name
        )
        policy = self._policies.get(key)
        if policy is None:
            from modelwire.routing.retry import RetryPolicy

            if entry is not None and entry.retry is not None:
                retry = entry.retry
            else:
                attempts = 1 + model.provider.config.max_retries
                retry = config.retry.model_copy(update={"max_attempts": attempts})
            policy = RetryPolicy.from_config(retry)
            self._policies[key] = policy
        return policy

    def _attempt(
        self,
        model: ChatModel,
        request: ChatRequest,
        caller: str | None,
        group: str | None,
        attempt: int,
        stream: bool = False,
    ) -> Attempt:
        return Attempt(
            self.ledger,
            model,
            request,
            caller=caller,
            group=group,
            attempt=attempt,
            stream=stream,
            store_prompts=self.store_prompts,
            observer=self.registry.observe,
        )

    # plain calls --------------------------------------------------------------------------

    def invoke_model(
        self,
        model: str | None = None,
        prompt: Prompt = "",
        *,
        caller: str | None = None,
        **params: Any,
    ) -> ChatResponse:
        """Call a model (id, alias, enum member or group) and wait for the answer.

        ``params`` are ``system``, ``max_tokens``, ``temperature``, ``top_p``, ``stop``, ``seed``,
        ``timeout`` and ``provider_params`` (passed to the provider untouched). A group (or
        ``auto``) also takes the routing hints ``task_type`` and ``capabilities``.
        """
        route = self.routes.resolve(self._name(model))
        if not isinstance(route, tuple):
            return self.groups.invoke(route, prompt, params, caller)
        target, policy = route
        request = self.build_request(prompt, params, target.info.params)
        return self.call(target, request, caller=caller, policy=policy)

    __call__ = invoke_model

    def call(
        self,
        model: ChatModel,
        request: ChatRequest,
        *,
        caller: str | None = None,
        group: str | None = None,
        first_attempt: int = 1,
        policy: RetryPolicy | None = None,
    ) -> ChatResponse:
        """Run ``request`` on a model object with its retry policy, recording every attempt.

        ``policy`` replaces the model's own retry policy (groups pass a one-attempt policy).
        """
        if policy is None:
            policy = self._retry_policy(model)
        who = caller if caller is not None else self.caller
        attempt = first_attempt
        while True:
            rec = self._attempt(model, request, who, group, attempt)
            try:
                response = model.invoke(request)
            except BaseException as err:
                rec.failed(err, "cancelled" if isinstance(err, KeyboardInterrupt) else "error")
                if not (isinstance(err, ProviderError) and policy.should_retry(err, attempt)):
                    raise
                policy.sleep(policy.delay(err, attempt))
                attempt += 1
                continue
            return rec.succeeded(response)

    async def ainvoke_model(
        self,
        model: str | None = None,
        prompt: Prompt = "",
        *,
        caller: str | None = None,
        **params: Any,
    ) -> ChatResponse:
        """The same as ``invoke_model``, for asyncio."""
        route = self.routes.resolve(self._name(model))
        if not isinstance(route, tuple):
            return await self.groups.ainvoke(route, prompt, params, caller)
        target, policy = route
        request = self.build_request(prompt, params, target.info.params)
        return await self.acall(target, request, caller=caller, policy=policy)

    async def acall(
        self,
        model: ChatModel,
        request: ChatRequest,
        *,
        caller: str | None = None,
        group: str | None = None,
        first_attempt: int = 1,
        policy: RetryPolicy | None = None,
    ) -> ChatResponse:
        """The same as ``call``, for asyncio.

        ``policy`` replaces the model's own retry policy (groups pass a one-attempt policy).
        """
        if policy is None:
            policy = self._retry_policy(model)
        who = caller if caller is not None else self.caller
        attempt = first_attempt
        while True:
            rec = self._attempt(model, request, who, group, attempt)
            try:
                response = await model.ainvoke(request)
            except BaseException as err:
                cancelled = isinstance(err, asyncio.CancelledError | KeyboardInterrupt)
                rec.failed(err, "cancelled" if cancelled else "error")
                if not (isinstance(err, ProviderError) and policy.should_retry(err, attempt)):
                    raise
                await policy.asleep(policy.delay(err, attempt))
                attempt += 1
                continue
            return rec.succeeded(response)

    # health, binding and lifetime ---------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Per-model call statistics (from the registry) and every group's routing state:
        breakers, latency averages, call counts."""
        return {"models": self.registry.health(), "groups": self.groups.health()}

    def start_health_monitor(
        self, interval_s: float = 60.0, *, probe_all: bool = False
    ) -> list[HealthMonitor]:
        """Probe the groups' members in the background every ``interval_s`` and feed their
        circuit breakers, so a failed member is found healthy again without user traffic.

        Only members whose breaker is open are probed unless ``probe_all`` (each probe is one
        real, billed request with ``max_tokens=1``). ``close()`` stops the monitors.
        """
        monitors = self.groups.start_monitors(self._probe, interval_s, probe_all=probe_all)
        self._monitors.extend(monitors)
        return monitors

    def _probe(self, model_id: str) -> None:
        model = self.registry.get_model(model_id)
        request = self.build_request("ping", {"max_tokens": 1}, model.info.params)
        self.call(model, request, caller="health-monitor", policy=SINGLE_ATTEMPT)

    def bind(self, model: str | None = None, **params: Any) -> BoundModel:
        """A model with parameters fixed: ``service.bind("mini", temperature=0).max_tokens(50)``."""
        return BoundModel(self, self._name(model), params)

    def close(self) -> None:
        """Stop health monitors, flush and close the ledger (if it can be closed) and release
        provider clients."""
        monitors, self._monitors = self._monitors, []
        for monitor in monitors:
            monitor.stop()
        closer = getattr(self.ledger, "close", None)
        if callable(closer):
            closer()
        self.registry.close()

    def __enter__(self) -> ModelService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
