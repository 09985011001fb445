"""Name matching shared by the registry, the ``models`` namespace and error suggestions."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

__all__ = ["normalise", "suggest"]

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise(name: str) -> str:
    """Fold case and treat dots, dashes, underscores and colons alike: ``gpt-4o.mini`` → ``gpt_4o_mini``."""
    return _NON_ALNUM.sub("_", name.lower()).strip("_")


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` close matches for ``name`` (difflib), compared on normalised names too."""
    pool = sorted(set(candidates))
    found = difflib.get_close_matches(name, pool, n=n, cutoff=0.6)
    if len(found) < n:
        by_norm: dict[str, str] = {}
        for c in pool:
            by_norm.setdefault(normalise(c), c)
        for m in difflib.get_close_matches(normalise(name), list(by_norm), n=n, cutoff=0.6):
            if by_norm[m] not in found:
                found.append(by_norm[m])
    return found[:n]
