"""``UsageEvent`` is an immutable named tuple with the constructor it always had, and the
service fills each of its fields by name."""

from __future__ import annotations

import copy
import inspect
import pickle
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from modelwire.errors import RateLimitError
from modelwire.service.attempt import Attempt
from modelwire.types import ChatRequest, ChatResponse, ModelCost, ModelInfo, Usage
from modelwire.usage.events import InMemoryUsageSink, UsageEvent, UsageSink

# The public constructor's defaults, as documented (every field but the two required ones).
DEFAULTS: dict[str, Any] = {
    "status": "ok",
    "attempt": 1,
    "caller": None,
    "group": None,
    "error_type": None,
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_read_tokens": 0,
    "cache_write_tokens": 0,
    "reasoning_tokens": 0,
    "cost_usd": None,
    "latency_ms": 0.0,
    "ttft_ms": None,
    "request_id": None,
    "stream": False,
    "prompt": None,
    "output": None,
}

T = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def test_keyword_defaults_and_a_timestamp_of_now() -> None:
    before = datetime.now(UTC)
    event = UsageEvent(model_id="mock:m", provider="mock")
    after = datetime.now(UTC)
    assert (event.model_id, event.provider) == ("mock:m", "mock")
    assert {f: getattr(event, f) for f in DEFAULTS} == DEFAULTS
    assert event.timestamp.tzinfo is UTC and before <= event.timestamp <= after
    assert UsageEvent("m", "p", timestamp=T).timestamp == T


def test_the_constructor_takes_the_fields_in_their_order() -> None:
    parameters = list(inspect.signature(UsageEvent).parameters)
    assert parameters == list(UsageEvent._fields)
    distinct = {f: f"value of {f}" for f in UsageEvent._fields}
    assert UsageEvent(**distinct)._asdict() == distinct
    event = UsageEvent("m", "p", "error", 2, "c", "g", "E", 1, 2, 3, 4, 5, Decimal(1), timestamp=T)
    assert UsageEvent(*event) == event
    assert UsageEvent(**event._asdict()) == event


def test_an_event_is_an_immutable_tuple() -> None:
    event = UsageEvent(model_id="m", provider="p", cost_usd=Decimal("0.1"), timestamp=T)
    assert isinstance(event, tuple)
    with pytest.raises(AttributeError):
        event.latency_ms = 5.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        event.extra = 1  # type: ignore[attr-defined]
    later = event._replace(latency_ms=12.5, ttft_ms=3.0)
    assert type(later) is UsageEvent
    assert (later.latency_ms, later.ttft_ms, event.latency_ms) == (12.5, 3.0, 0.0)
    assert later._replace(latency_ms=0.0, ttft_ms=None) == event
    assert hash(later._replace(latency_ms=0.0, ttft_ms=None)) == hash(event)


def test_copies_and_pickles_keep_every_field() -> None:
    event = UsageEvent(model_id="m", provider="p", cost_usd=Decimal("0.1"), timestamp=T)
    for twin in (copy.copy(event), copy.deepcopy(event), pickle.loads(pickle.dumps(event))):
        assert type(twin) is UsageEvent and twin == event


def test_the_sinks_accept_events() -> None:
    sink = InMemoryUsageSink()
    assert isinstance(sink, UsageSink)
    sink.record(UsageEvent(model_id="m", provider="p"))
    assert len(sink) == 1


def _attempt(sink: InMemoryUsageSink, *, stream: bool, priced: bool = True) -> Attempt:
    cost = ModelCost(input_per_mtok="1", output_per_mtok="2") if priced else None
    model = SimpleNamespace(info=ModelInfo(id="vendor:model-x", cost=cost))
    request = ChatRequest(messages=({"role": "user", "content": "hi there"},), system="be brief")
    return Attempt(
        sink,
        model,  # type: ignore[arg-type]
        request,
        caller="the-caller",
        group="the-group",
        attempt=3,
        stream=stream,
        store_prompts=True,
        run_id="the-run",
    )


def test_a_successful_attempt_fills_each_field_by_name() -> None:
    sink = InMemoryUsageSink()
    attempt = _attempt(sink, stream=True)
    attempt.first_token()
    before = datetime.now(UTC)
    requests = (Usage(input_tokens=600, output_tokens=20), Usage(input_tokens=400))
    usage = Usage(
        input_tokens=1000,
        output_tokens=200,
        cache_read_tokens=30,
        cache_write_tokens=4,
        reasoning_tokens=5,
        cache_write_1h_tokens=3,
        input_audio_tokens=6,
        input_image_tokens=7,
        output_audio_tokens=8,
        output_image_tokens=9,
        tool_uses={"web_search": 2},
        iterations=requests,
    )
    response = ChatResponse(text="the answer", model_id="vendor:model-x", usage=usage)
    response.request_id = "req-1"
    attempt.succeeded(response)
    (event,) = sink.events
    assert type(event) is UsageEvent
    assert event._asdict() == {
        "model_id": "vendor:model-x",
        "provider": "vendor",
        "status": "ok",
        "attempt": 3,
        "caller": "the-caller",
        "group": "the-group",
        "error_type": None,
        "input_tokens": 1000,
        "output_tokens": 200,
        "cache_read_tokens": 30,
        "cache_write_tokens": 4,
        "reasoning_tokens": 5,
        "cost_usd": response.cost_usd,
        "latency_ms": response.latency_ms,
        "ttft_ms": attempt.ttft_ms,
        "request_id": "req-1",
        "stream": True,
        "prompt": "system: be brief\nuser: hi there",
        "output": "the answer",
        "timestamp": event.timestamp,
        "run_id": "the-run",
        "cache_write_1h_tokens": 3,
        "input_audio_tokens": 6,
        "input_image_tokens": 7,
        "output_audio_tokens": 8,
        "output_image_tokens": 9,
        "tool_uses": {"web_search": 2},
        "iterations": requests,
    }
    assert response.cost_usd is not None and response.cost_usd > 0
    assert attempt.ttft_ms is not None and event.latency_ms >= attempt.ttft_ms
    assert event.timestamp.tzinfo is UTC and event.timestamp >= before


def test_a_failed_attempt_fills_each_field_by_name() -> None:
    sink = InMemoryUsageSink()
    _attempt(sink, stream=False).failed(RateLimitError("slow down", request_id="req-9"))
    _attempt(sink, stream=False, priced=False).failed(KeyboardInterrupt(), status="cancelled")
    error, cancelled = sink.events
    assert (error.status, error.error_type, error.request_id) == (
        "error",
        "RateLimitError",
        "req-9",
    )
    assert (error.cost_usd, error.output, error.stream, error.ttft_ms) == (0, None, False, None)
    assert error.input_tokens == error.output_tokens == 0
    assert (cancelled.status, cancelled.error_type, cancelled.cost_usd) == (
        "cancelled",
        "KeyboardInterrupt",
        None,
    )
