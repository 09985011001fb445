from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from modelwire.errors import AuthenticationError, ProviderUnavailableError, RateLimitError
from modelwire.service.model_service import ModelService
from modelwire.types import Message
from modelwire.usage.events import InMemoryUsageSink
from tests.support.helpers import mock_registry


def make(**mock: object) -> tuple[ModelService, InMemoryUsageSink]:
    sink = InMemoryUsageSink()
    registry = mock_registry("mock:mini", **mock)
    registry.config = registry.config.model_copy(
        update={
            "retry": registry.config.retry.model_copy(
                update={"base_delay_s": 0.0, "max_delay_s": 0.0, "max_retry_after_s": 0.0}
            )
        }
    )
    return ModelService(registry, sink, caller="tests"), sink


def test_invoke_returns_text_usage_cost_latency_and_records_one_event() -> None:
    service, sink = make()
    resp = service.invoke_model("mock:mini", "Hello there", max_tokens=50, temperature=0)
    assert resp.text and resp.model_id == "mock:mini"
    assert resp.usage.input_tokens > 0 and resp.usage.output_tokens > 0
    expected = (
        Decimal(resp.usage.input_tokens) * Decimal("0.15")
        + Decimal(resp.usage.output_tokens) * Decimal("0.60")
    ) / Decimal(1_000_000)
    assert resp.cost_usd == expected
    assert resp.latency_ms >= 0
    [event] = sink.events
    assert (event.model_id, event.status, event.attempt, event.caller) == (
        "mock:mini",
        "ok",
        1,
        "tests",
    )
    assert event.cost_usd == resp.cost_usd and event.prompt is None and event.output is None


def test_call_is_invoke_and_deterministic() -> None:
    service, _ = make()
    assert service("mock:mini", "same").text == service.invoke_model("mock:mini", "same").text


def test_messages_system_and_unknown_params() -> None:
    service, _ = make()
    resp = service.invoke_model(
        "mock:mini",
        [{"role": "user", "content": "hi"}, Message(role="assistant", content="hello")],
        system="be brief",
        stop="x",
        provider_params={"anything": 1},
    )
    assert resp.text
    with pytest.raises(TypeError, match="unexpected parameter"):
        service.invoke_model("mock:mini", "hi", temprature=1)


def test_default_model_and_caller_override() -> None:
    service, sink = make()
    service.default_model = "mock:mini"
    service.invoke_model(prompt="hi", caller="job-7")
    assert sink.events[-1].caller == "job-7"


def test_retryable_errors_are_retried_and_each_attempt_recorded() -> None:
    service, sink = make(error_rate=1.0, error_kinds=["rate_limit"], retry_after_s=0)
    with pytest.raises(RateLimitError):
        service.invoke_model("mock:mini", "hi")
    assert [e.attempt for e in sink.events] == [1, 2, 3]  # 1 + max_retries (2)
    assert {e.status for e in sink.events} == {"error"}
    assert {e.error_type for e in sink.events} == {"RateLimitError"}
    assert {e.cost_usd for e in sink.events} == {Decimal(0)}  # priced model: failures cost 0
    assert all(e.request_id for e in sink.events)


def test_authentication_errors_are_not_retried() -> None:
    service, sink = make(error_rate=1.0, error_kinds=["auth"])
    with pytest.raises(AuthenticationError):
        service.invoke_model("mock:mini", "hi")
    assert len(sink.events) == 1


def test_store_prompts_only_when_enabled() -> None:
    service, sink = make()
    service.store_prompts = True
    resp = service.invoke_model("mock:mini", "secret plan", system="sys")
    assert sink.events[0].prompt == "system: sys\nuser: secret plan"
    assert sink.events[0].output == resp.text


def test_stream_yields_text_then_done_with_usage_and_cost() -> None:
    service, sink = make()
    events = list(service.stream_model("mock:mini", "stream please"))
    *chunks, last = events
    assert chunks and all(not e.done for e in chunks)
    assert last.done and last.usage is not None and last.cost_usd is not None
    assert last.model_id == "mock:mini" and last.ttft_ms is not None
    text = "".join(e.text for e in chunks)
    assert text == service.invoke_model("mock:mini", "stream please").text
    assert sink.events[0].stream and sink.events[0].status == "ok"


def test_stream_closed_early_records_cancelled() -> None:
    service, sink = make()
    gen = service.stream_model("mock:mini", "stream please")
    next(gen)
    gen.close()
    assert [e.status for e in sink.events] == ["cancelled"]


def test_async_invoke_and_stream() -> None:
    service, sink = make()

    async def run() -> tuple[str, list[str]]:
        resp = await service.ainvoke_model("mock:mini", "hi")
        parts = [e.text async for e in service.astream_model("mock:mini", "hi")]
        return resp.text, parts

    text, parts = asyncio.run(run())
    assert "".join(parts) == text
    assert len(sink.events) == 2


def test_batch_keeps_order_and_reports_item_errors() -> None:
    service, _ = make()
    prompts = [f"prompt {i}" for i in range(20)]
    results = service.invoke_batch(
        "mock:mini", [*prompts[:10], [], *prompts[10:]], max_concurrency=4
    )
    assert [r.index for r in results] == list(range(21))
    assert not results[10].ok and isinstance(results[10].error, ValueError)
    good = [r for r in results if r.ok]
    assert len(good) == 20
    assert good[3].text == service.invoke_model("mock:mini", "prompt 3").text


def test_async_batch() -> None:
    service, _ = make()
    results = asyncio.run(service.ainvoke_batch("mock:mini", ["a", "b", "c"], max_concurrency=2))
    assert [r.ok for r in results] == [True, True, True]


def test_bind_is_immutable_and_chainable() -> None:
    service, sink = make()
    base = service.bind("mock:mini", temperature=0)
    short = base.max_tokens(5).system("terse").caller("bound")
    assert base.params == {"temperature": 0}
    resp = short("tell me a long story")
    assert resp.usage.output_tokens <= 5
    assert sink.events[-1].caller == "bound"
    assert [r.ok for r in short.batch(["a", "b"])] == [True, True]
    assert "".join(e.text for e in short.stream("x")) == short("x").text


def test_per_model_retry_settings_win_over_the_provider_default() -> None:
    from modelwire.config.schema import Config
    from modelwire.registry.model_registry import ModelRegistry

    config = Config.model_validate(
        {
            "providers": {"mock": {"type": "mock", "error_rate": 1.0, "error_kinds": ["server"]}},
            "models": {
                "mock:once": {"retry": {"max_attempts": 1}},
                "mock:five": {"retry": {"max_attempts": 5, "base_delay_s": 0, "max_delay_s": 0}},
            },
            "retry": {"base_delay_s": 0, "max_delay_s": 0},
        }
    )
    sink = InMemoryUsageSink()
    service = ModelService(ModelRegistry.from_config(config), sink)
    for model_id, attempts in (("mock:once", 1), ("mock:five", 5), ("mock:other", 3)):
        sink.clear()
        with pytest.raises(ProviderUnavailableError):
            service.invoke_model(model_id, "hi")
        assert len(sink.events) == attempts, model_id
