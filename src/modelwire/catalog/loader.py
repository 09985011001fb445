"""Loading the bundled catalog: lazily, once per process, safe from any number of threads.

Nothing happens at import time. The first ``load_catalog()`` reads ``models.json`` from the
package and validates it; every later call returns the same ``Catalog`` without taking a lock.
"""

from __future__ import annotations

import threading
from importlib import resources

from modelwire.catalog.catalog import Catalog

__all__ = ["CATALOG_RESOURCE", "load_catalog", "read_bundled_catalog"]

CATALOG_RESOURCE = "models.json"

_lock = threading.Lock()
_catalog: Catalog | None = None


def read_bundled_catalog() -> bytes:
    """The raw bytes of the catalog file shipped in the package."""
    return resources.files("modelwire.catalog").joinpath(CATALOG_RESOURCE).read_bytes()


def load_catalog() -> Catalog:
    """The bundled catalog, read and validated on first use and shared afterwards."""
    global _catalog
    catalog = _catalog
    if catalog is not None:
        return catalog
    with _lock:
        if _catalog is None:
            _catalog = Catalog.from_bytes(read_bundled_catalog(), source=CATALOG_RESOURCE)
        return _catalog


def _reset_for_tests() -> None:
    """Forget the loaded catalog so the next ``load_catalog()`` reads the file again."""
    global _catalog
    with _lock:
        _catalog = None
