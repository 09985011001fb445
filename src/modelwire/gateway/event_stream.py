"""A server-sent events response that sends each chunk as it is made and stops when the client
goes away.

Starlette's ``StreamingResponse`` does the same, but on a server of ASGI spec 2.3 (uvicorn
among them) it first starts an anyio task group with a listener for the client's disconnect,
and schedules the stream as a task of its own: a turn of the event loop and a cancel scope
before the first byte. ``EventStream`` starts the response and sends the first chunk from the
request's own task, and only then starts the one task that waits for a disconnect; if the client
goes, that task cancels the stream, whose generator is closed (so the call behind it stops),
and the response ends quietly, as ``StreamingResponse``'s does.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

__all__ = ["EventStream"]


class EventStream(StreamingResponse):
    """``text/event-stream`` from an async iterator of ``bytes``; status and headers as given."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        assert task is not None  # an ASGI app runs in a task
        gone = False
        watcher: asyncio.Task[None] | None = None

        async def watch() -> None:
            nonlocal gone
            while (await receive())["type"] != "http.disconnect":
                pass
            gone = True
            task.cancel()

        chunks = self.body_iterator
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                if watcher is None:
                    watcher = asyncio.create_task(watch())
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not gone:
                raise
            task.uncancel()
        except OSError:  # a server of ASGI spec 2.4 or later: the client has gone
            pass
        finally:
            if watcher is not None:
                watcher.cancel()
            closer = getattr(chunks, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()
