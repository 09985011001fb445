"""How a model name a user or a vendor's API gives maps to a catalog record.

The rules, tried in order (names compare case-insensitively, surrounding spaces ignored):

1. the record's ``name`` or one of its listed ``snapshots``;
2. the same without a ``models/`` prefix (the Gemini API lists models as ``models/<name>``);
3. a version suffix removed — ``-YYYYMMDD``, ``@YYYYMMDD``, ``-YYYY-MM-DD``, ``-latest`` or a
   three/four-digit ``-NNN`` (``-001``, ``-0125``) — and the rest looked up as in rule 1;
4. the (suffix-free) name plus ``-latest`` or ``-0``, the forms of Anthropic's floating aliases
   (``claude-3-5-haiku`` → ``claude-3-5-haiku-latest``, ``claude-sonnet-4`` → ``claude-sonnet-4-0``).

Rules 3 and 4 assume a vendor's dated snapshots share the family's price; a snapshot known to be
priced differently is a catalog record of its own, and rule 1 finds it first. Preview names
(``-preview-05-20``) are never matched by rule: previews were often priced differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["candidate_names", "normalise"]

_SUFFIX = re.compile(r"^(?P<base>.+?)(?:-\d{8}|@\d{8}|-\d{4}-\d{2}-\d{2}|-latest|-\d{3,4})$")
_ALIAS_FORMS = ("-latest", "-0")


def normalise(name: str) -> str:
    """Lower-case and trim a model name for matching."""
    return name.strip().lower()


def candidate_names(name: str) -> Iterator[str]:
    """The names to try for ``name``, best first, per the module's rules (may repeat)."""
    n = normalise(name)
    yield n
    if n.startswith("models/"):
        n = n[len("models/") :]
        yield n
    m = _SUFFIX.match(n)
    base = m.group("base") if m else n
    if m:
        yield base
    for form in _ALIAS_FORMS:
        if not base.endswith(form):
            yield base + form
