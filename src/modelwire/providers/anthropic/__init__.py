"""Anthropic Messages: the model, its wire mapping, its errors."""

from __future__ import annotations

from modelwire.providers.anthropic.errors import map_anthropic_error
from modelwire.providers.anthropic.model import DEFAULT_BASE_URL, AnthropicChatModel

__all__ = ["DEFAULT_BASE_URL", "AnthropicChatModel", "map_anthropic_error"]
