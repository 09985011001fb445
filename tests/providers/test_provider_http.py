"""Shared provider helpers: Retry-After, request ids, status → error mapping, scrubbing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelwire import errors
from modelwire.providers import _http

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", 2.0),
        (" 0.5 ", 0.5),
        ("0", 0.0),
        ("-3", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("999999999", 86400.0),
    ],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert _http.parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_http_date() -> None:
    later = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    assert _http.parse_retry_after(later, now=NOW) == 30.0
    earlier = format_datetime(NOW - timedelta(seconds=30), usegmt=True)
    assert _http.parse_retry_after(earlier, now=NOW) == 0.0


@given(st.integers(min_value=0, max_value=86400))
def test_parse_retry_after_round_trips_dates_and_seconds(seconds: int) -> None:
    assert _http.parse_retry_after(str(seconds), now=NOW) == float(seconds)
    date = format_datetime(NOW + timedelta(seconds=seconds), usegmt=True)
    assert _http.parse_retry_after(date, now=NOW) == float(seconds)


def test_retry_after_ms_header_wins() -> None:
    assert _http.retry_after_from_headers({"Retry-After-Ms": "1500", "retry-after": "9"}) == 1.5
    assert _http.retry_after_from_headers({"retry-after-ms": "bad", "retry-after": "9"}) == 9.0
    assert _http.retry_after_from_headers({}) is None
    assert _http.retry_after_from_headers(None) is None


def test_request_id_from_headers() -> None:
    assert _http.request_id_from_headers({"X-Request-Id": "req_1"}) == "req_1"
    assert _http.request_id_from_headers({"request-id": "req_2"}) == "req_2"
    assert _http.request_id_from_headers({"content-type": "x"}) is None


@pytest.mark.parametrize(
    ("status", "code", "message", "cls", "retryable"),
    [
        (401, None, "bad key", errors.AuthenticationError, False),
        (403, None, "no", errors.AuthenticationError, False),
        (404, "model_not_found", "nope", errors.InvalidRequestError, False),
        (400, "context_length_exceeded", "too long", errors.ContextWindowError, False),
        (400, None, "This model's maximum context length is 10", errors.ContextWindowError, False),
        (
            400,
            "invalid_request_error",
            "prompt is too long: 300000",
            errors.ContextWindowError,
            False,
        ),
        (400, None, "bad temperature", errors.InvalidRequestError, False),
        (413, None, "too large", errors.ContextWindowError, False),
        (422, None, "unprocessable", errors.InvalidRequestError, False),
        (408, None, "slow", errors.TimeoutError, True),
        (409, None, "conflict", errors.ProviderUnavailableError, True),
        (429, None, "slow down", errors.RateLimitError, True),
        (429, "insufficient_quota", "pay up", errors.RateLimitError, False),
        (500, None, "boom", errors.ProviderUnavailableError, True),
        (503, None, "later", errors.ProviderUnavailableError, True),
        (529, "overloaded_error", "overloaded", errors.ProviderUnavailableError, True),
    ],
)
def test_error_for_status(
    status: int, code: str | None, message: str, cls: type[Exception], retryable: bool
) -> None:
    err = _http.error_for_status(
        status, message, provider="openai", model_id="openai:m1", request_id="r1", code=code
    )
    assert type(err) is cls
    assert err.retryable is retryable
    assert err.status_code == status
    assert err.request_id == "r1"
    assert err.model_id == "openai:m1"
    assert message in str(err)


def test_rate_limit_keeps_retry_after_and_404_names_the_model() -> None:
    err = _http.error_for_status(429, "x", provider="p", model_id="p:m", retry_after=2.0)
    assert isinstance(err, errors.RateLimitError)
    assert err.retry_after == 2.0
    err = _http.error_for_status(404, "The model does not exist", provider="p", model_id="p:gpt-9")
    assert "model 'gpt-9' was not found at p" in str(err)
    err = _http.error_for_status(404, "no route", provider="p", model_id=None)
    assert str(err).startswith("p has no such resource: no route")


def test_secrets_are_scrubbed_from_messages() -> None:
    err = _http.error_for_status(
        401,
        "Incorrect API key provided: sk-proj-abc123****xyz. Also mysecretvalue.",
        provider="openai",
        model_id=None,
        secrets=["mysecretvalue"],
    )
    text = str(err)
    assert "sk-proj" not in text
    assert "mysecretvalue" not in text
    assert "***" in text


def test_error_message_from_body_formats() -> None:
    openai_body = {"error": {"message": "m", "type": "invalid_request_error", "code": "c"}}
    assert _http.error_message_from_body(openai_body) == ("m", "c")
    anthropic_body = {"type": "error", "error": {"type": "overloaded_error", "message": "o"}}
    assert _http.error_message_from_body(anthropic_body) == ("o", "overloaded_error")
    gemini_body = {"error": {"code": 400, "message": "g", "status": "INVALID_ARGUMENT"}}
    assert _http.error_message_from_body(gemini_body) == ("g", "INVALID_ARGUMENT")
    assert _http.error_message_from_body("text") == (None, None)


def test_transport_errors_are_retryable_and_readable() -> None:
    cut = _http.stream_cut_error(provider="openai", model_id="openai:m", received_chars=12)
    assert cut.retryable and "cut off" in str(cut) and "12 characters" in str(cut)
    bad = _http.malformed_response_error("not JSON", provider="openai", model_id="openai:m")
    assert bad.retryable and "malformed" in str(bad)
    slow = _http.timeout_error(provider="openai", model_id="openai:m", timeout_s=0.5)
    assert slow.retryable and "0.5s" in str(slow)
    down = _http.connection_error("refused", provider="openai", model_id="openai:m")
    assert isinstance(down, errors.ProviderUnavailableError) and "refused" in str(down)
