"""OpenAI provider errors end to end: every fault of the fake server gives the right modelwire error."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from types import SimpleNamespace
from typing import Any

import pytest

from modelwire import errors
from modelwire.providers import _http
from modelwire.types import ChatRequest, StreamEvent
from tools.fake_provider import FakeProviderServer, FakeRequest, Fault, Reply, Route, SseEvent

MakeModel = Callable[..., Any]


def _req(prompt: str = "one two three four five", **kw: Any) -> ChatRequest:
    return ChatRequest.build(prompt, **kw)


def _collect(model: Any, request: ChatRequest) -> list[StreamEvent]:
    return list(model.stream(request))


def _acollect(model: Any, request: ChatRequest) -> list[StreamEvent]:
    async def main() -> list[StreamEvent]:
        return [e async for e in model.astream(request)]

    return asyncio.run(main())


def _ainvoke(model: Any, request: ChatRequest) -> Any:
    return asyncio.run(model.ainvoke(request))


CALLS = {
    "invoke": lambda m, r: m.invoke(r),
    "ainvoke": _ainvoke,
    "stream": _collect,
    "astream": _acollect,
}


@pytest.mark.parametrize("call", list(CALLS))
def test_401_is_authentication_error_and_sent_once(
    fake_server: FakeProviderServer, openai_model: MakeModel, call: str
) -> None:
    fake_server.accepted_keys = {"sk-right"}
    model = openai_model(key="sk-wrong-secret-value")
    with pytest.raises(errors.AuthenticationError) as info:
        CALLS[call](model, _req())
    err = info.value
    assert err.status_code == 401 and not err.retryable
    assert err.provider == "openai" and err.model_id == "openai:gpt-4o-mini"
    assert err.request_id is not None and err.request_id.startswith("req_fake_")
    assert "sk-wrong-secret-value" not in str(err) and "sk-wrong-secret-value" not in repr(err)
    assert len(fake_server.requests) == 1  # the SDK's own retries are off


@pytest.mark.parametrize("call", list(CALLS))
def test_429_carries_retry_after(
    fake_server: FakeProviderServer, openai_model: MakeModel, call: str
) -> None:
    fake_server.faults.push(status=429, retry_after="2", code="rate_limit_exceeded")
    with pytest.raises(errors.RateLimitError) as info:
        CALLS[call](openai_model(), _req())
    assert info.value.retry_after == 2.0 and info.value.retryable
    assert info.value.status_code == 429
    assert "rate limit exceeded" in str(info.value)
    assert len(fake_server.requests) == 1


def test_429_with_http_date_and_ms_headers(
    fake_server: FakeProviderServer, openai_model: MakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_server.faults.push(status=429, retry_after_ms=1500)
    with pytest.raises(errors.RateLimitError) as info:
        openai_model().invoke(_req())
    assert info.value.retry_after == 1.5
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

    class Frozen(datetime):  # the clock an HTTP date is measured against
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:
            return now

    monkeypatch.setattr(_http, "datetime", Frozen)
    fake_server.faults.push(status=429, retry_after="Sun, 01 Mar 2026 12:00:30 GMT")
    with pytest.raises(errors.RateLimitError) as info:
        openai_model().invoke(_req())
    assert info.value.retry_after == 30.0


def test_quota_exhausted_is_not_retryable(
    fake_server: FakeProviderServer, openai_model: MakeModel
) -> None:
    fake_server.faults.push(
        status=429, code="insufficient_quota", message="You exceeded your quota"
    )
    with pytest.raises(errors.RateLimitError, match="quota") as info:
        openai_model().invoke(_req())
    assert not info.value.retryable


@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_server_errors_are_unavailable(
    fake_server: FakeProviderServer, openai_model: MakeModel, status: int
) -> None:
    fake_server.faults.push(status=status)
    with pytest.raises(errors.ProviderUnavailableError) as info:
        openai_model().invoke(_req())
    assert info.value.status_code == status and info.value.retryable
    assert len(fake_server.requests) == 1


@pytest.mark.parametrize("call", ["invoke", "ainvoke", "stream"])
def test_timeout(fake_server: FakeProviderServer, openai_model: MakeModel, call: str) -> None:
    # The server would answer (successfully) only after a minute, or when the test stops it:
    # a TimeoutError naming the entry's 0.2 s shows the client gave up on its own deadline.
    fake_server.faults.push(delay_ms=60_000)
    model = openai_model(timeout_s=0.2)
    with pytest.raises(errors.TimeoutError, match=r"did not answer after 0\.2s") as info:
        CALLS[call](model, _req())
    assert info.value.retryable
    assert len(fake_server.requests) == 1  # given up, not retried by the SDK


def test_per_call_timeout_overrides_the_entry(
    fake_server: FakeProviderServer, openai_model: MakeModel
) -> None:
    fake_server.faults.push(delay_ms=2000)
    with pytest.raises(errors.TimeoutError, match=r"0\.1s"):
        openai_model(timeout_s=30).invoke(_req(timeout=0.1))


def test_timeout_between_stream_chunks(
    fake_server: FakeProviderServer, openai_model: MakeModel
) -> None:
    fake_server.faults.push(chunk_delay_ms=1000)
    with pytest.raises(errors.TimeoutError):
        _collect(openai_model(timeout_s=0.2), _req())


@pytest.mark.parametrize("call", list(CALLS))
def test_malformed_body(
    fake_server: FakeProviderServer, openai_model: MakeModel, call: str
) -> None:
    fake_server.faults.push(malformed=True)
    with pytest.raises(errors.ProviderUnavailableError, match="malformed response body") as info:
        CALLS[call](openai_model(), _req())
    assert info.value.retryable


@pytest.mark.parametrize("call", ["stream", "astream"])
def test_cut_stream(fake_server: FakeProviderServer, openai_model: MakeModel, call: str) -> None:
    fake_server.faults.push(cut_stream_after=3)
    received: list[str] = []
    model = openai_model()

    def consume() -> None:
        if call == "stream":
            for event in model.stream(_req()):
                received.append(event.text)
        else:

            async def main() -> None:
                async for event in model.astream(_req()):
                    received.append(event.text)

            asyncio.run(main())

    with pytest.raises(errors.ProviderUnavailableError, match="cut off") as info:
        consume()
    assert info.value.retryable
    assert info.value.request_id is not None
    assert "".join(received) == "echo: one"  # the caller got what arrived before the cut
    assert "9 characters received" in str(info.value)


def test_stream_that_ends_cleanly_without_finishing_is_a_cut(openai_model: MakeModel) -> None:
    def handler(request: FakeRequest, server: FakeProviderServer) -> Reply:
        chunk = {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": "half"}, "finish_reason": None}],
        }
        return Reply(events=[SseEvent(json.dumps(chunk)), SseEvent("[DONE]")])

    truncating = SimpleNamespace(
        NAME="truncating",
        ROUTES=[Route("POST", r"/v1/chat/completions", handler)],
        error_body=lambda status, message, code: {"error": {"message": message}},
    )
    with FakeProviderServer(formats=[truncating]) as server:
        model = openai_model(base_url=server.url + "/v1")
        with pytest.raises(errors.ProviderUnavailableError, match=r"cut off.*4 characters"):
            _collect(model, _req())


def test_context_window(fake_server: FakeProviderServer, openai_model: MakeModel) -> None:
    fake_server.faults.push(
        status=400,
        code="context_length_exceeded",
        message="This model's maximum context length is 128000 tokens.",
    )
    with pytest.raises(errors.ContextWindowError, match="maximum context length") as info:
        openai_model().invoke(_req())
    assert info.value.status_code == 400 and not info.value.retryable


def test_unknown_model_at_the_provider(
    fake_server: FakeProviderServer, openai_model: MakeModel
) -> None:
    fake_server.faults.push(
        status=404, code="model_not_found", message="The model `gpt-9` does not exist."
    )
    with pytest.raises(errors.InvalidRequestError, match="model 'gpt-9' was not found") as info:
        openai_model("gpt-9").invoke(_req())
    assert info.value.status_code == 404 and not info.value.retryable


def test_bad_request(fake_server: FakeProviderServer, openai_model: MakeModel) -> None:
    fake_server.faults.push(status=400, message="Invalid value for 'temperature'")
    with pytest.raises(errors.InvalidRequestError, match="temperature"):
        openai_model().invoke(_req())


def test_connection_refused_and_reset(
    fake_server: FakeProviderServer, openai_model: MakeModel
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    refused = openai_model(base_url=f"http://127.0.0.1:{free_port}/v1")
    with pytest.raises(errors.ProviderUnavailableError, match="could not reach openai"):
        refused.invoke(_req())
    fake_server.faults.push(Fault(reset=True))
    with pytest.raises(errors.ProviderUnavailableError, match="could not reach openai"):
        openai_model().invoke(_req())


def test_list_models_errors_are_mapped(
    fake_server: FakeProviderServer, openai_model: MakeModel
) -> None:
    fake_server.faults.push(status=401)
    model = openai_model()
    with pytest.raises(errors.AuthenticationError) as info:
        type(model).list_models(model.provider)
    assert info.value.model_id is None and info.value.provider == "openai"
