"""Pure mapping between modelwire types and the OpenAI Chat Completions wire format.

No SDK import here: functions take and return plain dicts, or read SDK objects by attribute, so
they are cheap to test on recorded payloads.

Request mapping
    ``system`` becomes the first message; ``max_tokens``, ``temperature``, ``top_p``, ``stop``
    and ``seed`` map one to one, except for reasoning models (``ModelInfo.reasoning`` or the
    ``o1``/``o3``/``o4``/``gpt-5`` families) which get ``max_completion_tokens`` and no
    ``temperature``/``top_p`` (they reject them). Streams ask for ``stream_options.include_usage``.
    Messages with parts, tool calls and tool results map as ``messages`` describes. ``tools``
    become function tools; ``tool_choice`` and ``parallel_tool_calls`` are sent only with tools
    (the API refuses them otherwise), and ``parallel_tool_calls`` not at all to a model whose
    known features lack ``parallel_tools`` or, when its features are unknown, to the ``o``
    reasoning families (``o1``, ``o3``, ``o4-mini``…), which refuse the parameter even as
    ``false``. ``provider_params`` are merged last, untouched, so they can override anything.

Response mapping
    The text, the tool calls and the finish reason as ``tool_calls`` describes; an answer with
    tool calls also has ``parts`` (its text, then its calls), so ``response.message`` replays it.

Usage mapping (docs/design.md, Usage and cost)
    ``input_tokens = prompt_tokens`` (cached included), ``cache_read_tokens =
    prompt_tokens_details.cached_tokens``, ``output_tokens = completion_tokens`` (reasoning
    included), ``reasoning_tokens = completion_tokens_details.reasoning_tokens``,
    ``cache_write_tokens = prompt_tokens_details.cache_write_tokens`` when reported, else 0
    (OpenAI caches automatically); ``input_audio_tokens`` / ``input_image_tokens`` =
    ``prompt_tokens_details.audio_tokens`` / ``image_tokens``, ``output_audio_tokens`` /
    ``output_image_tokens`` = ``completion_tokens_details.audio_tokens`` / ``image_tokens``
    (parts of the totals, priced at the modality prices). Chat Completions reports no count of
    web searches, so none is recorded.
"""

from __future__ import annotations

import re
from typing import Any

from modelwire import assemble
from modelwire.content import Part, TextPart, ToolCall
from modelwire.providers.openai.messages import (
    OPENAI_LIMITS,
    ContentLimits,
    wire_id,
    wire_messages,
    wire_tool_choice,
    wire_tools,
)
from modelwire.providers.openai.structured import (
    CompatibleMode,
    OutputPlan,
    apply_output,
    output_plan,
    refusal_error,
    structured_response,
    tool_arguments_text,
)
from modelwire.providers.openai.tool_calls import (
    StreamedCalls,
    finish_reason,
    message_tool_calls,
)
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, ToolCallDelta, Usage

__all__ = [
    "NON_CHAT_PATTERN",
    "OPENAI_LIMITS",
    "REASONING_PATTERN",
    "ContentLimits",
    "StreamState",
    "build_params",
    "finish_reason",
    "is_chat_model",
    "is_reasoning_model",
    "response_from_completion",
    "structured_from_completion",
    "usage_from_openai",
    "wire_id",
]

#: Model families that take ``max_completion_tokens`` and refuse sampling parameters.
REASONING_PATTERN = re.compile(r"^(o1|o3|o4)(-|$)|^gpt-5(\b|-|\.|$)")

#: Model families that refuse ``parallel_tool_calls`` (even ``false``).
NO_PARALLEL_PATTERN = re.compile(r"^o\d")

#: Model ids that ``list_models`` leaves out: they do not serve Chat Completions.
NON_CHAT_PATTERN = re.compile(
    r"embed|whisper|tts|transcribe|audio|realtime|dall-e|gpt-image|image|moderation|"
    r"^(babbage|davinci)|^sora|search-api|computer-use",
    re.IGNORECASE,
)


_UNKNOWN_MODEL = ModelInfo(id="openai:unknown")
#: Finish reasons that are modelwire's already (for an answer without tool calls).
_STANDARD = frozenset(("stop", "length", "content_filter"))


def _family(name: str) -> str:
    """The bare model name: ``openai/o3-mini`` (OpenRouter style) → ``o3-mini``."""
    return name.rsplit("/", 1)[-1].lower()


def is_reasoning_model(info: ModelInfo) -> bool:
    """Whether ``info`` is a reasoning model (flag in the catalog/config, or by family name)."""
    return info.reasoning or bool(REASONING_PATTERN.search(_family(info.name)))


def is_chat_model(model_id: str) -> bool:
    """Whether a listed model id is a chat model (see ``NON_CHAT_PATTERN``)."""
    return not NON_CHAT_PATTERN.search(model_id)


