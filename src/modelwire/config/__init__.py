"""Configuration: the schema (``schema``) and the loader (``loader``).

Names are re-exported lazily so importing a submodule stays cheap; YAML is parsed only when
:func:`load_config` runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "Config": "modelwire.config.schema",
    "ProviderConfig": "modelwire.config.schema",
    "config_to_dict": "modelwire.config.loader",
    "default_config": "modelwire.config.loader",
    "find_config_file": "modelwire.config.loader",
    "load_config": "modelwire.config.loader",
    "parse_config_text": "modelwire.config.loader",
}

__all__ = [
    "Config",
    "ProviderConfig",
    "config_to_dict",
    "default_config",
    "find_config_file",
    "load_config",
    "parse_config_text",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelwire.config' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:
    from modelwire.config.loader import (
        config_to_dict,
        default_config,
        find_config_file,
        load_config,
        parse_config_text,
    )
    from modelwire.config.schema import Config, ProviderConfig
