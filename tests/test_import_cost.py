from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("openai", "anthropic", "google.genai", "sqlalchemy", "pandas", "httpx", "yaml", "typer")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(json.loads(out))


def test_import_modelwire_loads_no_sdk_database_or_dataframe() -> None:
    loaded = _modules_after("import modelwire")
    assert not [m for m in HEAVY if m in loaded]


def test_public_names_resolve_lazily() -> None:
    loaded = _modules_after("import modelwire; modelwire.ModelRegistry; modelwire.ModelService")
    assert "modelwire.registry.model_registry" in loaded
    assert not [m for m in ("openai", "anthropic", "sqlalchemy", "pandas") if m in loaded]


def test_every_public_name_exists() -> None:
    import modelwire

    missing = [n for n in modelwire.__all__ if not hasattr(modelwire, n)]
    assert missing == []
