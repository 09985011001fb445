"""BoundModel: a model name with call parameters fixed, set through chainable methods.

    fast = service.bind("mini", temperature=0).max_tokens(50).system("Be brief.")
    fast("Hello").text
    extract = service.bind("mini").output(City, retries=1)
    extract("The largest city of Japan?").output   # City(name='Tokyo', ...)

Each setter returns a new ``BoundModel``; the original is unchanged, so bound models can be shared
between threads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from modelwire.output import OutputMode
    from modelwire.registry import ModelRegistry
    from modelwire.service.batch import BatchResult
    from modelwire.service.requests import Prompt
    from modelwire.types import ChatResponse, ModelInfo, StreamEvent

__all__ = ["BoundModel", "Invoker"]


class Invoker(Protocol):
    """What a ``BoundModel`` calls through: ``ModelService`` is one."""

    registry: ModelRegistry

    def invoke_model(
        self, model: str | None = None, prompt: Prompt = "", **params: Any
    ) -> ChatResponse: ...

    async def ainvoke_model(
        self, model: str | None = None, prompt: Prompt = "", **params: Any
    ) -> ChatResponse: ...

    def stream_model(
        self, model: str | None = None, prompt: Prompt = "", **params: Any
    ) -> Iterator[StreamEvent]: ...

    def astream_model(
        self, model: str | None = None, prompt: Prompt = "", **params: Any
    ) -> AsyncIterator[StreamEvent]: ...

    def invoke_batch(
        self,
        model: str | None,
        prompts: Sequence[Prompt],
        *,
        max_concurrency: int = 8,
        **params: Any,
    ) -> list[BatchResult]: ...


class BoundModel:
    """A model plus fixed parameters, with the service's invoke methods."""

    __slots__ = ("_model", "_params", "_service")

    def __init__(self, service: Invoker, model: str, params: Mapping[str, Any] | None = None):
        self._service = service
        self._model = model
        self._params: dict[str, Any] = dict(params or {})

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self._params.items())
        return f"BoundModel({self._model!r}{extra})"

    @property
    def model(self) -> str:
        """The model name this binding calls."""
        return self._model

    @property
    def params(self) -> Mapping[str, Any]:
        """The fixed call parameters."""
        return dict(self._params)

    @property
    def info(self) -> ModelInfo:
        """The registry's metadata for the bound model."""
        return self._service.registry.get_model_info(self._model)

    def with_params(self, **params: Any) -> BoundModel:
        """A copy with ``params`` added (later values win)."""
        return BoundModel(self._service, self._model, {**self._params, **params})

    def system(self, text: str) -> BoundModel:
        """Set the system prompt."""
        return self.with_params(system=text)

    def temperature(self, value: float) -> BoundModel:
        """Set the sampling temperature."""
        return self.with_params(temperature=value)

    def max_tokens(self, value: int) -> BoundModel:
        """Set the output token limit."""
        return self.with_params(max_tokens=value)

    def top_p(self, value: float) -> BoundModel:
        """Set nucleus sampling."""
        return self.with_params(top_p=value)

    def stop(self, *sequences: str) -> BoundModel:
        """Set stop sequences."""
        return self.with_params(stop=sequences)

    def seed(self, value: int) -> BoundModel:
        """Set the sampling seed (where the provider supports it)."""
        return self.with_params(seed=value)

    def timeout(self, seconds: float) -> BoundModel:
        """Set the per-call timeout."""
        return self.with_params(timeout=seconds)

    def caller(self, name: str) -> BoundModel:
        """Tag the calls' usage rows with a caller name."""
        return self.with_params(caller=name)

    def output(
        self, output: Any, *, mode: OutputMode | None = None, retries: int | None = None
    ) -> BoundModel:
        """Ask for structured output: ``output`` is a pydantic model, any type pydantic
        validates, or a JSON-schema dict (``resp.output`` is the validated value); ``mode`` sets
        ``output_mode`` and ``retries`` sets ``output_retries``."""
        from modelwire.output import OutputSpec

        bound: dict[str, Any] = {"output": OutputSpec.of(output)}  # a bad type fails here
        if mode is not None:
            bound["output_mode"] = mode
        if retries is not None:
            bound["output_retries"] = retries
        return self.with_params(**bound)

    def tools(
        self,
        *tools: Any,
        choice: str | None = None,
        parallel: bool | None = None,
    ) -> BoundModel:
        """Offer ``tools`` (callables, pydantic models or ``Tool``s) on every call; ``choice``
        sets ``tool_choice`` and ``parallel`` sets ``parallel_tool_calls``."""
        from modelwire.tools import as_tools

        bound: dict[str, Any] = {"tools": as_tools(tools)}  # a bad tool fails here
        if choice is not None:
            bound["tool_choice"] = choice
        if parallel is not None:
            bound["parallel_tool_calls"] = parallel
        return self.with_params(**bound)

    def provider_params(self, **params: Any) -> BoundModel:
        """Add parameters passed to the provider untouched."""
        merged = {**self._params.get("provider_params", {}), **params}
        return self.with_params(provider_params=merged)

    def _merged(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {**self._params, **params}

    def _streamed(self, params: Mapping[str, Any]) -> dict[str, Any]:
        # a stream validates its final event but cannot ask again: a bound output_retries
        # (meant for invoke) is left out; one given to this call still fails loudly.
        bound = {k: v for k, v in self._params.items() if k != "output_retries"}
        return {**bound, **params}

    def invoke(self, prompt: Prompt, **params: Any) -> ChatResponse:
        """Call the model."""
        return self._service.invoke_model(self._model, prompt, **self._merged(params))

    __call__ = invoke

    async def ainvoke(self, prompt: Prompt, **params: Any) -> ChatResponse:
        """Call the model from asyncio."""
        return await self._service.ainvoke_model(self._model, prompt, **self._merged(params))

    def stream(self, prompt: Prompt, **params: Any) -> Iterator[StreamEvent]:
        """Stream the answer (with ``output``, the final event carries the validated value)."""
        return self._service.stream_model(self._model, prompt, **self._streamed(params))

    def astream(self, prompt: Prompt, **params: Any) -> AsyncIterator[StreamEvent]:
        """Stream the answer from asyncio."""
        return self._service.astream_model(self._model, prompt, **self._streamed(params))

    def batch(self, prompts: Sequence[Prompt], *, max_concurrency: int = 8) -> list[BatchResult]:
        """Call the model with many prompts."""
        return self._service.invoke_batch(
            self._model, prompts, max_concurrency=max_concurrency, **self._params
        )
