"""OpenAI providers through ``ModelService``: one usage event per attempt, failures recorded too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

import modelwire as mw
from tools.fake_provider import FakeProviderServer


@pytest.fixture
def service(
    fake_server: FakeProviderServer,
) -> Iterator[tuple[mw.ModelService, mw.InMemoryUsageSink]]:
    cfg = mw.Config(
        providers={
            "openai": {"api_key": "sk-test", "base_url": fake_server.url + "/v1", "max_retries": 2},
            "local": {"type": "openai_compatible", "base_url": fake_server.url + "/v1"},
        },
        retry={"base_delay_s": 0.0, "max_delay_s": 0.01},
    )
    registry = mw.ModelRegistry.from_config(cfg)
    sink = mw.InMemoryUsageSink()
    try:
        yield mw.ModelService(registry, ledger=sink, caller="tests"), sink
    finally:
        registry.close()


def test_success_records_one_event_with_request_id(
    service: tuple[mw.ModelService, mw.InMemoryUsageSink],
) -> None:
    svc, sink = service
    resp = svc.invoke_model("openai:gpt-4o-mini", "hello there", max_tokens=20)
    assert resp.text == "echo: hello there" and resp.attempts == 1
    assert resp.cost_usd is not None and resp.cost_usd > 0  # priced from the catalog
    (event,) = sink.events
    assert (event.status, event.attempt, event.provider) == ("ok", 1, "openai")
    assert event.request_id == resp.request_id and event.request_id is not None
    assert (event.input_tokens, event.output_tokens) == (2, 4)
    assert event.cost_usd == resp.cost_usd and event.caller == "tests"


def test_retry_after_429_records_both_attempts(
    fake_server: FakeProviderServer, service: tuple[mw.ModelService, mw.InMemoryUsageSink]
) -> None:
    svc, sink = service
    fake_server.faults.push(status=429, retry_after="0")
    resp = svc.invoke_model("openai:gpt-4o-mini", "again")
    assert resp.attempts == 2
    first, second = sink.events
    assert (first.status, first.error_type, first.attempt) == ("error", "RateLimitError", 1)
    assert first.request_id is not None and first.request_id != second.request_id
    assert first.input_tokens == 0
    assert (second.status, second.attempt) == ("ok", 2)
    assert len(fake_server.requests) == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"status": 401}, mw.AuthenticationError),
        ({"status": 400, "code": "context_length_exceeded"}, mw.ContextWindowError),
        ({"status": 404, "code": "model_not_found"}, mw.InvalidRequestError),
    ],
)
def test_non_retryable_failures_are_recorded_once(
    fake_server: FakeProviderServer,
    service: tuple[mw.ModelService, mw.InMemoryUsageSink],
    fault: dict[str, object],
    error: type[Exception],
) -> None:
    svc, sink = service
    fake_server.faults.push(times=5, **fault)  # type: ignore[arg-type]
    with pytest.raises(error):
        svc.invoke_model("openai:gpt-4o-mini", "hi")
    (event,) = sink.events
    assert event.status == "error" and event.error_type == error.__name__
    assert event.request_id is not None and event.request_id.startswith("req_fake_")
    assert len(fake_server.requests) == 1


@pytest.mark.parametrize(
    ("fault", "message"),
    [({"status": 503}, "unavailable"), ({"malformed": True}, "malformed response body")],
)
def test_retryable_failures_exhaust_the_entry_retries(
    fake_server: FakeProviderServer,
    service: tuple[mw.ModelService, mw.InMemoryUsageSink],
    fault: dict[str, object],
    message: str,
) -> None:
    svc, sink = service
    fake_server.faults.push(times=5, **fault)  # type: ignore[arg-type]
    with pytest.raises(mw.ProviderUnavailableError, match=message):
        svc.invoke_model("openai:gpt-4o-mini", "hi")
    assert [e.attempt for e in sink.events] == [1, 2, 3]  # max_retries=2 → three attempts
    assert {e.error_type for e in sink.events} == {"ProviderUnavailableError"}
    assert len(fake_server.requests) == 3


def test_stream_through_the_service(
    service: tuple[mw.ModelService, mw.InMemoryUsageSink],
) -> None:
    svc, sink = service
    events = list(svc.stream_model("openai:gpt-4o-mini", "a b c"))
    assert "".join(e.text for e in events) == "echo: a b c"
    final = events[-1]
    assert final.done and final.usage is not None and final.usage.output_tokens == 5
    (event,) = sink.events
    assert event.stream and event.status == "ok" and event.request_id == final.request_id
    assert event.ttft_ms is not None


def test_cut_stream_after_text_is_recorded_and_not_retried(
    fake_server: FakeProviderServer, service: tuple[mw.ModelService, mw.InMemoryUsageSink]
) -> None:
    svc, sink = service
    fake_server.faults.push(cut_stream_after=3)
    with pytest.raises(mw.ProviderUnavailableError, match="cut off"):
        list(svc.stream_model("openai:gpt-4o-mini", "one two three four"))
    (event,) = sink.events
    assert event.status == "error" and event.error_type == "ProviderUnavailableError"
    assert event.request_id is not None


def test_async_and_openai_compatible_entry(
    service: tuple[mw.ModelService, mw.InMemoryUsageSink],
) -> None:
    svc, sink = service

    async def main() -> list[mw.ChatResponse]:
        return await asyncio.gather(
            *(svc.ainvoke_model("local:llama3.1", f"n{i}") for i in range(4))
        )

    responses = asyncio.run(main())
    assert sorted(r.text for r in responses) == [f"echo: n{i}" for i in range(4)]
    assert all(r.cost_usd is None for r in responses)  # unknown price: unknown cost, never 0
    assert len(sink.events) == 4 and {e.provider for e in sink.events} == {"local"}
