"""The anthropic and google providers through ModelService: one usage event per attempt,
failures included (the same behaviour for both, against their formats on the fake server)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from modelwire.config.schema import Config
from modelwire.errors import AuthenticationError, ContextWindowError, ProviderUnavailableError
from modelwire.registry.model_registry import ModelRegistry
from modelwire.service.model_service import ModelService
from modelwire.usage.events import InMemoryUsageSink
from tools.fake_provider import FakeProviderServer


@dataclass(frozen=True)
class Case:
    """What differs between the two providers in these tests."""

    provider: str
    model: str  # configured with the alias "fake" and the prices below
    tiny: str  # a model whose context window the fake server says is tiny
    entry: dict[str, Any]  # the provider entry (base URL added per server)
    path: str  # part of the path every call request has
    base_path: str
    prices: tuple[str, str]  # input and output, per million tokens
    overload_status: int  # the provider's "overloaded" status
    cut_after: int  # stream events sent before a cut (the first text event is past them)


CASES = {
    "anthropic": Case(
        provider="anthropic",
        model="anthropic:claude-fake-1",
        tiny="anthropic:claude-tiny",
        entry={"api_key": "sk-ant-service"},
        path="/v1/messages",
        base_path="/anthropic",
        prices=("3", "15"),
        overload_status=529,
        cut_after=5,
    ),
    "google": Case(
        provider="google",
        model="google:gemini-fake-flash",
        tiny="google:gemini-tiny",
        entry={"api_key": "AIza-service-key"},
        path=":generateContent",
        base_path="",
        prices=("0.30", "2.50"),
        overload_status=503,
        cut_after=2,
    ),
}


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest) -> Case:
    return CASES[request.param]


@pytest.fixture
def server(fake_server_shared: FakeProviderServer) -> FakeProviderServer:
    return fake_server_shared


@pytest.fixture
def service(server: FakeProviderServer, case: Case) -> Iterator[ModelService]:
    entry = {
        **case.entry,
        "base_url": server.url + case.base_path,
        "timeout_s": 5,
        "max_retries": 2,
    }
    price_in, price_out = case.prices
    config = Config.model_validate(
        {
            "providers": {case.provider: entry},
            "models": {
                case.model: {
                    "aliases": ["fake"],
                    "cost": {"input_per_mtok": price_in, "output_per_mtok": price_out},
                },
                case.tiny: {},
            },
            "retry": {"base_delay_s": 0, "max_delay_s": 0},
        }
    )
    registry = ModelRegistry.from_config(config, catalog=False)
    svc = ModelService(registry, ledger=InMemoryUsageSink(), caller="tests")
    yield svc
    registry.close()


def _events(service: ModelService) -> list[Any]:
    sink = service.ledger
    assert isinstance(sink, InMemoryUsageSink)
    return sink.events


def test_invoke_records_usage_and_cost(service: ModelService, case: Case) -> None:
    resp = service.invoke_model("fake", "hello there", max_tokens=50, temperature=0)
    assert resp.text == "echo: hello there"
    assert resp.model_id == case.model
    price_in, price_out = (Decimal(p) for p in case.prices)
    assert resp.cost_usd == (2 * price_in + 4 * price_out) / 1_000_000
    (event,) = _events(service)
    assert event.status == "ok" and event.attempt == 1 and event.caller == "tests"
    assert (event.input_tokens, event.output_tokens) == (2, 4)
    assert event.provider == case.provider
    assert event.request_id == resp.request_id is not None


def test_retry_after_429_records_both_attempts(
    server: FakeProviderServer, service: ModelService, case: Case
) -> None:
    server.faults.push(status=429, retry_after="0")
    resp = service.invoke_model(case.model, "again")
    assert resp.text == "echo: again" and resp.attempts == 2
    first, second = _events(service)
    assert (first.status, first.attempt, first.error_type) == ("error", 1, "RateLimitError")
    assert first.request_id is not None and first.input_tokens == 0
    assert (second.status, second.attempt) == ("ok", 2)
    assert len(server.requests_to(case.path)) == 2


def test_overload_is_retried_until_the_attempts_run_out(
    server: FakeProviderServer, service: ModelService, case: Case
) -> None:
    server.faults.push(status=case.overload_status, times=3)
    with pytest.raises(ProviderUnavailableError):
        service.invoke_model(case.model, "busy")
    assert [(e.attempt, e.error_type) for e in _events(service)] == [
        (1, "ProviderUnavailableError"),
        (2, "ProviderUnavailableError"),
        (3, "ProviderUnavailableError"),
    ]
    assert len(server.requests_to(case.path)) == 3


def test_authentication_failure_is_recorded_once_and_not_retried(
    server: FakeProviderServer, service: ModelService, case: Case
) -> None:
    server.accepted_keys = {"another-key"}
    with pytest.raises(AuthenticationError):
        service.invoke_model(case.model, "hi")
    (event,) = _events(service)
    assert (event.status, event.error_type) == ("error", "AuthenticationError")
    assert len(server.requests_to(case.path)) == 1


def test_context_overflow_is_recorded_and_not_retried(
    server: FakeProviderServer, service: ModelService, case: Case
) -> None:
    with pytest.raises(ContextWindowError):
        service.invoke_model(case.tiny, "word " * 40)
    (event,) = _events(service)
    assert event.error_type == "ContextWindowError"
    assert len(server.requests_to(case.path)) == 1


def test_stream_and_async_calls_record_usage(service: ModelService, case: Case) -> None:
    events = list(service.stream_model(case.model, "one two"))
    assert "".join(e.text for e in events) == "echo: one two"
    assert events[-1].done and events[-1].usage is not None
    assert events[-1].cost_usd is not None

    async def run() -> str:
        resp = await service.ainvoke_model(case.model, "async")
        return resp.text

    assert asyncio.run(run()) == "echo: async"
    recorded = _events(service)
    assert [(e.status, e.stream) for e in recorded] == [("ok", True), ("ok", False)]
    assert recorded[0].output_tokens == 4 and recorded[0].ttft_ms is not None


def test_cut_stream_is_recorded_as_an_error(
    server: FakeProviderServer, service: ModelService, case: Case
) -> None:
    server.faults.push(cut_stream_after=case.cut_after)
    with pytest.raises(ProviderUnavailableError, match="cut off"):
        list(service.stream_model(case.model, "one two three"))
    (event,) = _events(service)  # text had reached the caller: no retry
    assert (event.status, event.error_type, event.stream) == (
        "error",
        "ProviderUnavailableError",
        True,
    )


def test_astream_retries_a_503_before_any_text(
    server: FakeProviderServer, service: ModelService, case: Case
) -> None:
    server.faults.push(status=503)

    async def run() -> list[str]:
        return [e.text async for e in service.astream_model(case.model, "red blue")]

    assert "".join(asyncio.run(run())) == "echo: red blue"
    recorded = _events(service)
    assert [(e.attempt, e.status, e.stream) for e in recorded] == [
        (1, "error", True),
        (2, "ok", True),
    ]
    assert recorded[1].input_tokens == 2 and recorded[1].output_tokens == 4
