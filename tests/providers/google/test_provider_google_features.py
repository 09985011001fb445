"""The catalog's Google entries say what each Gemini model takes, as Google documents it."""

from __future__ import annotations

import pytest

from modelwire.catalog import load_catalog

CATALOG = load_catalog()
GEMINI = sorted(k for k, v in CATALOG.entries.items() if v.provider_type == "google")


def test_every_gemini_entry_is_covered() -> None:
    assert len(GEMINI) >= 9 and "google:gemini-3-pro-preview" in GEMINI


@pytest.mark.parametrize("model_id", GEMINI)
def test_gemini_models_take_tools_parallel_calls_images_and_pdfs(model_id: str) -> None:
    # function calling (parallel calls included), image and PDF input, and a response schema:
    # every Gemini model
    assert CATALOG.entries[model_id].features == frozenset(
        {"tools", "parallel_tools", "images", "documents", "structured_output"}
    )
