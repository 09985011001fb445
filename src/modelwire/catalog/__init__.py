"""The bundled model catalog: prices, limits and capabilities of known vendor models.

``load_catalog()`` returns the ``Catalog`` read from ``models.json`` in this package; the file
is read on first use only (importing this package reads nothing). See docs/catalog.md.
"""

from __future__ import annotations

from modelwire.catalog.catalog import Catalog
from modelwire.catalog.loader import load_catalog, read_bundled_catalog
from modelwire.catalog.schema import (
    VENDORS,
    CatalogError,
    CatalogFile,
    CatalogModel,
    CatalogPrice,
    CatalogTier,
    DatedPrice,
)

__all__ = [
    "VENDORS",
    "Catalog",
    "CatalogError",
    "CatalogFile",
    "CatalogModel",
    "CatalogPrice",
    "CatalogTier",
    "DatedPrice",
    "load_catalog",
    "read_bundled_catalog",
]
