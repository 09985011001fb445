"""Logging through modelwire's handler never writes a secret, from any logger, at any level."""

from __future__ import annotations

import io
import logging

import pytest

from modelwire.config.schema import ProviderConfig
from modelwire.logs import SecretFilter, disable_logging, enable_logging
from modelwire.providers.base import ProviderContext

KEY = "mykey-not-looking-like-any-vendor-1234"
PASSWORD = "s3cret-pass"


@pytest.fixture
def captured() -> io.StringIO:
    ProviderContext(
        "p",
        ProviderConfig(
            type="openai",
            api_key=KEY,
            base_url=f"https://user:{PASSWORD}@proxy.test/v1",
            headers={"X-Auth": "header-secret-value"},
        ),
    )  # setting an entry up is what makes its secrets known
    out = io.StringIO()
    enable_logging(logging.DEBUG, stream=out)
    yield out
    disable_logging()


@pytest.mark.parametrize("name", ["modelwire.usage", "openai", "httpx", "anthropic"])
def test_messages_args_and_tracebacks_are_scrubbed(captured: io.StringIO, name: str) -> None:
    log = logging.getLogger(name)
    log.debug("request with key %s to %s", KEY, f"https://user:{PASSWORD}@proxy.test")
    log.info("header header-secret-value and token sk-abcdefghijkl")
    try:
        raise RuntimeError(f"401: invalid key {KEY}")
    except RuntimeError:
        log.exception("failed")
    text = captured.getvalue()
    assert "request with key ***" in text and "failed" in text and "RuntimeError" in text
    for secret in (KEY, PASSWORD, "header-secret-value", "sk-abcdefghijkl"):
        assert secret not in text


def test_the_filter_works_on_a_handler_of_ones_own() -> None:
    ProviderContext("q", ProviderConfig(type="openai", api_key=KEY))
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "key=%s", (KEY,), None)
    assert SecretFilter().filter(record)
    assert record.getMessage() == "key=***"
