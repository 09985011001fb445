"""Golden tests: every file under golden/configs parsed, merged and validated (or rejected).

Valid files snapshot the merged configuration with secrets masked; invalid ones snapshot the
exact ``(location, message)`` problems of the ConfigError.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from modelwire.config.loader import config_to_dict, load_config
from modelwire.errors import ConfigError
from tests.support.paths import GOLDEN

CONFIGS = GOLDEN / "configs"
FILES = sorted(p.name for p in CONFIGS.glob("*.yaml"))

SECRETS = {
    "OPENAI_API_KEY": "sk-golden-openai-0001",
    "ANTHROPIC_API_KEY": "sk-golden-anthropic-0002",
    "GOOGLE_API_KEY": "golden-google-0003",
    "LOCAL_TOKEN": "golden-local-token-0004",
}
ENV = {**SECRETS, "MW_TIMEOUT": "45", "MW_EMPTY": ""}
LEAKS = [*SECRETS.values(), "do-not-print"]


def _load(name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.chdir(CONFIGS)
    try:
        cfg = load_config(name, env=ENV)
    except ConfigError as exc:
        return {"problems": [f"{loc}: {msg}" for loc, msg in exc.problems]}
    # parsed values as they are (substitutions in headers and URLs pinned), with keys and
    # credential headers masked (config show masks every header value)
    data = config_to_dict(cfg, mask_secrets=False)
    for name, entry in data.get("providers", {}).items():
        if cfg.providers[name].api_key is not None:
            entry["api_key"] = "**********"
        for header in entry.get("headers") or {}:
            if any(w in header.lower() for w in ("auth", "key", "token", "secret", "cookie")):
                entry["headers"][header] = "**********"
    return {"source": cfg.source, "config": data}


def test_enough_golden_files() -> None:
    assert len([f for f in FILES if f.startswith("valid_")]) >= 6
    assert len([f for f in FILES if f.startswith("invalid_")]) >= 12


@pytest.mark.parametrize("name", FILES)
def test_golden_config(
    name: str, monkeypatch: pytest.MonkeyPatch, snapshot: SnapshotAssertion
) -> None:
    result = _load(name, monkeypatch)
    text = json.dumps(result)
    for secret in LEAKS:
        assert secret not in text
    if name.startswith("valid_"):
        assert "problems" not in result, result
        assert result["source"] == name
    else:
        assert result.get("problems"), result
    assert result == snapshot
