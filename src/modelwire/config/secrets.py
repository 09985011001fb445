"""Keeping secrets out of what modelwire prints: passwords in URLs, and configured secret values.

``mask_url`` hides the password of a database or service URL; ``scrub`` replaces given secret
values (and anything shaped like a vendor API key) in a text. Both are used wherever text leaves
the process: errors, logs, ``config show``, CLI output.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = [
    "KEY_PATTERNS",
    "header_credentials",
    "known_secrets",
    "mask_url",
    "remember",
    "scrub",
    "scrub_known",
    "secret_values",
    "url_credentials",
    "url_password",
]

#: Shapes of vendor API keys, scrubbed even when the value is not known.
KEY_PATTERNS = re.compile(r"(sk-[A-Za-z0-9_\-*]{3,}|AIza[0-9A-Za-z_\-*]{10,}|hf_[A-Za-z0-9]{16,})")

_USERINFO_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@/\s]*@")


def mask_url(url: str) -> str:
    """A database or service URL with its password replaced by ``***``."""
    return _USERINFO_PASSWORD.sub(r"\1***@", url)


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every given secret value (4 characters or longer) and every key-shaped
    token replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return KEY_PATTERNS.sub("***", text)


def url_password(url: str | None) -> str | None:
    """The password in a URL's user info, if any (decoded)."""
    if not url or "@" not in url:
        return None
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def url_credentials(url: str | None) -> tuple[str, ...]:
    """The secret forms of a URL's user info: its password, and the ``Basic`` token an HTTP
    client sends for it (base64 of ``user:password``, which a server may echo back)."""
    password = url_password(url)
    if password is None:
        return ()
    user = unquote(urlsplit(url or "").username or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return (password, token)


_AUTH_SCHEME = re.compile(r"^\s*(bearer|basic|token|apikey|api-key|key)\s+(\S+)\s*$", re.IGNORECASE)


def header_credentials(value: str | None) -> tuple[str, ...]:
    """The secret forms of a header value: the value itself and, for an ``Authorization``-style
    ``<scheme> <credentials>`` value, the credentials alone (a ``Basic`` token also decoded, and
    its password), since a server may echo them without the scheme."""
    if not value:
        return ()
    found = _AUTH_SCHEME.match(value)
    if found is None:
        return (value,)
    scheme, credentials = found.group(1).lower(), found.group(2)
    forms = [value, credentials]
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except ValueError:  # not base64, or not text: the token alone is the secret
            decoded = ""
        forms += [decoded, decoded.partition(":")[2]]
    return tuple(forms)


def secret_values(config: Any) -> tuple[str, ...]:
    """The secret values of a provider entry's settings: its API key, its headers' values (an
    ``Authorization``-style value's credentials alone too) and a password in its ``base_url``
    (with the ``Basic`` token made of it); empty and very short values are left out."""
    values: list[str | None] = []
    key = getattr(config, "api_key", None)
    if key is not None:
        values.append(key.get_secret_value())
    for value in (getattr(config, "headers", None) or {}).values():
        values.extend(header_credentials(value))
    values.extend(url_credentials(getattr(config, "base_url", None)))
    return tuple(v for v in values if v and len(v) >= 4)


_known: frozenset[str] = frozenset()
_known_lock = threading.Lock()


def remember(values: Iterable[str | None]) -> None:
    """Add secret values this process holds (provider keys, header values, URL passwords) to
    those ``scrub_known`` removes; called when a provider entry or a ledger is set up."""
    new = {v for v in values if v and len(v) >= 4}
    global _known
    if new - _known:
        with _known_lock:
            _known = _known | new


def known_secrets() -> frozenset[str]:
    """Every secret value remembered so far."""
    return _known


def scrub_known(text: str) -> str:
    """``text`` with every remembered secret value and every key-shaped token replaced."""
    longest_first: list[str] = sorted(_known, key=len, reverse=True)
    return scrub(text, longest_first)
