"""The built-in mock provider: deterministic replies, no network, no keys.

Replies and token counts are derived from the prompt and the provider's ``seed``, so tests and
demos are repeatable. Latency, error rate and error kinds are configurable (``MockProviderConfig``):

    providers: {mock: {type: mock, latency_ms: 0, error_rate: 0.0, seed: 0}}

Any ``mock:<name>`` id works; when ``<name>`` is a catalog model (``mock:gpt-4o-mini``) it gets
that model's prices and capabilities, which makes the demo's costs realistic.

Tools: given tools, the mock calls the first one (or the one ``tool_choice`` names; the first
``max_parallel_tool_calls`` when ``parallel_tool_calls`` is true) with arguments made up from
its JSON schema (``mock_tools``), unless the last message holds tool results, which it answers
with text that quotes them. ``tool_calls`` (``auto``/``always``/``never``) and
``malformed_tool_calls`` change that, in the entry or per call in ``provider_params``. Images,
documents and tool definitions count as input tokens.

Structured output: a request with ``output`` (and no tool to call) is answered with JSON valid
against the requested type's schema, made up by ``mock_tools.example_value`` from a generator
seeded by the conversation (the same request gets the same answer), in ``output_mode``
"native" whatever mode was asked for. Its limits are the generator's: ``pattern`` is met for
simple regular expressions only (literals, classes, groups, alternation, repeats); a pattern
it cannot satisfy, or a constraint the schema does not carry (a validator written in Python),
gives an answer that fails validation, as a real model's could.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from modelwire.config.schema import MockProviderConfig, ProviderConfig
from modelwire.content import (
    DocumentPart,
    ImagePart,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultPart,
)
from modelwire.errors import (
    AuthenticationError,
    InvalidRequestError,
    MalformedToolCallError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    TimeoutError,
)
from modelwire.providers.base import ChatModel, ProviderContext
from modelwire.providers.mock_tools import example_arguments, example_value
from modelwire.tools import Tool
from modelwire.types import (
    ChatRequest,
    ChatResponse,
    Message,
    ModelInfo,
    StreamEvent,
    ToolCallDelta,
    Usage,
)

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


#: Input tokens an image counts (OpenAI's low-detail figure), and a document per started KiB.
IMAGE_TOKENS = 85
DOCUMENT_TOKENS_PER_KIB = 16
#: How many characters of a tool call's arguments one streamed piece carries.
ARGUMENT_CHUNK_CHARS = 16


@dataclass(frozen=True, slots=True)
class _PlannedCall:
    """A tool call the mock answers with; its arguments may be broken on purpose."""

    id: str
    name: str
    arguments_json: str


@dataclass(frozen=True, slots=True)
class _MockAnswer:
    """What the mock will answer: text, or tool calls (not yet checked), and the usage."""

    text: str
    usage: Usage
    calls: tuple[_PlannedCall, ...] = ()
    #: "native" for an answer to a request with ``output`` (its text is the JSON).
    output_mode: str | None = None


@dataclass(frozen=True, slots=True)
class _MockCall:
    """One call's draw: the answer, how long it takes and the fault it ends with, if any."""

    answer: _MockAnswer
    delay: float
    fault: ProviderError | None


@dataclass(frozen=True, slots=True)
class _ToolOptions:
    """The mock's tool settings for one call: the entry's, overridden by ``provider_params``."""

    mode: str
    max_parallel: int
    malformed_rate: float


class _MockChunks:
    """A reply as a stream: pieces of text, then ``ToolCallDelta`` pieces of each tool call,
    read with ``next`` or ``anext`` (the async reader yields to the event loop before each
    piece, as a network stream would)."""

    def __init__(self, answer: _MockAnswer, request_id: str, items: list[str | ToolCallDelta]):
        self.answer = answer
        self.request_id = request_id
        self.count = len(items)
        self._items = iter(items)

    def __iter__(self) -> _MockChunks:
        return self

    def __next__(self) -> str | ToolCallDelta:
        return next(self._items)

    def __aiter__(self) -> _MockChunks:
        return self

    async def __anext__(self) -> str | ToolCallDelta:
        await asyncio.sleep(0)
        try:
            return next(self._items)
        except StopIteration:
            raise StopAsyncIteration from None


