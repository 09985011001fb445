"""Gemini (``google-genai``) wire mapping: contents and generation config out, answers and usage in.

Pure functions on plain data and on the SDK's response objects (attribute access), testable
without a network and without importing ``google.genai``. Message parts (images, documents, tool
calls and results, thinking) map in ``google.parts``.

Request mapping (``build_contents`` / ``build_config``):

* messages → ``contents`` and ``system_instruction`` (see ``google.parts``);
* ``max_tokens`` → ``max_output_tokens`` (sent only when given: Gemini needs no limit);
  ``temperature``, ``top_p``, ``seed`` → the same names; ``stop`` → ``stop_sequences``;
* ``tools`` → one ``Tool`` of ``function_declarations`` (``name``, ``description``,
  ``parameters_json_schema``: the tool's JSON schema as it is; Gemini's ``parameters`` field
  takes only an OpenAPI subset and refuses keywords pydantic writes, such as ``$defs``);
  ``tool_choice`` → ``tool_config.function_calling_config.mode``: ``auto`` → ``AUTO``,
  ``none`` → ``NONE``, ``required`` → ``ANY``, a tool's name → ``ANY`` with
  ``allowed_function_names``. Gemini has no switch for parallel calls: ``parallel_tool_calls``
  is not sent;
* ``timeout`` → the per-request ``http_options.timeout`` (milliseconds);
* ``provider_params`` pass through untouched: keys that are ``GenerateContentConfig`` fields
  (``thinking_config``, ``safety_settings``, ``response_mime_type``, …) go into the config (a
  ``tools`` list is added after the request's own tools), any other key is merged into the JSON
  request body as is (``http_options.extra_body``).

Response mapping (``read_response`` and ``StreamState``): text, parts and tool calls as
``google.parts`` reads them; ``finish_reason`` normalised: ``STOP`` → ``stop`` (``tool_calls``
when the answer calls tools), ``MAX_TOKENS`` → ``length``, the safety reasons → ``content_filter``,
any other → ``error``; ``MALFORMED_FUNCTION_CALL`` and ``UNEXPECTED_TOOL_CALL`` raise
``MalformedToolCallError`` with Gemini's ``finish_message`` (the raw call) instead.

Usage mapping (``usage_from``): ``prompt_token_count`` already includes cached tokens, so
``input = prompt_token_count + tool_use_prompt_token_count``, ``cache_read =
cached_content_token_count``, ``output = candidates_token_count + thoughts_token_count`` and
``reasoning = thoughts_token_count``; Gemini has no cache-write count. Then ``input + output ==
total_token_count``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any, NamedTuple

from modelwire import assemble
from modelwire.content import Part, ToolCall
from modelwire.errors import MalformedToolCallError
from modelwire.providers import _http
from modelwire.providers.google.parts import PartsAssembler, build_contents
from modelwire.providers.google.schema import apply_output, plan_output
from modelwire.types import ChatRequest, ModelInfo, ToolCallDelta, Usage

__all__ = [
    "CONFIG_FIELDS",
    "Answer",
    "StreamState",
    "build_config",
    "build_contents",
    "build_tools",
    "finish_reason",
    "grounding_uses",
    "read_response",
    "request_id_of",
    "response_finish_reason",
    "response_text",
    "response_usage",
    "retry_delay_from_body",
    "usage_from",
]

#: ``GenerateContentConfig`` field names, for when the SDK is not at hand (the provider passes the
#: installed SDK's own list to ``build_config``).
CONFIG_FIELDS: frozenset[str] = frozenset(
    {
        "audio_timestamp",
        "automatic_function_calling",
        "cached_content",
        "candidate_count",
        "frequency_penalty",
        "image_config",
        "labels",
        "logprobs",
        "media_resolution",
        "model_selection_config",
        "presence_penalty",
        "response_json_schema",
        "response_logprobs",
        "response_mime_type",
        "response_modalities",
        "response_schema",
        "routing_config",
        "safety_settings",
        "service_tier",
        "speech_config",
        "stop_sequences",
        "system_instruction",
        "thinking_config",
        "tool_config",
        "tools",
        "top_k",
        "max_output_tokens",
        "temperature",
        "top_p",
        "seed",
    }
)

_FINISH_REASONS: dict[str, str] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "MODEL_ARMOR": "content_filter",
}
#: Gemini's signals of a function call it could not make (``read_response`` raises on them).
MALFORMED_REASONS = frozenset(("MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL"))
_CHOICE_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY"}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def _get(obj: Any, name: str) -> Any:
    """Key access on dicts (JSON), attribute access on SDK objects."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int:
    if type(value) is int:
        return value
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def build_config(
    request: ChatRequest,
    system_instruction: str | None,
    config_fields: Collection[str] = CONFIG_FIELDS,
    info: ModelInfo | None = None,
) -> dict[str, Any]:
    """The ``GenerateContentConfig`` (as a dict) for ``request``.

    ``info``: the model, which decides how a structured output is asked for (``google.schema``).

    ``config_fields`` are the config's field names (the provider passes the installed SDK's);
    ``provider_params`` keys among them go into the config, the others into the raw body. A
    ``provider_params["http_options"]`` dict is merged over the per-request options built here.
    """
    config: dict[str, Any] = {}
    if system_instruction is not None:
        config["system_instruction"] = system_instruction
    if request.tools:
        config["tools"] = build_tools(request)
        choice = request.tool_choice
        if choice is not None:
            calling: dict[str, Any] = {"mode": _CHOICE_MODES.get(choice, "ANY")}
            if choice not in _CHOICE_MODES:
                calling["allowed_function_names"] = [choice]
            config["tool_config"] = {"function_calling_config": calling}
    if request.max_tokens is not None:
        config["max_output_tokens"] = request.max_tokens
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.top_p is not None:
        config["top_p"] = request.top_p
    if request.stop:
        config["stop_sequences"] = list(request.stop)
    if request.seed is not None:
        config["seed"] = request.seed
    http_options: dict[str, Any] = {}
    extra_body: dict[str, Any] = {}
    user_http: Any = None
    for key, value in request.provider_params.items():
        if key == "http_options":
            user_http = value
        elif key == "tools" and "tools" in config and isinstance(value, list | tuple):
            config["tools"] = [*config["tools"], *value]
        elif key in config_fields:
            config[key] = value
        else:
            extra_body[key] = value
    if request.output is not None and info is not None:
        plan = plan_output(request, info)
        if plan is not None:
            apply_output(config, plan)
    if extra_body:
        http_options["extra_body"] = extra_body
    if request.timeout is not None:
        http_options["timeout"] = max(1, round(request.timeout * 1000))
    if isinstance(user_http, dict):
        http_options.update(user_http)
    elif user_http is not None:
        config["http_options"] = user_http  # an HttpOptions object: passed as given
        return config
    if http_options:
        config["http_options"] = http_options
    return config


