"""ModelFactory: the one place a model object is constructed.

Provider types come from the one table, ``modelwire.config.provider_types.PROVIDER_TYPES``:
built-ins, classes registered in code with ``ModelFactory.register_provider(name, cls)``, and
plugins declared under the ``modelwire.providers`` entry-point group. User configuration names a
type; it never names a module, so configuration cannot import arbitrary code.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from modelwire.config.provider_types import ENTRY_POINT_GROUP, PROVIDER_TYPES, ProviderType
from modelwire.errors import (
    ConfigError,
    MissingDependencyError,
    ModelwireError,
    ProviderInterfaceError,
)
from modelwire.providers.base import REQUIRED_METHODS

if TYPE_CHECKING:
    from modelwire.config.schema import ProviderConfig
    from modelwire.providers.base import ChatModel, ProviderContext
    from modelwire.types import ModelInfo

__all__ = ["ENTRY_POINT_GROUP", "MissingDependencyError", "ModelFactory", "ProviderInterfaceError"]


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

    _default: ClassVar[ModelFactory | None] = None

    def __init__(self, provider_lookup: Callable[[str], ProviderContext] | None = None) -> None:
        self._provider_lookup = provider_lookup
        # (the table entry a class was loaded from, the class): an entry replaced in the
        # table is loaded and checked again
        self._resolved: dict[str, tuple[ProviderType, type[ChatModel]]] = {}

    def __repr__(self) -> str:
        return f"ModelFactory(types={sorted(self.known_types())})"

    @classmethod
    def default(cls) -> ModelFactory:
        """A process-wide factory with no provider entries bound (for type lookups)."""
        if cls._default is None:
            cls._default = cls()
        return cls._default

    @classmethod
    def register_provider(
        cls, name: str, model_cls: type[ChatModel], *, replace: bool = True
    ) -> None:
        """Make ``model_cls`` the implementation of provider type ``name`` in every factory."""
        validate_provider_class(name, model_cls)
        try:
            PROVIDER_TYPES.register(
                ProviderType(name, model_cls, model_cls.config_model), replace=replace
            )
        except ValueError as exc:
            raise ProviderInterfaceError(str(exc)) from None

    @classmethod
    def unregister_provider(cls, name: str) -> None:
        """Forget a provider type registered in code."""
        PROVIDER_TYPES.unregister(name)

    def known_types(self) -> set[str]:
        """Every provider type name this factory can build."""
        return PROVIDER_TYPES.names()

    def provider_class(self, type_name: str) -> type[ChatModel]:
        """The model class of a provider type (registered > built-in > entry point)."""
        entry = PROVIDER_TYPES.get(type_name)
        if entry is None:
            known = ", ".join(sorted(self.known_types()))
            raise ConfigError(f"unknown provider type {type_name!r}; known types: {known}")
        found = self._resolved.get(type_name)
        if found is not None and found[0] is entry:
            return found[1]
        try:
            cls = entry.load_model()
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("modelwire"):
                raise ConfigError(f"provider type {type_name!r} is not implemented yet") from None
            raise
        validate_provider_class(type_name, cls)
        self._resolved[type_name] = (entry, cls)
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
        self.check_installed(cls, provider)
        return cls(info, provider)

    @staticmethod
    def check_installed(cls: type[ChatModel], provider: ProviderContext) -> None:
        """Raise ``MissingDependencyError`` naming the extra to install when a module ``cls``
        needs (its vendor SDK) is not installed."""
        for module in cls.requires:
            if importlib.util.find_spec(module.split(".")[0]) is None:
                extra = cls.extra or provider.type
                raise MissingDependencyError(
                    f"provider {provider.name!r} (type {provider.type}) needs the {module!r} "
                    f"package: pip install 'modelwire[{extra}]'"
                )
