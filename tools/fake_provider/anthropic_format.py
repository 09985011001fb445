"""The Anthropic wire format: Messages (JSON and SSE) and the model listing with paging.

Point Anthropic clients at ``<server.url>``, like the other formats: ``GET /v1/models`` is told
apart from the OpenAI listing by the ``anthropic-version`` header every Anthropic client sends.
Routes also accept an ``/anthropic`` prefix (``<server.url>/anthropic``), as before.

Deterministic behaviour the tests rely on:

* requests need ``x-api-key`` or ``Authorization: Bearer`` (checked against ``server.accepted_keys`` when set) and
  ``anthropic-version``; the body needs ``model``, ``max_tokens`` and ``messages``;
* the answer is ``fake_reply`` of the last user message, cut to ``max_tokens``
  (``stop_reason="max_tokens"``) or at the first of ``stop_sequences`` (``"stop_sequence"``);
* input tokens are ``count_tokens`` over ``system`` and every message; models whose name contains
  ``cache`` read half of them from the cache and write a quarter (``input_tokens`` is the rest);
* a body with ``thinking`` enabled (or a model named ``*think*``) adds a thinking block and
  ``THINKING_TOKENS`` to ``output_tokens`` (``output_tokens_details.thinking_tokens``);
* more input tokens than ``CONTEXT_TOKENS`` (``TINY_CONTEXT_TOKENS`` for ``*tiny*`` models) give
  400 ``prompt is too long: N tokens > M maximum``;
* streams: ``message_start`` (input counts, ``output_tokens`` 1), ``content_block_*`` events with
  one word per ``text_delta``, a ``ping``, ``message_delta`` with the cumulative usage, then
  ``message_stop``;
* ``GET /v1/models`` pages with ``limit``/``after_id`` (``server.page_size`` caps the page) and
  says ``has_more``/``first_id``/``last_id``.
"""

from __future__ import annotations

import json
from typing import Any

from tools.fake_provider.server import (
    FakeProviderServer,
    FakeRequest,
    Reply,
    Route,
    SseEvent,
    count_tokens,
    fake_reply,
    iter_pages,
    split_stream,
)

NAME = "anthropic"
REQUEST_ID_HEADER = "request-id"
THINKING_TOKENS = 7
CONTEXT_TOKENS = 200_000
TINY_CONTEXT_TOKENS = 16
CREATED_AT = "2025-02-19T00:00:00Z"
DEFAULT_MODELS: tuple[str, ...] = (
    "claude-opus-4-1",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "claude-3-5-haiku-20241022",
)

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_body(status: int, message: str, code: str | None) -> dict[str, Any]:
    """Anthropic's error envelope: ``{"type": "error", "error": {"type", "message"}}``."""
    kind = code or _ERROR_TYPES.get(
        status, "api_error" if status >= 500 else "invalid_request_error"
    )
    return {"type": "error", "error": {"type": kind, "message": message}}


def _fail(status: int, message: str) -> Reply:
    return Reply(status=status, body=error_body(status, message, None))


def _api_key(request: FakeRequest) -> str | None:
    key = request.headers.get("x-api-key")
    if key is None:
        header = request.headers.get("authorization", "")
        key = header[7:] if header.lower().startswith("bearer ") else None
    return key


def _check(request: FakeRequest, server: FakeProviderServer) -> Reply | None:
    if not server.key_accepted(_api_key(request)):
        return _fail(401, "invalid x-api-key")
    if not request.headers.get("anthropic-version"):
        return _fail(400, "anthropic-version: header is required")
    return None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(b.get("text") or "") for b in content if isinstance(b, dict) and "text" in b
        )
    return ""


def _thinking(body: dict[str, Any], model: str) -> bool:
    thinking = body.get("thinking")
    enabled = isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")
    return enabled or "think" in model