def build_tools(request: ChatRequest) -> list[dict[str, Any]]:
    """The request's tools as one Gemini ``Tool`` of function declarations."""
    declarations: list[dict[str, Any]] = []
    for tool in request.tools:
        declaration: dict[str, Any] = {
            "name": tool.name,
            "parameters_json_schema": dict(tool.parameters),
        }
        if tool.description:
            declaration["description"] = tool.description
        declarations.append(declaration)
    return [{"function_declarations": declarations}]


def _by_modality(details: Any) -> dict[str, int]:
    """``[{"modality": "AUDIO", "tokenCount": 12}, ...]`` as ``{"AUDIO": 12, ...}``."""
    counts: dict[str, int] = {}
    for entry in details or ():
        modality = _get(entry, "modality")
        name = str(getattr(modality, "value", modality))
        count = _get(entry, "token_count")
        if count is None and isinstance(entry, dict):
            count = entry.get("tokenCount")
        counts[name] = counts.get(name, 0) + _int(count)
    return counts


#: Model versions that Google bills per grounded prompt; later ones per search query.
_PER_PROMPT_GROUNDING = ("gemini-1", "gemini-2")


def grounding_uses(candidate: Any, model_version: Any) -> int:
    """The web-search uses a candidate's ``grounding_metadata`` bills: its search queries, or
    one per grounded prompt for the models billed that way (Gemini 1.x and 2.x)."""
    grounding = _get(candidate, "grounding_metadata")
    if grounding is None and isinstance(candidate, dict):
        grounding = candidate.get("groundingMetadata")
    if grounding is None:
        return 0
    queries = _get(grounding, "web_search_queries")
    if queries is None and isinstance(grounding, dict):
        queries = grounding.get("webSearchQueries")
    n = len(queries) if isinstance(queries, list) else 0
    if n and isinstance(model_version, str) and model_version.startswith(_PER_PROMPT_GROUNDING):
        return 1
    return n


