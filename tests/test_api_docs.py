"""docs/api.md is generated from the public names' docstrings and must match them."""

from __future__ import annotations

import pytest

import modelwire
from tests.support.paths import ROOT
from tools import gen_api_docs


def test_api_reference_is_current() -> None:
    committed = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert committed == gen_api_docs.render(), (
        "docs/api.md is out of date: run python tools/gen_api_docs.py"
    )


def test_every_public_name_has_an_entry() -> None:
    page = gen_api_docs.render()
    for name in modelwire.__all__:
        if name.startswith("__"):
            continue
        assert f"`{name}`" in page and (f"### class `{name}`" in page or f"`{name}" in page)
        heading = any(
            h in page for h in (f"### class `{name}`", f"### `{name}()`", f"### `{name}`")
        )
        assert heading, f"{name} has no section in docs/api.md"


def test_page_follows_docstrings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modelwire.ModelService, "__doc__", "A changed summary line.")
    page = gen_api_docs.render()
    assert "A changed summary line." in page
    assert page != (ROOT / "docs" / "api.md").read_text(encoding="utf-8")


def test_signatures_are_readable() -> None:
    page = gen_api_docs.render()
    assert "0x" not in page  # no object addresses
    assert "-> 'None'" not in page  # string annotations are unquoted
    assert "invoke_model(model: str | None = None" in page


def test_contract_methods_are_listed() -> None:
    """The service's and registry's public methods, including those inherited from a modelwire mixin."""
    page = gen_api_docs.render()
    for method in (
        "register_model(",
        "unregister_model(",
        "get_model(",
        "get_model_info(",
        "list_models(",
        "is_registered(",
        "resolve(",
        "find_models(",
        "invoke_model(",
        "stream_model(",
        "invoke_batch(",
        "summary(",
        "flush(",
        "discover(",
    ):
        assert f"**`{method}" in page, f"{method} missing from docs/api.md"
    assert "## Other" not in page, "a public name's module has no section in SECTIONS"
