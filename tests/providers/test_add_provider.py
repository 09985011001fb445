"""tools/add_provider.py scaffolds a provider whose generated test passes as it is."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tools import add_provider


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


def test_scaffold_then_generated_test_passes(tmp_path: Path) -> None:
    out = tmp_path / "acme_pkg"
    proc = _run([str(ROOT / "tools" / "add_provider.py"), "acme", "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["acme_entry_point.toml", "acme_provider.py", "test_acme_provider.py"]

    snippet = tomllib.loads((out / "acme_entry_point.toml").read_text())
    assert snippet["project"]["entry-points"]["modelwire.providers"] == {
        "acme": "acme_provider:AcmeChatModel"
    }

    result = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(out)], out)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "10 passed" in result.stdout


def test_generated_files_are_lint_clean(tmp_path: Path) -> None:
    add_provider.scaffold("acme_cloud", tmp_path)
    lint = _run(
        ["-m", "ruff", "check", "--isolated", "--line-length", "100", str(tmp_path)], tmp_path
    )
    assert lint.returncode == 0, lint.stdout


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("MODELWIRE_SLOW_TESTS"),
    reason="mypy over modelwire takes 30-60 s; set MODELWIRE_SLOW_TESTS=1",
)
def test_generated_provider_is_type_clean(tmp_path: Path) -> None:
    module = add_provider.scaffold("acme_cloud", tmp_path)[0]
    types = _run(["-m", "mypy", "--strict", str(module)], tmp_path)
    assert types.returncode == 0, types.stdout


def test_generated_test_catches_a_broken_provider(tmp_path: Path) -> None:
    """The template is a real test: a provider that drops the prompt makes it fail."""
    add_provider.scaffold("acme", tmp_path)
    module = tmp_path / "acme_provider.py"
    module.write_text(
        module.read_text().replace("text = self.prefix + prompt", "text = self.prefix")
    )
    result = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)], tmp_path)
    assert result.returncode != 0
    assert "failed" in result.stdout


def test_generated_provider_implements_the_hooks_not_the_call_styles(tmp_path: Path) -> None:
    """The template is the minimal provider: the I/O hooks and the pure parts; the four call
    styles come from ``ChatModel``."""
    path = add_provider.scaffold("acme_hooks", tmp_path)[0]
    spec = importlib.util.spec_from_file_location("scaffolded_acme_hooks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    own = set(vars(module.AcmeHooksChatModel))
    hooks = {"send", "asend", "open_stream", "aopen_stream", "parse_response", "stream_state"}
    assert hooks | {"map_error", "list_models", "prepare", "prepare_client"} <= own
    assert not own & {"invoke", "ainvoke", "stream", "astream"}


@pytest.mark.parametrize("bad", ["Acme", "1acme", "ac-me", "class", ""])
def test_bad_names_are_refused(bad: str, tmp_path: Path) -> None:
    with pytest.raises(add_provider.ScaffoldError):
        add_provider.scaffold(bad, tmp_path)


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    add_provider.scaffold("acme", tmp_path)
    target = tmp_path / "acme_provider.py"
    target.write_text("# mine\n")
    with pytest.raises(add_provider.ScaffoldError, match="--force"):
        add_provider.scaffold("acme", tmp_path)
    assert target.read_text() == "# mine\n"
    add_provider.scaffold("acme", tmp_path, force=True)
    assert "class AcmeChatModel(ChatModel)" in target.read_text()