def response_usage(response: Any) -> Usage:
    """The usage of a whole ``GenerateContentResponse``: ``usage_metadata`` and the web-search
    grounding of its first candidate."""
    metadata = _get(response, "usage_metadata")
    if metadata is None and isinstance(response, dict):
        metadata = response.get("usageMetadata")
    version = _get(response, "model_version")
    if version is None and isinstance(response, dict):
        version = response.get("modelVersion")
    return usage_from(metadata, grounding_uses(_first_candidate(response), version))


def usage_from(metadata: Any, web_searches: int = 0) -> Usage:
    """Normalise Gemini ``usage_metadata`` (object or dict, snake or camel case); ``web_searches``
    is the grounding count ``grounding_uses`` found in the answer."""
    if metadata is None:
        return Usage() if not web_searches else Usage(tool_uses={"web_search": web_searches})

    def get(snake: str, camel: str) -> Any:
        value = _get(metadata, snake)
        if value is None and isinstance(metadata, dict):
            value = metadata.get(camel)
        return value

    def count(snake: str, camel: str) -> int:
        return _int(get(snake, camel))

    prompt = count("prompt_token_count", "promptTokenCount")
    tool_prompt = count("tool_use_prompt_token_count", "toolUsePromptTokenCount")
    cached = count("cached_content_token_count", "cachedContentTokenCount")
    candidates = count("candidates_token_count", "candidatesTokenCount")
    thoughts = count("thoughts_token_count", "thoughtsTokenCount")
    prompt_details = get("prompt_tokens_details", "promptTokensDetails")
    output_details = get("candidates_tokens_details", "candidatesTokensDetails")
    if not prompt_details and not output_details and not web_searches:
        return assemble.usage(prompt + tool_prompt, candidates + thoughts, cached, 0, thoughts)
    inputs = _by_modality(prompt_details)
    for modality, n in _by_modality(
        get("tool_use_prompt_tokens_details", "toolUsePromptTokensDetails")
    ).items():
        inputs[modality] = inputs.get(modality, 0) + n
    cache = _by_modality(get("cache_tokens_details", "cacheTokensDetails"))
    outputs = _by_modality(output_details)
    return assemble.usage(
        prompt + tool_prompt,
        candidates + thoughts,
        cached,
        0,
        thoughts,
        input_audio_tokens=max(inputs.get("AUDIO", 0) - cache.get("AUDIO", 0), 0),
        input_image_tokens=max(inputs.get("IMAGE", 0) - cache.get("IMAGE", 0), 0),
        output_audio_tokens=outputs.get("AUDIO", 0),
        output_image_tokens=outputs.get("IMAGE", 0),
        tool_uses={"web_search": web_searches} if web_searches else None,
    )


def finish_reason(reason: Any) -> str | None:
    """A Gemini ``finish_reason`` in modelwire's (OpenAI-style) vocabulary."""
    if reason is None:
        return None
    return _reason_word(str(getattr(reason, "value", reason)))


def _reason_word(name: str) -> str | None:
    if name == "FINISH_REASON_UNSPECIFIED":
        return None
    return _FINISH_REASONS.get(name, "error")


def _first_candidate(response: Any) -> Any:
    candidates = _get(response, "candidates") or ()
    return candidates[0] if candidates else None


def response_text(response: Any) -> str:
    """The text parts of the first candidate (thought parts excluded)."""
    content = _get(_first_candidate(response), "content")
    parts: list[str] = []
    for part in _get(content, "parts") or ():
        text = _get(part, "text")
        if text and not _get(part, "thought"):
            parts.append(text)
    return "".join(parts)


