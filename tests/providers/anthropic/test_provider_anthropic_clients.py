"""Client ownership under concurrency: one sync client per entry, one async client per loop.

Covers ``providers._async_clients.LoopClients`` (shared by the anthropic and google providers) and
the anthropic provider hammered from real threads and from one event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import modelwire.providers.anthropic.model as anthropic_provider
from modelwire.config.schema import ProviderConfig
from modelwire.providers._async_clients import LoopClients
from modelwire.providers.anthropic.model import AnthropicChatModel
from modelwire.providers.base import ProviderContext
from modelwire.types import ChatRequest, ModelInfo
from tools.fake_provider import FakeProviderServer


class _Client:
    def __init__(self) -> None:
        self.closed = 0

    async def aclose(self) -> None:
        self.closed += 1


def _holder() -> tuple[LoopClients[_Client], list[_Client]]:
    built: list[_Client] = []
    lock = threading.Lock()

    def build() -> _Client:
        client = _Client()
        with lock:
            built.append(client)
        return client

    return LoopClients(build, lambda c: c.aclose()), built


def test_one_client_per_loop() -> None:
    holder, built = _holder()

    async def twice() -> tuple[_Client, _Client]:
        return holder.get(), holder.get()

    a1, a2 = asyncio.run(twice())
    b1, _ = asyncio.run(twice())
    assert a1 is a2 and a1.closed == 1
    assert b1 is not a1
    assert len(built) == 2


def test_asyncio_run_closes_the_client_of_its_loop_on_the_way_out() -> None:
    holder, built = _holder()

    async def use() -> _Client:
        client = holder.get()
        assert client.closed == 0
        return client

    first = asyncio.run(use())
    assert first.closed == 1  # closed by the loop's shutdown, on that loop
    assert len(holder) == 0
    second = asyncio.run(use())
    assert second is not first and second.closed == 1
    assert len(built) == 2


def test_concurrent_first_use_builds_once_per_loop() -> None:
    holder, built = _holder()
    barrier = threading.Barrier(8)
    seen: list[int] = []

    def worker() -> None:
        loop = asyncio.new_event_loop()
        try:

            async def hammer() -> set[int]:
                barrier.wait()
                clients = await asyncio.gather(*(asyncio.sleep(0, holder.get()) for _ in range(50)))
                return {id(c) for c in clients}

            ids = loop.run_until_complete(hammer())
            assert len(ids) == 1
            seen.extend(ids)
        finally:
            loop.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(built) == 8 and len(set(seen)) == 8
    assert len(holder) <= 8  # bare loop.close(): entries linger until the next build

    async def one_more() -> None:
        holder.get()

    asyncio.run(one_more())
    assert len(holder) == 0  # the new build dropped the closed loops' entries


def test_close_closes_clients_of_live_loops_only() -> None:
    holder, built = _holder()
    live = asyncio.new_event_loop()
    dead = asyncio.new_event_loop()
    try:

        async def get() -> _Client:
            return holder.get()

        on_live = live.run_until_complete(get())
        on_dead = dead.run_until_complete(get())
        dead.close()
        holder.close()
        assert on_live.closed == 1
        assert on_dead.closed == 0  # its connections died with its loop
        assert len(holder) == 0
        assert live.run_until_complete(get()) is not on_live  # rebuilt after close
    finally:
        live.close()
    assert len(built) == 3


def test_close_from_inside_the_running_loop_schedules_the_close() -> None:
    holder, _ = _holder()

    async def run() -> _Client:
        client = holder.get()
        holder.close()
        await asyncio.sleep(0.01)
        return client

    assert asyncio.run(run()).closed == 1


# -- the anthropic provider under load ------------------------------------------------------------


@pytest.fixture
def ctx(fake_server_shared: FakeProviderServer) -> Iterator[ProviderContext]:
    context = ProviderContext(
        "anthropic",
        ProviderConfig(
            type="anthropic", api_key="sk-ant-load", base_url=fake_server_shared.url + "/anthropic"
        ),
    )
    yield context
    context.close()


def test_threads_share_one_sync_client(ctx: ProviderContext, monkeypatch: Any) -> None:
    builds: list[int] = []
    original = anthropic_provider._client_kwargs

    def counting(provider: ProviderContext) -> dict[str, Any]:
        builds.append(1)
        return original(provider)

    monkeypatch.setattr(anthropic_provider, "_client_kwargs", counting)
    model = AnthropicChatModel(ModelInfo(id="anthropic:claude-load"), ctx)
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        barrier.wait()
        try:
            for i in range(5):
                resp = model.invoke(ChatRequest.build(f"t{n} c{i}"))
                assert resp.text == f"echo: t{n} c{i}"
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(builds) == 1


def test_many_concurrent_async_calls_share_the_loops_client(ctx: ProviderContext) -> None:
    model = AnthropicChatModel(ModelInfo(id="anthropic:claude-load"), ctx)

    async def run() -> list[str]:
        responses = await asyncio.gather(
            *(model.ainvoke(ChatRequest.build(f"a{i}")) for i in range(64))
        )
        holder = ctx.client("async", lambda: None)
        assert isinstance(holder, LoopClients)
        assert len(holder) == 1  # 64 concurrent calls, one client for this loop
        return [r.text for r in responses]

    assert asyncio.run(run()) == [f"echo: a{i}" for i in range(64)]


def test_every_client_of_an_entry_shares_one_tls_context(ctx: ProviderContext) -> None:
    import ssl

    from modelwire.providers.google import model as google_provider

    model = AnthropicChatModel(ModelInfo(id="anthropic:claude-load"), ctx)
    model.invoke(ChatRequest.build("sync"))

    async def tls_of_this_loops_client() -> object:
        await model.ainvoke(ChatRequest.build("async"))
        client = anthropic_provider.async_client(ctx)
        return client._client._transport._pool._ssl_context

    tls = ctx.client("ssl", lambda: None)
    assert isinstance(tls, ssl.SSLContext)
    assert ctx.client("sync", lambda: None)._client._transport._pool._ssl_context is tls
    assert asyncio.run(tls_of_this_loops_client()) is tls
    assert asyncio.run(tls_of_this_loops_client()) is tls  # a second loop, the same context

    gctx = ProviderContext(
        "google", ProviderConfig(type="google", api_key="AIza-k", base_url=ctx.config.base_url)
    )
    try:
        client = google_provider.sync_client(gctx)
        assert client._api_client._httpx_client._transport._pool._ssl_context is gctx.client(
            "ssl", lambda: None
        )
    finally:
        gctx.close()
