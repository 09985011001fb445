"""Model discovery: ask every configured provider which models it serves, concurrently, and merge
the answers with configuration and the catalog in one atomic registry update.

``ModelDiscoveryService(registry).discover()`` returns a ``DiscoveryResult``;
``service.apply(result)`` (or ``registry.discover_models()``) updates the registry. See
docs/discovery.md.
"""

from __future__ import annotations

from modelwire.discovery.merge import MergePlan, merge_models
from modelwire.discovery.result import DiscoveryResult
from modelwire.discovery.service import ModelDiscoveryService

__all__ = ["DiscoveryResult", "MergePlan", "ModelDiscoveryService", "merge_models"]