def response_finish_reason(response: Any) -> str | None:
    """The finish reason of the first candidate, or ``content_filter`` for a blocked prompt."""
    candidate = _first_candidate(response)
    if candidate is None:
        feedback = _get(response, "prompt_feedback")
        return "content_filter" if _get(feedback, "block_reason") is not None else None
    return finish_reason(_get(candidate, "finish_reason"))


def retry_delay_from_body(body: Any) -> float | None:
    """Seconds from a ``google.rpc.RetryInfo`` detail (``"retryDelay": "37s"``) of an error body."""
    error = _get(body, "error")
    details = _get(error if error is not None else body, "details")
    if not isinstance(details, list):
        return None
    for detail in details:
        delay = _get(detail, "retryDelay") or _get(detail, "retry_delay")
        if isinstance(delay, str):
            match = _DURATION.match(delay)
            if match:
                return float(match.group(1))
    return None


def request_id_of(response: Any) -> str | None:
    """The request id of a response or stream chunk: the request-id header of the HTTP response
    the SDK keeps on it, else Gemini's ``response_id``."""
    headers = _get(_get(response, "sdk_http_response"), "headers")
    return _http.request_id_from_headers(headers) or _get(response, "response_id")


class Answer(NamedTuple):
    """What a Gemini answer says, in modelwire's terms."""

    text: str
    finish_reason: str | None
    tool_calls: tuple[ToolCall, ...]
    parts: tuple[Part, ...]


def _reason_name(reason: Any) -> str | None:
    return None if reason is None else str(getattr(reason, "value", reason))


def _refuse_malformed(
    candidate: Any, reason: str | None, info: ModelInfo | None, request_id: str | None
) -> None:
    if reason in MALFORMED_REASONS:
        raw = _get(candidate, "finish_message") or ""
        raise MalformedToolCallError(
            f"Gemini could not make the function call it chose ({reason})"
            + (f": {raw[:200]}" if raw else ""),
            raw_text=raw,
            provider=info.provider if info is not None else None,
            model_id=info.id if info is not None else None,
            request_id=request_id,
        )


def _plain_text(parts: Any) -> str | None:
    """The text of parts that are only text (the common answer), else ``None``."""
    texts: list[str] = []
    for part in parts:
        if isinstance(part, dict):
            function_call, thought = part.get("function_call"), part.get("thought")
            signature, text = part.get("thought_signature"), part.get("text")
        else:
            function_call = getattr(part, "function_call", None)
            thought = getattr(part, "thought", None)
            signature = getattr(part, "thought_signature", None)
            text = getattr(part, "text", None)
        if function_call is not None or thought or signature:
            return None
        if text:
            texts.append(text)
    return "".join(texts)


def read_response(
    response: Any,
    info: ModelInfo | None = None,
    request_id: str | None = None,
    output_tool: tuple[str, bool] | None = None,
) -> Answer:
    """The text, finish reason, tool calls and parts of a ``GenerateContentResponse`` (its
    first candidate); a blocked prompt is an empty ``content_filter`` answer. ``output_tool``:
    the forced output function of a structured request (``google.schema``), whose call is the
    answer's text."""
    candidate = _first_candidate(response)
    if candidate is None:
        feedback = _get(response, "prompt_feedback")
        blocked = _get(feedback, "block_reason") is not None
        return Answer("", "content_filter" if blocked else None, (), ())
    name = _reason_name(_get(candidate, "finish_reason"))
    if name in MALFORMED_REASONS:
        _refuse_malformed(candidate, name, info, request_id)
    reason = None if name is None else _reason_word(name)
    parts = _get(_get(candidate, "content"), "parts")
    if not parts:
        return Answer("", reason, (), ())
    text = _plain_text(parts)
    if text is not None:
        return Answer(text, reason, (), ())
    assembler = PartsAssembler(info)
    assembler.output_tool = output_tool
    text = assembler.feed(parts, request_id)
    if assembler.tool_calls and reason == "stop":
        reason = "tool_calls"
    return Answer(text, reason, tuple(assembler.tool_calls), assembler.parts())