def build_params(
    info: ModelInfo,
    request: ChatRequest,
    *,
    stream: bool = False,
    limits: ContentLimits | None = None,
    structured: CompatibleMode | None = None,
) -> dict[str, Any]:
    """The keyword arguments of ``chat.completions.create`` for ``request`` (timeout excluded).

    ``limits``: the most images and documents the server takes (``UnsupportedFeatureError``
    beyond them, before any request). ``structured``: an OpenAI-compatible entry's
    ``structured_output`` setting (``structured`` describes the modes)."""
    params: dict[str, Any] = {"model": info.name, "messages": wire_messages(request, info, limits)}
    reasoning = is_reasoning_model(info)
    if request.max_tokens is not None:
        params["max_completion_tokens" if reasoning else "max_tokens"] = request.max_tokens
    if not reasoning:
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.top_p is not None:
            params["top_p"] = request.top_p
    if request.stop:
        params["stop"] = list(request.stop)
    if request.seed is not None:
        params["seed"] = request.seed
    if request.tools:
        params["tools"] = wire_tools(request.tools)
        if request.tool_choice is not None:
            params["tool_choice"] = wire_tool_choice(request.tool_choice)
        parallel = request.parallel_tool_calls
        if parallel is not None and _takes_parallel_flag(info):
            params["parallel_tool_calls"] = parallel
    if request.output is not None:
        apply_output(params, output_plan(info, request, structured))
    if stream:
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}
    params.update(request.provider_params)
    return params


def _takes_parallel_flag(info: ModelInfo) -> bool:
    if info.features is not None:
        return "parallel_tools" in info.features
    return not NO_PARALLEL_PATTERN.match(_family(info.name))


def _get(obj: Any, name: str) -> Any:
    """A field of an SDK object or of a decoded JSON dict (``None`` when missing)."""
    if isinstance(obj, dict):  # a plain dict check: the Mapping ABC check is slow on a hot path
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int:
    if type(value) is int:
        return value if value > 0 else 0
    return int(value) if isinstance(value, (int, float)) and value > 0 else 0


def _fields(details: Any) -> Any:
    """A ``*_tokens_details`` object's counts by name (a dict as it is; an SDK object's fields
    and extras, read without the cost of a failed attribute lookup); ``None`` when absent."""
    if not details or type(details) is dict:
        return details or None
    found = getattr(details, "__dict__", None)
    extra = getattr(details, "__pydantic_extra__", None)
    if extra:
        found = {**found, **extra} if found else extra
    return found


def usage_from_openai(usage: Any) -> Usage:
    """Normalise an OpenAI ``usage`` object or dict (``None`` gives zeros)."""
    if usage is None:
        return Usage()
    if isinstance(usage, dict):
        prompt_details = usage.get("prompt_tokens_details")
        completion_details = usage.get("completion_tokens_details")
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    else:  # an SDK object: plain attribute reads, this runs on every call
        prompt_details = getattr(usage, "prompt_tokens_details", None)
        completion_details = getattr(usage, "completion_tokens_details", None)
        prompt = getattr(usage, "prompt_tokens", None)
        completion = getattr(usage, "completion_tokens", None)
    asked = _fields(prompt_details)
    answered = _fields(completion_details)
    cached = _int(asked.get("cached_tokens")) if asked else 0
    reasoning = _int(answered.get("reasoning_tokens")) if answered else 0
    in_audio = in_image = written = out_audio = out_image = None
    if asked:
        in_audio, in_image = asked.get("audio_tokens"), asked.get("image_tokens")
        written = asked.get("cache_write_tokens")
    if answered:
        out_audio, out_image = answered.get("audio_tokens"), answered.get("image_tokens")
    if not (in_audio or in_image or written or out_audio or out_image):
        return assemble.usage(_int(prompt), _int(completion), cached, 0, reasoning)
    in_audio, in_image, written = _int(in_audio), _int(in_image), _int(written)
    out_audio, out_image = _int(out_audio), _int(out_image)
    return assemble.usage(
        _int(prompt),
        _int(completion),
        cached,
        written,
        reasoning,
        input_audio_tokens=in_audio,
        input_image_tokens=in_image,
        output_audio_tokens=out_audio,
        output_image_tokens=out_image,
    )


def response_from_completion(
    completion: Any, info: ModelInfo, request_id: str | None = None
) -> ChatResponse:
    """A ``ChatResponse`` from a ``ChatCompletion`` (SDK object or dict)."""
    choices = _get(completion, "choices")
    first = choices[0] if choices else None
    message = _get(first, "message")
    if message is None:
        text = calls = None
    elif type(message) is dict:
        text = message.get("content")
        calls = message.get("tool_calls") or message.get("function_call")
    else:  # an SDK object: plain attribute reads, this runs on every call
        text = message.content
        calls = getattr(message, "tool_calls", None) or getattr(message, "function_call", None)
    text = text if type(text) is str else str(text or "")
    reason = _get(first, "finish_reason") if first is not None else None
    if calls or (reason is not None and (type(reason) is not str or reason not in _STANDARD)):
        reason = finish_reason(reason, bool(calls))
    response = assemble.response(
        text,
        info.id,
        usage_from_openai(_get(completion, "usage")),
        reason,
        request_id or _get(completion, "_request_id"),
        completion,
    )
    if calls:
        tool_calls = message_tool_calls(message, info, response.request_id)
        response.tool_calls = tool_calls
        response.parts = _parts(text, tool_calls)
    return response