class _MockStreamState:
    """The mock's stream accumulator: the reply's usage is known from the start; tool calls are
    put together from their pieces, and checked when the stream ends."""

    def __init__(self, chunks: _MockChunks, model: MockChatModel) -> None:
        self.answer = chunks.answer
        self.request_id: str | None = chunks.request_id
        self.model = model
        self.expected = chunks.count
        self.received = 0
        self.chars = 0
        self.deltas: list[ToolCallDelta] = []
        self._calls: dict[int, list[str]] = {}  # index -> [id, name, arguments so far]
        self._assembled: tuple[ToolCall, ...] | None = None

    @property
    def finished(self) -> bool:
        return self.received >= self.expected

    @property
    def usage(self) -> Usage:
        return self.answer.usage

    @property
    def finish_reason(self) -> str | None:
        return "tool_calls" if self.answer.calls else "stop"

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The streamed calls, put together (``MalformedToolCallError`` for broken arguments)."""
        if self._assembled is None:
            planned = [_PlannedCall(*self._calls[i]) for i in sorted(self._calls)]
            self._assembled = tuple(self.model.decode_call(c) for c in planned)
        return self._assembled

    @property
    def parts(self) -> tuple[ToolCall, ...]:
        return self.tool_calls

    def feed(self, chunk: str | ToolCallDelta) -> str:
        self.received += 1
        if isinstance(chunk, ToolCallDelta):
            self.deltas.append(chunk)
            call = self._calls.setdefault(chunk.index, ["", "", ""])
            call[0] = chunk.id or call[0]
            call[1] = chunk.name or call[1]
            call[2] += chunk.arguments_delta
            return ""
        self.chars += len(chunk)
        return chunk


def estimate_tokens_from_text(text: str) -> int:
    """The mock's token count: about four characters per token, at least one for non-empty text."""
    return (len(text) + 3) // 4


