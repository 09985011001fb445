"""The registry: every model an application may use, readable from any thread without a lock."""

from __future__ import annotations

from modelwire.registry.model_registry import DuplicateModelError, ModelRegistry

__all__ = ["DuplicateModelError", "ModelRegistry"]
