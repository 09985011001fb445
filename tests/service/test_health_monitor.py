"""The service's health monitor probes open members and closes their breakers on recovery."""

from __future__ import annotations

import time
from typing import ClassVar

from modelwire.config.schema import Config
from modelwire.errors import ProviderUnavailableError
from modelwire.providers.factory import ModelFactory
from modelwire.providers.mock import MockChatModel
from modelwire.registry.model_registry import ModelRegistry
from modelwire.service.model_service import ModelService
from modelwire.types import ChatRequest, ChatResponse
from modelwire.usage.events import InMemoryUsageSink


class Switchable(MockChatModel):
    broken: ClassVar[bool] = True

    def invoke(self, request: ChatRequest) -> ChatResponse:
        if Switchable.broken:
            raise ProviderUnavailableError("down", provider="sw", model_id=self.info.id)
        return super().invoke(request)


def test_monitor_probes_open_member_until_it_recovers() -> None:
    ModelFactory.register_provider("switchable", Switchable)
    Switchable.broken = True
    try:
        config = Config.model_validate(
            {
                "providers": {"sw": {"type": "switchable"}, "mock": {"type": "mock"}},
                "groups": {
                    "g": {
                        "members": ["sw:a", "mock:b"],
                        "circuit_breaker": {"failure_threshold": 1, "cooldown_s": 0},
                        "retry": {"max_attempts": 1},
                    }
                },
            }
        )
        sink = InMemoryUsageSink()
        service = ModelService(ModelRegistry.from_config(config), sink)
        assert service.invoke_model("g", "hi").model_id == "mock:b"
        states = {m["model_id"]: m["state"] for m in service.health()["groups"]["g"]["members"]}
        assert states["sw:a"] != "closed"

        Switchable.broken = False
        monitors = service.start_health_monitor(interval_s=0.02)
        deadline = time.monotonic() + 5
        state = ""
        while time.monotonic() < deadline:
            members = service.health()["groups"]["g"]["members"]
            state = next(m["state"] for m in members if m["model_id"] == "sw:a")
            if state == "closed":
                break
            time.sleep(0.02)
        assert state == "closed"
        assert any(e.caller == "health-monitor" and e.status == "ok" for e in sink.events)
        service.close()
        assert all(not m.running for m in monitors)
    finally:
        ModelFactory.unregister_provider("switchable")
