"""Pytest plugin: the loopback fake provider server as fixtures.

``fake_server`` is function scoped (a fresh server, always stopped). ``fake_server_shared`` is one
server for the whole session, with its log, faults and paging cleared before each test that uses
it. Registered from tests/conftest.py with ``pytest_plugins = ["conftest_fake"]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tools.fake_provider import FakeProviderServer


@pytest.fixture
def fake_server() -> Iterator[FakeProviderServer]:
    """A fake provider server on 127.0.0.1 for one test."""
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="session")
def _fake_server_session() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as server:
        yield server


@pytest.fixture
def fake_server_shared(_fake_server_session: FakeProviderServer) -> FakeProviderServer:
    """The session-wide fake provider server, cleared for this test."""
    _fake_server_session.clear()
    return _fake_server_session
