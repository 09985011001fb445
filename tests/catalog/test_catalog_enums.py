"""ModelEnum is generated from the catalog and must not drift from it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from modelwire.catalog import load_catalog
from modelwire.enums import ModelEnum
from tests.support.paths import ROOT
from tools import gen_enums

CAT = load_catalog()


def test_enums_module_matches_the_catalog() -> None:
    expected = gen_enums.render(CAT)
    actual = gen_enums.ENUMS_PATH.read_text(encoding="utf-8")
    assert actual == expected, "src/modelwire/enums.py is stale: run `python tools/gen_enums.py`"


def test_one_member_per_catalog_model() -> None:
    assert [m.value for m in ModelEnum] == list(CAT.entries)
    for member in ModelEnum:
        assert member.name == re.sub(r"[^A-Za-z0-9]", "_", member.value).upper()
        assert member in CAT
    assert ModelEnum.OPENAI_GPT_4O_MINI == "openai:gpt-4o-mini"
    assert ModelEnum.ANTHROPIC_CLAUDE_SONNET_4_5 == "anthropic:claude-sonnet-4-5"
    assert ModelEnum.GOOGLE_GEMINI_2_5_FLASH == "google:gemini-2.5-flash"
    assert isinstance(ModelEnum.OPENAI_GPT_4_1, str)


def test_member_name_rule() -> None:
    assert gen_enums.member_name("openai:gpt-4.1-mini") == "OPENAI_GPT_4_1_MINI"
    assert gen_enums.member_name("google:gemini-2.5-flash") == "GOOGLE_GEMINI_2_5_FLASH"


def test_rendered_module_has_header_and_docstrings() -> None:
    text = gen_enums.render(CAT)
    assert text.startswith("# GENERATED FILE: do not edit by hand.\n")
    assert "python tools/gen_enums.py" in text.splitlines()[2]
    assert (
        '    OPENAI_GPT_4O_MINI = "openai:gpt-4o-mini"\n    """OpenAI gpt-4o-mini: $0.15 in' in text
    )
    assert text.count('"""') == 2 * (len(CAT) + 2)  # module, class, one per member
    compile(text, "enums.py", "exec")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_enums.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_mode_exit_status(tmp_path: Path) -> None:
    assert _run("--check").returncode == 0

    stale = tmp_path / "enums.py"
    current = gen_enums.ENUMS_PATH.read_text(encoding="utf-8")
    stale.write_text(current.replace("OPENAI_GPT_4O_MINI", "OPENAI_GPT_4O_MINNIE"))
    result = _run("--check", "--output", str(stale))
    assert result.returncode == 1
    assert "out of date" in result.stdout

    missing = tmp_path / "absent.py"
    assert _run("--check", "--output", str(missing)).returncode == 1
    assert not missing.exists()


def test_generate_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "enums.py"
    assert _run("--output", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8") == gen_enums.render(CAT)
    assert _run("--check", "--output", str(out)).returncode == 0
