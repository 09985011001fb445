"""Where the repository's files are, for tests in any folder."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "golden"


def kernel_path() -> str:
    """A ``PYTHONPATH`` for child processes that run elsewhere (a notebook's kernel in a
    temporary directory): the folder of the ``modelwire`` this process imported first, so the
    child runs the same code (a relative ``PYTHONPATH=src`` would not reach it from there)."""
    import os

    import modelwire

    here = str(Path(modelwire.__file__).resolve().parents[1])
    rest = os.environ.get("PYTHONPATH")
    return here + (os.pathsep + rest if rest else "")
