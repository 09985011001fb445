"""Token estimates for routing decisions, made before any call and without a tokenizer.

``estimate_tokens(request)`` = ``ceil(characters / 4)`` + 4 per message (+ 4 for a system
prompt) + 3 for the reply's priming. Four characters per token is the usual figure for English
text with the BPE tokenizers of the major vendors; the per-message overhead stands for the role
and separator tokens every chat format adds. The estimate is rough (code and non-Latin scripts
use more tokens per character), so it only ranks members by cost and skips members whose context
window is *clearly* too small; a borderline request still reaches the provider, and a
``ContextWindowError`` from it fails over to the next member.

The expected output is ``max_tokens`` when the request sets it, else ``DEFAULT_OUTPUT_TOKENS``
(capped by the model's ``max_output_tokens``).
"""

from __future__ import annotations

import math
from decimal import Decimal

from modelwire.catalog.pricing import compute_cost
from modelwire.types import ChatRequest, ModelInfo, Usage

__all__ = [
    "CHARS_PER_TOKEN",
    "DEFAULT_OUTPUT_TOKENS",
    "MESSAGE_OVERHEAD_TOKENS",
    "REPLY_PRIMING_TOKENS",
    "estimate_cost",
    "estimate_tokens",
    "expected_output_tokens",
    "fits_context",
]

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
REPLY_PRIMING_TOKENS = 3
DEFAULT_OUTPUT_TOKENS = 512


def estimate_tokens(request: ChatRequest) -> int:
    """Estimated input tokens of ``request`` (see the module docstring for the formula)."""
    messages = len(request.messages) + (1 if request.system else 0)
    text = math.ceil(request.text_length() / CHARS_PER_TOKEN)
    return text + MESSAGE_OVERHEAD_TOKENS * messages + REPLY_PRIMING_TOKENS


def expected_output_tokens(request: ChatRequest, info: ModelInfo | None = None) -> int:
    """Output tokens to budget: ``max_tokens``, else the default capped by the model's limit."""
    if request.max_tokens is not None:
        return request.max_tokens
    limit = info.max_output_tokens if info is not None else None
    return min(DEFAULT_OUTPUT_TOKENS, limit) if limit else DEFAULT_OUTPUT_TOKENS


def estimate_cost(
    info: ModelInfo, request: ChatRequest, input_tokens: int | None = None
) -> Decimal | None:
    """Estimated USD cost of ``request`` on ``info``'s prices; ``None`` when unpriced."""
    if not info.is_priced:
        return None
    usage = Usage(
        input_tokens=estimate_tokens(request) if input_tokens is None else input_tokens,
        output_tokens=expected_output_tokens(request, info),
    )
    return compute_cost(usage, info.cost)


def fits_context(
    info: ModelInfo, request: ChatRequest, input_tokens: int | None = None
) -> tuple[bool, str | None]:
    """Whether the request fits ``info``'s context window, with the reason when it does not.

    The window must hold the estimated input plus ``max_tokens`` when the request sets it.
    A model without a known window always fits.
    """
    window = info.context_window
    if window is None:
        return True, None
    needed = estimate_tokens(request) if input_tokens is None else input_tokens
    budget = needed + (request.max_tokens or 0)
    if budget <= window:
        return True, None
    detail = f"~{needed} input tokens"
    if request.max_tokens:
        detail += f" + max_tokens {request.max_tokens}"
    return False, f"context window {window} < {detail}"
