"""OpenAI Chat Completions on the wire: requests to modelwire calls, answers back.

Requests
    ``system`` and ``developer`` messages before the first other message become the request's
    ``system``; later ones stay system messages. User content parts: ``text``, ``image_url``
    (an ``http(s)`` URL or a base64 ``data:`` URL) and ``file`` (a base64 ``data:`` URL, for
    documents). An assistant message's ``tool_calls`` become ``ToolCall`` parts; a ``tool``
    message becomes a ``ToolResultPart`` (its tool's name filled from the call it answers).
    ``max_completion_tokens`` (or ``max_tokens``), ``temperature``, ``top_p``, ``stop``,
    ``seed``, ``tools``, ``tool_choice`` and ``parallel_tool_calls`` map to modelwire's
    parameters; OpenAI's sampling extras (``PASSED_THROUGH``) go to the provider untouched as
    ``provider_params``; ``user``, ``metadata``, ``store`` and the like (``IGNORED``) are
    accepted and dropped; any other field is a 400 naming it. ``n`` must be 1.

Structured output
    ``response_format`` is modelwire's own ``output=``, so every backend gets its vendor's
    best mode: ``json_schema`` becomes ``output=<its schema>`` (titled with its ``name`` when
    the schema has no title; ``strict`` is accepted: modelwire uses a vendor's strict mode
    wherever it has one); ``json_object`` becomes ``output={"type": "object"}`` in
    ``prompted`` mode (instructions in the prompt work on every vendor, and the answer is
    checked like any other); ``text`` asks for nothing. The answer's ``message.content`` is
    the JSON text (without the code fence a prompted answer may carry). An answer that does
    not validate is a 502 (``code: invalid_output``): the request was good, the model's answer
    was not, and asking again may help (OpenAI's SDKs retry a 502 by themselves).

Answers
    ``usage.prompt_tokens`` is modelwire's ``input_tokens`` (cached included),
    ``prompt_tokens_details.cached_tokens`` its ``cache_read_tokens``, ``completion_tokens``
    its ``output_tokens`` (reasoning included), ``completion_tokens_details.reasoning_tokens``
    its ``reasoning_tokens``: the figures of the ledger's row. ``model`` is the model that
    answered. A stream sends one chunk per text or tool-call piece, a chunk with the finish
    reason, then (with ``stream_options.include_usage``) a chunk with ``choices: []`` and the
    usage, then ``[DONE]``.
"""

from __future__ import annotations

from typing import Any

from modelwire.content import Part, TextPart, ToolCall, ToolResultPart
from modelwire.errors import GatewayError
from modelwire.gateway.errors import bad_request, openai_body
from modelwire.gateway.wire import (
    MAX_TOKENS,
    WireCall,
    document_from_data_url,
    dumps,
    expect_bool,
    expect_int,
    expect_list,
    expect_number,
    expect_object,
    expect_str,
    expect_str_list,
    image_from_url,
    tool_from_schema,
)
from modelwire.output import OutputSpec, parse_json_answer
from modelwire.tools import Tool
from modelwire.types import ChatResponse, Message, StreamEvent, ToolCallDelta, Usage

__all__ = [
    "IGNORED",
    "PASSED_THROUGH",
    "OpenAIStream",
    "completion_body",
    "finish_reason",
    "parse_request",
    "usage_body",
]

#: Fields handed to the provider untouched (``provider_params``).
PASSED_THROUGH = frozenset(
    (
        "frequency_penalty",
        "presence_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "reasoning_effort",
        "prediction",
        "verbosity",
        "web_search_options",
    )
)
#: Fields accepted and dropped: about OpenAI's own accounts and storage, not the answer.
IGNORED = frozenset(
    ("user", "metadata", "store", "service_tier", "safety_identifier", "prompt_cache_key")
)
_HANDLED = frozenset(
    (
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
        "seed",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "stream",
        "stream_options",
        "n",
        "response_format",
    )
)
#: ``json_object``: any JSON object, asked for in the prompt.
JSON_OBJECT: dict[str, Any] = {"type": "object"}
_FINISH = {"stop", "length", "tool_calls", "content_filter"}


# -- requests ----------------------------------------------------------------------------------


