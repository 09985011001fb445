"""``EventStream`` driven as an ASGI server drives it: what it sends, and when it stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from modelwire.gateway.event_stream import EventStream

SCOPE = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}}


class Chunks:
    """``count`` chunks, the event loop yielded to before each; remembers whether it was closed."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.made = 0
        self.closed = False

    async def __call__(self) -> AsyncIterator[bytes]:
        try:
            for i in range(self.count):
                await asyncio.sleep(0)
                self.made += 1
                yield f"data: {i}\n\n".encode()
        finally:
            self.closed = True


def run(chunks: Chunks, receive: Any, send: Any) -> None:
    response = EventStream(chunks(), 200, {"cache-control": "no-cache"}, "text/event-stream")
    asyncio.run(response(SCOPE, receive, send))


async def never() -> dict[str, Any]:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def test_sends_the_start_and_every_chunk_then_ends_the_body() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    chunks = Chunks(3)
    run(chunks, never, send)
    assert sent[0]["type"] == "http.response.start"
    assert (b"content-type", b"text/event-stream; charset=utf-8") in sent[0]["headers"]
    assert [m["body"] for m in sent[1:]] == [b"data: 0\n\n", b"data: 1\n\n", b"data: 2\n\n", b""]
    assert [m["more_body"] for m in sent[1:]] == [True, True, True, False]
    assert chunks.closed


def test_the_first_chunk_goes_out_before_anything_listens_for_the_client() -> None:
    order: list[str] = []

    async def receive() -> dict[str, Any]:
        order.append("receive")
        return await never()

    async def send(message: dict[str, Any]) -> None:
        order.append(message["type"])

    run(Chunks(2), receive, send)
    assert order[:2] == ["http.response.start", "http.response.body"]
    assert order.count("receive") <= 1


def test_a_client_that_goes_away_stops_the_stream_and_closes_its_generator() -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    chunks = Chunks(10_000)
    run(chunks, receive, send)  # returns quietly: no CancelledError escapes
    assert chunks.closed
    assert chunks.made < 100
    assert sent[-1]["more_body"] is True  # the body was never finished


def test_a_send_that_fails_as_on_asgi_2_4_ends_quietly_and_closes_the_generator() -> None:
    calls = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError("client disconnected")

    chunks = Chunks(50)
    run(chunks, never, send)
    assert chunks.closed
    assert chunks.made == 2


def test_a_client_leaving_as_the_last_message_goes_out_ends_quietly() -> None:
    async def main() -> None:
        gone = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if not message.get("more_body", True):
                gone.set()  # the client leaves as the last message goes out
                await asyncio.sleep(0)

        response = EventStream(Chunks(3)(), 200, None, "text/event-stream")
        await response(SCOPE, receive, send)
        current = asyncio.current_task()
        assert current is not None and current.cancelling() == 0

    asyncio.run(main())


def test_an_error_of_the_stream_itself_propagates() -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"data: 0\n\n"
        raise RuntimeError("the stream broke")

    async def send(message: dict[str, Any]) -> None:
        pass

    response = EventStream(failing(), 200, None, "text/event-stream")
    with pytest.raises(RuntimeError, match="the stream broke"):
        asyncio.run(response(SCOPE, never, send))
