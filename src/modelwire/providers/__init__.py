"""Provider implementations, one module per wire format.

``BUILTIN_PROVIDERS`` maps a provider type to ``"module:Class"``; modules are imported only when a
model of that type is first built, and vendor SDKs only when its first client is created.
"""

from __future__ import annotations

BUILTIN_PROVIDERS: dict[str, str] = {
    "mock": "modelwire.providers.mock:MockChatModel",
    "openai": "modelwire.providers.openai.model:OpenAIChatModel",
    "openai_compatible": "modelwire.providers.openai.model:OpenAICompatibleChatModel",
    "anthropic": "modelwire.providers.anthropic.model:AnthropicChatModel",
    "google": "modelwire.providers.google.model:GeminiChatModel",
    "huggingface": "modelwire.providers.huggingface:HuggingFaceChatModel",
    "huggingface_local": "modelwire.providers.hf_local.provider:HuggingFaceLocalChatModel",
}
