"""Google Gemini (google-genai): the model, its wire mapping, its errors."""

from __future__ import annotations

from modelwire.providers.google.model import DEFAULT_BASE_URL, GeminiChatModel, map_google_error

__all__ = ["DEFAULT_BASE_URL", "GeminiChatModel", "map_google_error"]
