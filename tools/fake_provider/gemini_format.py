"""The Gemini API wire format: generateContent (JSON and SSE) and the model listing with paging.

Deterministic behaviour the tests rely on:

* the key comes in ``x-goog-api-key`` (or ``?key=``); a key refused by ``server.accepted_keys``
  gets Gemini's real answer: 400 ``INVALID_ARGUMENT`` with reason ``API_KEY_INVALID``;
* the answer is ``fake_reply`` of the last ``user`` turn's text, cut to
  ``generationConfig.maxOutputTokens`` (``finishReason="MAX_TOKENS"``) or at the first of
  ``stopSequences``;
* ``promptTokenCount`` is ``count_tokens`` over ``systemInstruction`` and every content part;
  models whose name contains ``cache`` report half of it as ``cachedContentTokenCount``;
* models named ``*pro*`` or ``*think*``, or a ``thinkingConfig`` with a non-zero
  ``thinkingBudget``, report ``THOUGHTS_TOKENS`` in ``thoughtsTokenCount`` (and, with
  ``includeThoughts``, a ``thought`` part);
* more prompt tokens than ``CONTEXT_TOKENS`` (``TINY_CONTEXT_TOKENS`` for ``*tiny*`` models) give
  400 "The input token count (N) exceeds the maximum number of tokens allowed (M).";
* ``:streamGenerateContent?alt=sse`` sends one word per chunk, each with ``usageMetadata`` running
  totals; the last chunk has ``finishReason`` and the final counts;
* ``GET /v1beta/models`` pages with ``pageSize``/``pageToken`` (``server.page_size`` caps the
  page) and lists some non-chat models (``embedContent`` only) too.
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

NAME = "gemini"
REQUEST_ID_HEADER = "x-request-id"
THOUGHTS_TOKENS = 9
CONTEXT_TOKENS = 1_048_576
TINY_CONTEXT_TOKENS = 16
DEFAULT_MODELS: tuple[str, ...] = (
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.0-flash",
    "text-embedding-004",
    "gemini-embedding-001",
    "gemini-2.5-flash-lite",
)

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error_body(status: int, message: str, code: str | None) -> dict[str, Any]:
    """Google's error envelope ``{"error": {"code", "message", "status"}}``."""
    name = code or _STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")
    return {"error": {"code": status, "message": message, "status": name}}


def _check(request: FakeRequest, server: FakeProviderServer) -> Reply | None:
    key = request.headers.get("x-goog-api-key") or request.query.get("key")
    if server.key_accepted(key):
        return None
    body = error_body(400, "API key not valid. Please pass a valid API key.", None)
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
        }
    ]
    return Reply(status=400, body=body)


def _parts_text(content: Any) -> str:
    if not isinstance(content, dict):
        return ""
    return " ".join(
        str(p.get("text") or "") for p in content.get("parts") or () if isinstance(p, dict)
    )


def _thinking(config: dict[str, Any], model: str) -> tuple[bool, bool]:
    thinking = config.get("thinkingConfig") or config.get("thinking_config")
    if isinstance(thinking, dict):  # proto JSON: camelCase or the original snake_case names
        budget = thinking.get("thinkingBudget", thinking.get("thinking_budget"))
        include = thinking.get("includeThoughts", thinking.get("include_thoughts"))
        enabled = budget != 0 if budget is not None else ("pro" in model or "think" in model)
        return enabled, bool(include)
    return "pro" in model or "think" in model, False


def _plan(model: str, body: dict[str, Any]) -> tuple[str, str, dict[str, Any], bool] | Reply:
    """``(text, finish_reason, usage_metadata, include_thought_part)`` or an error reply."""
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return Reply(
            400,
            error_body(400, "* GenerateContentRequest.contents: contents is not specified", None),
        )
    config = body.get("generationConfig") or {}
    prompt = count_tokens(_parts_text(body.get("systemInstruction"))) + sum(
        count_tokens(_parts_text(c)) for c in contents
    )
    limit = TINY_CONTEXT_TOKENS if "tiny" in model else CONTEXT_TOKENS
    if prompt > limit:
        message = (
            f"The input token count ({prompt}) exceeds the maximum number of tokens allowed "
            f"({limit})."
        )
        return Reply(400, error_body(400, message, None))
    last_user = next(
        (
            _parts_text(c)
            for c in reversed(contents)
            if isinstance(c, dict) and c.get("role") == "user"
        ),
        "",
    )
    max_tokens = config.get("maxOutputTokens")
    text, truncated = fake_reply(last_user, int(max_tokens) if max_tokens else None)
    finish = "MAX_TOKENS" if truncated else "STOP"
    for stop in config.get("stopSequences") or ():
        cut = text.find(stop)
        if cut >= 0:
            text, finish = text[:cut], "STOP"
            break
    thinking, include = _thinking(config, model)
    candidates = count_tokens(text)
    thoughts = THOUGHTS_TOKENS if thinking else 0
    usage: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    if "cache" in model:
        usage["cachedContentTokenCount"] = prompt // 2
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt // 2}]
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return text, finish, usage, include and thinking


