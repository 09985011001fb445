"""An attempt's latency is the call's: building the client (and importing the SDK) happens in
``prepare`` before the clock starts, so a process's first call is comparable to the rest."""

from __future__ import annotations

import asyncio
import types
from typing import Any

import pytest

from modelwire.config.schema import Config
from modelwire.providers.base import ChatModel, ProviderContext
from modelwire.providers.factory import ModelFactory
from modelwire.registry import ModelRegistry
from modelwire.service import ModelService
from modelwire.types import ChatRequest, ChatResponse, ModelInfo
from modelwire.usage.events import InMemoryUsageSink

NOW = [0.0]


class SlowToSetUp(ChatModel):
    """Setting up takes 5 s (the first time); a call takes 20 ms (on the injected clock)."""

    ready = False

    def prepare(self) -> None:
        if not SlowToSetUp.ready:
            NOW[0] += 5.0
            SlowToSetUp.ready = True

    aprepare = prepare

    def send(self, request: ChatRequest) -> Any:
        NOW[0] += 0.020
        return ChatResponse(text="ok", model_id=self.info.id)

    async def asend(self, request: ChatRequest) -> Any:
        return self.send(request)

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        return []


@pytest.mark.parametrize("style", ["sync", "async"])
def test_the_first_call_is_timed_like_the_next(monkeypatch: pytest.MonkeyPatch, style: str) -> None:
    import modelwire.service.attempt as attempt

    monkeypatch.setattr(attempt, "time", types.SimpleNamespace(perf_counter=lambda: NOW[0]))
    SlowToSetUp.ready = False
    ModelFactory.register_provider("slow_setup", SlowToSetUp)
    try:
        config = Config.model_validate(
            {"providers": {"s": {"type": "slow_setup"}}, "models": {"s:m": {}}}
        )
        sink = InMemoryUsageSink()
        service = ModelService(ModelRegistry.from_config(config, catalog=False), sink)
        for _ in range(2):
            if style == "sync":
                service.invoke_model("s:m", "hi")
            else:
                asyncio.run(service.ainvoke_model("s:m", "hi"))
        first, second = (e.latency_ms for e in sink.events)
        assert first == pytest.approx(20.0) and second == pytest.approx(20.0)
    finally:
        ModelFactory.unregister_provider("slow_setup")
