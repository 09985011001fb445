"""The loopback fake provider server on the wire: routes, log, paging, SSE and every fault kind."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from tools.fake_provider import FakeProviderServer, FakeRequest, Fault, Reply, Route, parse_fault
from tools.fake_provider.faults import FaultQueue
from tools.fake_provider.server import count_tokens, fake_reply

CHAT = "/v1/chat/completions"


def _post(
    server: FakeProviderServer, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"content-type": "application/json", **(headers or {})},
        )
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _get(server: FakeProviderServer, path: str) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def _chat(prompt: str = "hello world", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}], **extra}


def test_parse_fault_header_round_trip() -> None:
    fault = parse_fault("status=429; retry_after=2 ;code=rate_limit_exceeded")
    assert fault == Fault(status=429, retry_after="2", code="rate_limit_exceeded")
    assert parse_fault(fault.to_header()) == fault
    assert parse_fault("malformed") == Fault(malformed=True)
    assert parse_fault("cut-stream-after=2;delay_ms=5") == Fault(cut_stream_after=2, delay_ms=5)
    assert parse_fault("") == Fault()
    with pytest.raises(ValueError, match="unknown fault"):
        parse_fault("explode=1")


def test_fault_queue_is_consumed_in_order_and_by_path() -> None:
    queue = FaultQueue()
    queue.push(status=500, times=2)
    queue.push(Fault(status=429), path="/models")
    assert len(queue) == 3
    assert queue.take("/v1/models") == Fault(status=500)
    assert queue.take("/v1/chat/completions") == Fault(status=500)
    assert queue.take("/v1/chat/completions") is None
    assert queue.take("/v1/models") == Fault(status=429)
    assert len(queue) == 0


def test_deterministic_reply_and_token_counts() -> None:
    assert fake_reply("  hi   there ") == ("echo: hi there", False)
    assert fake_reply("one two three four", max_tokens=3) == ("echo: one", True)
    assert count_tokens("echo: hi there") == 4
    assert count_tokens("") == 0


def test_chat_completion_and_request_log(fake_server: FakeProviderServer) -> None:
    status, headers, raw = _post(fake_server, CHAT, _chat("hello world"), {"x-trace": "t1"})
    assert status == 200
    body = json.loads(raw)
    assert body["choices"][0]["message"]["content"] == "echo: hello world"
    assert body["usage"]["prompt_tokens"] == 2
    assert headers["x-request-id"].startswith("req_fake_")
    (entry,) = fake_server.requests
    assert (entry.method, entry.path, entry.format) == ("POST", CHAT, "openai")
    assert entry.headers["x-trace"] == "t1"
    assert entry.body["messages"][0]["content"] == "hello world"


def test_unknown_route_is_404_and_logged(fake_server: FakeProviderServer) -> None:
    status, _, raw = _post(fake_server, "/v9/nothing", {})
    assert status == 404
    assert "no route" in json.loads(raw)["error"]["message"]
    assert fake_server.requests[0].format is None


def test_stream_has_final_usage_chunk(fake_server: FakeProviderServer) -> None:
    body = _chat("a b c", stream=True, stream_options={"include_usage": True})
    status, headers, raw = _post(fake_server, CHAT, body)
    assert status == 200 and headers["content-type"] == "text/event-stream"
    datas = [line[6:] for line in raw.decode().splitlines() if line.startswith("data: ")]
    assert datas[-1] == "[DONE]"
    chunks = [json.loads(d) for d in datas[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "echo: a b c"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 5


def test_status_fault_from_header_with_retry_after(fake_server: FakeProviderServer) -> None:
    fault = "status=429;retry_after=2;code=rate_limit_exceeded"
    status, headers, raw = _post(fake_server, CHAT, _chat(), {"x-fake-fault": fault})
    assert status == 429
    assert headers["retry-after"] == "2"
    assert json.loads(raw)["error"]["code"] == "rate_limit_exceeded"
    assert fake_server.requests[0].fault.status == 429


def test_queued_fault_applies_once(fake_server: FakeProviderServer) -> None:
    fake_server.faults.push(status=503)
    assert _post(fake_server, CHAT, _chat())[0] == 503
    assert _post(fake_server, CHAT, _chat())[0] == 200


def test_malformed_body(fake_server: FakeProviderServer) -> None:
    fake_server.faults.push(malformed=True)
    status, _, raw = _post(fake_server, CHAT, _chat())
    assert status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


def test_cut_stream_drops_the_connection(fake_server: FakeProviderServer) -> None:
    fake_server.faults.push(cut_stream_after=2)
    with pytest.raises(http.client.IncompleteRead):
        _post(fake_server, CHAT, _chat("a b c d e f", stream=True))


def test_reset_sends_nothing(fake_server: FakeProviderServer) -> None:
    fake_server.faults.push(reset=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _post(fake_server, CHAT, _chat())


def test_delay(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> bool:
        slept.append(seconds)
        return False  # not stopped: answer after the sleep

    monkeypatch.setattr(fake_server, "_sleep", sleep)
    fake_server.faults.push(delay_ms=150)
    assert _post(fake_server, CHAT, _chat())[0] == 200
    assert slept == [0.15]  # the answer waited for the delay, once
    assert _post(fake_server, CHAT, _chat())[0] == 200
    assert slept == [0.15]  # the next request has no fault


def test_api_key_check(fake_server: FakeProviderServer) -> None:
    fake_server.accepted_keys = {"sk-good"}
    assert _post(fake_server, CHAT, _chat(), {"authorization": "Bearer sk-bad"})[0] == 401
    assert _post(fake_server, CHAT, _chat(), {"authorization": "Bearer sk-good"})[0] == 200


def test_models_paging(fake_server: FakeProviderServer) -> None:
    fake_server.models["openai"] = [f"m{i}" for i in range(5)]
    status, body = _get(fake_server, "/v1/models")
    assert status == 200 and [m["id"] for m in body["data"]] == [f"m{i}" for i in range(5)]
    assert "has_more" not in body
    _, page = _get(fake_server, "/v1/models?limit=2&after=m1")
    assert [m["id"] for m in page["data"]] == ["m2", "m3"] and page["has_more"] is True
    fake_server.page_size = 3
    _, page = _get(fake_server, "/v1/models?after=m2")
    assert [m["id"] for m in page["data"]] == ["m3", "m4"] and page["has_more"] is False


def test_stop_releases_port_and_cuts_slow_requests() -> None:
    server = FakeProviderServer().start()
    port = server.port
    server.faults.push(delay_ms=10_000)
    errors: list[BaseException] = []

    def slow() -> None:
        try:
            _post(server, CHAT, _chat())
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=slow, daemon=True)
    worker.start()
    server.wait_for_requests(1)
    server.stop()
    worker.join(timeout=30)
    # cut, not answered: after its 10 s delay the request would have had a 200
    assert not worker.is_alive() and errors
    with socket.socket() as sock, pytest.raises(OSError):
        sock.settimeout(1)
        sock.connect(("127.0.0.1", port))


def test_concurrent_requests_are_all_logged(fake_server: FakeProviderServer) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def call(i: int) -> None:
        status = _post(fake_server, CHAT, _chat(f"n{i}"))[0]
        with lock:
            results.append(status)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert results == [200] * 32
    prompts = sorted(r.body["messages"][0]["content"] for r in fake_server.requests)
    assert prompts == sorted(f"n{i}" for i in range(32))


def test_header_specific_route_wins_over_a_shared_path() -> None:
    def generic(request: FakeRequest, server: FakeProviderServer) -> Reply:
        return Reply(body={"who": "generic"})

    def special(request: FakeRequest, server: FakeProviderServer) -> Reply:
        return Reply(body={"who": "special", "model": request.params["model"]})

    def fmt(name: str, route: Route) -> SimpleNamespace:
        return SimpleNamespace(NAME=name, ROUTES=[route], error_body=lambda s, m, c: {})

    generic_fmt = fmt("generic", Route("POST", r"/v1/(?P<model>\w+)", generic))
    special_fmt = fmt("special", Route("POST", r"/v1/(?P<model>\w+)", special, header="X-Kind"))
    with FakeProviderServer(formats=[generic_fmt, special_fmt]) as server:
        assert json.loads(_post(server, "/v1/m1", {})[2]) == {"who": "generic"}
        body = json.loads(_post(server, "/v1/m2", {}, {"x-kind": "1"})[2])
        assert body == {"who": "special", "model": "m2"}
        assert [r.format for r in server.requests] == ["generic", "special"]


def test_a_request_that_slept_through_clear_takes_no_later_scripted_answer(
    fake_server: FakeProviderServer,
) -> None:
    """A test whose client gave up on a delayed request must not leave it to answer the next
    test of a shared server with that test's scripted answer."""
    from tools.fake_provider.anthropic_format import Answer, text_block

    gate = threading.Event()
    fake_server._sleep = lambda seconds: not gate.wait(30)  # type: ignore[method-assign]
    fake_server.faults.push(delay_ms=1000)
    body = json.dumps(
        {"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    )
    stale = socket.create_connection(("127.0.0.1", fake_server.port), timeout=30)
    stale.sendall(
        f"POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: k\r\nanthropic-version: 2023-06-01\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n{body}".encode()
    )
    assert len(fake_server.wait_for_requests(1, timeout=30)) == 1  # it arrived and sleeps
    fake_server.clear()  # the next test begins
    fake_server.script("anthropic", Answer(text_block("for the next test")))
    gate.set()
    assert stale.recv(65536) == b""  # closed without an answer
    stale.close()
    conn = http.client.HTTPConnection("127.0.0.1", fake_server.port, timeout=30)
    conn.request(
        "POST",
        "/v1/messages",
        body=body,
        headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
    )
    reply = json.loads(conn.getresponse().read())
    conn.close()
    assert reply["content"][0]["text"] == "for the next test"
