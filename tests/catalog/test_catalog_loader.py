"""The catalog loader: nothing read at import, loaded exactly once however many threads race."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelwire.catalog import Catalog, CatalogError, load_catalog, loader


@pytest.fixture
def fresh_loader() -> Iterator[None]:
    """Forget the process-wide catalog before and after the test."""
    loader._reset_for_tests()
    yield
    loader._reset_for_tests()


def test_import_reads_nothing() -> None:
    code = """
import sys
opened = []
sys.addaudithook(lambda ev, args: opened.append(str(args[0])) if ev == "open" else None)
import modelwire.catalog
import modelwire.catalog.loader as loader
assert loader._catalog is None, "catalog loaded at import"
assert not [p for p in opened if p.endswith("models.json")], opened
cat = modelwire.catalog.load_catalog()
assert [p for p in opened if p.endswith("models.json")], "load_catalog did not read the file"
print(len(cat))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 35


def test_loaded_once_across_32_threads(fresh_loader: None, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []
    real = loader.read_bundled_catalog

    def slow_read() -> bytes:
        reads.append(threading.get_ident())
        time.sleep(0.05)  # widen the window in which other threads arrive
        return real()

    monkeypatch.setattr(loader, "read_bundled_catalog", slow_read)
    barrier = threading.Barrier(32)
    results: list[Catalog] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait(timeout=10)
        cat = load_catalog()
        with lock:
            results.append(cat)

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert len(reads) == 1
    assert len(results) == 32
    assert all(r is results[0] for r in results)
    assert load_catalog() is results[0]  # later calls reuse it
    assert len(reads) == 1


def test_reset_reads_again(fresh_loader: None) -> None:
    first = load_catalog()
    loader._reset_for_tests()
    second = load_catalog()
    assert first is not second
    assert list(first.entries) == list(second.entries)


def test_catalog_container_protocol() -> None:
    cat = load_catalog()
    ids = [info.id for info in cat]
    assert ids == list(cat.entries)
    assert len(cat) == len(ids) == len(set(ids))
    assert "openai:gpt-4o-mini" in cat
    assert "mock:gpt-4o-mini" not in cat
    assert set(cat.vendors) == {"openai", "anthropic", "google"}
    assert cat.version == 1
    assert repr(cat).startswith(f"Catalog({len(cat)} models")


def test_from_path_round_trip(tmp_path: Path) -> None:
    raw = json.loads(loader.read_bundled_catalog())
    raw["models"] = raw["models"][:2]
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(raw))
    cat = Catalog.from_path(path)
    assert len(cat) == 2
    assert cat.catalog_date.isoformat() == raw["catalog_date"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"version": 1, "catalog_date": "2026-01-01"}', "models"),
        ('{"version": 2, "catalog_date": "2026-01-01", "models": []}', "version"),
    ],
)
def test_malformed_files_raise_catalog_error(text: str, expected: str) -> None:
    with pytest.raises(CatalogError) as info:
        Catalog.from_bytes(text, source="bad.json")
    assert expected in str(info.value)
    assert "bad.json" in str(info.value)
