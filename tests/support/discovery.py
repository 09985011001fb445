"""Shared helpers of the discovery tests: golden merge cases, registries, fake-server configs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelwire.catalog import Catalog
from modelwire.config.schema import Config
from modelwire.registry.model_registry import ModelRegistry
from modelwire.types import ModelInfo
from tests.support.paths import GOLDEN

GOLDEN = GOLDEN / "discovery"


def golden_catalog() -> Catalog:
    """The small catalog the golden merge cases use (golden/discovery/catalog.json)."""
    return Catalog.from_path(GOLDEN / "catalog.json")


@contextmanager
def catalog_patched(catalog: Catalog) -> Iterator[None]:
    """Make ``load_catalog()`` return ``catalog`` (the registry loads it by that name)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("modelwire.catalog.load_catalog", lambda: catalog)
        yield


@dataclass
class MergeCase:
    """One golden case: configuration, models registered beforehand, provider listings."""

    name: str
    config: Config
    registered: list[ModelInfo]
    listings: dict[str, list[ModelInfo]]

    def registry(self, catalog: Catalog) -> ModelRegistry:
        """The registry ``from_config`` builds with ``catalog``, plus the registered extras."""
        with catalog_patched(catalog):
            registry = ModelRegistry.from_config(self.config)
        registry.update_models(self.registered)
        return registry

    @property
    def provider_types(self) -> dict[str, str]:
        return {n: p.type or n for n, p in self.config.providers.items()}


def listing(provider: str, entries: list[Mapping[str, Any]]) -> list[ModelInfo]:
    """Listed models as a provider's ``list_models`` would return them."""
    out = []
    for raw in entries:
        data = dict(raw)
        name = data.pop("name")
        out.append(ModelInfo(id=f"{provider}:{name}", source="discovered", **data))
    return out


def load_case(path: Path) -> MergeCase:
    """Read one golden/discovery/*.yaml case."""
    raw = yaml.safe_load(path.read_text())
    config = Config.model_validate(raw["config"])
    registered = [ModelInfo.model_validate(m) for m in raw.get("registered", [])]
    listings = {p: listing(p, items) for p, items in raw["listings"].items()}
    return MergeCase(path.stem, config, registered, listings)


def case_paths() -> list[Path]:
    """Every golden merge case, in name order."""
    return sorted(GOLDEN.glob("*.yaml"))


def compact(info: ModelInfo) -> dict[str, Any]:
    """A model as a short, stable dict for snapshots (fields left at their defaults omitted)."""
    data = info.model_dump(mode="json", exclude_defaults=True)
    data.pop("provider", None)
    if info.name == info.id.partition(":")[2]:
        data.pop("name", None)
    data["source"] = info.source
    data["available"] = info.available
    return data
