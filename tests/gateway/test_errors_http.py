"""Raw HTTP against the gateway: every failure in its API's own shape and status, no secret in
any error or log line."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelwire.errors import LimitExceededError
from modelwire.gateway.keys import VirtualKey
from modelwire.gateway.settings import GatewaySettings
from tests.gateway.harness import (
    FAKE_OPENAI_KEY,
    PROVIDER_SECRET,
    RunningGateway,
    start_gateway,
)
from tools.fake_provider import FakeProviderServer

APIS = ["openai", "anthropic"]


def path(api: str) -> str:
    return "/v1/chat/completions" if api == "openai" else "/v1/messages"


def body(api: str, model: str = "mini", **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    if api == "anthropic":
        base["max_tokens"] = 32
    return {**base, **extra}


def error_of(api: str, response: httpx.Response) -> dict[str, Any]:
    """The error object, checked to be in the API's own shape."""
    payload = response.json()
    if api == "openai":
        assert set(payload) == {"error"}
        error = payload["error"]
        assert {"message", "type", "param", "code"} <= set(error)
        return dict(error)
    assert payload["type"] == "error" and set(payload["error"]) == {"type", "message"}
    return dict(payload["error"])


def post(gateway: RunningGateway, api: str, payload: Any, **kw: Any) -> httpx.Response:
    headers = kw.pop("headers", gateway.headers())
    return httpx.post(gateway.url + path(api), json=payload, headers=headers, timeout=30, **kw)


@pytest.mark.parametrize("api", APIS)
def test_no_key_or_an_unknown_key_is_401(gateway: RunningGateway, api: str) -> None:
    forged = gateway.token[:-4] + ("AAAA" if not gateway.token.endswith("AAAA") else "BBBB")
    for headers in ({}, {"authorization": "Bearer sk-not-ours"}, {"x-api-key": forged}):
        response = post(gateway, api, body(api), headers=headers)
        assert response.status_code == 401
        error = error_of(api, response)
        if api == "anthropic":
            assert error["type"] == "authentication_error"
        else:
            assert error["code"] in ("missing_api_key", "invalid_api_key")
        assert forged not in response.text


@pytest.mark.parametrize("api", APIS)
def test_either_header_carries_the_key(gateway: RunningGateway, api: str) -> None:
    for headers in ({"x-api-key": gateway.token}, {"authorization": f"bearer {gateway.token}"}):
        assert post(gateway, api, body(api), headers=headers).status_code == 200


@pytest.mark.parametrize("api", APIS)
def test_a_model_outside_the_keys_patterns_is_403(gateway: RunningGateway, api: str) -> None:
    before = len(gateway.rows(caller="mock-only"))
    response = post(gateway, api, body(api, "s:m"), headers=gateway.headers(gateway.mock_only))
    assert response.status_code == 403
    error = error_of(api, response)
    assert "'s:m'" in error["message"]
    if api == "anthropic":
        assert error["type"] == "permission_error"
    else:
        assert (error["param"], error["code"]) == ("model", "model_not_allowed")
    assert len(gateway.rows(caller="mock-only")) == before  # no provider was called


@pytest.mark.parametrize("api", APIS)
def test_an_unknown_model_is_404(gateway: RunningGateway, api: str) -> None:
    response = post(gateway, api, body(api, "nosuch:model-x"))
    assert response.status_code == 404
    error = error_of(api, response)
    assert "nosuch:model-x" in error["message"]
    assert error.get("type") == (
        "not_found_error" if api == "anthropic" else "invalid_request_error"
    )


