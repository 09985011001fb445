"""Structured output end to end: ``ModelService`` against the loopback fake OpenAI server (which
refuses schemas strict mode refuses), blocking and asyncio, whole answers and streams, every
mode, and ``output_retries`` over an answer that is not JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pydantic import BaseModel, Field

import modelwire as mw
from tools.fake_provider import FakeProviderServer


class Stop(BaseModel):
    name: str
    minutes: int = Field(ge=0, le=600)
    platform: str | None = None


class Trip(BaseModel):
    """A trip and its stops."""

    title: str
    stops: list[Stop]
    kind: str = "train"


@pytest.fixture
def service(
    fake_server: FakeProviderServer,
) -> Iterator[tuple[mw.ModelService, mw.InMemoryUsageSink]]:
    cfg = mw.Config(
        providers={
            "openai": {"api_key": "sk-test", "base_url": fake_server.url + "/v1"},
            "local": {
                "type": "openai_compatible",
                "base_url": fake_server.url + "/v1",
                "structured_output": "json_object",
            },
        },
        retry={"base_delay_s": 0.0, "max_delay_s": 0.01},
    )
    registry = mw.ModelRegistry.from_config(cfg)
    sink = mw.InMemoryUsageSink()
    try:
        yield mw.ModelService(registry, ledger=sink, caller="tests"), sink
    finally:
        registry.close()


MODES = ["auto", "native", "tool", "prompted"]


@pytest.mark.parametrize("mode", MODES)
def test_invoke(service: tuple[mw.ModelService, mw.InMemoryUsageSink], mode: str) -> None:
    svc, _ = service
    resp = svc.invoke_model("openai:gpt-4o-mini", "plan a trip", output=Trip, output_mode=mode)
    assert isinstance(resp.output, Trip)
    assert resp.output == Trip.model_validate_json(resp.text)
    assert resp.output_mode == ("native" if mode == "auto" else mode)
    assert resp.output_fallback is None


@pytest.mark.parametrize("mode", MODES)
def test_stream(service: tuple[mw.ModelService, mw.InMemoryUsageSink], mode: str) -> None:
    svc, _ = service
    events = list(
        svc.stream_model("openai:gpt-4o-mini", "plan a trip", output=Trip, output_mode=mode)
    )
    last = events[-1]
    assert last.done and isinstance(last.output, Trip)
    assert last.output_mode == ("native" if mode == "auto" else mode)
    assert last.output == Trip.model_validate_json(last.full_text or "")


def test_async_invoke_and_stream_of_a_wrapped_output(
    service: tuple[mw.ModelService, mw.InMemoryUsageSink],
) -> None:
    svc, _ = service

    async def run() -> tuple[mw.ChatResponse, list[mw.StreamEvent]]:
        resp = await svc.ainvoke_model("openai:gpt-4o-mini", "stops", output=list[Stop])
        events = [
            e async for e in svc.astream_model("openai:gpt-4o-mini", "stops", output=list[Stop])
        ]
        return resp, events

    resp, events = asyncio.run(run())
    assert isinstance(resp.output, list) and all(isinstance(s, Stop) for s in resp.output)
    assert resp.text.startswith("[")  # unwrapped from {"result": ...}
    assert events[-1].output == resp.output  # same prompt, same answer


def test_output_retries_ask_again_after_invalid_json(
    service: tuple[mw.ModelService, mw.InMemoryUsageSink], fake_server: FakeProviderServer
) -> None:
    svc, sink = service
    with pytest.raises(mw.OutputValidationError) as caught:
        svc.invoke_model("openai:gpt-4o-mini", "answer invalid json", output=Trip)
    assert caught.value.raw_text.startswith('{"answer"')
    resp = svc.invoke_model(
        "openai:gpt-4o-mini", "answer invalid json", output=Trip, output_retries=1
    )
    assert isinstance(resp.output, Trip)
    assert [e.status for e in sink.events] == ["ok", "ok", "ok"]
    assert sink.events[1].run_id == sink.events[2].run_id
    second = fake_server.requests[-1].body["messages"]
    assert second[-1]["role"] == "user" and "not valid" in second[-1]["content"]


def test_a_compatible_server_in_json_mode(
    service: tuple[mw.ModelService, mw.InMemoryUsageSink], fake_server: FakeProviderServer
) -> None:
    svc, _ = service
    resp = svc.invoke_model("local:llama3", "plan a trip", output=Trip)
    assert isinstance(resp.output, Trip) and resp.output_mode == "prompted"
    assert fake_server.requests[0].body["response_format"] == {"type": "json_object"}
