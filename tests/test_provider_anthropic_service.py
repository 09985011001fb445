"""The anthropic provider through ModelService: one usage event per attempt, failures included."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import pytest
from tools.fake_provider import FakeProviderServer

from modelwire.config.schema import Config
from modelwire.errors import AuthenticationError, ContextWindowError, ProviderUnavailableError
from modelwire.registry import ModelRegistry
from modelwire.service import ModelService
from modelwire.usage.events import InMemoryUsageSink

MODEL = "anthropic:claude-fake-1"


@pytest.fixture
def server(fake_server_shared: FakeProviderServer) -> FakeProviderServer:
    return fake_server_shared


@pytest.fixture
def service(server: FakeProviderServer) -> Iterator[ModelService]:
    config = Config.model_validate(
        {
            "providers": {
                "anthropic": {
                    "api_key": "sk-ant-service",
                    "base_url": server.url + "/anthropic",
                    "timeout_s": 5,
                    "max_retries": 2,
                }
            },
            "models": {
                MODEL: {
                    "aliases": ["fake"],
                    "cost": {
                        "input_per_mtok": "3",
                        "output_per_mtok": "15",
                        "cache_read_per_mtok": "0.30",
                        "cache_write_per_mtok": "3.75",
                    },
                },
                "anthropic:claude-tiny": {},
            },
            "retry": {"base_delay_s": 0, "max_delay_s": 0},
        }
    )
    registry = ModelRegistry.from_config(config, catalog=False)
    svc = ModelService(registry, ledger=InMemoryUsageSink(), caller="tests")
    yield svc
    registry.close()


def _events(service: ModelService) -> InMemoryUsageSink:
    sink = service.ledger
    assert isinstance(sink, InMemoryUsageSink)
    return sink


def test_invoke_records_usage_and_cost(service: ModelService) -> None:
    resp = service.invoke_model("fake", "hello there", max_tokens=50, temperature=0)
    assert resp.text == "echo: hello there"
    assert resp.model_id == MODEL
    assert resp.cost_usd == Decimal(2 * 3 + 4 * 15) / 1_000_000
    (event,) = _events(service).events
    assert event.status == "ok" and event.attempt == 1 and event.caller == "tests"
    assert (event.input_tokens, event.output_tokens) == (2, 4)
    assert event.provider == "anthropic"
    assert event.request_id == resp.request_id is not None


def test_retry_after_429_records_both_attempts(
    server: FakeProviderServer, service: ModelService
) -> None:
    server.faults.push(status=429, retry_after="0")
    resp = service.invoke_model(MODEL, "again")
    assert resp.text == "echo: again" and resp.attempts == 2
    first, second = _events(service).events
    assert (first.status, first.attempt, first.error_type) == ("error", 1, "RateLimitError")
    assert first.request_id is not None and first.input_tokens == 0
    assert (second.status, second.attempt) == ("ok", 2)
    assert len(server.requests_to("/v1/messages")) == 2


def test_overload_is_retried_until_the_attempts_run_out(
    server: FakeProviderServer, service: ModelService
) -> None:
    server.faults.push(status=529, times=3)
    with pytest.raises(ProviderUnavailableError):
        service.invoke_model(MODEL, "busy")
    events = _events(service).events
    assert [(e.attempt, e.error_type) for e in events] == [
        (1, "ProviderUnavailableError"),
        (2, "ProviderUnavailableError"),
        (3, "ProviderUnavailableError"),
    ]
    assert len(server.requests_to("/v1/messages")) == 3


def test_authentication_failure_is_recorded_once_and_not_retried(
    server: FakeProviderServer, service: ModelService
) -> None:
    server.accepted_keys = {"another-key"}
    with pytest.raises(AuthenticationError):
        service.invoke_model(MODEL, "hi")
    (event,) = _events(service).events
    assert (event.status, event.error_type) == ("error", "AuthenticationError")
    assert len(server.requests_to("/v1/messages")) == 1


def test_context_overflow_is_recorded_and_not_retried(
    server: FakeProviderServer, service: ModelService
) -> None:
    with pytest.raises(ContextWindowError):
        service.invoke_model("anthropic:claude-tiny", "word " * 40)
    (event,) = _events(service).events
    assert event.error_type == "ContextWindowError"
    assert len(server.requests_to("/v1/messages")) == 1


def test_stream_and_async_calls_record_usage(service: ModelService) -> None:
    events = list(service.stream_model(MODEL, "one two"))
    assert "".join(e.text for e in events) == "echo: one two"
    assert events[-1].done and events[-1].usage is not None
    assert events[-1].cost_usd is not None

    async def run() -> str:
        resp = await service.ainvoke_model(MODEL, "async")
        return resp.text

    assert asyncio.run(run()) == "echo: async"
    recorded = _events(service).events
    assert [(e.status, e.stream) for e in recorded] == [("ok", True), ("ok", False)]
    assert recorded[0].output_tokens == 4 and recorded[0].ttft_ms is not None


def test_cut_stream_is_recorded_as_an_error(
    server: FakeProviderServer, service: ModelService
) -> None:
    server.faults.push(cut_stream_after=5)
    with pytest.raises(ProviderUnavailableError, match="cut off"):
        list(service.stream_model(MODEL, "one two three"))
    (event,) = _events(service).events  # text had reached the caller: no retry
    assert (event.status, event.error_type, event.stream) == (
        "error",
        "ProviderUnavailableError",
        True,
    )


def test_astream_retries_a_503_before_any_text(
    server: FakeProviderServer, service: ModelService
) -> None:
    server.faults.push(status=503)

    async def run() -> list[str]:
        return [e.text async for e in service.astream_model(MODEL, "red blue")]

    assert "".join(asyncio.run(run())) == "echo: red blue"
    recorded = _events(service).events
    assert [(e.attempt, e.status, e.stream) for e in recorded] == [
        (1, "error", True),
        (2, "ok", True),
    ]
    assert recorded[1].input_tokens == 2 and recorded[1].output_tokens == 4
