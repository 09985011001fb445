"""Hugging Face Inference Providers (``huggingface``): the router's OpenAI-compatible chat API.

The router at ``https://router.huggingface.co/v1`` speaks Chat Completions, so this type is the
OpenAI-compatible implementation with Hugging Face defaults:

* ``base_url`` defaults to ``DEFAULT_BASE_URL`` (an entry's ``base_url`` still wins, which is how
  tests point it at the loopback fake server);
* the key is the entry's ``api_key`` or the ``HF_TOKEN`` environment variable; a missing key is
  an ``AuthenticationError`` before any request is sent;
* any model id is accepted (``open_model_set``): ``huggingface:meta-llama/Llama-3.1-8B-Instruct``,
  or with the router's provider suffix, ``huggingface:deepseek-ai/DeepSeek-R1:novita``.

Sending, streaming, usage and error mapping are the OpenAI provider's: its ``send``/``asend``,
``open_stream``/``aopen_stream`` and pure parts, none overridden here. ``list_models`` reads the
router's extra listing fields (``providers[].status``, ``context_length`` and ``pricing``, in USD
per million tokens): models with no live provider are left out, the context window is the
smallest any live provider offers, and a price is set only when every live provider quotes the
same one (otherwise the price depends on where the router sends the call and stays unknown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from modelwire.providers.base import ProviderContext, listed
from modelwire.providers.openai.errors import map_openai_error
from modelwire.providers.openai.mapping import is_chat_model
from modelwire.providers.openai.model import OpenAICompatibleChatModel
from modelwire.types import ModelCost, ModelInfo

__all__ = ["DEFAULT_BASE_URL", "HuggingFaceChatModel", "router_model_metadata"]

DEFAULT_BASE_URL = "https://router.huggingface.co/v1"


def _live(providers: Sequence[Any]) -> list[Mapping[str, Any]]:
    return [
        p
        for p in providers
        if isinstance(p, Mapping) and str(p.get("status", "live")).lower() == "live"
    ]


def router_model_metadata(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """``ModelInfo`` fields from one router listing entry; ``None`` when nothing serves it.

    An entry without a ``providers`` list (another OpenAI-compatible server) gives ``{}``.
    """
    providers = entry.get("providers")
    if not isinstance(providers, list):
        return {}
    live = _live(providers)
    if not live:
        return None
    out: dict[str, Any] = {}
    contexts = [
        int(p["context_length"])
        for p in live
        if isinstance(p.get("context_length"), int) and p["context_length"] > 0
    ]
    if contexts:
        out["context_window"] = min(contexts)
    prices: set[tuple[Decimal, Decimal] | None] = set()
    for p in live:
        pricing = p.get("pricing")
        if not isinstance(pricing, Mapping):
            prices.add(None)
            continue
        try:
            prices.add((Decimal(str(pricing["input"])), Decimal(str(pricing["output"]))))
        except (KeyError, ArithmeticError, ValueError):
            prices.add(None)
    if len(prices) == 1:
        (price,) = prices
        if price is not None:
            out["cost"] = ModelCost(input_per_mtok=price[0], output_per_mtok=price[1])
    return out


class HuggingFaceChatModel(OpenAICompatibleChatModel):
    """A model served by Hugging Face Inference Providers through the router."""

    provider_type: ClassVar[str] = "huggingface"
    open_model_set: ClassVar[bool] = True
    key_env: ClassVar[str | None] = "HF_TOKEN"
    placeholder_key: ClassVar[str | None] = None
    needs_base_url: ClassVar[bool] = False

    @classmethod
    def _client_kwargs(cls, provider: ProviderContext) -> dict[str, Any]:
        kwargs = super()._client_kwargs(provider)
        kwargs["base_url"] = kwargs.get("base_url") or DEFAULT_BASE_URL
        return kwargs

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        """The router's chat models, with context windows and unambiguous prices."""
        client = cls.sync_client(provider)
        entries = listed(
            provider, lambda: [m.model_dump() for m in client.models.list().data], map_openai_error
        )
        out: dict[str, ModelInfo] = {}
        for entry in entries:
            name = str(entry.get("id") or "")
            if not name or name in out or not is_chat_model(name):
                continue
            meta = router_model_metadata(entry)
            if meta is None:
                continue
            out[name] = ModelInfo(
                id=f"{provider.name}:{name}",
                provider=provider.name,
                provider_type=provider.type,
                source="discovered",
                **meta,
            )
        return list(out.values())
