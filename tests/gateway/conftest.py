"""Fixtures of the gateway tests (the server and its backends: ``tests/gateway/harness.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelwire.providers.factory import ModelFactory
from tests.gateway.harness import RunningGateway, Scripted, start_gateway
from tools.fake_provider import FakeProviderServer


@pytest.fixture(scope="module")
def scripted_provider() -> Iterator[type[Scripted]]:
    """The ``scripted`` provider type, registered for the module."""
    ModelFactory.register_provider("scripted", Scripted)
    try:
        yield Scripted
    finally:
        ModelFactory.unregister_provider("scripted")
        Scripted.SEEN = []


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, scripted_provider: type[Scripted]
) -> Iterator[RunningGateway]:
    """One gateway for the test module (its backends and keys: ``harness.py``)."""
    with FakeProviderServer() as fake:
        yield from start_gateway(tmp_path_factory.mktemp("gateway"), fake)