def structured_from_completion(
    completion: Any, info: ModelInfo, plan: OutputPlan, request_id: str | None = None
) -> ChatResponse:
    """The ``ChatResponse`` of a structured request (``structured.structured_response``); in
    tool mode the output tool's call is the answer, not a tool call."""
    if plan.wire != "tool":
        response = response_from_completion(completion, info, request_id)
    else:
        response = assemble.response(
            "",
            info.id,
            usage_from_openai(_get(completion, "usage")),
            "stop",
            request_id or _get(completion, "_request_id"),
            completion,
        )
    return structured_response(response, completion, plan)


def _parts(text: str, tool_calls: tuple[ToolCall, ...]) -> tuple[Part, ...]:
    """An answer with tool calls as parts: its text (if any), then its calls."""
    return (TextPart(text=text), *tool_calls) if text else tool_calls


class StreamState:
    """Accumulates a Chat Completions stream: text deltas, tool-call pieces (assembled by
    index), the finish reason, the final usage.

    ``deltas`` holds the tool-call pieces of the last chunk (the base class emits and clears
    them); at the end ``tool_calls`` has the complete calls and ``parts`` the answer as parts.
    """

    __slots__ = (
        "_calls",
        "_complete",
        "_text",
        "chars",
        "deltas",
        "finish_reason",
        "info",
        "output",
        "refusal",
        "request_id",
        "usage",
    )

    def __init__(
        self,
        request_id: str | None = None,
        info: ModelInfo | None = None,
        output: OutputPlan | None = None,
    ) -> None:
        self.request_id = request_id
        self.info = info or _UNKNOWN_MODEL
        self.chars = 0
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.deltas: list[ToolCallDelta] = []
        self._text: list[str] = []
        self._calls: StreamedCalls | None = None
        self._complete: tuple[ToolCall, ...] | None = None
        #: The structured output's plan (``None``: not a structured request), and the
        #: refusal the model streamed instead of an answer.
        self.output = output
        self.refusal = ""

    def feed(self, chunk: Any) -> str:
        """Take one chunk (SDK object or dict); return its new text (possibly empty)."""
        usage = _get(chunk, "usage")
        if usage is not None:
            self.usage = usage_from_openai(usage)
        choices = _get(chunk, "choices") or []
        if not choices:
            return ""
        first = choices[0]
        delta = _get(first, "delta")
        if delta is None:
            text = pieces = legacy = None
        elif type(delta) is dict:
            text, pieces, legacy = delta.get("content"), delta.get("tool_calls"), None
            if not pieces:
                legacy = delta.get("function_call")
        else:  # an SDK object: plain attribute reads, this runs on every chunk
            text, pieces, legacy = delta.content, getattr(delta, "tool_calls", None), None
            if not pieces:
                legacy = getattr(delta, "function_call", None)
        if self.output is not None:
            refusal = _get(delta, "refusal") if delta is not None else None
            if refusal:
                self.refusal += str(refusal)
            if pieces and self.output.wire == "tool":  # the output tool's arguments are the text
                text, pieces = tool_arguments_text(pieces), None
        if pieces or legacy:
            calls = self._calls
            if calls is None:
                calls = self._calls = StreamedCalls(self.deltas)
            if pieces:
                calls.feed(pieces)
            else:
                calls.feed_legacy(legacy)
        reason = _get(first, "finish_reason")
        if reason:
            self.finish_reason = finish_reason(reason, self._calls is not None)
        if not text:
            return ""
        text = text if type(text) is str else str(text)
        self.chars += len(text)
        self._text.append(text)
        return text

    @property
    def finished(self) -> bool:
        """True once a chunk carried a finish reason."""
        return self.finish_reason is not None

    def answer(self) -> tuple[str, str] | None:
        """For a structured request: the answer's JSON as the requested type and the mode
        that ran (``OutputValidationError`` for a refusal); ``None`` otherwise."""
        plan = self.output
        if plan is None:
            return None
        if self.refusal:
            raise refusal_error(plan.spec, self.refusal)
        return plan.answer("".join(self._text)), plan.mode

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The stream's complete tool calls (``MalformedToolCallError`` if one is not)."""
        if self._complete is None:
            calls = self._calls
            self._complete = () if calls is None else calls.calls(self.info, self.request_id)
        return self._complete

    @property
    def parts(self) -> tuple[Part, ...]:
        """The answer as parts when it has tool calls (its text, then its calls), else ``()``."""
        calls = self.tool_calls
        return _parts("".join(self._text), calls) if calls else ()
