"""The built-in mock provider: deterministic replies, no network, no keys.

Replies and token counts are derived from the prompt and the provider's ``seed``, so tests and
demos are repeatable. Latency, error rate and error kinds are configurable (``MockProviderConfig``):

    providers: {mock: {type: mock, latency_ms: 0, error_rate: 0.0, seed: 0}}

Any ``mock:<name>`` id works; when ``<name>`` is a catalog model (``mock:gpt-4o-mini``) it gets
that model's prices and capabilities, which makes the demo's costs realistic.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from modelwire.config.schema import MockProviderConfig, ProviderConfig
from modelwire.errors import (
    AuthenticationError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    TimeoutError,
)
from modelwire.providers.base import ChatModel, ProviderContext
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, Usage

__all__ = ["MockChatModel", "estimate_tokens_from_text"]

_VOCAB = [
    "the",
    "model",
    "considered",
    "your",
    "request",
    "and",
    "answers",
    "plainly",
    "with",
    "a",
    "short",
    "deterministic",
    "reply",
    "about",
    "tokens",
    "cost",
    "latency",
    "routing",
    "providers",
    "registry",
    "ledger",
    "streaming",
    "batch",
    "cache",
    "thread",
    "safety",
    "failover",
    "circuit",
    "breaker",
    "discovery",
    "catalog",
    "pricing",
    "usage",
    "summary",
    "notebook",
    "plot",
]

_MOCK_MODELS = (
    "gpt-4o-mini",
    "gpt-4o",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "gemini-2.5-flash",
    "gemini-2.5-pro",
    "echo",
)


@dataclass(frozen=True, slots=True)
class _MockCall:
    """One call's draw: how long it takes and the fault it ends with, if any."""

    request: ChatRequest
    delay: float
    fault: ProviderError | None


class _MockChunks:
    """A reply as a stream: its chunks of text, read with ``next`` or ``anext`` (the async
    reader yields to the event loop before each chunk, as a network stream would)."""

    def __init__(self, response: ChatResponse, split: Callable[[str], list[str]]) -> None:
        self.response = response
        self._chunks = iter(split(response.text))

    def __iter__(self) -> _MockChunks:
        return self

    def __next__(self) -> str:
        return next(self._chunks)

    def __aiter__(self) -> _MockChunks:
        return self

    async def __anext__(self) -> str:
        await asyncio.sleep(0)
        try:
            return next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None


class _MockStreamState:
    """The mock's stream accumulator: the reply's usage, known from the start."""

    def __init__(self, response: ChatResponse) -> None:
        self.response = response
        self.chars = 0

    @property
    def finished(self) -> bool:
        return self.chars >= len(self.response.text)

    @property
    def usage(self) -> Usage:
        return self.response.usage

    @property
    def finish_reason(self) -> str | None:
        return self.response.finish_reason

    @property
    def request_id(self) -> str | None:
        return self.response.request_id

    def feed(self, chunk: str) -> str:
        self.chars += len(chunk)
        return chunk


def estimate_tokens_from_text(text: str) -> int:
    """The mock's token count: about four characters per token, at least one for non-empty text."""
    return (len(text) + 3) // 4