def _text_of(content: Any, param: str) -> str:
    """Text content: a string, or an array of text (and refusal) parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    pieces: list[str] = []
    for i, raw in enumerate(expect_list(content, param)):
        part = expect_object(raw, f"{param}[{i}]")
        kind = part.get("type")
        if kind == "text":
            pieces.append(expect_str(part.get("text"), f"{param}[{i}].text"))
        elif kind == "refusal":
            pieces.append(expect_str(part.get("refusal"), f"{param}[{i}].refusal"))
        else:
            raise bad_request(f"{param}[{i}].type", f"expected text here, got {kind!r}")
    return "".join(pieces)


def _user_content(content: Any, param: str) -> str | tuple[Part, ...]:
    if isinstance(content, str):
        return content
    parts: list[Part] = []
    for i, raw in enumerate(expect_list(content, param, allow_empty=False)):
        where = f"{param}[{i}]"
        part = expect_object(raw, where)
        kind = part.get("type")
        if kind == "text":
            parts.append(TextPart(text=expect_str(part.get("text"), f"{where}.text")))
        elif kind == "image_url":
            image = expect_object(part.get("image_url"), f"{where}.image_url")
            url = expect_str(image.get("url"), f"{where}.image_url.url", allow_empty=False)
            parts.append(image_from_url(url, f"{where}.image_url", image.get("detail")))
        elif kind == "file":
            file = expect_object(part.get("file"), f"{where}.file")
            if "file_data" not in file:
                raise bad_request(
                    f"{where}.file", "only file_data (a base64 data: URL) is supported"
                )
            data = expect_str(file.get("file_data"), f"{where}.file.file_data")
            name = file.get("filename")
            parts.append(
                document_from_data_url(
                    data, f"{where}.file.file_data", name if isinstance(name, str) else None
                )
            )
        else:
            raise bad_request(f"{where}.type", f"unsupported content part {kind!r}")
    return tuple(parts)


def _tool_call(raw: Any, param: str) -> ToolCall:
    call = expect_object(raw, param)
    if call.get("type", "function") != "function":
        raise bad_request(f"{param}.type", "only function tool calls are supported")
    function = expect_object(call.get("function"), f"{param}.function")
    arguments = function.get("arguments") or "{}"
    try:
        return ToolCall(
            id=expect_str(call.get("id"), f"{param}.id", allow_empty=False),
            name=expect_str(function.get("name"), f"{param}.function.name", allow_empty=False),
            arguments_json=expect_str(arguments, f"{param}.function.arguments"),
        )
    except ValueError as exc:  # arguments that are not a JSON object
        raise bad_request(f"{param}.function.arguments", f"not a JSON object ({exc})") from None


def _messages(raw: Any) -> tuple[str | None, list[Message]]:
    """The leading system text and the other messages."""
    system: list[str] = []
    out: list[Message] = []
    tool_names: dict[str, str] = {}
    for i, item in enumerate(expect_list(raw, "messages", allow_empty=False)):
        where = f"messages[{i}]"
        message = expect_object(item, where)
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            text = _text_of(content, f"{where}.content")
            if out:
                out.append(Message(role="system", content=text))
            else:
                system.append(text)
        elif role == "user":
            out.append(Message(role="user", content=_user_content(content, f"{where}.content")))
        elif role == "assistant":
            text = _text_of(content, f"{where}.content")
            raw_calls = message.get("tool_calls")
            calls = (
                [
                    _tool_call(c, f"{where}.tool_calls[{j}]")
                    for j, c in enumerate(expect_list(raw_calls, f"{where}.tool_calls"))
                ]
                if raw_calls
                else []
            )
            for call in calls:
                tool_names[call.id] = call.name
            if calls:
                parts: tuple[Part, ...] = ((TextPart(text=text),) if text else ()) + tuple(calls)
                out.append(Message(role="assistant", content=parts))
            else:
                out.append(Message(role="assistant", content=text))
        elif role == "tool":
            call_id = expect_str(
                message.get("tool_call_id"), f"{where}.tool_call_id", allow_empty=False
            )
            result = ToolResultPart(
                call_id=call_id,
                content=_text_of(content, f"{where}.content"),
                name=tool_names.get(call_id),
            )
            out.append(Message(role="tool", content=(result,)))
        elif role == "function":
            raise bad_request(f"{where}.role", "function messages are deprecated; use tool")
        else:
            raise bad_request(f"{where}.role", f"unknown role {role!r}")
    if not out:
        raise bad_request("messages", "needs at least one message besides system messages")
    return ("\n\n".join(system) if system else None), out


def _tools(raw: Any) -> tuple[Tool, ...]:
    tools: list[Tool] = []
    for i, item in enumerate(expect_list(raw, "tools")):
        where = f"tools[{i}]"
        tool = expect_object(item, where)
        if tool.get("type", "function") != "function":
            raise bad_request(f"{where}.type", "only function tools are supported")
        function = expect_object(tool.get("function"), f"{where}.function")
        tools.append(
            tool_from_schema(
                function.get("name"),
                function.get("description"),
                function.get("parameters"),
                f"{where}.function",
            )
        )
    if len({t.name for t in tools}) != len(tools):
        raise bad_request("tools", "two tools have the same name")
    return tuple(tools)


def _tool_choice(raw: Any) -> str:
    if isinstance(raw, str):
        if raw not in ("auto", "none", "required"):
            raise bad_request("tool_choice", "expected auto, none, required or a function")
        return raw
    choice = expect_object(raw, "tool_choice")
    if choice.get("type") != "function":
        raise bad_request("tool_choice.type", "expected function")
    function = expect_object(choice.get("function"), "tool_choice.function")
    return expect_str(function.get("name"), "tool_choice.function.name", allow_empty=False)


def _response_format(raw: Any) -> dict[str, Any]:
    """The ``output`` parameters ``response_format`` asks for."""
    fmt = expect_object(raw, "response_format")
    kind = fmt.get("type")
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"output": OutputSpec.of(JSON_OBJECT), "output_mode": "prompted"}
    if kind != "json_schema":
        raise bad_request(
            "response_format.type", f"expected text, json_object or json_schema, got {kind!r}"
        )
    spec = expect_object(fmt.get("json_schema"), "response_format.json_schema")
    name = expect_str(spec.get("name"), "response_format.json_schema.name", allow_empty=False)
    if spec.get("strict") is not None:
        expect_bool(spec["strict"], "response_format.json_schema.strict")
    schema = spec.get("schema")
    if schema is None:  # OpenAI's default: any JSON object
        schema = JSON_OBJECT
    schema = expect_object(schema, "response_format.json_schema.schema")
    if "title" not in schema:
        schema = {"title": name, **schema}
    description = spec.get("description")
    if isinstance(description, str) and description and "description" not in schema:
        schema = {**schema, "description": description}
    try:
        return {"output": OutputSpec.of(schema)}  # checked, and cached per schema
    except TypeError as exc:
        message = str(exc).removeprefix("output: ")
        raise bad_request("response_format.json_schema.schema", message) from None


def parse_request(body: dict[str, Any]) -> WireCall:
    """The call a Chat Completions request body asks for (400 naming the field otherwise)."""
    passed: dict[str, Any] = {}
    for name in body:
        if name in _HANDLED or name in IGNORED:
            continue
        if name not in PASSED_THROUGH:
            raise bad_request(name, "unrecognized request argument", code="unknown_parameter")
        if body[name] is not None:
            passed[name] = body[name]
    model = expect_str(body.get("model"), "model", allow_empty=False)
    system, messages = _messages(body.get("messages"))
    params: dict[str, Any] = {}
    if system is not None:
        params["system"] = system
    for name in ("max_completion_tokens", "max_tokens"):
        if body.get(name) is not None:
            params["max_tokens"] = expect_int(body[name], name, 1, MAX_TOKENS)
            break
    if body.get("temperature") is not None:
        params["temperature"] = expect_number(body["temperature"], "temperature", 0, 2)
    if body.get("top_p") is not None:
        params["top_p"] = expect_number(body["top_p"], "top_p", 0, 1)
    if body.get("stop") is not None:
        params["stop"] = expect_str_list(body["stop"], "stop")
    if body.get("seed") is not None:
        params["seed"] = expect_int(body["seed"], "seed", -(2**63), 2**63 - 1)
    if body.get("tools"):
        params["tools"] = _tools(body["tools"])
    if body.get("tool_choice") is not None:
        choice = _tool_choice(body["tool_choice"])
        names = {t.name for t in params.get("tools", ())}
        if choice not in ("auto", "none", "required") and choice not in names:
            raise bad_request("tool_choice", f"names no tool of the request: {choice!r}")
        if choice == "required" and not names:
            raise bad_request("tool_choice", "required needs tools")
        if names:
            params["tool_choice"] = choice
    if body.get("parallel_tool_calls") is not None:
        params["parallel_tool_calls"] = expect_bool(
            body["parallel_tool_calls"], "parallel_tool_calls"
        )
    if body.get("response_format") is not None:
        params.update(_response_format(body["response_format"]))
    if body.get("n") is not None and expect_int(body["n"], "n", 1, 128) != 1:
        raise bad_request("n", "only n=1 is supported")
    if passed:
        params["provider_params"] = passed
    stream = body.get("stream") is not None and expect_bool(body["stream"], "stream")
    include_usage = False
    options = body.get("stream_options")
    if options is not None:
        options = expect_object(options, "stream_options")
        if options.get("include_usage") is not None:
            include_usage = expect_bool(options["include_usage"], "stream_options.include_usage")
    prompt: str | tuple[Message, ...] = tuple(messages)
    if len(messages) == 1 and messages[0].role == "user" and type(messages[0].content) is str:
        prompt = messages[0].content  # the service's fast path for a plain prompt
    return WireCall(model, prompt, params, stream, include_usage)


# -- answers -----------------------------------------------------------------------------------


def finish_reason(reason: str | None) -> str:
    """modelwire's finish reason as OpenAI's (``stop`` when the provider gave none)."""
    return reason if reason in _FINISH else "stop"


def usage_body(usage: Usage) -> dict[str, Any]:
    """OpenAI's usage object for modelwire's counts."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def _tool_call_body(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments_json},
    }


