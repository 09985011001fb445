"""Pytest plugin: no test reaches beyond the loopback interface.

For the whole session, resolving a host name that is not a loopback name, or connecting an
IPv4/IPv6 socket to an address outside 127.0.0.0/8 and ::1, raises ``OSError`` at once. A code
path that would go to a vendor's real endpoint (a provider entry with a key and no ``base_url``
whose model list the registry consults on a miss, say) then fails fast and the same way on every
machine, instead of waiting on DNS or a firewall. Registered from tests/conftest.py.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def is_loopback(host: Any) -> bool:
    """Whether ``host`` (a name or an address) stays on this machine."""
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard address
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    text = str(host).strip("[]").split("%", 1)[0].lower()
    if text in _LOOPBACK_NAMES or text.endswith(".localhost") or text == "":
        return True
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _refuse(host: Any) -> OSError:
    return OSError(f"tests are hermetic: {host!r} is not a loopback address")


@pytest.fixture(scope="session", autouse=True)
def _loopback_only() -> Iterator[None]:
    """Refuse name lookups and connections that would leave the machine."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, str(_refuse(host)))
        return real_getaddrinfo(host, *args, **kwargs)

    def checked(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise _refuse(address[0])

    def connect(self: socket.socket, address: Any) -> None:
        checked(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        checked(self, address)
        return real_connect_ex(self, address)

    patch = pytest.MonkeyPatch()
    patch.setattr(socket, "getaddrinfo", getaddrinfo)
    patch.setattr(socket.socket, "connect", connect)
    patch.setattr(socket.socket, "connect_ex", connect_ex)
    try:
        yield
    finally:
        patch.undo()
