"""Capability strengths and the names of the capabilities modelwire knows.

Strengths are ordered: ``basic < moderate < strong < exceptional``. They parse from names
(case-insensitive) or integers 1-4, so configuration can say ``code: strong``.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

__all__ = [
    "DOMAIN_CAPABILITIES",
    "OPERATIONAL_CAPABILITIES",
    "TASK_CAPABILITIES",
    "CapabilityStrength",
]


class CapabilityStrength(IntEnum):
    """How good a model is at something; comparable and sortable."""

    BASIC = 1
    MODERATE = 2
    STRONG = 3
    EXCEPTIONAL = 4

    @classmethod
    def parse(cls, value: Any) -> CapabilityStrength:
        """Accept a member, its name in any case, or its number; raise ``ValueError`` otherwise."""
        if isinstance(value, cls):
            return value
        if isinstance(value, bool):
            raise ValueError(f"not a capability strength: {value!r}")
        if isinstance(value, int):
            return cls(value)
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                pass
        names = ", ".join(m.name.lower() for m in cls)
        raise ValueError(f"expected one of {names}; got {value!r}")

    def __str__(self) -> str:
        return self.name.lower()


OPERATIONAL_CAPABILITIES = frozenset({"inexpensive", "efficient", "premium", "vision"})
TASK_CAPABILITIES = frozenset(
    {"code", "reasoning", "creative", "extraction", "math", "multimedia", "structured", "chat"}
)
DOMAIN_CAPABILITIES = frozenset({"science", "finance", "legal", "medical"})
