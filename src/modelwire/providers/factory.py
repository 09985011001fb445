"""ModelFactory: the one place a model object is constructed.

It knows the provider types: the built-in table (``modelwire.providers.BUILTIN_PROVIDERS``),
classes registered in code with ``ModelFactory.register_provider(name, cls)``, and plugins declared
under the ``modelwire.providers`` entry-point group. User configuration names a type; it never
names a module, so configuration cannot import arbitrary code.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from modelwire.errors import ConfigError, ModelwireError
from modelwire.providers import BUILTIN_PROVIDERS
from modelwire.providers.base import REQUIRED_METHODS

if TYPE_CHECKING:
    from modelwire.config.schema import ProviderConfig
    from modelwire.providers.base import ChatModel, ProviderContext
    from modelwire.types import ModelInfo

__all__ = ["ENTRY_POINT_GROUP", "MissingDependencyError", "ModelFactory", "ProviderInterfaceError"]

ENTRY_POINT_GROUP = "modelwire.providers"


class ProviderInterfaceError(ModelwireError, TypeError):
    """A provider class does not implement the provider interface."""


class MissingDependencyError(ModelwireError, ImportError):
    """A provider's SDK is not installed; the message names the extra that installs it."""


def validate_provider_class(name: str, cls: Any) -> None:
    """Raise ``ProviderInterfaceError`` naming every missing or abstract method of ``cls``."""
    if not inspect.isclass(cls):
        raise ProviderInterfaceError(f"provider {name!r}: expected a class, got {cls!r}")
    missing = [m for m in REQUIRED_METHODS if not callable(getattr(cls, m, None))]
    abstract = sorted(getattr(cls, "__abstractmethods__", ()))
    problems = missing + [m for m in abstract if m not in missing]
    if problems:
        raise ProviderInterfaceError(
            f"provider {name!r}: class {cls.__qualname__} does not implement the provider "
            f"interface; missing: {', '.join(problems)} (required: {', '.join(REQUIRED_METHODS)})"
        )


class ModelFactory:
    """Builds model objects from ``ModelInfo`` and the provider entry they belong to."""

    _registered: ClassVar[dict[str, type[ChatModel]]] = {}
    _class_lock: ClassVar[threading.Lock] = threading.Lock()
    _entry_points: ClassVar[dict[str, Any] | None] = None
    _default: ClassVar[ModelFactory | None] = None

    def __init__(self, provider_lookup: Callable[[str], ProviderContext] | None = None) -> None:
        self._provider_lookup = provider_lookup
        self._resolved: dict[str, type[ChatModel]] = {}

    def __repr__(self) -> str:
        return f"ModelFactory(types={sorted(self.known_types())})"

    @classmethod
    def default(cls) -> ModelFactory:
        """A process-wide factory with no provider entries bound (for type lookups)."""
        if cls._default is None:
            with cls._class_lock:
                if cls._default is None:
                    cls._default = cls()
        return cls._default

    @classmethod
    def register_provider(
        cls, name: str, model_cls: type[ChatModel], *, replace: bool = True
    ) -> None:
        """Make ``model_cls`` the implementation of provider type ``name`` in every factory."""
        validate_provider_class(name, model_cls)
        with cls._class_lock:
            if not replace and name in cls._registered:
                raise ProviderInterfaceError(f"provider type {name!r} is already registered")
            cls._registered[name] = model_cls

    @classmethod
    def unregister_provider(cls, name: str) -> None:
        """Forget a provider type registered in code."""
        with cls._class_lock:
            cls._registered.pop(name, None)

    @classmethod
    def _plugins(cls) -> dict[str, Any]:
        if cls._entry_points is None:
            from importlib.metadata import entry_points

            found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
            with cls._class_lock:
                cls._entry_points = found
        return cls._entry_points

    def known_types(self) -> set[str]:
        """Every provider type name this factory can build."""
        return set(BUILTIN_PROVIDERS) | set(self._registered) | set(self._plugins())

    def provider_class(self, type_name: str) -> type[ChatModel]:
        """The model class of a provider type (registered > built-in > entry point)."""
        found = self._registered.get(type_name) or self._resolved.get(type_name)
        if found is not None:
            return found
        target = BUILTIN_PROVIDERS.get(type_name)
        if target is not None:
            module_name, _, attr = target.partition(":")
            try:
                cls = getattr(importlib.import_module(module_name), attr)
            except ModuleNotFoundError as exc:
                if exc.name and exc.name.startswith("modelwire"):
                    raise ConfigError(
                        f"provider type {type_name!r} is not implemented yet"
                    ) from None
                raise
        else:
            ep = self._plugins().get(type_name)
            if ep is None:
                known = ", ".join(sorted(self.known_types()))
                raise ConfigError(f"unknown provider type {type_name!r}; known types: {known}")
            cls = ep.load()
        validate_provider_class(type_name, cls)
        self._resolved[type_name] = cls
        return cls  # type: ignore[no-any-return]

    def settings_class(self, type_name: str) -> type[ProviderConfig]:
        """The configuration class for entries of ``type_name``."""
        return self.provider_class(type_name).config_model

    def create_model(self, info: ModelInfo, provider: ProviderContext | None = None) -> ChatModel:
        """Construct the model object for ``info``; vendor SDK presence is checked here."""
        if provider is None:
            if self._provider_lookup is None:
                raise ModelwireError(
                    f"cannot build {info.id!r}: this factory is not bound to a registry"
                )
            provider = self._provider_lookup(info.provider)
        cls = self.provider_class(provider.type)
        for module in cls.requires:
            if importlib.util.find_spec(module.split(".")[0]) is None:
                extra = cls.extra or provider.type
                raise MissingDependencyError(
                    f"provider {provider.name!r} (type {provider.type}) needs the {module!r} "
                    f"package: pip install 'modelwire[{extra}]'"
                )
        return cls(info, provider)