class StreamState:
    """Folds ``generate_content_stream`` chunks into text, tool calls, the final usage and
    finish reason.

    Gemini repeats ``usage_metadata`` on chunks with running totals; the last one seen wins.
    ``finished`` turns true once a candidate reports a finish reason (or the prompt is blocked).
    ``started`` turns true with the first chunk (a connection that breaks after it is a stream
    cut off); ``request_id`` is the first chunk's that has one (see ``request_id_of``).

    Gemini streams each function call whole, in one chunk: each becomes one ``ToolCallDelta``
    with all its arguments in ``deltas`` (which the base class emits and clears), and a call of
    ``tool_calls`` at the end. A ``MALFORMED_FUNCTION_CALL`` chunk raises
    ``MalformedToolCallError``.
    """

    __slots__ = (
        "_assembler",
        "_finish",
        "_metadata",
        "_model_version",
        "_web_searches",
        "chars",
        "deltas",
        "finished",
        "info",
        "output_mode",
        "request_id",
        "response_id",
        "started",
    )

    def __init__(self, info: ModelInfo | None = None) -> None:
        self.info = info
        self._assembler = PartsAssembler(info)
        self._metadata: Any = None
        self._model_version: Any = None
        self._web_searches = 0
        self._finish: str | None = None
        self.response_id: str | None = None
        self.request_id: str | None = None
        self.started = False
        self.finished = False
        self.chars = 0
        self.deltas: list[ToolCallDelta] = []
        #: How a structured output was asked for (set by the model for such a request).
        self.output_mode: str | None = None

    @property
    def output_tool(self) -> tuple[str, bool] | None:
        """The forced output function whose call is the answer's text (``tool`` mode)."""
        return self._assembler.output_tool

    @output_tool.setter
    def output_tool(self, value: tuple[str, bool] | None) -> None:
        self._assembler.output_tool = value

    def feed(self, chunk: Any) -> str:
        """Take one chunk; return its new text (often empty)."""
        self.started = True
        if not self.request_id:
            self.request_id = request_id_of(chunk)
        metadata = _get(chunk, "usage_metadata")
        if metadata is not None:
            self._metadata = metadata
        response_id = _get(chunk, "response_id")
        if response_id:
            self.response_id = response_id
        if self._model_version is None:
            self._model_version = _get(chunk, "model_version")
        candidate = _first_candidate(chunk)
        if candidate is not None:
            searches = grounding_uses(candidate, self._model_version)
            if searches:  # grounding comes whole, on one chunk
                self._web_searches = searches
        if candidate is None:
            if _get(_get(chunk, "prompt_feedback"), "block_reason") is not None:
                self._finish = "content_filter"
                self.finished = True
            return ""
        name = _reason_name(_get(candidate, "finish_reason"))
        if name in MALFORMED_REASONS:
            _refuse_malformed(candidate, name, self.info, self.request_id)
        parts = _get(_get(candidate, "content"), "parts")
        text = _plain_text(parts) if parts else ""
        if text is None:
            calls = self._assembler.tool_calls
            known = len(calls)
            text = self._assembler.feed(parts, self.request_id)
            for index in range(known, len(calls)):
                call = calls[index]
                self.deltas.append(
                    ToolCallDelta(
                        index=index, id=call.id, name=call.name, arguments_delta=call.arguments_json
                    )
                )
        elif text:
            self._assembler.add_text(text)
        reason = None if name is None else _reason_word(name)
        if reason is not None:
            self._finish = reason
            self.finished = True
        self.chars += len(text)
        return text

    @property
    def finish_reason(self) -> str | None:
        """The normalised finish reason (``tool_calls`` when the answer calls tools)."""
        if self._finish == "stop" and self._assembler.tool_calls:
            return "tool_calls"
        return self._finish

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The complete tool calls so far."""
        return tuple(self._assembler.tool_calls)

    @property
    def parts(self) -> tuple[Part, ...]:
        """The answer as parts (empty when it is only text)."""
        return self._assembler.parts()

    @property
    def usage(self) -> Usage:
        """The normalised usage of the last chunk that carried one, with the answer's
        web-search grounding."""
        return usage_from(self._metadata, self._web_searches)
