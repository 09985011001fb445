"""The fake server's Anthropic and Gemini wire formats on the raw wire (no SDK)."""

from __future__ import annotations

import http.client
import json
from typing import Any

from tools.fake_provider import FakeProviderServer
from tools.fake_provider.anthropic_format import THINKING_TOKENS
from tools.fake_provider.gemini_format import THOUGHTS_TOKENS

ANTHROPIC_HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}


def _request(
    server: FakeProviderServer,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request(
            method,
            path,
            body=None if body is None else json.dumps(body),
            headers={"content-type": "application/json", **(headers or {})},
        )
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()
    finally:
        conn.close()


def _sse(text: str) -> list[tuple[str | None, Any]]:
    events: list[tuple[str | None, Any]] = []
    for block in text.strip().split("\n\n"):
        name = None
        data = None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        events.append((name, data))
    return events


def test_anthropic_message_and_headers(fake_server_shared: FakeProviderServer) -> None:
    body = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    status, headers, text = _request(
        fake_server_shared, "POST", "/anthropic/v1/messages", body, ANTHROPIC_HEADERS
    )
    assert status == 200
    assert headers["request-id"].startswith("req_fake_")
    reply = json.loads(text)
    assert reply["content"] == [{"type": "text", "text": "echo: hi", "citations": None}]
    assert reply["usage"]["input_tokens"] == 1 and reply["usage"]["output_tokens"] == 3


def test_anthropic_requires_version_key_and_max_tokens(
    fake_server_shared: FakeProviderServer,
) -> None:
    body = {"model": "claude-x", "messages": [{"role": "user", "content": "hi"}]}
    status, _, text = _request(fake_server_shared, "POST", "/v1/messages", body, {"x-api-key": "k"})
    assert status == 400 and "anthropic-version" in text
    status, _, text = _request(fake_server_shared, "POST", "/v1/messages", body, ANTHROPIC_HEADERS)
    assert status == 400 and "max_tokens" in text
    fake_server_shared.accepted_keys = {"other"}
    status, _, text = _request(fake_server_shared, "POST", "/v1/messages", body, ANTHROPIC_HEADERS)
    assert status == 401
    assert json.loads(text)["error"]["type"] == "authentication_error"


def test_anthropic_stream_event_sequence(fake_server_shared: FakeProviderServer) -> None:
    body = {
        "model": "claude-think",
        "max_tokens": 50,
        "stream": True,
        "messages": [{"role": "user", "content": "a b"}],
    }
    status, headers, text = _request(
        fake_server_shared, "POST", "/v1/messages", body, ANTHROPIC_HEADERS
    )
    assert status == 200 and headers["content-type"] == "text/event-stream"
    events = _sse(text)
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert "ping" in names
    deltas = [d["delta"] for n, d in events if n == "content_block_delta"]
    assert "".join(d.get("text", "") for d in deltas if d["type"] == "text_delta") == "echo: a b"
    assert any(d["type"] == "thinking_delta" for d in deltas)
    final = events[-2][1]["usage"]
    assert final["output_tokens"] == 4 + THINKING_TOKENS
    assert final["output_tokens_details"] == {"thinking_tokens": THINKING_TOKENS}


def test_anthropic_model_pages(fake_server: FakeProviderServer) -> None:
    fake_server.models["anthropic"] = ["m1", "m2", "m3"]
    status, _, text = _request(
        fake_server, "GET", "/anthropic/v1/models?limit=2", headers=ANTHROPIC_HEADERS
    )
    page = json.loads(text)
    assert status == 200 and [m["id"] for m in page["data"]] == ["m1", "m2"]
    assert page["has_more"] and page["last_id"] == "m2"
    _, _, text = _request(
        fake_server, "GET", "/anthropic/v1/models?limit=2&after_id=m2", headers=ANTHROPIC_HEADERS
    )
    page = json.loads(text)
    assert [m["id"] for m in page["data"]] == ["m3"] and not page["has_more"]


def test_gemini_generate_and_stream(fake_server_shared: FakeProviderServer) -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "one two"}]}],
        "generationConfig": {"thinkingConfig": {"thinkingBudget": 64, "includeThoughts": True}},
    }
    path = "/v1beta/models/gemini-x:generateContent?key=k"
    status, _, text = _request(fake_server_shared, "POST", path, body)
    assert status == 200
    reply = json.loads(text)
    parts = reply["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] is True and parts[1] == {"text": "echo: one two"}
    assert reply["usageMetadata"]["thoughtsTokenCount"] == THOUGHTS_TOKENS
    usage = reply["usageMetadata"]
    assert usage["totalTokenCount"] == (
        usage["promptTokenCount"] + usage["candidatesTokenCount"] + THOUGHTS_TOKENS
    )

    path = "/v1beta/models/gemini-x:streamGenerateContent?alt=sse"
    status, _, text = _request(fake_server_shared, "POST", path, body, {"x-goog-api-key": "k"})
    chunks = [data for _, data in _sse(text)]
    assert status == 200
    assert [c["candidates"][0].get("finishReason") for c in chunks[-1:]] == ["STOP"]
    assert all("finishReason" not in c["candidates"][0] for c in chunks[:-1])
    assert chunks[-1]["usageMetadata"] == reply["usageMetadata"]


def test_gemini_bad_key_is_a_400_with_api_key_invalid(
    fake_server_shared: FakeProviderServer,
) -> None:
    fake_server_shared.accepted_keys = {"good"}
    body = {"contents": [{"role": "user", "parts": [{"text": "x"}]}]}
    status, _, text = _request(
        fake_server_shared,
        "POST",
        "/v1beta/models/g:generateContent",
        body,
        {"x-goog-api-key": "bad"},
    )
    error = json.loads(text)["error"]
    assert status == 400 and error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["reason"] == "API_KEY_INVALID"


def test_gemini_model_pages_use_tokens(fake_server: FakeProviderServer) -> None:
    fake_server.models["gemini"] = ["a", "b", "c"]
    _, _, text = _request(fake_server, "GET", "/v1beta/models?pageSize=2&key=k")
    page = json.loads(text)
    assert [m["name"] for m in page["models"]] == ["models/a", "models/b"]
    assert page["nextPageToken"] == "b"
    _, _, text = _request(fake_server, "GET", "/v1beta/models?pageSize=2&pageToken=b&key=k")
    page = json.loads(text)
    assert [m["name"] for m in page["models"]] == ["models/c"] and "nextPageToken" not in page
