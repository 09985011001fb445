# GENERATED FILE: do not edit by hand.
# Source: src/modelwire/catalog/models.json (catalog version 1, catalog_date 2026-11-22).
# Regenerate: `python tools/gen_enums.py` (with `--check`: exit 1 when this file is stale).
"""``ModelEnum``: one member per model of the bundled catalog.

Each member is a ``str`` equal to the model id, so ``ModelEnum.OPENAI_GPT_4O_MINI`` works anywhere
a model id does (``service.invoke_model(ModelEnum.OPENAI_GPT_4O_MINI, "hi")``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ModelEnum"]


class ModelEnum(StrEnum):
    """Ids (``"<vendor>:<name>"``) of the models in the bundled catalog."""

    OPENAI_GPT_5_1 = "openai:gpt-5.1"
    """OpenAI gpt-5.1: $1.25 in, $10.00 out per MTok; 400,000 context."""

    OPENAI_GPT_5 = "openai:gpt-5"
    """OpenAI gpt-5: $1.25 in, $10.00 out per MTok; 400,000 context."""

    OPENAI_GPT_5_MINI = "openai:gpt-5-mini"
    """OpenAI gpt-5-mini: $0.25 in, $2.00 out per MTok; 400,000 context."""

    OPENAI_GPT_5_NANO = "openai:gpt-5-nano"
    """OpenAI gpt-5-nano: $0.05 in, $0.40 out per MTok; 400,000 context."""

    OPENAI_GPT_5_CHAT_LATEST = "openai:gpt-5-chat-latest"
    """OpenAI gpt-5-chat-latest: $1.25 in, $10.00 out per MTok; 128,000 context."""

    OPENAI_GPT_5_1_CHAT_LATEST = "openai:gpt-5.1-chat-latest"
    """OpenAI gpt-5.1-chat-latest: $1.25 in, $10.00 out per MTok; 128,000 context."""

    OPENAI_GPT_4_1 = "openai:gpt-4.1"
    """OpenAI gpt-4.1: $2.00 in, $8.00 out per MTok; 1,047,576 context."""

    OPENAI_GPT_4_1_MINI = "openai:gpt-4.1-mini"
    """OpenAI gpt-4.1-mini: $0.40 in, $1.60 out per MTok; 1,047,576 context."""

    OPENAI_GPT_4_1_NANO = "openai:gpt-4.1-nano"
    """OpenAI gpt-4.1-nano: $0.10 in, $0.40 out per MTok; 1,047,576 context."""

    OPENAI_GPT_4O = "openai:gpt-4o"
    """OpenAI gpt-4o: $2.50 in, $10.00 out per MTok; 128,000 context."""

    OPENAI_GPT_4O_2024_05_13 = "openai:gpt-4o-2024-05-13"
    """OpenAI gpt-4o-2024-05-13: $5.00 in, $15.00 out per MTok; 128,000 context; legacy."""

    OPENAI_GPT_4O_MINI = "openai:gpt-4o-mini"
    """OpenAI gpt-4o-mini: $0.15 in, $0.60 out per MTok; 128,000 context."""

    OPENAI_O3 = "openai:o3"
    """OpenAI o3: $2.00 in, $8.00 out per MTok; 200,000 context."""

    OPENAI_O4_MINI = "openai:o4-mini"
    """OpenAI o4-mini: $1.10 in, $4.40 out per MTok; 200,000 context."""

    OPENAI_O3_MINI = "openai:o3-mini"
    """OpenAI o3-mini: $1.10 in, $4.40 out per MTok; 200,000 context; legacy."""

    OPENAI_O1 = "openai:o1"
    """OpenAI o1: $15.00 in, $60.00 out per MTok; 200,000 context; legacy."""

    OPENAI_GPT_4_TURBO = "openai:gpt-4-turbo"
    """OpenAI gpt-4-turbo: $10.00 in, $30.00 out per MTok; 128,000 context; legacy."""

    ANTHROPIC_CLAUDE_OPUS_4_5 = "anthropic:claude-opus-4-5"
    """Anthropic claude-opus-4-5: $5.00 in, $25.00 out per MTok; 200,000 context."""

    ANTHROPIC_CLAUDE_SONNET_4_5 = "anthropic:claude-sonnet-4-5"
    """Anthropic claude-sonnet-4-5: $3.00 in, $15.00 out per MTok; 200,000 context."""

    ANTHROPIC_CLAUDE_HAIKU_4_5 = "anthropic:claude-haiku-4-5"
    """Anthropic claude-haiku-4-5: $1.00 in, $5.00 out per MTok; 200,000 context."""

    ANTHROPIC_CLAUDE_OPUS_4_1 = "anthropic:claude-opus-4-1"
    """Anthropic claude-opus-4-1: $15.00 in, $75.00 out per MTok; 200,000 context; legacy."""

    ANTHROPIC_CLAUDE_OPUS_4_0 = "anthropic:claude-opus-4-0"
    """Anthropic claude-opus-4-0: $15.00 in, $75.00 out per MTok; 200,000 context; legacy."""

    ANTHROPIC_CLAUDE_SONNET_4_0 = "anthropic:claude-sonnet-4-0"
    """Anthropic claude-sonnet-4-0: $3.00 in, $15.00 out per MTok; 200,000 context; legacy."""

    ANTHROPIC_CLAUDE_3_7_SONNET_LATEST = "anthropic:claude-3-7-sonnet-latest"
    """Anthropic claude-3-7-sonnet-latest: $3.00 in, $15.00 out per MTok; 200,000 context; legacy."""

    ANTHROPIC_CLAUDE_3_5_SONNET_LATEST = "anthropic:claude-3-5-sonnet-latest"
    """Anthropic claude-3-5-sonnet-latest: $3.00 in, $15.00 out per MTok; 200,000 context; retired 2025-10-22."""

    ANTHROPIC_CLAUDE_3_5_HAIKU_LATEST = "anthropic:claude-3-5-haiku-latest"
    """Anthropic claude-3-5-haiku-latest: $0.80 in, $4.00 out per MTok; 200,000 context; legacy."""

    ANTHROPIC_CLAUDE_3_HAIKU_20240307 = "anthropic:claude-3-haiku-20240307"
    """Anthropic claude-3-haiku-20240307: $0.25 in, $1.25 out per MTok; 200,000 context; legacy."""

    ANTHROPIC_CLAUDE_3_OPUS_LATEST = "anthropic:claude-3-opus-latest"
    """Anthropic claude-3-opus-latest: $15.00 in, $75.00 out per MTok; 200,000 context; retired 2026-01-05."""

    GOOGLE_GEMINI_3_PRO_PREVIEW = "google:gemini-3-pro-preview"
    """Google gemini-3-pro-preview: $2.00 in, $12.00 out per MTok; 1,048,576 context."""

    GOOGLE_GEMINI_2_5_PRO = "google:gemini-2.5-pro"
    """Google gemini-2.5-pro: $1.25 in, $10.00 out per MTok; 1,048,576 context."""

    GOOGLE_GEMINI_2_5_FLASH = "google:gemini-2.5-flash"
    """Google gemini-2.5-flash: $0.30 in, $2.50 out per MTok; 1,048,576 context."""

    GOOGLE_GEMINI_2_5_FLASH_LITE = "google:gemini-2.5-flash-lite"
    """Google gemini-2.5-flash-lite: $0.10 in, $0.40 out per MTok; 1,048,576 context."""

    GOOGLE_GEMINI_2_0_FLASH = "google:gemini-2.0-flash"
    """Google gemini-2.0-flash: $0.10 in, $0.40 out per MTok; 1,048,576 context; legacy."""

    GOOGLE_GEMINI_2_0_FLASH_LITE = "google:gemini-2.0-flash-lite"
    """Google gemini-2.0-flash-lite: $0.075 in, $0.30 out per MTok; 1,048,576 context; legacy."""

    GOOGLE_GEMINI_1_5_PRO = "google:gemini-1.5-pro"
    """Google gemini-1.5-pro: $1.25 in, $5.00 out per MTok; 2,097,152 context; retired 2025-09-24."""

    GOOGLE_GEMINI_1_5_FLASH = "google:gemini-1.5-flash"
    """Google gemini-1.5-flash: $0.075 in, $0.30 out per MTok; 1,048,576 context; retired 2025-09-24."""

    GOOGLE_GEMINI_1_5_FLASH_8B = "google:gemini-1.5-flash-8b"
    """Google gemini-1.5-flash-8b: $0.0375 in, $0.15 out per MTok; 1,048,576 context; retired 2025-09-24."""
