"""The one table of provider types: for each, the settings class of its configuration entries and
the model class that serves it.

Built-in types name their model class as ``"module:Class"`` (imported when the first model of
that type is built, so configuration never pays for a provider it does not use). Plugins join
through the ``modelwire.providers`` entry-point group, and classes registered in code
(``ModelFactory.register_provider``) through ``PROVIDER_TYPES.register``. Configuration only
ever names a type, never a module: a configuration file cannot make modelwire import code that
no installed package declared.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Any

from modelwire.config.provider_settings import (
    HuggingFaceLocalConfig,
    MockProviderConfig,
    OpenAICompatibleConfig,
    ProviderConfig,
)

__all__ = ["BUILTIN_TYPES", "ENTRY_POINT_GROUP", "PROVIDER_TYPES", "ProviderType", "ProviderTypes"]

ENTRY_POINT_GROUP = "modelwire.providers"


@dataclass(frozen=True, slots=True)
class ProviderType:
    """One provider type. ``model`` is the model class, ``"module:Class"``, or an entry point;
    ``settings`` the configuration class of its entries (``None``: the model class's
    ``config_model``, read when it is loaded)."""

    name: str
    model: Any
    settings: type[ProviderConfig] | None = None
    #: Whether any ``<entry>:<name>`` is a model of it (``None``: ask the model class).
    open: bool | None = None

    def load_model(self) -> Any:
        """The model class (imports its module on first use)."""
        model = self.model
        if isinstance(model, str):
            module_name, _, attr = model.partition(":")
            return getattr(importlib.import_module(module_name), attr)
        if isinstance(model, type):
            return model
        return model.load()  # an importlib.metadata.EntryPoint

    def open_model_set(self) -> bool:
        """Whether entries of this type accept any model name (no ``models:`` entry needed)."""
        if self.open is not None:
            return self.open
        return bool(getattr(self.load_model(), "open_model_set", False))

    def settings_class(self) -> type[ProviderConfig]:
        """The configuration class of entries of this type."""
        if self.settings is not None:
            return self.settings
        settings = getattr(self.load_model(), "config_model", ProviderConfig)
        return settings if isinstance(settings, type) else ProviderConfig


def _builtin(
    name: str,
    model: str,
    settings: type[ProviderConfig] = ProviderConfig,
    *,
    open_set: bool = False,
) -> ProviderType:
    return ProviderType(name, f"modelwire.providers.{model}", settings, open_set)


BUILTIN_TYPES: dict[str, ProviderType] = {
    t.name: t
    for t in (
        _builtin("mock", "mock:MockChatModel", MockProviderConfig, open_set=True),
        _builtin("openai", "openai.model:OpenAIChatModel"),
        _builtin(
            "openai_compatible",
            "openai.model:OpenAICompatibleChatModel",
            OpenAICompatibleConfig,
            open_set=True,
        ),
        _builtin("anthropic", "anthropic.model:AnthropicChatModel"),
        _builtin("google", "google.model:GeminiChatModel"),
        _builtin(
            "huggingface", "huggingface:HuggingFaceChatModel", OpenAICompatibleConfig, open_set=True
        ),
        _builtin(
            "huggingface_local",
            "hf_local.provider:HuggingFaceLocalChatModel",
            HuggingFaceLocalConfig,
            open_set=True,
        ),
    )
}


class ProviderTypes:
    """Built-in, registered and entry-point provider types, looked up by name (thread-safe).

    A type registered in code wins over a built-in of the same name, which wins over a plugin.
    """

    def __init__(self) -> None:
        self._registered: dict[str, ProviderType] = {}
        self._plugins: dict[str, ProviderType] | None = None
        self._lock = threading.Lock()

    def register(self, provider_type: ProviderType, *, replace: bool = True) -> None:
        """Add (or, with ``replace``, swap) a type registered in code."""
        with self._lock:
            if not replace and provider_type.name in self._registered:
                raise ValueError(f"provider type {provider_type.name!r} is already registered")
            self._registered = {**self._registered, provider_type.name: provider_type}

    def unregister(self, name: str) -> None:
        """Forget a type registered in code (built-ins and plugins stay)."""
        with self._lock:
            self._registered = {k: v for k, v in self._registered.items() if k != name}

    def plugins(self) -> dict[str, ProviderType]:
        """The types declared under the ``modelwire.providers`` entry-point group."""
        found = self._plugins
        if found is None:
            from importlib.metadata import entry_points

            found = {
                ep.name: ProviderType(ep.name, ep) for ep in entry_points(group=ENTRY_POINT_GROUP)
            }
            self._plugins = found
        return found

    def get(self, name: str) -> ProviderType | None:
        """The type called ``name``, or ``None``."""
        return self._registered.get(name) or BUILTIN_TYPES.get(name) or self.plugins().get(name)

    def names(self) -> set[str]:
        """Every known type name."""
        return set(BUILTIN_TYPES) | set(self._registered) | set(self.plugins())

    def settings_class(self, name: str) -> type[ProviderConfig]:
        """The configuration class for entries of type ``name`` (``ValueError`` if unknown)."""
        found = self.get(name)
        if found is None:
            raise ValueError(
                f"unknown provider type {name!r}; known types: {', '.join(sorted(self.names()))}"
            )
        return found.settings_class()


#: The process-wide table the factory builds from and configuration validates against.
PROVIDER_TYPES = ProviderTypes()