def _plan(body: dict[str, Any]) -> tuple[str, str, str | None, dict[str, Any], bool] | Reply:
    """``(text, stop_reason, stop_sequence, usage, thinking)`` or an error reply."""
    model = str(body.get("model") or "")
    messages = body.get("messages")
    max_tokens = body.get("max_tokens")
    if not model or not isinstance(messages, list) or not messages:
        return _fail(400, "model: field required; messages: field required")
    if not isinstance(max_tokens, int) or max_tokens < 1:
        return _fail(400, "max_tokens: field required")
    prompt_tokens = count_tokens(_text(body.get("system"))) + sum(
        count_tokens(_text(m.get("content"))) for m in messages if isinstance(m, dict)
    )
    limit = TINY_CONTEXT_TOKENS if "tiny" in model else CONTEXT_TOKENS
    if prompt_tokens > limit:
        return _fail(400, f"prompt is too long: {prompt_tokens} tokens > {limit} maximum")
    last_user = next(
        (_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
    )
    text, truncated = fake_reply(last_user, max_tokens)
    stop_reason, stop_sequence = ("max_tokens" if truncated else "end_turn"), None
    for stop in body.get("stop_sequences") or ():
        cut = text.find(stop)
        if cut >= 0:
            text, stop_reason, stop_sequence = text[:cut], "stop_sequence", stop
            break
    thinking = _thinking(body, model)
    cache_read = prompt_tokens // 2 if "cache" in model else 0
    cache_write = prompt_tokens // 4 if "cache" in model else 0
    reasoning = THINKING_TOKENS if thinking else 0
    usage: dict[str, Any] = {
        "input_tokens": prompt_tokens - cache_read - cache_write,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": count_tokens(text) + reasoning,
        "service_tier": "standard",
    }
    if thinking:
        usage["output_tokens_details"] = {"thinking_tokens": reasoning}
    return text, stop_reason, stop_sequence, usage, thinking


def messages(request: FakeRequest, server: FakeProviderServer) -> Reply:
    """``POST /v1/messages``."""
    denied = _check(request, server)
    if denied is not None:
        return denied
    body = request.body if isinstance(request.body, dict) else {}
    plan = _plan(body)
    if isinstance(plan, Reply):
        return plan
    text, stop_reason, stop_sequence, usage, thinking = plan
    mid = f"msg_fake{len(server.requests)}"
    model = str(body["model"])
    if body.get("stream"):
        return Reply(events=_stream(mid, model, text, stop_reason, stop_sequence, usage, thinking))
    content: list[dict[str, Any]] = []
    if thinking:
        content.append({"type": "thinking", "thinking": "Let me think.", "signature": "sig"})
    content.append({"type": "text", "text": text, "citations": None})
    return Reply(
        body={
            "id": mid,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": usage,
        }
    )


def _event(name: str, data: dict[str, Any]) -> SseEvent:
    return SseEvent(json.dumps({"type": name, **data}), name)


def _stream(
    mid: str,
    model: str,
    text: str,
    stop_reason: str,
    stop_sequence: str | None,
    usage: dict[str, Any],
    thinking: bool,
) -> list[SseEvent]:
    start_usage = {**usage, "output_tokens": 1}
    start_usage.pop("output_tokens_details", None)
    message = {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    events = [_event("message_start", {"message": message})]
    index = 0
    if thinking:
        events += [
            _event(
                "content_block_start",
                {
                    "index": 0,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                },
            ),
            _event(
                "content_block_delta",
                {"index": 0, "delta": {"type": "thinking_delta", "thinking": "Let me think."}},
            ),
            _event(
                "content_block_delta",
                {"index": 0, "delta": {"type": "signature_delta", "signature": "sig"}},
            ),
            _event("content_block_stop", {"index": 0}),
        ]
        index = 1
    events.append(
        _event(
            "content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}}
        )
    )
    events.append(SseEvent(json.dumps({"type": "ping"}), "ping"))
    for piece in split_stream(text):
        events.append(
            _event(
                "content_block_delta",
                {"index": index, "delta": {"type": "text_delta", "text": piece}},
            )
        )
    events.append(_event("content_block_stop", {"index": index}))
    final_usage = {k: v for k, v in usage.items() if k != "service_tier"}
    events.append(
        _event(
            "message_delta",
            {
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                "usage": final_usage,
            },
        )
    )
    events.append(_event("message_stop", {}))
    return events


def list_models(request: FakeRequest, server: FakeProviderServer) -> Reply:
    """``GET /v1/models`` with ``limit``/``after_id`` paging."""
    denied = _check(request, server)
    if denied is not None:
        return denied
    ids = server.models.get(NAME, [])
    raw_limit = request.query.get("limit")
    limit = int(raw_limit) if raw_limit else 20
    if server.page_size is not None:
        limit = min(limit, server.page_size)
    page, has_more = iter_pages(ids, request.query.get("after_id"), limit)
    data = [
        {
            "type": "model",
            "id": i,
            "display_name": i.replace("-", " ").title(),
            "created_at": CREATED_AT,
            "max_input_tokens": TINY_CONTEXT_TOKENS if "tiny" in i else CONTEXT_TOKENS,
            "max_tokens": 64_000,
        }
        for i in page
    ]
    return Reply(
        body={
            "data": data,
            "has_more": has_more,
            "first_id": page[0] if page else None,
            "last_id": page[-1] if page else None,
        }
    )


ROUTES = [
    Route("POST", r"(?:/anthropic)?/v1/messages", messages),
    Route("GET", r"(?:/anthropic)?/v1/models", list_models, header="anthropic-version"),
]