def completion_body(
    response: ChatResponse, completion_id: str, created: int, *, structured: bool = False
) -> dict[str, Any]:
    """A ``chat.completion`` object for a modelwire answer (``structured``: the request asked
    for output, and the content is its JSON text)."""
    text = parse_json_answer(response.text) if structured else response.text
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if response.tool_calls:
        message["tool_calls"] = [_tool_call_body(c) for c in response.tool_calls]
        if not text:
            message["content"] = None
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": response.model_id,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason(response.finish_reason),
            }
        ],
        "usage": usage_body(response.usage),
    }


class OpenAIStream:
    """Renders one answer's stream events as ``chat.completion.chunk`` server-sent events."""

    __slots__ = ("_created", "_id", "_include_usage", "_model", "_streamed_tools")

    def __init__(self, completion_id: str, created: int, model: str, include_usage: bool) -> None:
        self._id = completion_id
        self._created = created
        self._model = model
        self._include_usage = include_usage
        self._streamed_tools: set[int] = set()

    def _chunk(
        self,
        delta: dict[str, Any],
        reason: str | None = None,
        *,
        model: str | None = None,
    ) -> bytes:
        chunk: dict[str, Any] = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": model or self._model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}],
        }
        if self._include_usage:
            chunk["usage"] = None
        return b"data: " + dumps(chunk) + b"\n\n"

    def start(self) -> bytes:
        """The first chunk: the assistant's role."""
        return self._chunk({"role": "assistant", "content": ""})

    def _tool_delta(self, delta: ToolCallDelta) -> bytes:
        piece: dict[str, Any] = {"index": delta.index}
        if delta.id is not None:
            piece["id"] = delta.id
            piece["type"] = "function"
        function: dict[str, Any] = {"arguments": delta.arguments_delta}
        if delta.name is not None:
            function["name"] = delta.name
        piece["function"] = function
        self._streamed_tools.add(delta.index)
        return self._chunk({"tool_calls": [piece]})

    def event(self, event: StreamEvent) -> bytes:
        """The chunks of one stream event (the last one ends the stream)."""
        if event.done:
            return self._end(event)
        out = b""
        if event.text:
            out += self._chunk({"content": event.text})
        if event.tool_call_delta is not None:
            out += self._tool_delta(event.tool_call_delta)
        return out

    def _end(self, final: StreamEvent) -> bytes:
        out = b""
        for index, call in enumerate(final.tool_calls):  # calls the provider did not stream
            if index not in self._streamed_tools:
                body = {"index": index, **_tool_call_body(call)}
                out += self._chunk({"tool_calls": [body]})
        out += self._chunk({}, finish_reason(final.finish_reason), model=final.model_id)
        if self._include_usage:
            usage = final.usage or Usage()
            chunk = {
                "id": self._id,
                "object": "chat.completion.chunk",
                "created": self._created,
                "model": final.model_id or self._model,
                "choices": [],
                "usage": usage_body(usage),
            }
            out += b"data: " + dumps(chunk) + b"\n\n"
        return out + b"data: [DONE]\n\n"

    @staticmethod
    def error(error: GatewayError) -> bytes:
        """A failure after the stream started, as an event carrying OpenAI's error object."""
        return b"data: " + dumps(openai_body(error)) + b"\n\n"
