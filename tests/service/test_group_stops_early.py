"""A group stops early on a provider that cannot serve the call at all: one attempt per provider
entry, and one short error naming each provider once."""

from __future__ import annotations

import socket

import pytest

from modelwire.config.schema import Config
from modelwire.errors import AllModelsFailedError
from modelwire.registry import ModelRegistry
from modelwire.service import ModelService
from modelwire.usage.events import InMemoryUsageSink


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


def _service(sink: InMemoryUsageSink) -> ModelService:
    config = Config.model_validate(
        {
            "providers": {
                "badkey": {"type": "mock", "error_rate": 1.0, "error_kinds": ["auth"]},
                "down": {
                    "type": "openai_compatible",
                    "base_url": f"http://127.0.0.1:{_closed_port()}/v1",
                    "timeout_s": 5,
                },
            },
            "models": {
                **{f"badkey:m{i}": {} for i in range(6)},
                **{f"down:m{i}": {} for i in range(6)},
            },
            "retry": {"max_attempts": 3, "base_delay_s": 0, "max_delay_s": 0},
        }
    )
    return ModelService(ModelRegistry.from_config(config, catalog=False), sink)


@pytest.mark.parametrize("style", ["auto", "group"])
def test_a_bad_key_and_an_unreachable_host_cost_one_attempt_each(style: str) -> None:
    sink = InMemoryUsageSink()
    service = _service(sink)
    if style == "group":
        from modelwire.routing.group import ModelGroup

        members = [m.id for m in service.registry.list_models()]
        service.groups.add(ModelGroup("all", members, retry=service.registry.config.retry))
    with pytest.raises(AllModelsFailedError) as info:
        service.invoke_model("auto" if style == "auto" else "all", "hello")
    by_provider: dict[str, int] = {}
    for event in sink.events:
        by_provider[event.provider] = by_provider.get(event.provider, 0) + 1
    assert by_provider == {"badkey": 1, "down": 1}
    message = str(info.value)
    lines = message.splitlines()
    assert len(lines) == 3 and len(message) < 1000
    assert lines[0].endswith(
        "(skipped 5 more of badkey after it failed; 5 more of down after it failed):"
    )
    assert sorted(line.split(":")[0].strip() for line in lines[1:]) == ["badkey", "down"]
