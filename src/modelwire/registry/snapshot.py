"""The registry's state: an immutable ``Snapshot`` of ``Slot``s, swapped in whole by writers.

A ``Slot`` holds one model's ``ModelInfo`` and, once built, its model object; its lock makes the
first build happen exactly once. Readers never lock: they read ``registry._snap`` once and look
up plain dicts in it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modelwire.types import ModelInfo

if TYPE_CHECKING:
    from modelwire.providers.base import ChatModel

__all__ = ["Slot", "Snapshot"]


class Slot:
    """One model id: its metadata and its lazily built model object."""

    __slots__ = ("info", "instance", "lock")

    def __init__(self, info: ModelInfo) -> None:
        self.info = info
        self.instance: ChatModel | None = None
        self.lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every registered model at one moment: slots by id, aliases, and a version number."""

    slots: Mapping[str, Slot] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    version: int = 0
    #: ids and aliases → slot, so a warm lookup by either is one dict read
    lookup: Mapping[str, Slot] = field(default_factory=dict)

    @classmethod
    def build(cls, slots: dict[str, Slot], aliases: dict[str, str], version: int) -> Snapshot:
        """A snapshot with its lookup table (aliases never shadow ids)."""
        lookup = {a: slots[t] for a, t in aliases.items() if t in slots}
        lookup.update(slots)
        return cls(slots, aliases, version, lookup)

    def names(self) -> list[str]:
        """Every id and alias (for "did you mean" suggestions)."""
        return [*self.slots, *self.aliases]

    def canonical(self, name: str) -> str | None:
        """The id ``name`` stands for (itself or an alias's target), or ``None``."""
        if name in self.slots:
            return name
        return self.aliases.get(name)

    def models_named(self, name: str) -> list[Slot]:
        """The slots whose bare model name (the part after ``provider:``) is ``name``."""
        return [s for s in self.slots.values() if s.info.name == name]
