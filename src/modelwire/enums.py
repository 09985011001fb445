# GENERATED FILE: do not edit by hand.
# Source: src/modelwire/catalog/models.json (catalog version 1, catalog_date 2026-12-07).
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

    OPENAI_CHATGPT_4O_LATEST = "openai:chatgpt-4o-latest"
    """OpenAI chatgpt-4o-latest: $5.00 in, $15.00 out per MTok; 128,000 context; legacy."""

    OPENAI_GPT_3_5_TURBO = "openai:gpt-3.5-turbo"
    """OpenAI gpt-3.5-turbo: $0.50 in, $1.50 out per MTok; 16,385 context; legacy."""

    OPENAI_GPT_4 = "openai:gpt-4"
    """OpenAI gpt-4: $30.00 in, $60.00 out per MTok; 8,192 context; legacy."""

    OPENAI_GPT_5_2 = "openai:gpt-5.2"
    """OpenAI gpt-5.2: $1.75 in, $14.00 out per MTok; 400,000 context."""

    OPENAI_GPT_5_3 = "openai:gpt-5.3"
    """OpenAI gpt-5.3: $1.75 in, $14.00 out per MTok; 128,000 context."""

    OPENAI_GPT_5_4 = "openai:gpt-5.4"
    """OpenAI gpt-5.4: $2.50 in, $15.00 out per MTok; 1,050,000 context."""

    OPENAI_GPT_5_4_MINI = "openai:gpt-5.4-mini"
    """OpenAI gpt-5.4-mini: $0.75 in, $4.50 out per MTok; 400,000 context."""

    OPENAI_GPT_5_4_NANO = "openai:gpt-5.4-nano"
    """OpenAI gpt-5.4-nano: $0.20 in, $1.25 out per MTok; 400,000 context."""

    OPENAI_GPT_5_5 = "openai:gpt-5.5"
    """OpenAI gpt-5.5: $5.00 in, $30.00 out per MTok; 1,000,000 context."""

    OPENAI_GPT_5_6_LUNA = "openai:gpt-5.6-luna"
    """OpenAI gpt-5.6-luna: $0.20 in, $1.20 out per MTok; 1,050,000 context."""

    OPENAI_GPT_5_6_SOL = "openai:gpt-5.6-sol"
    """OpenAI gpt-5.6-sol: $4.00 in, $20.00 out per MTok; 1,050,000 context."""

    OPENAI_GPT_5_6_TERRA = "openai:gpt-5.6-terra"
    """OpenAI gpt-5.6-terra: $2.00 in, $12.00 out per MTok; 1,050,000 context."""

    OPENAI_GPT_6_ASTRA = "openai:gpt-6-astra"
    """OpenAI gpt-6-astra: $10.00 in, $50.00 out per MTok; 1,050,000 context."""

    OPENAI_GPT_6_LUNA = "openai:gpt-6-luna"
    """OpenAI gpt-6-luna: $0.10 in, $0.50 out per MTok; 1,050,000 context."""

    OPENAI_GPT_6_SOL = "openai:gpt-6-sol"
    """OpenAI gpt-6-sol: $2.00 in, $10.00 out per MTok; 1,050,000 context."""

    OPENAI_GPT_6_1_SOL = "openai:gpt-6.1-sol"
    """OpenAI gpt-6.1-sol: $2.00 in, $10.00 out per MTok; 1,050,000 context."""

    OPENAI_GPT_6_1_TERRA = "openai:gpt-6.1-terra"
    """OpenAI gpt-6.1-terra: $1.00 in, $5.00 out per MTok; 1,050,000 context."""

    OPENAI_GPT_6_2_ASTRA = "openai:gpt-6.2-astra"
    """OpenAI gpt-6.2-astra: $8.00 in, $40.00 out per MTok; 1,050,000 context."""

    OPENAI_GPT_6_2_SOL = "openai:gpt-6.2-sol"
    """OpenAI gpt-6.2-sol: $2.00 in, $10.00 out per MTok; 1,050,000 context."""

    OPENAI_GPT_CHAT_LATEST = "openai:gpt-chat-latest"
    """OpenAI gpt-chat-latest: $5.00 in, $30.00 out per MTok; 128,000 context."""

    OPENAI_O1_MINI = "openai:o1-mini"
    """OpenAI o1-mini: $1.10 in, $4.40 out per MTok; 128,000 context; legacy."""

    OPENAI_O1_PREVIEW = "openai:o1-preview"
    """OpenAI o1-preview: $15.00 in, $60.00 out per MTok; 128,000 context; legacy."""

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

    ANTHROPIC_CLAUDE_FABLE_5 = "anthropic:claude-fable-5"
    """Anthropic claude-fable-5: $10.00 in, $50.00 out per MTok; 1,000,000 context."""

    ANTHROPIC_CLAUDE_FABLE_5_1 = "anthropic:claude-fable-5-1"
    """Anthropic claude-fable-5-1: $10.00 in, $50.00 out per MTok; 1,000,000 context."""

    ANTHROPIC_CLAUDE_FABLE_5_2 = "anthropic:claude-fable-5-2"
    """Anthropic claude-fable-5-2: $8.00 in, $40.00 out per MTok; 1,000,000 context."""

    ANTHROPIC_CLAUDE_HAIKU_5_5 = "anthropic:claude-haiku-5-5"
    """Anthropic claude-haiku-5-5: $0.10 in, $0.50 out per MTok; 1,000,000 context."""

    ANTHROPIC_CLAUDE_MYTHOS_5_2 = "anthropic:claude-mythos-5-2"
    """Anthropic claude-mythos-5-2: $8.00 in, $40.00 out per MTok; 1,000,000 context."""

    ANTHROPIC_CLAUDE_OPUS_4_6 = "anthropic:claude-opus-4-6"
    """Anthropic claude-opus-4-6: $5.00 in, $25.00 out per MTok; 1,000,000 context."""

    ANTHROPIC_CLAUDE_OPUS_4_7 = "anthropic:claude-opus-4-7"
    """Anthropic claude-opus-4-7: $5.00 in, $25.00 out per MTok; 1,000,000 context."""

    ANTHROPIC_CLAUDE_OPUS_4_8 = "anthropic:claude-opus-4-8"
    """Anthropic claude-opus-4-8: $5.00 in, $25.00 out per MTok; 1,000,000 context."""

    ANTHROPIC_CLAUDE_OPUS_5 = "anthropic:claude-opus-5"
    """Anthropic claude-opus-5: $5.00 in, $25.00 out per MTok; 1,000,000 context."""

    ANTHROPIC_CLAUDE_OPUS_5_5 = "anthropic:claude-opus-5-5"
    """Anthropic claude-opus-5-5: $4.00 in, $20.00 out per MTok; 1,000,000 context."""

    ANTHROPIC_CLAUDE_SONNET_4_6 = "anthropic:claude-sonnet-4-6"
    """Anthropic claude-sonnet-4-6: $3.00 in, $15.00 out per MTok; 1,000,000 context."""

    ANTHROPIC_CLAUDE_SONNET_5 = "anthropic:claude-sonnet-5"
    """Anthropic claude-sonnet-5: $2.00 in, $10.00 out per MTok; 1,000,000 context."""

    ANTHROPIC_CLAUDE_SONNET_5_5 = "anthropic:claude-sonnet-5-5"
    """Anthropic claude-sonnet-5-5: $2.00 in, $10.00 out per MTok; 1,000,000 context."""

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

    GOOGLE_GEMINI_2_5_FLASH_PREVIEW = "google:gemini-2.5-flash-preview"
    """Google gemini-2.5-flash-preview: $0.15 in, $0.60 out per MTok; 1,048,576 context; legacy."""

    GOOGLE_GEMINI_3_FLASH_PREVIEW = "google:gemini-3-flash-preview"
    """Google gemini-3-flash-preview: $0.50 in, $3.00 out per MTok; 1,000,000 context."""

    GOOGLE_GEMINI_3_1_FLASH_LITE = "google:gemini-3.1-flash-lite"
    """Google gemini-3.1-flash-lite: $0.25 in, $1.50 out per MTok; 1,000,000 context."""

    GOOGLE_GEMINI_3_1_PRO_PREVIEW = "google:gemini-3.1-pro-preview"
    """Google gemini-3.1-pro-preview: $2.00 in, $12.00 out per MTok; 1,048,576 context."""

    GOOGLE_GEMINI_3_5_FLASH = "google:gemini-3.5-flash"
    """Google gemini-3.5-flash: $1.50 in, $9.00 out per MTok; 1,000,000 context."""

    GOOGLE_GEMINI_3_5_FLASH_LITE = "google:gemini-3.5-flash-lite"
    """Google gemini-3.5-flash-lite: $0.30 in, $2.50 out per MTok; 1,000,000 context."""

    GOOGLE_GEMINI_3_6_FLASH = "google:gemini-3.6-flash"
    """Google gemini-3.6-flash: $1.50 in, $7.50 out per MTok; 1,000,000 context."""

    GOOGLE_GEMINI_3_7_FLASH = "google:gemini-3.7-flash"
    """Google gemini-3.7-flash: $1.50 in, $7.50 out per MTok; 1,000,000 context."""

    GOOGLE_GEMINI_3_8_FLASH = "google:gemini-3.8-flash"
    """Google gemini-3.8-flash: $1.50 in, $7.50 out per MTok; 1,000,000 context."""

    GOOGLE_GEMINI_4_ARGON = "google:gemini-4-argon"
    """Google gemini-4-argon: $4.00 in, $20.00 out per MTok; 1,048,576 context."""

    GOOGLE_GEMINI_4_CARBON = "google:gemini-4-carbon"
    """Google gemini-4-carbon: $4.00 in, $20.00 out per MTok; 1,048,576 context."""

    GOOGLE_GEMINI_4_HYDROGEN = "google:gemini-4-hydrogen"
    """Google gemini-4-hydrogen: $1.50 in, $7.50 out per MTok; 1,048,576 context."""

    GOOGLE_GEMINI_4_NEON = "google:gemini-4-neon"
    """Google gemini-4-neon: $3.00 in, $15.00 out per MTok; 1,048,576 context."""