def _response(
    model: str, rid: str, parts: list[dict[str, Any]], finish: str | None, usage: dict[str, Any]
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": rid,
    }


def generate_content(request: FakeRequest, server: FakeProviderServer) -> Reply:
    """``POST /v1beta/models/{model}:generateContent`` and ``:streamGenerateContent``."""
    denied = _check(request, server)
    if denied is not None:
        return denied
    model = request.params["model"]
    body = request.body if isinstance(request.body, dict) else {}
    plan = _plan(model, body)
    if isinstance(plan, Reply):
        return plan
    text, finish, usage, thought_part = plan
    rid = f"fake-resp-{len(server.requests)}"
    if request.params["method"] == "streamGenerateContent":
        return Reply(events=_stream(model, rid, text, finish, usage, thought_part))
    parts: list[dict[str, Any]] = []
    if thought_part:
        parts.append({"text": "Thinking it over.", "thought": True})
    parts.append({"text": text})
    return Reply(body=_response(model, rid, parts, finish, usage))


def _stream(
    model: str, rid: str, text: str, finish: str, usage: dict[str, Any], thought_part: bool
) -> list[SseEvent]:
    pieces = split_stream(text) or [""]
    events: list[SseEvent] = []
    prompt = usage["promptTokenCount"]
    if thought_part:
        running = {"promptTokenCount": prompt, "totalTokenCount": prompt}
        parts = [{"text": "Thinking it over.", "thought": True}]
        events.append(SseEvent(json.dumps(_response(model, rid, parts, None, running))))
    so_far = ""
    for index, piece in enumerate(pieces):
        so_far += piece
        last = index == len(pieces) - 1
        if last:
            chunk_usage = usage
        else:
            done = count_tokens(so_far)
            chunk_usage = {
                "promptTokenCount": prompt,
                "candidatesTokenCount": done,
                "totalTokenCount": prompt + done,
            }
        parts = [{"text": piece}]
        events.append(
            SseEvent(
                json.dumps(_response(model, rid, parts, finish if last else None, chunk_usage))
            )
        )
    return events


def _model_entry(model: str) -> dict[str, Any]:
    embedding = "embedding" in model
    return {
        "name": f"models/{model}",
        "version": "001",
        "displayName": model.replace("-", " ").title(),
        "description": f"fake {model}",
        "inputTokenLimit": 2048
        if embedding
        else (TINY_CONTEXT_TOKENS if "tiny" in model else CONTEXT_TOKENS),
        "outputTokenLimit": 1 if embedding else 65_536,
        "supportedGenerationMethods": (
            ["embedContent", "countTextTokens"]
            if embedding
            else ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]
        ),
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "thinking": "pro" in model or "think" in model,
    }


def list_models(request: FakeRequest, server: FakeProviderServer) -> Reply:
    """``GET /v1beta/models`` with ``pageSize``/``pageToken`` paging (the token is the last id)."""
    denied = _check(request, server)
    if denied is not None:
        return denied
    ids = server.models.get(NAME, [])
    raw = request.query.get("pageSize")
    limit = int(raw) if raw else 50
    if server.page_size is not None:
        limit = min(limit, server.page_size)
    page, has_more = iter_pages(ids, request.query.get("pageToken") or None, limit)
    body: dict[str, Any] = {"models": [_model_entry(m) for m in page]}
    if has_more and page:
        body["nextPageToken"] = page[-1]
    return Reply(body=body)


ROUTES = [
    Route(
        "POST",
        r"/v1(?:beta|alpha)?/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)",
        generate_content,
    ),
    Route("GET", r"/v1(?:beta|alpha)/models", list_models),
]
