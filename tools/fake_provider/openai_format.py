"""The OpenAI wire format: Chat Completions (JSON and SSE) and the model listing.

Deterministic behaviour the tests rely on:

* the answer is ``fake_reply`` of the last user message; ``max_tokens`` /
  ``max_completion_tokens`` truncate it (``finish_reason="length"``); a ``stop`` string cuts it;
* ``prompt_tokens`` is ``count_tokens`` over every message's content; models whose name contains
  ``cache`` report half of it as ``cached_tokens``;
* reasoning models (``o1``/``o3``/``o4``/``gpt-5`` families, or ``reason`` in the name) add
  ``REASONING_TOKENS`` reasoning tokens to ``completion_tokens``;
* streams end with a usage chunk when ``stream_options.include_usage`` is set, then ``[DONE]``;
* ``GET /v1/models`` pages with ``limit``/``after`` (or ``server.page_size``) and says
  ``has_more``.
"""

from __future__ import annotations

import json
import re
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

NAME = "openai"
REQUEST_ID_HEADER = "x-request-id"
CREATED = 1_700_000_000
REASONING_TOKENS = 5
DEFAULT_MODELS: tuple[str, ...] = (
    "gpt-4o",
    "gpt-4o-mini",
    "o3-mini",
    "gpt-5",
    "text-embedding-3-small",
    "whisper-1",
    "tts-1",
    "dall-e-3",
    "gpt-image-1",
    "omni-moderation-latest",
    "gpt-4o-transcribe",
    "gpt-4o-mini-tts",
    "davinci-002",
)

_REASONING = re.compile(r"^(o\d|gpt-5)|reason")


def error_body(status: int, message: str, code: str | None) -> dict[str, Any]:
    """OpenAI's error envelope."""
    kind = {
        400: "invalid_request_error",
        401: "invalid_request_error",
        404: "invalid_request_error",
        429: "rate_limit_exceeded" if code is None else "requests",
    }.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _auth(request: FakeRequest, server: FakeProviderServer) -> Reply | None:
    header = request.headers.get("authorization", "")
    key = header[7:] if header.lower().startswith("bearer ") else None
    if server.key_accepted(key):
        return None
    body = error_body(401, "Incorrect API key provided.", "invalid_api_key")
    return Reply(status=401, body=body)


def _usage(model: str, messages: list[Any], completion_text: str) -> dict[str, Any]:
    prompt = sum(count_tokens(str(m.get("content") or "")) for m in messages if isinstance(m, dict))
    cached = prompt // 2 if "cache" in model else 0
    reasoning = REASONING_TOKENS if _REASONING.search(model) else 0
    completion = count_tokens(completion_text) + reasoning
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _answer(body: dict[str, Any]) -> tuple[str, str]:
    messages = body.get("messages") or []
    last_user = next(
        (str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"), ""
    )
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    text, truncated = fake_reply(last_user, int(limit) if limit else None)
    stops = body.get("stop")
    if isinstance(stops, str):
        stops = [stops]
    for stop in stops or ():
        cut = text.find(stop)
        if cut >= 0:
            return text[:cut], "stop"
    return text, "length" if truncated else "stop"


def chat_completions(request: FakeRequest, server: FakeProviderServer) -> Reply:
    """``POST /v1/chat/completions``."""
    denied = _auth(request, server)
    if denied is not None:
        return denied
    body = request.body if isinstance(request.body, dict) else {}
    model = str(body.get("model") or "")
    if not model or not body.get("messages"):
        return Reply(400, error_body(400, "'model' and 'messages' are required", None))
    text, finish = _answer(body)
    usage = _usage(model, body["messages"], text)
    cid = f"chatcmpl-fake{len(server.requests)}"
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return Reply(events=_stream(cid, model, text, finish, usage if include_usage else None))
    return Reply(
        body={
            "id": cid,
            "object": "chat.completion",
            "created": CREATED,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": usage,
            "system_fingerprint": "fp_fake",
        }
    )


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None) -> SseEvent:
    data = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return SseEvent(json.dumps(data))


def _stream(
    cid: str, model: str, text: str, finish: str, usage: dict[str, Any] | None
) -> list[SseEvent]:
    events = [_chunk(cid, model, {"role": "assistant", "content": ""}, None)]
    events += [_chunk(cid, model, {"content": piece}, None) for piece in split_stream(text)]
    events.append(_chunk(cid, model, {}, finish))
    if usage is not None:
        tail = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "choices": [],
            "usage": usage,
        }
        events.append(SseEvent(json.dumps(tail)))
    events.append(SseEvent("[DONE]"))
    return events


def list_models(request: FakeRequest, server: FakeProviderServer) -> Reply:
    """``GET /v1/models`` with optional ``limit``/``after`` paging."""
    denied = _auth(request, server)
    if denied is not None:
        return denied
    ids = server.models.get(NAME, [])
    raw_limit = request.query.get("limit")
    limit = int(raw_limit) if raw_limit else server.page_size
    page, has_more = iter_pages(ids, request.query.get("after"), limit)
    body: dict[str, Any] = {
        "object": "list",
        "data": [
            {"id": i, "object": "model", "created": CREATED, "owned_by": "fake"} for i in page
        ],
    }
    if limit is not None:
        body["has_more"] = has_more
        body["first_id"] = page[0] if page else None
        body["last_id"] = page[-1] if page else None
    return Reply(body=body)


ROUTES = [
    Route("POST", r"(?:/v1)?/chat/completions", chat_completions),
    Route("GET", r"(?:/v1)?/models", list_models),
]
