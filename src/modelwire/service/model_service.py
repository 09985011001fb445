"""ModelService: the one object applications call models through.

``invoke_model`` resolves a name (id, alias, enum member or group), builds a ``ChatRequest``,
and runs the call machine for it (``service.calls``): attempts, retries and failover, each
attempt measured, priced and sent to the ledger as one usage event. The sync, async and
streaming methods differ only in the driver that runs the machine (``modelwire.machines``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from modelwire.errors import ModelwireError
from modelwire.machines import Machine, arun, arun_stream, run, run_stream
from modelwire.output import OutputSpec
from modelwire.routing.retry import SINGLE_ATTEMPT
from modelwire.service.attempt import Recorder
from modelwire.service.batch import BatchResult, arun_batch, run_batch
from modelwire.service.binding import BoundModel
from modelwire.service.calls import group_run, model_call, model_stream
from modelwire.service.groups import GroupRouter
from modelwire.service.limiting import wait_seconds
from modelwire.service.outputs import output_run
from modelwire.service.policies import RetryPolicies
from modelwire.service.requests import Prompt, build_request, check_features
from modelwire.service.routes import Routes
from modelwire.service.tool_runs import ToolErrors, ToolRun, tool_run
from modelwire.tools import Tool, as_tools
from modelwire.types import ChatResponse, Message, StreamEvent, normalise_messages
from modelwire.usage.limits import Limits

if TYPE_CHECKING:
    from modelwire.registry import ModelRegistry
    from modelwire.routing.health import HealthMonitor
    from modelwire.usage.events import UsageSink
    from modelwire.usage.limit_rules import Limit

__all__ = ["BatchResult", "BoundModel", "ModelService", "Prompt", "ToolRun"]


class ModelService:
    """Invoke models by name: plain, streaming, async and batch, with usage recorded per attempt."""

    def __init__(
        self,
        registry: ModelRegistry | None = None,
        ledger: UsageSink | None = None,
        *,
        default_model: str | None = None,
        caller: str | None = None,
        store_prompts: bool = False,
        limits: Limits | Sequence[Limit] | None = None,
    ) -> None:
        if registry is None:
            from modelwire.registry import ModelRegistry

            registry = ModelRegistry.from_config()
        self.registry = registry
        self._recorder = Recorder(ledger, store_prompts=store_prompts, observer=registry.observe)
        #: Budgets and rates, reserved before each attempt and settled after it, in the
        #: ledger's database (``limits:`` in configuration, ``limits=``, or ``limits.add``).
        self.limits = self._limits_of(limits)
        self._recorder.limits = self.limits
        self.default_model = default_model or registry.config.default_model
        self.caller = caller if caller is not None else registry.config.caller
        #: Retry policies by model (``retry:`` in configuration).
        self.policies = RetryPolicies(registry)
        #: Model groups routed by name (``groups:`` in configuration, ``auto``, or ``add``ed).
        self.groups = GroupRouter(registry)
        #: Names resolved to a group or a model and its retry policy (cached per registry state).
        self.routes = Routes(registry, self.groups, self.policies)
        self._monitors: list[HealthMonitor] = []

    def __repr__(self) -> str:
        ledger = self.ledger
        return (
            f"ModelService(models={len(self.registry)}, default_model={self.default_model!r}, "
            f"caller={self.caller!r}, ledger={type(ledger).__name__ if ledger else None})"
        )

    def _limits_of(self, given: Limits | Sequence[Limit] | None) -> Limits:
        if isinstance(given, Limits):
            if not given.has_database:
                given.attach(self._ledger_engine)
            return given
        config = self.registry.config
        made = Limits.from_config(
            config.limits, self._ledger_engine, lease_s=config.usage.reservation_lease_s
        )
        for limit in given or ():
            made.add(limit)
        return made

    def _ledger_engine(self) -> Any:
        ledger = self._recorder.sink
        engine = getattr(ledger, "engine", None)
        if engine is None:
            raise ModelwireError(
                "limits are kept in the ledger's database: give the service a UsageLedger"
            )
        return engine

    @property
    def ledger(self) -> UsageSink | None:
        """Where every attempt's usage event goes (``None``: nowhere)."""
        return self._recorder.sink

    @ledger.setter
    def ledger(self, sink: UsageSink | None) -> None:
        self._recorder.sink = sink

    @property
    def store_prompts(self) -> bool:
        """Whether usage events carry the prompt and the output text."""
        return self._recorder.store_prompts

    @store_prompts.setter
    def store_prompts(self, value: bool) -> None:
        self._recorder.store_prompts = value

    build_request = staticmethod(build_request)

    # the machine of one call ------------------------------------------------------------------

    def _machine(
        self, model: str | None, prompt: Prompt, params: dict[str, Any], stream: bool
    ) -> Machine[Any]:
        retries = params.pop("output_retries", 0)
        if params.get("output") is None:
            if retries:
                raise ValueError("output_retries: there is no output= to validate")
            return self._call(model, prompt, params, stream)
        spec = OutputSpec.of(params["output"])
        params["output"] = spec
        if stream:  # the final event is validated; its text already reached the consumer
            if retries:
                raise ValueError("output_retries: a stream cannot ask again (its text is out)")
            return self._call(model, prompt, params, stream)
        return output_run(
            lambda messages, run_id: self._call(model, messages, dict(params), False, run_id),
            normalise_messages(prompt),
            spec,
            retries=retries,
        )

    def _call(
        self,
        model: str | None,
        prompt: Prompt,
        params: dict[str, Any],
        stream: bool,
        run_id: str | None = None,
    ) -> Machine[Any]:
        name = model if model is not None else self.default_model
        if not name:
            raise ModelwireError("no model given and no default_model configured")
        caller = params.pop("caller", None)
        who = caller if caller is not None else self.caller
        wait = wait_seconds(params.pop("wait_for_rate")) if "wait_for_rate" in params else 0.0
        route = self.routes.resolve(str(name))
        if isinstance(route, tuple):
            target, policy = route
            request = build_request(prompt, params, target.info.params)
            if target.info.features is not None and not request.is_plain:
                check_features(target.info, request)
            attempts = model_stream if stream else model_call
            return attempts(
                self._recorder, target, request, policy, caller=who, run_id=run_id, wait_s=wait
            )
        run_, member = self.groups.start(route, prompt, params)
        return group_run(
            self._recorder, run_, member, caller=who, stream=stream, run_id=run_id, wait_s=wait
        )

    # the four call styles ---------------------------------------------------------------------

    def invoke_model(
        self, model: str | None = None, prompt: Prompt = "", **params: Any
    ) -> ChatResponse:
        """Call a model (id, alias, enum member or group) and wait for the answer.

        ``params`` are ``system``, ``max_tokens``, ``temperature``, ``top_p``, ``stop``, ``seed``,
        ``timeout`` and ``provider_params`` (passed to the provider untouched), and ``caller``
        (the name its usage rows carry; the service's own by default), and ``wait_for_rate``
        (``True`` or seconds: wait for a rate limit rather than raise ``RateLimitedError``). A
        group (or ``auto``) also takes the routing hints ``task_type`` and ``capabilities``.
        """
        return run(self._machine(model, prompt, params, False))  # type: ignore[no-any-return]

    __call__ = invoke_model

    async def ainvoke_model(
        self, model: str | None = None, prompt: Prompt = "", **params: Any
    ) -> ChatResponse:
        """The same as ``invoke_model``, for asyncio."""
        return await arun(self._machine(model, prompt, params, False))

    def stream_model(
        self, model: str | None = None, prompt: Prompt = "", **params: Any
    ) -> Iterator[StreamEvent]:
        """Yield ``StreamEvent``s as text arrives; the last has ``done=True``, usage and cost.

        A retryable failure is retried only before any text has reached the caller (and a
        group fails over only then). Closing the iterator early records the attempt as
        cancelled and closes the provider's stream.
        """
        return run_stream(self._machine(model, prompt, params, True))

    def astream_model(
        self, model: str | None = None, prompt: Prompt = "", **params: Any
    ) -> AsyncIterator[StreamEvent]:
        """The same as ``stream_model``, as an async iterator."""
        return arun_stream(self._machine(model, prompt, params, True))

    def invoke_batch(
        self,
        model: str | None,
        prompts: Sequence[Prompt],
        *,
        max_concurrency: int = 8,
        **params: Any,
    ) -> list[BatchResult]:
        """Call one model with many prompts, at most ``max_concurrency`` at once.

        Results come back in input order; an item that fails carries its error and the others
        are unaffected.
        """
        return run_batch(lambda p: self.invoke_model(model, p, **params), prompts, max_concurrency)

    async def ainvoke_batch(
        self,
        model: str | None,
        prompts: Sequence[Prompt],
        *,
        max_concurrency: int = 8,
        **params: Any,
    ) -> list[BatchResult]:
        """The same as ``invoke_batch``, for asyncio."""
        return await arun_batch(
            lambda p: self.ainvoke_model(model, p, **params),
            prompts,
            max_concurrency,
        )

    # the tool loop -------------------------------------------------------------------------

    def run_tools(
        self,
        model: str | None,
        prompt: Prompt,
        *,
        tools: Sequence[Tool | type[BaseModel] | Callable[..., Any]],
        max_rounds: int = 8,
        tool_errors: ToolErrors = "result",
        **params: Any,
    ) -> ToolRun:
        """Call ``model`` with ``tools``, run the tools it asks for (plain or ``async def``
        functions), send their results back, and repeat until it answers without a tool call.

        Returns a ``ToolRun``: the final response, the whole history and the run's id, which
        every round's usage rows carry. A tool that raises becomes an error result the model
        sees (``tool_errors="raise"`` re-raises it instead); after ``max_rounds`` calls that
        still ask for tools, ``ToolRoundsExceededError`` (its ``run`` has the history).
        """
        return run(self._tool_run(model, prompt, tools, max_rounds, tool_errors, params))

    async def arun_tools(
        self,
        model: str | None,
        prompt: Prompt,
        *,
        tools: Sequence[Tool | type[BaseModel] | Callable[..., Any]],
        max_rounds: int = 8,
        tool_errors: ToolErrors = "result",
        **params: Any,
    ) -> ToolRun:
        """The same as ``run_tools``, for asyncio (plain tool functions run in worker threads)."""
        return await arun(self._tool_run(model, prompt, tools, max_rounds, tool_errors, params))

    def _tool_run(
        self,
        model: str | None,
        prompt: Prompt,
        tools: Sequence[Tool | type[BaseModel] | Callable[..., Any]],
        max_rounds: int,
        errors: ToolErrors,
        params: dict[str, Any],
    ) -> Machine[ToolRun]:
        resolved = as_tools(tools)
        retries = params.pop("output_retries", 0)
        spec = OutputSpec.of(params["output"]) if params.get("output") is not None else None
        if spec is not None:
            params["output"] = spec

        def one_round(messages: list[Message], run_id: str) -> Machine[ChatResponse]:
            return self._call(model, messages, {**params, "tools": resolved}, False, run_id)

        return tool_run(
            one_round,
            normalise_messages(prompt),
            resolved,
            max_rounds=max_rounds,
            errors=errors,
            output=spec,
            output_retries=retries,
        )

    # health, binding and lifetime -------------------------------------------------------------

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
        request = build_request("ping", {"max_tokens": 1}, model.info.params)
        run(model_call(self._recorder, model, request, SINGLE_ATTEMPT, caller="health-monitor"))

    def bind(self, model: str | None = None, **params: Any) -> BoundModel:
        """A model with parameters fixed: ``service.bind("mini", temperature=0).max_tokens(50)``."""
        name = model if model is not None else self.default_model
        if not name:
            raise ModelwireError("no model given and no default_model configured")
        return BoundModel(self, str(name), params)

    def close(self) -> None:
        """Stop health monitors, flush and close the ledger (if it can be closed) and release
        provider clients."""
        monitors, self._monitors = self._monitors, []
        for monitor in monitors:
            monitor.stop()
        self.limits.close()
        closer = getattr(self.ledger, "close", None)
        if callable(closer):
            closer()
        self.registry.close()

    def __enter__(self) -> ModelService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
