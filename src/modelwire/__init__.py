"""modelwire: one registry, one service object and an exact usage ledger for LLM calls.

Public names are imported lazily (PEP 562) so ``import modelwire`` stays cheap: no vendor SDK,
SQLAlchemy or pandas is loaded until something uses it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    # errors
    "ModelwireError": "modelwire.errors",
    "ConfigError": "modelwire.errors",
    "ModelNotFoundError": "modelwire.errors",
    "ProviderError": "modelwire.errors",
    "AuthenticationError": "modelwire.errors",
    "RateLimitError": "modelwire.errors",
    "ContextWindowError": "modelwire.errors",
    "ProviderUnavailableError": "modelwire.errors",
    "TimeoutError": "modelwire.errors",
    "InvalidRequestError": "modelwire.errors",
    "AllModelsFailedError": "modelwire.errors",
    "OutputValidationError": "modelwire.errors",
    "MalformedToolCallError": "modelwire.errors",
    "ProviderCause": "modelwire.errors",
    "ToolDefinitionError": "modelwire.errors",
    "ToolRoundsExceededError": "modelwire.errors",
    "UnsupportedFeatureError": "modelwire.errors",
    "YamlSyntaxError": "modelwire.errors",
    "BusyError": "modelwire.errors",
    "DatabaseFileChanged": "modelwire.errors",
    "LedgerClosedError": "modelwire.errors",
    "LedgerFullError": "modelwire.errors",
    "LedgerReadError": "modelwire.errors",
    "LedgerSchemaError": "modelwire.errors",
    "LedgerWriteError": "modelwire.errors",
    "CatalogError": "modelwire.errors",
    "DuplicateModelError": "modelwire.errors",
    "MissingCheckpointError": "modelwire.errors",
    "MissingDependencyError": "modelwire.errors",
    "ProviderInterfaceError": "modelwire.errors",
    "UnsupportedModelError": "modelwire.errors",
    "GatewayError": "modelwire.errors",
    "LimitExceededError": "modelwire.errors",
    "BudgetExceededError": "modelwire.errors",
    "RateLimitedError": "modelwire.errors",
    "LimitsUnavailableError": "modelwire.errors",
    "VirtualKeyError": "modelwire.errors",
    # data
    "ModelInfo": "modelwire.types",
    "TextPart": "modelwire.content",
    "ImagePart": "modelwire.content",
    "DocumentPart": "modelwire.content",
    "ToolCall": "modelwire.content",
    "ToolResultPart": "modelwire.content",
    "ThinkingPart": "modelwire.content",
    "ToolCallDelta": "modelwire.types",
    "Tool": "modelwire.tools",
    "ToolRun": "modelwire.service",
    "OutputSpec": "modelwire.output",
    "ModelCost": "modelwire.types",
    "PriceTier": "modelwire.types",
    "Message": "modelwire.types",
    "ChatRequest": "modelwire.types",
    "ChatResponse": "modelwire.types",
    "Usage": "modelwire.types",
    "StreamEvent": "modelwire.types",
    "CapabilityStrength": "modelwire.capabilities",
    # configuration
    "Config": "modelwire.config.schema",
    "ProviderConfig": "modelwire.config.schema",
    "load_config": "modelwire.config.loader",
    # core objects
    "ModelRegistry": "modelwire.registry",
    "ModelFactory": "modelwire.providers.factory",
    "ChatModel": "modelwire.providers.base",
    "ProviderContext": "modelwire.providers.base",
    "ModelService": "modelwire.service",
    "BoundModel": "modelwire.service",
    "BatchResult": "modelwire.service",
    "default_service": "modelwire.access",
    "set_default_service": "modelwire.access",
    "models": "modelwire.access",
    "ModelEnum": "modelwire.enums",
    "enable_logging": "modelwire.logs",
    "disable_logging": "modelwire.logs",
    "SecretFilter": "modelwire.logs",
    # usage
    "UsageEvent": "modelwire.usage.events",
    "UsageSink": "modelwire.usage.events",
    "InMemoryUsageSink": "modelwire.usage.events",
    "compute_cost": "modelwire.catalog.pricing",
    "price_of": "modelwire.registry.prices",
    "UsageLedger": "modelwire.usage.ledger",
    "Limit": "modelwire.usage.limit_rules",
    "Limits": "modelwire.usage.limits",
    # discovery and routing
    "ModelDiscoveryService": "modelwire.discovery",
    "DiscoveryResult": "modelwire.discovery",
    "ModelGroup": "modelwire.routing.group",
    "detect_task_type": "modelwire.routing.tasks",
    "TaskType": "modelwire.routing.tasks",
}

__all__ = [*sorted(_LAZY), "__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelwire' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # the same names, for type checkers (tests/test_public_api.py checks)
    from modelwire.access import default_service, models, set_default_service
    from modelwire.capabilities import CapabilityStrength
    from modelwire.catalog.pricing import compute_cost
    from modelwire.config.loader import load_config
    from modelwire.config.schema import Config, ProviderConfig
    from modelwire.content import (
        DocumentPart,
        ImagePart,
        TextPart,
        ThinkingPart,
        ToolCall,
        ToolResultPart,
    )
    from modelwire.discovery import DiscoveryResult, ModelDiscoveryService
    from modelwire.enums import ModelEnum
    from modelwire.errors import (
        AllModelsFailedError,
        AuthenticationError,
        BudgetExceededError,
        BusyError,
        CatalogError,
        ConfigError,
        ContextWindowError,
        DatabaseFileChanged,
        DuplicateModelError,
        GatewayError,
        InvalidRequestError,
        LedgerClosedError,
        LedgerFullError,
        LedgerReadError,
        LedgerSchemaError,
        LedgerWriteError,
        LimitExceededError,
        LimitsUnavailableError,
        MalformedToolCallError,
        MissingCheckpointError,
        MissingDependencyError,
        ModelNotFoundError,
        ModelwireError,
        OutputValidationError,
        ProviderCause,
        ProviderError,
        ProviderInterfaceError,
        ProviderUnavailableError,
        RateLimitedError,
        RateLimitError,
        TimeoutError,
        ToolDefinitionError,
        ToolRoundsExceededError,
        UnsupportedFeatureError,
        UnsupportedModelError,
        VirtualKeyError,
        YamlSyntaxError,
    )
    from modelwire.logs import SecretFilter, disable_logging, enable_logging
    from modelwire.output import OutputSpec
    from modelwire.providers.base import ChatModel, ProviderContext
    from modelwire.providers.factory import ModelFactory
    from modelwire.registry import ModelRegistry
    from modelwire.registry.prices import price_of
    from modelwire.routing.group import ModelGroup
    from modelwire.routing.tasks import TaskType, detect_task_type
    from modelwire.service import BatchResult, BoundModel, ModelService, ToolRun
    from modelwire.tools import Tool
    from modelwire.types import (
        ChatRequest,
        ChatResponse,
        Message,
        ModelCost,
        ModelInfo,
        PriceTier,
        StreamEvent,
        ToolCallDelta,
        Usage,
    )
    from modelwire.usage.events import InMemoryUsageSink, UsageEvent, UsageSink
    from modelwire.usage.ledger import UsageLedger
    from modelwire.usage.limit_rules import Limit
    from modelwire.usage.limits import Limits
