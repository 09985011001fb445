"""The anthropic provider end to end: the real ``anthropic`` SDK against the loopback fake server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from modelwire.config.schema import ProviderConfig
from modelwire.errors import (
    AuthenticationError,
    ContextWindowError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitError,
    TimeoutError,
)
from modelwire.providers.anthropic.model import AnthropicChatModel
from modelwire.providers.base import ProviderContext
from modelwire.types import ChatRequest, ModelInfo, StreamEvent, Usage
from tools.fake_provider import FakeProviderServer, Fault

MESSAGES = "/v1/messages"


def _context(
    server: FakeProviderServer, key: str | None = "sk-ant-test", timeout_s: float = 5.0
) -> ProviderContext:
    config = ProviderConfig(
        type="anthropic", api_key=key, base_url=server.url + "/anthropic", timeout_s=timeout_s
    )
    return ProviderContext("anthropic", config)


@pytest.fixture
def server(fake_server_shared: FakeProviderServer) -> FakeProviderServer:
    return fake_server_shared


@pytest.fixture
def ctx(server: FakeProviderServer) -> Iterator[ProviderContext]:
    context = _context(server)
    yield context
    context.close()


def _model(ctx: ProviderContext, name: str = "claude-fake-1") -> AnthropicChatModel:
    return AnthropicChatModel(ModelInfo(id=f"{ctx.name}:{name}"), ctx)


def _collect(events: Iterator[StreamEvent]) -> tuple[str, StreamEvent]:
    items = list(events)
    assert items and items[-1].done
    assert all(not e.done for e in items[:-1])
    return "".join(e.text for e in items), items[-1]


def test_invoke(server: FakeProviderServer, ctx: ProviderContext) -> None:
    resp = _model(ctx).invoke(ChatRequest.build("hello there", system="be brief", max_tokens=50))
    assert resp.text == "echo: hello there"
    assert resp.model_id == "anthropic:claude-fake-1"
    assert resp.finish_reason == "stop"
    assert resp.usage == Usage(input_tokens=4, output_tokens=4)
    (logged,) = server.requests_to(MESSAGES)
    assert resp.request_id is not None and resp.request_id.startswith("req_fake_")
    assert logged.body["system"] == "be brief"
    assert logged.headers["authorization"] == "Bearer sk-ant-test"
    assert logged.headers["anthropic-version"]
    assert logged.headers["x-stainless-retry-count"] == "0"


def test_invoke_with_cache_and_thinking_usage(ctx: ProviderContext) -> None:
    request = ChatRequest.build(
        "one two three four five six seven eight",
        provider_params={"thinking": {"type": "enabled", "budget_tokens": 1024}},
    )
    resp = _model(ctx, "claude-cache-model").invoke(request)
    # 8 prompt tokens: 4 read from the cache, 2 written, 2 plain; 10 answer + 7 thinking.
    assert resp.usage == Usage(
        input_tokens=8,
        output_tokens=17,
        cache_read_tokens=4,
        cache_write_tokens=2,
        reasoning_tokens=7,
    )
    assert resp.text == "echo: one two three four five six seven eight"


def test_max_tokens_truncates_and_stop_sequences(ctx: ProviderContext) -> None:
    model = _model(ctx)
    cut = model.invoke(ChatRequest.build("a b c d e f", max_tokens=3))
    assert cut.finish_reason == "length"
    assert cut.text == "echo: a"
    stopped = model.invoke(ChatRequest.build("alpha beta gamma", stop=["gamma"]))
    assert stopped.text == "echo: alpha beta "
    assert stopped.finish_reason == "stop"


def test_ainvoke_across_event_loops(ctx: ProviderContext) -> None:
    model = _model(ctx)
    for prompt in ("first", "second"):  # a fresh loop each time: the client must follow it
        resp = asyncio.run(model.ainvoke(ChatRequest.build(prompt)))
        assert resp.text == f"echo: {prompt}"
        assert resp.usage.input_tokens == 1


def test_stream(server: FakeProviderServer, ctx: ProviderContext) -> None:
    text, last = _collect(
        _model(ctx, "claude-cache-think").stream(ChatRequest.build("red green blue"))
    )
    assert text == "echo: red green blue"
    assert last.model_id == "anthropic:claude-cache-think"
    assert last.finish_reason == "stop"
    assert last.usage == Usage(
        input_tokens=3,
        output_tokens=12,
        cache_read_tokens=1,
        cache_write_tokens=0,
        reasoning_tokens=7,
    )
    assert last.request_id is not None and last.request_id.startswith("req_fake_")
    assert server.requests_to(MESSAGES)[-1].body["stream"] is True


def test_astream(ctx: ProviderContext) -> None:
    async def run() -> list[StreamEvent]:
        return [e async for e in _model(ctx).astream(ChatRequest.build("x y", max_tokens=3))]

    events = asyncio.run(run())
    assert "".join(e.text for e in events) == "echo: x"
    assert events[-1].done and events[-1].finish_reason == "length"
    assert events[-1].usage == Usage(input_tokens=2, output_tokens=3)


def test_list_models_follows_paging(fake_server: FakeProviderServer) -> None:
    fake_server.models["anthropic"] = [f"claude-m{i}" for i in range(7)]
    fake_server.page_size = 3
    context = _context(fake_server)
    try:
        found = AnthropicChatModel.list_models(context)
    finally:
        context.close()
    assert [m.id for m in found] == [f"anthropic:claude-m{i}" for i in range(7)]
    assert all(m.source == "discovered" and m.cost is None for m in found)
    assert found[0].context_window == 200_000
    pages = [r.query.get("after_id") for r in fake_server.requests_to("/v1/models")]
    assert pages == [None, "claude-m2", "claude-m5"]


def test_401_is_authentication_error_after_exactly_one_request(
    server: FakeProviderServer, ctx: ProviderContext
) -> None:
    server.accepted_keys = {"someone-else"}
    with pytest.raises(AuthenticationError) as info:
        _model(ctx).invoke(ChatRequest.build("hi"))
    assert len(server.requests_to(MESSAGES)) == 1
    err = info.value
    assert err.status_code == 401 and err.provider == "anthropic"
    assert err.model_id == "anthropic:claude-fake-1"
    assert err.request_id is not None
    assert "sk-ant-test" not in str(err)


def test_429_carries_retry_after(server: FakeProviderServer, ctx: ProviderContext) -> None:
    server.faults.push(status=429, retry_after="7")
    with pytest.raises(RateLimitError) as info:
        _model(ctx).invoke(ChatRequest.build("hi"))
    assert info.value.retry_after == 7.0
    assert info.value.retryable
    server.faults.push(status=429, retry_after_ms=1500)
    with pytest.raises(RateLimitError) as info:
        list(_model(ctx).stream(ChatRequest.build("hi")))
    assert info.value.retry_after == 1.5
    assert len(server.requests_to(MESSAGES)) == 2  # the SDK never retried


@pytest.mark.parametrize("status", [529, 500, 503])
def test_overload_and_server_errors_are_unavailable(
    server: FakeProviderServer, ctx: ProviderContext, status: int
) -> None:
    server.faults.push(status=status)
    with pytest.raises(ProviderUnavailableError) as info:
        _model(ctx).invoke(ChatRequest.build("hi"))
    assert info.value.status_code == status
    assert info.value.retryable
    assert len(server.requests_to(MESSAGES)) == 1


def test_overloaded_error_event_inside_a_stream(ctx: ProviderContext) -> None:
    import json

    from tools.fake_provider import FakeProviderServer, Reply, Route, SseEvent

    def handler(request: object, srv: object) -> Reply:
        start = {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 1}}}
        error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        return Reply(
            events=[
                SseEvent(json.dumps(start), "message_start"),
                SseEvent(json.dumps(error), "error"),
            ]
        )

    fmt = type(
        "Fmt",
        (),
        {
            "NAME": "anthropic-overload",
            "ROUTES": [Route("POST", r"/anthropic/v1/messages", handler)],
            "REQUEST_ID_HEADER": "request-id",
            "error_body": staticmethod(lambda status, message, code: {"error": {}}),
        },
    )
    with FakeProviderServer(formats=[fmt]) as srv:
        context = _context(srv)
        try:
            with pytest.raises(ProviderUnavailableError, match="Overloaded") as info:
                list(_model(context).stream(ChatRequest.build("hi")))
            assert info.value.status_code == 529
            assert info.value.request_id is not None
        finally:
            context.close()


def test_timeout(server: FakeProviderServer, ctx: ProviderContext) -> None:
    server.faults.push(delay_ms=2000)
    with pytest.raises(TimeoutError) as info:
        _model(ctx).invoke(ChatRequest.build("hi", timeout=0.3))
    assert info.value.retryable
    assert "0.3s" in str(info.value)


def test_malformed_body(server: FakeProviderServer, ctx: ProviderContext) -> None:
    server.faults.push(malformed=True)
    with pytest.raises(ProviderUnavailableError, match="malformed"):
        _model(ctx).invoke(ChatRequest.build("hi"))
    server.faults.push(malformed=True)
    with pytest.raises(ProviderUnavailableError, match="malformed"):
        list(_model(ctx).stream(ChatRequest.build("hi")))


def test_cut_stream(server: FakeProviderServer, ctx: ProviderContext) -> None:
    server.faults.push(cut_stream_after=5)
    seen: list[str] = []
    with pytest.raises(ProviderUnavailableError, match="cut off") as info:
        for event in _model(ctx).stream(ChatRequest.build("one two three four")):
            seen.append(event.text)
    assert "".join(seen) == "echo: one"  # start, block start, ping, then two deltas
    assert info.value.request_id is not None
    assert "9 characters" in str(info.value)


def test_connection_reset(server: FakeProviderServer, ctx: ProviderContext) -> None:
    server.faults.push(Fault(reset=True))
    with pytest.raises(ProviderUnavailableError, match="could not reach"):
        _model(ctx).invoke(ChatRequest.build("hi"))
    assert len(server.requests_to(MESSAGES)) == 1  # no hidden retry in the SDK


def test_context_window_overflow(ctx: ProviderContext) -> None:
    with pytest.raises(ContextWindowError, match="prompt is too long") as info:
        _model(ctx, "claude-tiny").invoke(ChatRequest.build("word " * 40))
    assert info.value.status_code == 400
    assert not info.value.retryable


def test_unknown_model_is_an_invalid_request(
    server: FakeProviderServer, ctx: ProviderContext
) -> None:
    server.faults.push(status=404, message="model: claude-nope", code="not_found_error")
    with pytest.raises(InvalidRequestError, match="claude-nope"):
        _model(ctx, "claude-nope").invoke(ChatRequest.build("hi"))


def test_missing_key_names_the_variable(server: FakeProviderServer) -> None:
    context = _context(server, key=None)
    with pytest.raises(AuthenticationError, match="ANTHROPIC_API_KEY"):
        _model(context).invoke(ChatRequest.build("hi"))
    with pytest.raises(AuthenticationError, match="ANTHROPIC_API_KEY"):
        asyncio.run(_model(context).ainvoke(ChatRequest.build("hi")))
    assert server.requests_to(MESSAGES) == []


def test_two_entries_with_different_keys_side_by_side(server: FakeProviderServer) -> None:
    server.accepted_keys = {"key-a", "key-b"}
    a = ProviderContext(
        "claude_a",
        ProviderConfig(type="anthropic", api_key="key-a", base_url=server.url + "/anthropic"),
    )
    b = ProviderContext(
        "claude_b",
        ProviderConfig(
            type="anthropic",
            api_key="key-b",
            base_url=server.url + "/anthropic",
            headers={"x-team": "b"},
        ),
    )
    try:
        results: dict[str, str] = {}

        def call(ctx: ProviderContext) -> None:
            for _ in range(3):
                results[ctx.name] = _model(ctx).invoke(ChatRequest.build(ctx.name)).text

        threads = [threading.Thread(target=call, args=(c,)) for c in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert results == {"claude_a": "echo: claude_a", "claude_b": "echo: claude_b"}
        by_key: dict[str, set[str]] = {}
        for r in server.requests_to(MESSAGES):
            prompt = r.body["messages"][0]["content"]
            by_key.setdefault(r.headers["authorization"], set()).add(prompt)
            assert (r.headers.get("x-team") == "b") == (prompt == "claude_b")
        assert by_key == {"Bearer key-a": {"claude_a"}, "Bearer key-b": {"claude_b"}}
        assert a.client("sync", lambda: None) is not b.client("sync", lambda: None)
    finally:
        a.close()
        b.close()


def test_clients_are_reused_and_rebuilt_after_close(server: FakeProviderServer) -> None:
    context = _context(server)
    model = _model(context)
    model.invoke(ChatRequest.build("a"))
    first = context.client("sync", lambda: None)
    model.invoke(ChatRequest.build("b"))
    assert context.client("sync", lambda: None) is first
    context.close()
    model.invoke(ChatRequest.build("c"))
    assert context.client("sync", lambda: None) is not first
    context.close()


def test_async_paths_map_errors_too(server: FakeProviderServer, ctx: ProviderContext) -> None:
    model = _model(ctx)

    async def stream_all() -> list[StreamEvent]:
        return [e async for e in model.astream(ChatRequest.build("one two three four"))]

    server.faults.push(status=429, retry_after="2")
    with pytest.raises(RateLimitError) as info:
        asyncio.run(model.ainvoke(ChatRequest.build("hi")))
    assert info.value.retry_after == 2.0
    server.faults.push(cut_stream_after=3)
    with pytest.raises(ProviderUnavailableError, match="cut off"):
        asyncio.run(stream_all())
    server.faults.push(delay_ms=2000)
    with pytest.raises(TimeoutError):
        asyncio.run(model.ainvoke(ChatRequest.build("hi", timeout=0.3)))


def test_entry_timeout_applies_without_a_per_call_timeout(server: FakeProviderServer) -> None:
    context = _context(server, timeout_s=0.4)
    try:
        server.faults.push(delay_ms=1500, times=2)
        with pytest.raises(TimeoutError, match=r"0\.4s"):
            _model(context).invoke(ChatRequest.build("hi"))
        with pytest.raises(TimeoutError):
            asyncio.run(_model(context).ainvoke(ChatRequest.build("hi")))
    finally:
        context.close()


def test_sdk_call_options_in_provider_params(
    server: FakeProviderServer, ctx: ProviderContext
) -> None:
    request = ChatRequest.build(
        "hi",
        provider_params={
            "extra_headers": {"anthropic-beta": "context-1m-2025-08-07"},
            "extra_query": {"beta": "true"},
            "extra_body": {"service_tier": "auto"},
            "top_k": 3,
        },
    )
    assert _model(ctx).invoke(request).text == "echo: hi"
    (logged,) = server.requests_to(MESSAGES)
    assert logged.headers["anthropic-beta"] == "context-1m-2025-08-07"
    assert logged.query == {"beta": "true"}
    assert logged.body["service_tier"] == "auto" and logged.body["top_k"] == 3
    assert not {"extra_headers", "extra_query", "extra_body"} & set(logged.body)


@pytest.fixture
def closed_streams(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The SDK streams (sync and async) closed during a test, in order."""
    import anthropic

    closed: list[Any] = []
    close_sync, close_async = anthropic.Stream.close, anthropic.AsyncStream.close

    def spy(stream: Any) -> None:
        closed.append(stream)
        close_sync(stream)

    async def aspy(stream: Any) -> None:
        closed.append(stream)
        await close_async(stream)

    monkeypatch.setattr(anthropic.Stream, "close", spy)
    monkeypatch.setattr(anthropic.AsyncStream, "close", aspy)
    return closed