@dataclass
class _Transcript:
    """A conversation written out for the mock: its text (for the seed and the token count),
    the tokens its images and documents count, and the name of each tool call by id."""

    text: str = ""
    media_tokens: int = 0
    call_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, request: ChatRequest, provider: str, model_id: str) -> _Transcript:
        """The transcript; a tool result for a call no earlier assistant message made is an
        ``InvalidRequestError``."""
        out = cls()
        lines: list[str] = []
        for message in request.messages:
            lines.append(f"{message.role}: " + " ".join(out._read(message, provider, model_id)))
        out.text = "\n".join(lines)
        return out

    def _read(self, message: Message, provider: str, model_id: str) -> Iterator[str]:
        for part in message.parts:
            if isinstance(part, TextPart | ThinkingPart):
                yield part.text
            elif isinstance(part, ToolCall):
                self.call_names[part.id] = part.name
                yield f"[call {part.id} {part.name}({part.arguments_json})]"
            elif isinstance(part, ToolResultPart):
                if part.call_id not in self.call_names:
                    raise InvalidRequestError(
                        f"a tool result answers call id {part.call_id!r}, which no assistant "
                        "message of the request made",
                        provider=provider,
                        model_id=model_id,
                    )
                if not isinstance(part.content, str):
                    self.media_tokens += IMAGE_TOKENS * sum(
                        isinstance(p, ImagePart) for p in part.content
                    )
                yield f"[result {part.call_id} {part.text}]"
            elif isinstance(part, ImagePart):
                self.media_tokens += IMAGE_TOKENS
            elif isinstance(part, DocumentPart):
                self.media_tokens += DOCUMENT_TOKENS_PER_KIB * max(1, -(-part.size // 1024))


def _tool_definition_tokens(tools: tuple[Tool, ...]) -> int:
    return sum(
        estimate_tokens_from_text(
            json.dumps([t.name, t.description, t.parameters], sort_keys=True, default=str)
        )
        for t in tools
    )


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


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

    def _words(self, request: ChatRequest, prompt: str) -> str:
        """The seeded words of a reply to ``prompt``, within ``max_tokens``."""
        digest = hashlib.blake2b(
            f"{self.settings.seed}|{self.info.name}|{request.system or ''}|{prompt}".encode(),
            digest_size=8,
        ).digest()
        rng = random.Random(int.from_bytes(digest, "big"))
        limit = request.max_tokens or 64
        n_words = max(1, min(limit, 8 + rng.randrange(24)))
        return self._within_limit(" ".join(rng.choice(_VOCAB) for _ in range(n_words)), request)

    @staticmethod
    def _within_limit(text: str, request: ChatRequest) -> str:
        if request.max_tokens is not None:
            while estimate_tokens_from_text(text) > request.max_tokens and " " in text:
                text = text.rsplit(" ", 1)[0]
        return text

    def _usage(self, input_tokens: int, output_tokens: int) -> Usage:
        reasoning = 2 * output_tokens if self.info.reasoning else 0
        cache_read = (input_tokens // 2 // 128) * 128 if input_tokens >= 1024 else 0
        return Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens + reasoning,
            cache_read_tokens=cache_read,
            reasoning_tokens=reasoning,
        )

    def _reply(self, request: ChatRequest) -> tuple[str, Usage]:
        """The answer to a plain request (text messages, no tools)."""
        prompt = "\n".join(m.text for m in request.messages)
        text = self._words(request, prompt)
        input_tokens = (
            estimate_tokens_from_text(prompt)
            + estimate_tokens_from_text(request.system or "")
            + 3 * len(request.messages)
        )
        return text, self._usage(input_tokens, estimate_tokens_from_text(text))

    def _answer(self, request: ChatRequest) -> _MockAnswer:
        if request.is_plain:
            return _MockAnswer(*self._reply(request))
        return self._rich_answer(request)

    def _rich_answer(self, request: ChatRequest) -> _MockAnswer:
        """The answer to a request with parts or tools: tool calls, or text."""
        options = self._tool_options(request)
        transcript = _Transcript.of(request, self.provider.name, self.info.id)
        input_tokens = (
            estimate_tokens_from_text(transcript.text)
            + estimate_tokens_from_text(request.system or "")
            + 3 * len(request.messages)
            + transcript.media_tokens
            + _tool_definition_tokens(request.tools)
        )
        tools = self._tools_to_call(request, options)
        if not tools and request.output is not None:
            text = self._output_answer(request, transcript)
            usage = self._usage(input_tokens, estimate_tokens_from_text(text))
            return _MockAnswer(text, usage, output_mode="native")
        if not tools:
            text = self._text_answer(request, transcript)
            return _MockAnswer(text, self._usage(input_tokens, estimate_tokens_from_text(text)))
        seed = f"{self.settings.seed}|{self.info.name}|{request.system or ''}|{transcript.text}"
        calls = [self._plan_call(seed, index, tool) for index, tool in enumerate(tools)]
        if self._malformed(options.malformed_rate):
            first = calls[0]
            broken = first.arguments_json[: max(1, len(first.arguments_json) // 2)]
            calls[0] = _PlannedCall(first.id, first.name, broken)
        output = sum(estimate_tokens_from_text(c.name + c.arguments_json) for c in calls)
        return _MockAnswer("", self._usage(input_tokens, output), tuple(calls))

    def _tool_options(self, request: ChatRequest) -> _ToolOptions:
        """The entry's tool settings, overridden by the call's ``provider_params``."""
        s = self.settings
        params = request.provider_params
        mode = params.get("tool_calls", s.tool_calls)
        if mode not in ("auto", "always", "never"):
            raise self._bad_param("tool_calls", "'auto', 'always' or 'never'", mode)
        count = params.get("max_parallel_tool_calls", s.max_parallel_tool_calls)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise self._bad_param("max_parallel_tool_calls", "a whole number of at least 1", count)
        rate = params.get("malformed_tool_calls", s.malformed_tool_calls)
        if isinstance(rate, bool):
            rate = 1.0 if rate else 0.0
        if not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise self._bad_param("malformed_tool_calls", "true, false or a rate from 0 to 1", rate)
        return _ToolOptions(mode, count, float(rate))

    def _bad_param(self, name: str, expected: str, got: Any) -> InvalidRequestError:
        return InvalidRequestError(
            f"provider_params[{name!r}]: expected {expected}; got {got!r}",
            provider=self.provider.name,
            model_id=self.info.id,
        )

    @staticmethod
    def _tools_to_call(request: ChatRequest, options: _ToolOptions) -> tuple[Tool, ...]:
        """Which tools this answer calls (none: the answer is text)."""
        choice = request.tool_choice
        if not request.tools or choice == "none" or options.mode == "never":
            return ()
        answered = request.messages[-1].role == "tool"
        forced = choice is not None and choice != "auto"
        if answered and not forced and options.mode == "auto":
            return ()
        if forced and choice != "required":
            return tuple(t for t in request.tools if t.name == choice)
        count = min(options.max_parallel, len(request.tools)) if request.parallel_tool_calls else 1
        return request.tools[:count]

    def _plan_call(self, seed: str, index: int, tool: Tool) -> _PlannedCall:
        digest = hashlib.blake2b(f"{seed}|{index}|{tool.name}".encode(), digest_size=12)
        rng = random.Random(digest.digest())
        try:
            arguments = example_arguments(tool.parameters, rng)
        except ValueError as exc:
            raise InvalidRequestError(
                f"tool {tool.name!r}: the mock cannot make arguments for its schema: {exc}",
                provider=self.provider.name,
                model_id=self.info.id,
            ) from None
        return _PlannedCall(f"call_{digest.hexdigest()}", tool.name, json.dumps(arguments))

    def _output_answer(self, request: ChatRequest, transcript: _Transcript) -> str:
        """JSON valid against the requested output's schema, drawn from a generator seeded by
        the conversation (the same request gets the same answer; ``max_tokens`` does not cut
        it)."""
        spec = request.output
        assert spec is not None
        seed = f"{self.settings.seed}|{self.info.name}|{request.system or ''}|{transcript.text}"
        digest = hashlib.blake2b(f"{seed}|output|{spec.name}".encode(), digest_size=12).digest()
        try:
            value = example_value(spec.schema, random.Random(digest))
        except ValueError as exc:
            raise InvalidRequestError(
                f"output {spec.name}: the mock cannot make a value for its schema: {exc}",
                provider=self.provider.name,
                model_id=self.info.id,
            ) from None
        return json.dumps(value, ensure_ascii=False)

    def _malformed(self, rate: float) -> bool:
        if rate <= 0 or rate >= 1:
            return rate >= 1
        with self._rng_lock:
            return self._rng.random() < rate

    def _text_answer(self, request: ChatRequest, transcript: _Transcript) -> str:
        """Text that quotes the tool results of the last message, or seeded words."""
        last = request.messages[-1]
        results = [p for p in last.parts if isinstance(p, ToolResultPart)]
        if not results:
            return self._words(request, transcript.text)
        quoted = []
        for result in results:
            name = result.name or transcript.call_names.get(result.call_id, "the tool")
            verb = "failed with" if result.is_error else "returned"
            quoted.append(f"{name} {verb} {result.text}")
        return self._within_limit("; ".join(quoted), request)

    def decode_call(self, call: _PlannedCall) -> ToolCall:
        """A planned call as a ``ToolCall``; arguments that are not a JSON object are a
        ``MalformedToolCallError``."""
        try:
            arguments = json.loads(call.arguments_json)
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):
            raise MalformedToolCallError(
                f"the arguments of the call to {call.name!r} are not a JSON object",
                raw_text=call.arguments_json,
                provider=self.provider.name,
                model_id=self.info.id,
            )
        return ToolCall(
            id=call.id, name=call.name, arguments=arguments, arguments_json=call.arguments_json
        )

    def _response(self, answer: _MockAnswer) -> ChatResponse:
        if not answer.calls:
            return ChatResponse(
                text=answer.text,
                model_id=self.info.id,
                usage=answer.usage,
                finish_reason="stop",
                request_id=f"mock-{next(self._counter)}",
                output_mode=answer.output_mode,
            )
        calls = tuple(self.decode_call(c) for c in answer.calls)
        return ChatResponse(
            text=answer.text,
            model_id=self.info.id,
            usage=answer.usage,
            finish_reason="tool_calls",
            request_id=f"mock-{next(self._counter)}",
            tool_calls=calls,
            parts=calls,
        )

    def _items(self, answer: _MockAnswer) -> list[str | ToolCallDelta]:
        """The stream of an answer: its text in words, then each call's pieces."""
        items: list[str | ToolCallDelta] = []
        if answer.text:
            words = answer.text.split(" ")
            size = self.settings.stream_chunk_words
            groups = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
            items.extend(g if i == 0 else " " + g for i, g in enumerate(groups))
        for index, call in enumerate(answer.calls):
            for n, piece in enumerate(_pieces(call.arguments_json, ARGUMENT_CHUNK_CHARS)):
                first = n == 0
                items.append(
                    ToolCallDelta(
                        index=index,
                        id=call.id if first else None,
                        name=call.name if first else None,
                        arguments_delta=piece,
                    )
                )
        return items

    def _start(self, request: ChatRequest) -> _MockCall:
        """This call's answer, latency and fault; a latency over the timeout is a timeout now."""
        answer = self._answer(request)
        roll, pick = self._draw()
        delay = self._delay_s(pick)
        limit = request.timeout or self.settings.timeout_s
        if delay > limit:
            raise TimeoutError(
                f"mock call would take {delay:.3f}s, over the {limit:.3f}s timeout",
                provider=self.provider.name,
                model_id=self.info.id,
            )
        return _MockCall(answer, delay, self._fault(roll, pick))

    def _finish(self, call: _MockCall) -> _MockAnswer:
        """The answer, once the latency has passed, or the injected fault."""
        if call.fault is not None:
            raise call.fault
        return call.answer

    # the provider interface: only the latency's sleep differs between sync and async ----------

    def send(self, request: ChatRequest) -> ChatResponse:
        """Answer after the configured latency, or raise an injected fault."""
        call = self._start(request)
        time.sleep(call.delay)
        return self._response(self._finish(call))

    async def asend(self, request: ChatRequest) -> ChatResponse:
        """The same as ``send``, sleeping with asyncio."""
        call = self._start(request)
        await asyncio.sleep(call.delay)
        return self._response(self._finish(call))

    def open_stream(self, request: ChatRequest) -> _MockChunks:
        """The reply (see ``send``) in pieces: ``stream_chunk_words`` words of text at a time,
        or each tool call's arguments ``ARGUMENT_CHUNK_CHARS`` characters at a time."""
        call = self._start(request)
        time.sleep(call.delay)
        answer = self._finish(call)
        return _MockChunks(answer, f"mock-{next(self._counter)}", self._items(answer))

    async def aopen_stream(self, request: ChatRequest) -> _MockChunks:
        """The same as ``open_stream``, for asyncio."""
        call = self._start(request)
        await asyncio.sleep(call.delay)
        answer = self._finish(call)
        return _MockChunks(answer, f"mock-{next(self._counter)}", self._items(answer))

    def stream_state(self, chunks: Any) -> _MockStreamState:
        """An accumulator that finishes once the whole reply has been read."""
        return _MockStreamState(chunks, self)

    def stream_end(self, totals: Any, request_id: str | None) -> StreamEvent:
        """The closing event, with the output mode of a structured answer."""
        event = super().stream_end(totals, request_id)
        if isinstance(totals, _MockStreamState):
            event.output_mode = totals.answer.output_mode
        return event

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        """A fixed set of mock models (any other ``mock:<name>`` works too)."""
        return [
            ModelInfo(
                id=f"{provider.name}:{name}", provider_type=provider.type, source="discovered"
            )
            for name in _MOCK_MODELS
        ]
