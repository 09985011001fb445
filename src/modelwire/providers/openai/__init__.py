"""OpenAI Chat Completions and OpenAI-compatible servers: the model, its wire mapping, its errors."""

from __future__ import annotations

from modelwire.providers.openai.model import (
    OpenAIChatModel,
    OpenAICompatibleChatModel,
    map_openai_error,
)

__all__ = ["OpenAIChatModel", "OpenAICompatibleChatModel", "map_openai_error"]