class MockChatModel(ChatModel):
    """A model that answers from a seeded generator instead of a network service."""

    provider_type: ClassVar[str] = "mock"
    config_model: ClassVar[type[ProviderConfig]] = MockProviderConfig
    open_model_set: ClassVar[bool] = True

    def __init__(self, info: ModelInfo, provider: ProviderContext) -> None:
        super().__init__(info, provider)
        cfg = provider.config
        self.settings = cfg if isinstance(cfg, MockProviderConfig) else MockProviderConfig()
        self._rng = random.Random(f"{self.settings.seed}:{info.id}")
        self._rng_lock = threading.Lock()
        self._counter = itertools.count(1)

    # the deterministic parts -------------------------------------------------------------

    def _draw(self) -> tuple[float, float]:
        with self._rng_lock:
            return self._rng.random(), self._rng.random()

    def _fault(self, roll: float, pick: float) -> ProviderError | None:
        s = self.settings
        if s.error_rate <= 0 or roll >= s.error_rate or not s.error_kinds:
            return None
        kind = s.error_kinds[int(pick * len(s.error_kinds)) % len(s.error_kinds)]
        common: dict[str, Any] = {
            "provider": self.provider.name,
            "model_id": self.info.id,
            "request_id": f"mock-err-{next(self._counter)}",
        }
        if kind == "rate_limit":
            return RateLimitError(
                "mock rate limit", retry_after=s.retry_after_s, status_code=429, **common
            )
        if kind == "server":
            return ProviderUnavailableError("mock server error", status_code=500, **common)
        if kind == "timeout":
            return TimeoutError("mock timeout", **common)
        return AuthenticationError("mock authentication failure", status_code=401, **common)

    def _delay_s(self, pick: float) -> float:
        s = self.settings
        return (s.latency_ms + s.latency_jitter_ms * pick) / 1000.0

    def _reply(self, request: ChatRequest) -> tuple[str, Usage]:
        prompt = "\n".join(m.text for m in request.messages)
        digest = hashlib.blake2b(
            f"{self.settings.seed}|{self.info.name}|{request.system or ''}|{prompt}".encode(),
            digest_size=8,
        ).digest()
        rng = random.Random(int.from_bytes(digest, "big"))
        limit = request.max_tokens or 64
        n_words = max(1, min(limit, 8 + rng.randrange(24)))
        words = [rng.choice(_VOCAB) for _ in range(n_words)]
        text = " ".join(words)
        if request.max_tokens is not None:
            while estimate_tokens_from_text(text) > request.max_tokens and " " in text:
                text = text.rsplit(" ", 1)[0]
        input_tokens = (
            estimate_tokens_from_text(prompt)
            + estimate_tokens_from_text(request.system or "")
            + 3 * len(request.messages)
        )
        visible = estimate_tokens_from_text(text)
        reasoning = 2 * visible if self.info.reasoning else 0
        cache_read = (input_tokens // 2 // 128) * 128 if input_tokens >= 1024 else 0
        usage = Usage(
            input_tokens=input_tokens,
            output_tokens=visible + reasoning,
            cache_read_tokens=cache_read,
            reasoning_tokens=reasoning,
        )
        return text, usage

    def _response(self, request: ChatRequest) -> ChatResponse:
        text, usage = self._reply(request)
        return ChatResponse(
            text=text,
            model_id=self.info.id,
            usage=usage,
            finish_reason="stop",
            request_id=f"mock-{next(self._counter)}",
        )

    def _chunks(self, text: str) -> list[str]:
        words = text.split(" ")
        size = self.settings.stream_chunk_words
        parts = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
        return [p if i == 0 else " " + p for i, p in enumerate(parts)]

    def _start(self, request: ChatRequest) -> _MockCall:
        """Draw this call's latency and fault; a latency over the timeout is a timeout now."""
        roll, pick = self._draw()
        delay = self._delay_s(pick)
        limit = request.timeout or self.settings.timeout_s
        if delay > limit:
            raise TimeoutError(
                f"mock call would take {delay:.3f}s, over the {limit:.3f}s timeout",
                provider=self.provider.name,
                model_id=self.info.id,
            )
        return _MockCall(request, delay, self._fault(roll, pick))

    def _finish(self, call: _MockCall) -> ChatResponse:
        """The reply, once the latency has passed, or the injected fault."""
        if call.fault is not None:
            raise call.fault
        return self._response(call.request)

    # the provider interface: only the latency's sleep differs between sync and async ----------

    def send(self, request: ChatRequest) -> ChatResponse:
        """Answer after the configured latency, or raise an injected fault."""
        call = self._start(request)
        time.sleep(call.delay)
        return self._finish(call)

    async def asend(self, request: ChatRequest) -> ChatResponse:
        """The same as ``send``, sleeping with asyncio."""
        call = self._start(request)
        await asyncio.sleep(call.delay)
        return self._finish(call)

    def open_stream(self, request: ChatRequest) -> _MockChunks:
        """The reply (see ``send``) cut into chunks of ``stream_chunk_words`` words."""
        return _MockChunks(self.send(request), self._chunks)

    async def aopen_stream(self, request: ChatRequest) -> _MockChunks:
        """The same as ``open_stream``, for asyncio."""
        return _MockChunks(await self.asend(request), self._chunks)

    def stream_state(self, chunks: Any) -> _MockStreamState:
        """An accumulator that finishes once the whole reply has been read."""
        return _MockStreamState(chunks.response)

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        """A fixed set of mock models (any other ``mock:<name>`` works too)."""
        return [
            ModelInfo(
                id=f"{provider.name}:{name}", provider_type=provider.type, source="discovered"
            )
            for name in _MOCK_MODELS
        ]
