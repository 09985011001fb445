"""Provider implementations: the interface (``base``), the factory, and one package or module per
vendor. A provider type is one entry in ``modelwire.config.provider_types``; modules are imported
only when a model of that type is first built, and vendor SDKs only when its first client is
created.
"""

from __future__ import annotations

from modelwire.config.provider_types import BUILTIN_TYPES

#: ``provider type → "module:Class"`` of the built-in types (a view of the one table).
BUILTIN_PROVIDERS: dict[str, str] = {name: str(t.model) for name, t in BUILTIN_TYPES.items()}
