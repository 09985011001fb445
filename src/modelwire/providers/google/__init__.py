"""Google Gemini (google-genai): the model, its wire mapping, its errors."""

from __future__ import annotations

from modelwire.providers.google.errors import map_google_error
from modelwire.providers.google.model import DEFAULT_BASE_URL, GeminiChatModel

__all__ = ["DEFAULT_BASE_URL", "GeminiChatModel", "map_google_error"]
