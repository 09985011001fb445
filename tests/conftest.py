"""Shared fixtures: golden snapshots live under golden/snapshots, tools/ is importable."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.amber import AmberSnapshotExtension

pytest_plugins = [
    "tests.support.fake_fixtures",  # the loopback fake provider fixtures
    "tests.support.loopback_only",  # no test reaches beyond 127.0.0.1 / ::1
]

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


_ISOLATED_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "HF_TOKEN",
    "MODELWIRE_CONFIG",
)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep tests away from the real user config/data/cache dirs and any real API keys."""
    home = tmp_path_factory.getbasetemp() / "home"
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    for var in _ISOLATED_VARS:
        monkeypatch.delenv(var, raising=False)
    for var in [v for v in os.environ if v.startswith("MODELWIRE_")]:
        if var != "MODELWIRE_TEST_POSTGRES_URL":
            monkeypatch.delenv(var, raising=False)


@pytest.fixture
def golden_dir() -> Path:
    """The golden/ folder: inputs (configs, payloads) and snapshots."""
    return GOLDEN