OPENAI_BAD: list[tuple[dict[str, Any], str]] = [
    ({"temperature": -1}, "temperature"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"top_p": "x"}, "top_p"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "user", "content": [{"type": "audio"}]}]}, "messages[0].content[0].type"),
    (
        {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,@@"}}]}]},
        "messages[0].content[0].image_url.url",
    ),
    ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools[0].function"),
    ({"tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
    ({"n": 2}, "n"),
    ({"frobnicate": True}, "frobnicate"),
    ({"model": ""}, "model"),
    ({"stream": "yes"}, "stream"),
]  # fmt: skip

ANTHROPIC_BAD: list[tuple[dict[str, Any], str]] = [
    ({"max_tokens": None}, "max_tokens"),
    ({"temperature": 1.5}, "temperature"),
    ({"messages": [{"role": "system", "content": "x"}]}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": [{"type": "video"}]}]}, "messages[0].content[0].type"),
    ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools[0].type"),
    ({"tool_choice": {"type": "tool", "name": "nope"}}, "tool_choice.name"),
    ({"system": [{"type": "image"}]}, "system[0].type"),
    ({"frobnicate": 1}, "frobnicate"),
]  # fmt: skip


@pytest.mark.parametrize(("extra", "field"), OPENAI_BAD, ids=[f for _, f in OPENAI_BAD])
def test_openai_bad_requests_are_400_naming_the_field(
    gateway: RunningGateway, extra: dict[str, Any], field: str
) -> None:
    response = post(gateway, "openai", body("openai", **extra))
    assert response.status_code == 400, response.text
    error = error_of("openai", response)
    assert error["param"] == field and error["message"].startswith(field)
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize(("extra", "field"), ANTHROPIC_BAD, ids=[f for _, f in ANTHROPIC_BAD])
def test_anthropic_bad_requests_are_400_naming_the_field(
    gateway: RunningGateway, extra: dict[str, Any], field: str
) -> None:
    payload = {k: v for k, v in body("anthropic", **extra).items() if v is not None}
    response = post(gateway, "anthropic", payload)
    assert response.status_code == 400, response.text
    error = error_of("anthropic", response)
    assert error["type"] == "invalid_request_error" and error["message"].startswith(field)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_400(
    gateway: RunningGateway, api: str, raw: bytes
) -> None:
    response = httpx.post(gateway.url + path(api), content=raw, headers=gateway.headers())
    assert response.status_code == 400
    assert "body" in error_of(api, response)["message"]


FAILURES = [
    ("locked:gpt-4o-mini", 502, None, "AuthenticationError"),
    ("down:gpt-4o-mini", 503, "1", "ProviderUnavailableError"),
    ("busy:gpt-4o-mini", 503, "7", "RateLimitError"),
    ("slow:gpt-4o-mini", 504, None, "TimeoutError"),
]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("model", "status", "retry_after", "error_type"), FAILURES)
def test_provider_failures_after_routing_are_5xx_and_recorded(
    gateway: RunningGateway,
    api: str,
    stream: bool,
    model: str,
    status: int,
    retry_after: str | None,
    error_type: str,
) -> None:
    response = post(gateway, api, body(api, model, stream=stream))
    assert response.status_code == status
    assert response.headers.get("retry-after") == retry_after
    error = error_of(api, response)
    assert PROVIDER_SECRET not in response.text
    if api == "anthropic":
        expected = {502: "api_error", 503: "overloaded_error", 504: "timeout_error"}[status]
        assert error["type"] == expected
    row = gateway.last_row()
    assert (row.model_id, row.status, row.error_type, row.caller, row.stream) == (
        model,
        "error",
        error_type,
        "team-a",
        stream,
    )


@pytest.mark.parametrize("api", APIS)
def test_a_failure_in_the_middle_of_a_stream_is_the_apis_error_event(
    gateway: RunningGateway, api: str
) -> None:
    payload = body(
        api, "s:m", stream=True, messages=[{"role": "user", "content": "FAIL-MIDSTREAM now"}]
    )
    with httpx.stream(
        "POST", gateway.url + path(api), json=payload, headers=gateway.headers()
    ) as r:
        assert r.status_code == 200
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
    last = json.loads(lines[-1].removeprefix("data: "))
    if api == "openai":
        assert last["error"]["type"] == "api_error"
    else:
        assert last["type"] == "error" and last["error"]["type"] == "api_error"
    row = gateway.last_row()
    assert (row.status, row.stream, row.caller) == ("error", True, "team-a")


@pytest.mark.parametrize("api", APIS)
def test_a_client_leaving_mid_stream_cancels_the_attempt(gateway: RunningGateway, api: str) -> None:
    payload = body(api, "s:m", stream=True, messages=[{"role": "user", "content": "SLOW-STREAM"}])
    before = len(gateway.rows())
    with httpx.stream(
        "POST", gateway.url + path(api), json=payload, headers=gateway.headers()
    ) as r:
        assert r.status_code == 200
        next(r.iter_bytes())  # the first events, then hang up (the answer would take 10 s)
    deadline = time.monotonic() + 20
    while len(gateway.rows()) == before:  # recorded when the attempt ends
        assert time.monotonic() < deadline, "the attempt did not end"
        time.sleep(0.05)
    row = gateway.last_row()
    assert (row.model_id, row.status, row.stream, row.caller) == (
        "s:m",
        "cancelled",
        True,
        "team-a",
    )
    assert row.error_type in ("CancelledError", "GeneratorExit")


def test_a_provider_error_echoing_its_key_is_scrubbed_everywhere(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.fake.faults.push(
        status=401, message=f"Incorrect API key provided: {FAKE_OPENAI_KEY}", path="/chat"
    )
    with caplog.at_level(logging.DEBUG, logger="modelwire"):
        response = post(gateway, "openai", body("openai", "openai:gpt-4o-mini"))
    assert response.status_code == 502
    assert FAKE_OPENAI_KEY not in response.text
    assert "upstream_authentication" in response.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "openai:gpt-4o-mini" in logged
    assert FAKE_OPENAI_KEY not in logged and gateway.token not in logged


@pytest.mark.parametrize("api", APIS)
def test_a_virtual_key_sent_where_it_does_not_belong_is_not_echoed(
    gateway: RunningGateway, api: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="modelwire"):
        response = post(gateway, api, body(api, gateway.token))
        other = post(gateway, api, body(api, "x:" + gateway.mock_only))
    assert response.status_code == 404 and other.status_code == 404
    for text in (response.text, other.text, *(r.getMessage() for r in caplog.records)):
        assert gateway.token not in text and gateway.mock_only not in text


def test_unknown_routes_and_methods_answer_json(gateway: RunningGateway) -> None:
    missing = httpx.get(gateway.url + "/v1/nothing")
    assert missing.status_code == 404
    assert "no such route" in error_of("openai", missing)["message"]
    wrong = httpx.get(gateway.url + "/v1/chat/completions")
    assert wrong.status_code == 405
    count = httpx.post(gateway.url + "/v1/messages/count_tokens", json={})
    assert count.status_code == 404
    assert error_of("anthropic", count)["type"] == "not_found_error"


def test_health_needs_no_key_and_models_does(gateway: RunningGateway) -> None:
    assert httpx.get(gateway.url + "/health").json() == {"status": "ok"}
    assert httpx.get(gateway.url + "/v1/models").status_code == 401


def test_a_revoked_key_is_refused_once_the_keys_are_read_again(gateway: RunningGateway) -> None:
    _, token = gateway.store.create("short-lived")
    deadline = time.monotonic() + 15  # the fixture reads the keys every 0.2 s
    status = 401
    while status == 401 and time.monotonic() < deadline:
        status = post(gateway, "openai", body("openai"), headers=gateway.headers(token)).status_code
        time.sleep(0.05)
    assert status == 200
    gateway.store.revoke("short-lived")
    deadline = time.monotonic() + 15
    while status == 200 and time.monotonic() < deadline:
        status = post(gateway, "openai", body("openai"), headers=gateway.headers(token)).status_code
        time.sleep(0.05)
    assert status == 401


class Refuse:
    """A limits hook that refuses every key but ``team-a``: what the limits will plug into."""

    enforced = True

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    async def admit(self, key: VirtualKey, model: str) -> None:
        self.asked.append((key.name, model))
        if key.name != "team-a":
            raise LimitExceededError(
                f"{key.name}: 0 of 0 requests left", retry_after=2.5, kind="rate"
            )


@pytest.fixture(scope="module")
def limited(
    tmp_path_factory: pytest.TempPathFactory, scripted_provider: Any
) -> Iterator[tuple[RunningGateway, Refuse]]:
    hook = Refuse()
    settings = GatewaySettings(max_body_bytes=4096, key_refresh_s=0.2)
    with FakeProviderServer() as fake:
        for running in start_gateway(
            tmp_path_factory.mktemp("limited"), fake, settings=settings, limits=hook
        ):
            yield running, hook


@pytest.mark.parametrize("api", APIS)
def test_the_limits_hook_refuses_with_429_and_retry_after(
    limited: tuple[RunningGateway, Refuse], api: str
) -> None:
    gateway, hook = limited
    before = len(gateway.rows())
    refused = post(gateway, api, body(api), headers=gateway.headers(gateway.mock_only))
    assert refused.status_code == 429 and refused.headers["retry-after"] == "3"
    error = error_of(api, refused)
    assert error.get("code", "rate_limit_exceeded") == "rate_limit_exceeded"
    assert error["type"] == "rate_limit_error"
    assert len(gateway.rows()) == before  # refused before any provider call
    assert post(gateway, api, body(api)).status_code == 200
    assert hook.asked[-2:] == [("mock-only", "mini"), ("team-a", "mini")]


@pytest.mark.parametrize("api", APIS)
def test_a_body_over_the_limit_is_413(limited: tuple[RunningGateway, Refuse], api: str) -> None:
    gateway, _ = limited
    big = body(api, messages=[{"role": "user", "content": "x" * 5000}])
    declared = post(gateway, api, big)
    assert declared.status_code == 413
    assert "4096 bytes" in error_of(api, declared)["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the gateway counts as it reads
        data = json.dumps(big).encode()
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    chunked = httpx.post(gateway.url + path(api), content=chunks(), headers=gateway.headers())
    assert chunked.status_code == 413
    small = post(gateway, api, body(api))
    assert small.status_code == 200


def test_usage_disabled_without_a_database_is_refused(tmp_path: Path) -> None:
    from modelwire.errors import ConfigError
    from modelwire.gateway.app import build_service

    config = tmp_path / "modelwire.yaml"
    config.write_text("providers: {mock: {type: mock}}\nusage: {enabled: false}\n")
    with pytest.raises(ConfigError, match=r"usage\.enabled is false"):
        build_service(GatewaySettings(config=str(config)))
