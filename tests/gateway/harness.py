"""The gateway under test: a real uvicorn server on 127.0.0.1 in a thread, always stopped.

``start_gateway`` (and the ``gateway`` fixture, one per test module) serve a SQLite ledger
with these backends:

* ``mock:gpt-4o-mini`` (alias ``mini``): the deterministic mock provider, priced from the catalog;
* ``s:<any>``: ``Scripted`` below, which answers with a tool call when it is given tools (and no
  tool result yet), streams its tool calls piece by piece, reports cache and reasoning counts,
  fails mid-stream (``FAIL-MIDSTREAM`` in the prompt) or streams slowly (``SLOW-STREAM``) on
  request, answers a request for structured output with what follows ``REPLY:`` in the prompt,
  and keeps every request it got;
* ``down:``, ``slow:``, ``busy:``, ``locked:``: mock entries that always fail (server error,
  timeout, rate limit with Retry-After 7, rejected credentials), never retried;
* ``openai:<any>`` and ``anthropic:<any>``: the real provider classes against the loopback fake
  provider (``tools/fake_provider``), with keys that must never leave the gateway;
* the group ``team`` (``down`` then ``mock``) and the top-level alias ``best`` of it.

Keys: ``gateway.token`` may call everything; ``gateway.mock_only`` only ``mock:*``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from modelwire.config.schema import Config
from modelwire.content import ToolCall, ToolResultPart
from modelwire.gateway.app import create_app
from modelwire.gateway.keys import KeyStore
from modelwire.gateway.limits import KeyLimits
from modelwire.gateway.settings import GatewaySettings
from modelwire.providers.base import ChatModel, ProviderContext
from modelwire.registry.model_registry import ModelRegistry
from modelwire.service.model_service import ModelService
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, ToolCallDelta, Usage
from modelwire.usage.ledger import UsageLedger
from modelwire.usage.rows import UsageRecord
from tools.fake_provider import FakeProviderServer

PROVIDER_SECRET = "sk-provider-secret-0123456789abcdef"
FAKE_OPENAI_KEY = "sk-fake-openai-0123456789abcdef"
FAKE_ANTHROPIC_KEY = "sk-ant-fake-0123456789abcdef"

SCRIPTED_USAGE = Usage(
    input_tokens=100,
    output_tokens=20,
    cache_read_tokens=30,
    cache_write_tokens=10,
    reasoning_tokens=5,
)


class _Chunks:
    """A scripted stream: blocking and async iteration over the same pieces."""

    def __init__(self, pieces: list[Any], fail_after: int | None, delay: float = 0.0) -> None:
        self._pieces = iter(pieces)
        self._sent = 0
        self._fail_after = fail_after
        self._delay = delay
        self.closed = False

    def __iter__(self) -> _Chunks:
        return self

    def __next__(self) -> Any:
        if self._fail_after is not None and self._sent >= self._fail_after:
            raise ConnectionResetError("scripted failure in the middle of the stream")
        self._sent += 1
        return next(self._pieces)

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> Any:
        await asyncio.sleep(self._delay)
        try:
            return self.__next__()
        except StopIteration:
            raise StopAsyncIteration from None

    def close(self) -> None:
        self.closed = True


class _State:
    """The scripted stream's accumulator."""

    def __init__(self, response: ChatResponse, total: int) -> None:
        self.response = response
        self.total = total
        self.seen = 0
        self.chars = 0
        self.deltas: list[ToolCallDelta] = []
        self.tool_calls = response.tool_calls
        self.parts = response.parts

    @property
    def finished(self) -> bool:
        return self.seen >= self.total

    @property
    def usage(self) -> Usage:
        return self.response.usage

    @property
    def finish_reason(self) -> str | None:
        return self.response.finish_reason

    @property
    def request_id(self) -> str | None:
        return self.response.request_id

    def feed(self, chunk: Any) -> str:
        self.seen += 1
        kind, value = chunk
        if kind == "tool":
            self.deltas.append(value)
            return ""
        self.chars += len(value)
        return str(value)


