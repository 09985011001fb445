"""The streaming call paths of ``ModelService`` (a mixin, kept apart to keep modules small).

A retryable failure is retried only before any text has reached the caller; a stream the caller
abandons is recorded as ``cancelled``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from modelwire.errors import ProviderError
from modelwire.types import ChatRequest, StreamEvent

if TYPE_CHECKING:
    from modelwire.providers.base import ChatModel
    from modelwire.registry.model_registry import ModelRegistry
    from modelwire.routing.retry import RetryPolicy
    from modelwire.service.attempt import Attempt
    from modelwire.service.groups import GroupRouter
    from modelwire.service.model_service import Prompt
    from modelwire.service.routes import Routes

__all__ = ["StreamCalls"]


class StreamCalls:
    """``stream_model`` / ``astream_model`` and the per-model generators behind them."""

    if TYPE_CHECKING:
        registry: ModelRegistry
        caller: str | None
        groups: GroupRouter
        routes: Routes

        def _name(self, model: str | None) -> str: ...

        def _retry_policy(self, model: ChatModel) -> RetryPolicy: ...

        def _attempt(
            self,
            model: ChatModel,
            request: ChatRequest,
            caller: str | None,
            group: str | None,
            attempt: int,
            stream: bool = False,
        ) -> Attempt: ...

        @staticmethod
        def build_request(
            prompt: Prompt, params: Mapping[str, Any], defaults: Mapping[str, Any] | None = None
        ) -> ChatRequest: ...

    def stream_model(
        self,
        model: str | None = None,
        prompt: Prompt = "",
        *,
        caller: str | None = None,
        **params: Any,
    ) -> Iterator[StreamEvent]:
        """Yield ``StreamEvent``s as text arrives; the last has ``done=True``, usage and cost.

        A retryable failure is retried only before any text has reached the caller (and a
        group fails over only then).
        """
        route = self.routes.resolve(self._name(model))
        if not isinstance(route, tuple):
            return self.groups.stream(route, prompt, params, caller)
        target, policy = route
        request = self.build_request(prompt, params, target.info.params)
        return self.call_stream(target, request, caller=caller, policy=policy)

    def call_stream(
        self,
        model: ChatModel,
        request: ChatRequest,
        *,
        caller: str | None = None,
        group: str | None = None,
        first_attempt: int = 1,
        policy: RetryPolicy | None = None,
    ) -> Iterator[StreamEvent]:
        """Stream ``request`` from a model object (the generator behind ``stream_model``).

        ``policy`` replaces the model's own retry policy (groups pass a one-attempt policy).
        """
        if policy is None:
            policy = self._retry_policy(model)
        who = caller if caller is not None else self.caller
        attempt = first_attempt
        while True:
            rec = self._attempt(model, request, who, group, attempt, stream=True)
            parts: list[str] = []
            final: StreamEvent | None = None
            try:
                for event in model.stream(request):
                    if event.done:
                        final = event
                        continue
                    if event.text:
                        rec.first_token()
                        parts.append(event.text)
                    yield event
            except GeneratorExit as err:
                rec.failed(err, "cancelled")
                raise
            except BaseException as err:
                rec.failed(err, "cancelled" if isinstance(err, KeyboardInterrupt) else "error")
                retry = not parts and isinstance(err, ProviderError)
                if not (retry and policy.should_retry(err, attempt)):
                    raise
                policy.sleep(policy.delay(err, attempt))
                attempt += 1
                continue
            yield rec.stream_finished(final, "".join(parts))
            return

    async def astream_model(
        self,
        model: str | None = None,
        prompt: Prompt = "",
        *,
        caller: str | None = None,
        **params: Any,
    ) -> AsyncIterator[StreamEvent]:
        """The same as ``stream_model``, as an async iterator."""
        route = self.routes.resolve(self._name(model))
        if not isinstance(route, tuple):
            async for event in self.groups.astream(route, prompt, params, caller):
                yield event
            return
        target, policy = route
        request = self.build_request(prompt, params, target.info.params)
        async for event in self.acall_stream(target, request, caller=caller, policy=policy):
            yield event

    async def acall_stream(
        self,
        model: ChatModel,
        request: ChatRequest,
        *,
        caller: str | None = None,
        group: str | None = None,
        first_attempt: int = 1,
        policy: RetryPolicy | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """The same as ``call_stream``, for asyncio.

        ``policy`` replaces the model's own retry policy (groups pass a one-attempt policy).
        """
        if policy is None:
            policy = self._retry_policy(model)
        who = caller if caller is not None else self.caller
        attempt = first_attempt
        while True:
            rec = self._attempt(model, request, who, group, attempt, stream=True)
            parts: list[str] = []
            final: StreamEvent | None = None
            try:
                async for event in model.astream(request):
                    if event.done:
                        final = event
                        continue
                    if event.text:
                        rec.first_token()
                        parts.append(event.text)
                    yield event
            except (GeneratorExit, asyncio.CancelledError) as err:
                rec.failed(err, "cancelled")
                raise
            except BaseException as err:
                rec.failed(err, "cancelled" if isinstance(err, KeyboardInterrupt) else "error")
                retry = not parts and isinstance(err, ProviderError)
                if not (retry and policy.should_retry(err, attempt)):
                    raise
                await policy.asleep(policy.delay(err, attempt))
                attempt += 1
                continue
            yield rec.stream_finished(final, "".join(parts))
            return
