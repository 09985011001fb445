"""A loopback fake LLM provider server for tests, benchmarks and notebooks.

``FakeProviderServer`` speaks the registered wire formats (OpenAI Chat Completions here; the
Anthropic and Gemini formats plug in the same way, see ``server``) on 127.0.0.1, keeps a log of
every request and injects faults per request (``faults``). Run it standalone with
``python -m tools.fake_provider --port 8765``.
"""

from __future__ import annotations

from tools.fake_provider.faults import FAULT_HEADER, Fault, FaultQueue, parse_fault
from tools.fake_provider.server import (
    FakeProviderServer,
    FakeRequest,
    RecordedRequest,
    Reply,
    Route,
    SseEvent,
    count_tokens,
    fake_reply,
)

__all__ = [
    "FAULT_HEADER",
    "FakeProviderServer",
    "FakeRequest",
    "Fault",
    "FaultQueue",
    "RecordedRequest",
    "Reply",
    "Route",
    "SseEvent",
    "count_tokens",
    "fake_reply",
    "parse_fault",
]