class Scripted(ChatModel):
    """A provider whose answers tests choose (see the module docstring)."""

    provider_type: ClassVar[str] = "scripted"
    open_model_set: ClassVar[bool] = True
    SEEN: ClassVar[list[ChatRequest]] = []

    def send(self, request: ChatRequest) -> ChatResponse:
        Scripted.SEEN.append(request)
        answered = any(m.role == "tool" for m in request.messages)
        if request.tools and not answered and request.tool_choice != "none":
            named = request.tool_choice not in (None, "auto", "required")
            tool = request.tool_choice if named else request.tools[0].name
            call = ToolCall(id="call_1", name=str(tool), arguments={"city": "Paris"})
            return ChatResponse(
                text="",
                model_id=self.info.id,
                usage=SCRIPTED_USAGE,
                tool_calls=(call,),
                finish_reason="tool_calls",
                request_id="scripted-1",
            )
        results = [
            p.text
            for m in request.messages
            if m.role == "tool"
            for p in m.parts
            if isinstance(p, ToolResultPart)
        ]
        last = request.messages[-1].text
        text = f"result: {results[-1]}" if results else f"answer: {last}"
        if request.output is not None and "REPLY:" in last:
            text = last.partition("REPLY:")[2].strip()
        return ChatResponse(
            text=text,
            model_id=self.info.id,
            usage=SCRIPTED_USAGE,
            finish_reason="stop",
            request_id="scripted-1",
        )

    async def asend(self, request: ChatRequest) -> ChatResponse:
        return self.send(request)

    def _pieces(self, request: ChatRequest) -> tuple[ChatResponse, list[Any], int | None]:
        response = self.send(request)
        pieces: list[Any] = []
        if response.tool_calls:
            call = response.tool_calls[0]
            pieces.append(("tool", ToolCallDelta(index=0, id=call.id, name=call.name)))
            half = len(call.arguments_json) // 2
            pieces.append(
                ("tool", ToolCallDelta(index=0, arguments_delta=call.arguments_json[:half]))
            )
            pieces.append(
                ("tool", ToolCallDelta(index=0, arguments_delta=call.arguments_json[half:]))
            )
        else:
            words = response.text.split(" ")
            pieces += [("text", w if i == 0 else " " + w) for i, w in enumerate(words)]
        fail_after = 1 if "FAIL-MIDSTREAM" in request.messages[-1].text else None
        return response, pieces, fail_after

    def open_stream(self, request: ChatRequest) -> _Chunks:
        response, pieces, fail_after = self._pieces(request)
        slow = "SLOW-STREAM" in request.messages[-1].text
        if slow:  # a long answer, one word every 20 ms
            pieces = [("text", " word")] * 500
        chunks = _Chunks(pieces, fail_after, delay=0.02 if slow else 0.0)
        chunks.response = response  # type: ignore[attr-defined]
        chunks.total = len(pieces)  # type: ignore[attr-defined]
        return chunks

    async def aopen_stream(self, request: ChatRequest) -> _Chunks:
        return self.open_stream(request)

    def stream_state(self, chunks: Any) -> _State:
        return _State(chunks.response, chunks.total)

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        return []


def gateway_config(fake_url: str) -> Config:
    """The configuration the module's gateway serves."""
    failing = {"type": "mock", "error_rate": 1.0, "max_retries": 0}
    return Config.model_validate(
        {
            "providers": {
                "mock": {"type": "mock"},
                "s": {"type": "scripted"},
                "down": {**failing, "error_kinds": ["server"]},
                "slow": {**failing, "error_kinds": ["timeout"]},
                "busy": {**failing, "error_kinds": ["rate_limit"], "retry_after_s": 7},
                "locked": {**failing, "error_kinds": ["auth"], "api_key": PROVIDER_SECRET},
                "openai": {
                    "type": "openai",
                    "api_key": FAKE_OPENAI_KEY,
                    "base_url": fake_url + "/v1",
                    "max_retries": 0,
                },
                "anthropic": {
                    "type": "anthropic",
                    "api_key": FAKE_ANTHROPIC_KEY,
                    "base_url": fake_url,
                    "max_retries": 0,
                },
            },
            "models": {
                "mock:gpt-4o-mini": {"aliases": ["mini"]},
                "s:m": {
                    "cost": {
                        "input_per_mtok": 1,
                        "output_per_mtok": 2,
                        "cache_read_per_mtok": "0.5",
                        "cache_write_per_mtok": "1.25",
                    }
                },
            },
            "groups": {"team": {"members": ["down:gpt-4o-mini", "mock:gpt-4o-mini"]}},
            "aliases": {"best": "team"},
            "discovery": {"enabled": False},
        }
    )


class ThreadServer:
    """uvicorn serving ``app`` on 127.0.0.1 (a free port) in a thread; a context manager."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> ThreadServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.server.should_exit = True
                raise RuntimeError("the gateway did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()


@dataclass
class RunningGateway:
    """A gateway under test and what a test needs to check it."""

    url: str
    service: ModelService
    ledger: UsageLedger
    store: KeyStore
    token: str
    key_name: str
    mock_only: str
    fake: FakeProviderServer
    app: Any

    def rows(self, **filters: Any) -> list[UsageRecord]:
        """The ledger's rows (pending events written first)."""
        return list(self.ledger.records(**filters))

    def last_row(self) -> UsageRecord:
        """The newest row."""
        return next(self.ledger.records(newest_first=True, limit=1))

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"authorization": f"Bearer {token or self.token}"}


def start_gateway(
    tmp: Path,
    fake: FakeProviderServer,
    *,
    settings: GatewaySettings | None = None,
    limits: KeyLimits | None = None,
) -> Iterator[RunningGateway]:
    """A gateway over a fresh SQLite ledger in ``tmp`` with its two keys (a generator: the
    server stops, and the service closes, when it resumes)."""
    ledger = UsageLedger(f"sqlite:///{tmp / 'usage.db'}", flush_interval_ms=5)
    service = ModelService(
        ModelRegistry.from_config(gateway_config(fake.url), catalog=True), ledger
    )
    store = KeyStore(lambda: ledger.engine)
    _, token = store.create("team-a")
    _, mock_only = store.create("mock-only", models=["mock:*"])
    app = create_app(settings or GatewaySettings(key_refresh_s=0.2), service=service, limits=limits)
    try:
        with ThreadServer(app) as server:
            yield RunningGateway(
                server.url, service, ledger, store, token, "team-a", mock_only, fake, app
            )
    finally:
        service.close()
