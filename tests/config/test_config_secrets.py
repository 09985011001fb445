"""The secret values of a provider entry: every form in which a server could echo them."""

from __future__ import annotations

import base64

import pytest

from modelwire.config.schema import ProviderConfig
from modelwire.config.secrets import header_credentials, scrub, secret_values, url_credentials

BASIC = base64.b64encode(b"user:pass-word-1").decode()


@pytest.mark.parametrize(
    ("value", "forms"),
    [
        ("plain-value-1", ("plain-value-1",)),
        ("Bearer tok-123-abc", ("Bearer tok-123-abc", "tok-123-abc")),
        ("token tok-123-abc", ("token tok-123-abc", "tok-123-abc")),
        (f"Basic {BASIC}", (f"Basic {BASIC}", BASIC, "user:pass-word-1", "pass-word-1")),
        ("Basic not*base64", ("Basic not*base64", "not*base64", "", "")),
        ("no-cache, private", ("no-cache, private",)),  # not a scheme: only the whole value
        ("", ()),
    ],
)
def test_header_credentials(value: str, forms: tuple[str, ...]) -> None:
    assert header_credentials(value) == forms


def test_url_credentials_are_the_password_and_its_basic_token() -> None:
    assert url_credentials("http://127.0.0.1/v1") == ()
    assert url_credentials("http://us%40er:p%3Ass@host/v1") == (
        "p:ss",
        base64.b64encode(b"us@er:p:ss").decode(),
    )


def test_an_entry_s_secrets_cover_key_headers_and_url() -> None:
    config = ProviderConfig(
        type="openai",
        api_key="key-value-1",
        headers={"Authorization": "Bearer header-token-1", "X-Other": "other-value-1"},
        base_url="http://user:pass-word-1@127.0.0.1/v1",
    )
    values = secret_values(config)
    for value in ("key-value-1", "header-token-1", "other-value-1", "pass-word-1", BASIC):
        assert value in values
    echoed = "key-value-1 / header-token-1 / other-value-1 / pass-word-1 / " + BASIC
    assert scrub(echoed, values) == "*** / *** / *** / *** / ***"
