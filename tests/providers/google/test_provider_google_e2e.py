"""The google provider end to end: the real ``google-genai`` SDK against the loopback fake server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

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
from modelwire.providers.base import ProviderContext
from modelwire.providers.google.model import GeminiChatModel
from modelwire.types import ChatRequest, ModelInfo, StreamEvent, Usage
from tools.fake_provider import FakeProviderServer, Reply, Route

GENERATE = ":generateContent"
STREAM = ":streamGenerateContent"


def _context(
    server: FakeProviderServer,
    key: str | None = "AIza-fake-key-0000",
    name: str = "google",
    headers: dict[str, str] | None = None,
) -> ProviderContext:
    config = ProviderConfig(
        type="google", api_key=key, base_url=server.url, timeout_s=5.0, headers=headers or {}
    )
    return ProviderContext(name, config)


@pytest.fixture
def server(fake_server_shared: FakeProviderServer) -> FakeProviderServer:
    return fake_server_shared


@pytest.fixture
def ctx(server: FakeProviderServer) -> Iterator[ProviderContext]:
    context = _context(server)
    yield context
    context.close()


def _model(ctx: ProviderContext, name: str = "gemini-2.5-flash") -> GeminiChatModel:
    return GeminiChatModel(ModelInfo(id=f"{ctx.name}:{name}"), ctx)


def test_invoke(server: FakeProviderServer, ctx: ProviderContext) -> None:
    resp = _model(ctx).invoke(ChatRequest.build("hello there", system="be brief", max_tokens=50))
    assert resp.text == "echo: hello there"
    assert resp.model_id == "google:gemini-2.5-flash"
    assert resp.finish_reason == "stop"
    assert resp.usage == Usage(input_tokens=4, output_tokens=4)
    (logged,) = server.requests_to(GENERATE)
    assert logged.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert resp.request_id is not None and resp.request_id.startswith("req_fake_")
    assert logged.headers["x-goog-api-key"] == "AIza-fake-key-0000"
    assert logged.body["systemInstruction"] == {"parts": [{"text": "be brief"}], "role": "user"}
    assert logged.body["generationConfig"] == {"maxOutputTokens": 50}


def test_invoke_with_cache_and_thinking_usage(ctx: ProviderContext) -> None:
    request = ChatRequest.build(
        "one two three four five six seven eight",
        provider_params={"thinking_config": {"include_thoughts": True, "thinking_budget": 512}},
    )
    resp = _model(ctx, "gemini-cache-flash").invoke(request)
    # 8 prompt tokens, 4 of them cached; 10 answer tokens + 9 thought tokens.
    assert resp.usage == Usage(
        input_tokens=8, output_tokens=19, cache_read_tokens=4, reasoning_tokens=9
    )
    assert resp.text == "echo: one two three four five six seven eight"  # no thought text


def test_max_tokens_and_stop_sequences(ctx: ProviderContext) -> None:
    model = _model(ctx)
    cut = model.invoke(ChatRequest.build("a b c d e f", max_tokens=3))
    assert cut.finish_reason == "length"
    assert cut.text == "echo: a"
    stopped = model.invoke(ChatRequest.build("alpha beta gamma", stop=["gamma"]))
    assert stopped.text == "echo: alpha beta "


def test_ainvoke_across_event_loops(ctx: ProviderContext) -> None:
    model = _model(ctx)
    for prompt in ("first", "second"):
        resp = asyncio.run(model.ainvoke(ChatRequest.build(prompt)))
        assert resp.text == f"echo: {prompt}"


def test_stream(server: FakeProviderServer, ctx: ProviderContext) -> None:
    events = list(_model(ctx, "gemini-2.5-pro-cache").stream(ChatRequest.build("red green blue")))
    assert "".join(e.text for e in events) == "echo: red green blue"
    assert [e.done for e in events] == [False] * (len(events) - 1) + [True]
    last = events[-1]
    assert last.finish_reason == "stop"
    # the last chunk's counts win (earlier chunks carry running totals)
    assert last.usage == Usage(
        input_tokens=3, output_tokens=14, cache_read_tokens=1, reasoning_tokens=9
    )
    (logged,) = server.requests_to(STREAM)
    assert logged.query == {"alt": "sse"}
    assert last.request_id is not None and last.request_id.startswith("req_fake_")


def test_astream(ctx: ProviderContext) -> None:
    async def run() -> list[StreamEvent]:
        return [e async for e in _model(ctx).astream(ChatRequest.build("x y", max_tokens=3))]

    for _ in range(2):
        events = asyncio.run(run())
        assert "".join(e.text for e in events) == "echo: x"
        assert events[-1].finish_reason == "length"
        assert events[-1].usage == Usage(input_tokens=2, output_tokens=3)


def test_list_models_follows_page_tokens_and_keeps_chat_models(
    fake_server: FakeProviderServer,
) -> None:
    fake_server.models["gemini"] = [
        "gemini-a",
        "text-embedding-004",
        "gemini-b",
        "gemini-c",
        "gemini-embedding-001",
        "gemini-d",
        "gemini-e",
    ]
    fake_server.page_size = 2
    context = _context(fake_server)
    try:
        found = GeminiChatModel.list_models(context)
    finally:
        context.close()
    assert [m.id for m in found] == [f"google:gemini-{c}" for c in "abcde"]
    assert all(m.source == "discovered" and m.cost is None for m in found)
    assert found[0].context_window == 1_048_576 and found[0].max_output_tokens == 65_536
    tokens = [r.query.get("pageToken") for r in fake_server.requests_to("/v1beta/models")]
    assert tokens == [None, "text-embedding-004", "gemini-c", "gemini-d"]


def test_bad_key_is_authentication_error_after_exactly_one_request(
    server: FakeProviderServer, ctx: ProviderContext
) -> None:
    server.accepted_keys = {"someone-else"}
    with pytest.raises(AuthenticationError, match="API key not valid") as info:
        _model(ctx).invoke(ChatRequest.build("hi"))
    assert len(server.requests_to(GENERATE)) == 1
    assert info.value.provider == "google" and info.value.request_id is not None
    assert "AIza-fake-key-0000" not in str(info.value)


def test_401_status(server: FakeProviderServer, ctx: ProviderContext) -> None:
    server.faults.push(status=401)
    with pytest.raises(AuthenticationError):
        list(_model(ctx).stream(ChatRequest.build("hi")))
    assert len(server.requests_to(STREAM)) == 1


def test_429_carries_retry_after(server: FakeProviderServer, ctx: ProviderContext) -> None:
    server.faults.push(status=429, retry_after="4")
    with pytest.raises(RateLimitError) as info:
        _model(ctx).invoke(ChatRequest.build("hi"))
    assert info.value.retry_after == 4.0
    assert len(server.requests_to(GENERATE)) == 1  # the SDK never retried


def test_429_retry_delay_from_the_body() -> None:
    body = {
        "error": {
            "code": 429,
            "message": "Resource has been exhausted",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}],
        }
    }
    fmt = type(
        "Fmt",
        (),
        {
            "NAME": "gemini-quota",
            "ROUTES": [
                Route(
                    "POST", r"/v1beta/models/[^:]+:generateContent", lambda r, s: Reply(429, body)
                )
            ],
            "error_body": staticmethod(lambda status, message, code: body),
        },
    )
    with FakeProviderServer(formats=[fmt]) as srv:
        context = _context(srv)
        try:
            with pytest.raises(RateLimitError, match="exhausted") as info:
                _model(context).invoke(ChatRequest.build("hi"))
        finally:
            context.close()
    assert info.value.retry_after == 37.0
    assert len(srv.requests) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_unavailable(
    server: FakeProviderServer, ctx: ProviderContext, status: int
) -> None:
    server.faults.push(status=status)
    with pytest.raises(ProviderUnavailableError) as info:
        asyncio.run(_model(ctx).ainvoke(ChatRequest.build("hi")))
    assert info.value.status_code == status
    assert len(server.requests_to(GENERATE)) == 1


def test_timeout(server: FakeProviderServer, ctx: ProviderContext) -> None:
    server.faults.push(delay_ms=2000)
    with pytest.raises(TimeoutError, match=r"0\.3s"):
        _model(ctx).invoke(ChatRequest.build("hi", timeout=0.3))


def test_malformed_body(server: FakeProviderServer, ctx: ProviderContext) -> None:
    server.faults.push(malformed=True)
    with pytest.raises(ProviderUnavailableError, match="malformed"):
        _model(ctx).invoke(ChatRequest.build("hi"))
    server.faults.push(malformed=True)
    with pytest.raises(ProviderUnavailableError, match="malformed"):
        list(_model(ctx).stream(ChatRequest.build("one two three")))


def test_cut_stream(server: FakeProviderServer, ctx: ProviderContext) -> None:
    server.faults.push(cut_stream_after=2)
    seen: list[str] = []
    with pytest.raises(ProviderUnavailableError, match="cut off") as info:
        for event in _model(ctx).stream(ChatRequest.build("one two three four")):
            seen.append(event.text)
    assert "".join(seen) == "echo: one"
    assert "9 characters" in str(info.value)
    assert info.value.request_id is not None


def test_stream_that_ends_without_a_finish_reason_is_cut(ctx: ProviderContext) -> None:
    import json

    from tools.fake_provider import SseEvent

    chunk = {"candidates": [{"content": {"parts": [{"text": "partial"}], "role": "model"}}]}
    fmt = type(
        "Fmt",
        (),
        {
            "NAME": "gemini-short",
            "ROUTES": [
                Route(
                    "POST",
                    r"/v1beta/models/[^:]+:streamGenerateContent",
                    lambda r, s: Reply(events=[SseEvent(json.dumps(chunk))]),
                )
            ],
            "error_body": staticmethod(lambda status, message, code: {}),
        },
    )
    with FakeProviderServer(formats=[fmt]) as srv:
        context = _context(srv)
        try:
            with pytest.raises(ProviderUnavailableError, match="7 characters"):
                list(_model(context).stream(ChatRequest.build("hi")))
        finally:
            context.close()


def test_connection_reset(server: FakeProviderServer, ctx: ProviderContext) -> None:
    server.faults.push(reset=True)
    with pytest.raises(ProviderUnavailableError, match="could not reach"):
        _model(ctx).invoke(ChatRequest.build("hi"))
    assert len(server.requests_to(GENERATE)) == 1  # no hidden retry in the SDK


def test_context_window_overflow(ctx: ProviderContext) -> None:
    with pytest.raises(ContextWindowError, match="input token count"):
        _model(ctx, "gemini-tiny").invoke(ChatRequest.build("word " * 40))


def test_unknown_model_and_bad_config(server: FakeProviderServer, ctx: ProviderContext) -> None:
    server.faults.push(status=404, message="models/gemini-nope is not found")
    with pytest.raises(InvalidRequestError, match="gemini-nope"):
        _model(ctx, "gemini-nope").invoke(ChatRequest.build("hi"))
    bad = ChatRequest.build("hi", provider_params={"thinking_config": "lots"})
    with pytest.raises(InvalidRequestError, match="thinking_config"):
        _model(ctx).invoke(bad)
    assert len(server.requests_to(GENERATE)) == 1


def test_missing_key_names_the_variable(server: FakeProviderServer) -> None:
    context = _context(server, key=None)
    with pytest.raises(AuthenticationError, match="GOOGLE_API_KEY"):
        _model(context).invoke(ChatRequest.build("hi"))
    with pytest.raises(AuthenticationError, match="GOOGLE_API_KEY"):
        asyncio.run(_model(context).ainvoke(ChatRequest.build("hi")))
    assert server.requests_to(GENERATE) == []


def test_two_entries_with_different_keys_side_by_side(server: FakeProviderServer) -> None:
    server.accepted_keys = {"AIza-key-a", "AIza-key-b"}
    a = _context(server, key="AIza-key-a", name="gemini_a")
    b = _context(server, key="AIza-key-b", name="gemini_b", headers={"x-team": "b"})
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
        assert results == {"gemini_a": "echo: gemini_a", "gemini_b": "echo: gemini_b"}
        by_key: dict[str, set[str]] = {}
        for r in server.requests_to(GENERATE):
            prompt = r.body["contents"][0]["parts"][0]["text"]
            by_key.setdefault(r.headers["x-goog-api-key"], set()).add(prompt)
            assert (r.headers.get("x-team") == "b") == (prompt == "gemini_b")
        assert by_key == {"AIza-key-a": {"gemini_a"}, "AIza-key-b": {"gemini_b"}}
    finally:
        a.close()
        b.close()


def test_transport_errors_map_the_same_on_the_httpx_backend(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GENAI_HTTP_CLIENT", "httpx")  # google-genai's other transport
    context = _context(server)
    try:
        model = _model(context)
        assert model.invoke(ChatRequest.build("plain")).text == "echo: plain"
        server.faults.push(delay_ms=2000)
        with pytest.raises(TimeoutError):
            model.invoke(ChatRequest.build("hi", timeout=0.3))
        server.faults.push(reset=True)
        with pytest.raises(ProviderUnavailableError, match="could not reach"):
            model.invoke(ChatRequest.build("hi"))
        server.faults.push(cut_stream_after=2)
        with pytest.raises(ProviderUnavailableError, match="cut off"):
            list(model.stream(ChatRequest.build("one two three four")))
        import httpx

        assert isinstance(
            context.client("sync", lambda: None)._api_client._httpx_client, httpx.Client
        )
    finally:
        context.close()


@pytest.fixture(params=["aiohttp", "httpx"])
def async_transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """google-genai's async transport: aiohttp when it is installed (what most applications
    have), httpx otherwise; both must map errors the same."""
    from google.genai import _api_client

    if request.param == "aiohttp":
        pytest.importorskip("aiohttp")
        assert _api_client.has_aiohttp
    else:
        monkeypatch.setattr(_api_client, "has_aiohttp", False)
    return str(request.param)


def test_async_paths_map_errors_too(
    server: FakeProviderServer, ctx: ProviderContext, async_transport: str
) -> None:
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
    server.faults.push(reset=True)
    with pytest.raises(ProviderUnavailableError, match="could not reach"):
        asyncio.run(model.ainvoke(ChatRequest.build("hi")))
    assert asyncio.run(model.ainvoke(ChatRequest.build("after"))).text == "echo: after"


def test_entry_timeout_applies_without_a_per_call_timeout(
    server: FakeProviderServer, async_transport: str
) -> None:
    config = ProviderConfig(type="google", api_key="AIza-k", base_url=server.url, timeout_s=0.4)
    context = ProviderContext("google", config)
    try:
        server.faults.push(delay_ms=1500, times=2)
        with pytest.raises(TimeoutError, match=r"0\.4s"):
            _model(context).invoke(ChatRequest.build("hi"))
        with pytest.raises(TimeoutError):
            asyncio.run(_model(context).ainvoke(ChatRequest.build("hi")))
    finally:
        context.close()


def test_http_options_pass_through(server: FakeProviderServer, ctx: ProviderContext) -> None:
    request = ChatRequest.build(
        "hi",
        provider_params={"http_options": {"headers": {"x-extra": "yes"}}, "labels": {"a": "b"}},
    )
    assert _model(ctx).invoke(request).text == "echo: hi"
    (logged,) = server.requests_to(GENERATE)
    assert logged.headers["x-extra"] == "yes"
    assert logged.headers["x-goog-api-key"] == "AIza-fake-key-0000"
    assert logged.body["labels"] == {"a": "b"}