def test_a_stream_left_early_releases_its_connection(
    ctx: ProviderContext, closed_streams: list[Any]
) -> None:
    model = _model(ctx)
    events = model.stream(ChatRequest.build("one two three four"))
    assert next(events).text
    events.close()  # type: ignore[attr-defined]

    async def leave_early() -> None:
        events = model.astream(ChatRequest.build("one two three four"))
        assert (await anext(events)).text
        await events.aclose()  # type: ignore[attr-defined]

    asyncio.run(leave_early())
    assert len(closed_streams) == 2
    assert all(stream.response.is_closed for stream in closed_streams)


def test_a_cancelled_astream_releases_its_connection(
    server: FakeProviderServer, ctx: ProviderContext, closed_streams: list[Any]
) -> None:
    server.faults.push(chunk_delay_ms=200)  # time to cancel between two events

    async def cancel_after_the_first_text() -> list[str]:
        seen: list[str] = []
        first = asyncio.Event()

        async def consume() -> None:
            async for event in _model(ctx).astream(ChatRequest.build("one two three four")):
                seen.append(event.text)
                first.set()

        task = asyncio.create_task(consume())
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return seen

    assert asyncio.run(cancel_after_the_first_text()) == ["echo:"]
    (stream,) = closed_streams
    assert stream.response.is_closed


def test_a_finished_stream_is_closed_too(ctx: ProviderContext, closed_streams: list[Any]) -> None:
    text, _ = _collect(_model(ctx).stream(ChatRequest.build("hi")))
    assert text == "echo: hi"
    (stream,) = closed_streams
    assert stream.response.is_closed
