"""Shared fixtures: golden snapshots live under golden/snapshots, tools/ is importable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.amber import AmberSnapshotExtension

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "golden"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class GoldenSnapshotExtension(AmberSnapshotExtension):
    """Amber snapshots stored in golden/snapshots/<test module>.ambr."""

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(GOLDEN / "snapshots")


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """The syrupy snapshot fixture, writing under golden/snapshots."""
    return snapshot.use_extension(GoldenSnapshotExtension)


@pytest.fixture
def golden_dir() -> Path:
    """The golden/ folder: inputs (configs, payloads) and snapshots."""
    return GOLDEN
