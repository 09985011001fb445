"""Configuration problems: where they are and what they say, secrets never included.

A problem is recorded against a field path (``("providers", "openai", "timeout_s")``); the
:class:`Origins` table knows which layer set each path (a file line, an environment variable, the
code's overrides) and turns the path into a location such as
``modelwire.yaml:7 providers.openai.timeout_s``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

__all__ = [
    "Origins",
    "Path",
    "Problem",
    "Problems",
    "format_path",
    "is_secret_path",
    "one_line",
    "show_value",
]

Path = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-:/@+]+$")
_SECRET_NAMES = frozenset({"api_key", "headers", "authorization", "token", "secret", "password"})
_SECRET_SUFFIXES = ("_key", "_token", "_secret", "_password")


def format_path(path: Sequence[str | int]) -> str:
    """``("models", "openai:gpt-4.1", "cost")`` -> ``models["openai:gpt-4.1"].cost``."""
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif _PLAIN_KEY.match(seg):
            out += f".{seg}" if out else seg
        else:
            out += f"[{seg!r}]".replace("'", '"')
    return out


def is_secret_path(path: Sequence[str | int]) -> bool:
    """True when a value at ``path`` may be a credential (``api_key``, header values, ...)."""
    return any(isinstance(seg, str) and _secretish(seg) for seg in path)


def _secretish(segment: str) -> bool:
    name = segment.lower().replace("-", "_")
    return name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES)


def show_value(value: Any, path: Sequence[str | int] = ()) -> str:
    """A short description of a found value, hiding it entirely when it may be a secret."""
    kind = _kind(value)
    if isinstance(value, SecretStr) or is_secret_path(path):
        return f"{kind} (value hidden)"
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return text


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    for tp, name in names.items():
        if type(value) is tp:
            return name
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong, at ``path`` (or at ``where`` when it has no field path)."""

    path: Path | None
    message: str
    where: str | None = None  # overrides the origin lookup, e.g. "modelwire.yaml:3"


@dataclass
class Origins:
    """Which layer set each field path, so a problem can name the file line or the env var."""

    labels: dict[Path, str] = field(default_factory=dict)
    lines: dict[Path, int] = field(default_factory=dict)

    def set(self, path: Path, label: str, line: int | None = None) -> None:
        """Record that ``path`` was set by ``label`` (at ``line`` of a file)."""
        self.labels[path] = label
        if line is None:
            self.lines.pop(path, None)
        else:
            self.lines[path] = line

    def locate(self, path: Path) -> str:
        """``"<label>[:line] <path>"`` using the nearest recorded ancestor of ``path``."""
        probe = path
        while True:
            label = self.labels.get(probe)
            if label is not None:
                line = self.lines.get(probe)
                head = f"{label}:{line}" if line is not None else label
                return f"{head} {format_path(path)}" if path else head
            if not probe:
                return format_path(path)
            probe = probe[:-1]

    def line_of(self, path: Path) -> int | None:
        """The file line of ``path`` or its nearest ancestor, if a file set it."""
        probe = path
        while True:
            if probe in self.labels:
                return self.lines.get(probe)
            if not probe:
                return None
            probe = probe[:-1]


class Problems:
    """An ordered collection of problems, rendered as ``(location, message)`` pairs, and of
    warnings: things that may be wrong but do not stop the configuration from loading."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.warnings: list[Problem] = []

    def add(self, path: Path | None, message: str, where: str | None = None) -> None:
        """Record one problem."""
        self.items.append(Problem(path, message, where))

    def warn(self, path: Path | None, message: str, where: str | None = None) -> None:
        """Record one warning."""
        self.warnings.append(Problem(path, message, where))

    def extend(self, items: Iterable[Problem]) -> None:
        """Record several problems."""
        self.items.extend(items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def render(self, origins: Origins) -> list[tuple[str, str]]:
        """Problem pairs sorted by file line (those without a line keep their order, after)."""
        return _render(self.items, origins)

    def render_warnings(self, origins: Origins) -> list[tuple[str, str]]:
        """Warning pairs, sorted like :meth:`render`'s."""
        return _render(self.warnings, origins)


def one_line(text: str) -> str:
    """``text`` on one line: line breaks and other control characters shown as escapes."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


def _render(items: list[Problem], origins: Origins) -> list[tuple[str, str]]:
    keyed: list[tuple[tuple[int, int, int], tuple[str, str]]] = []
    for seq, p in enumerate(items):
        if p.where is not None:
            loc = f"{p.where} {format_path(p.path)}" if p.path else p.where
            line = _line_in(p.where)
        else:
            path = p.path or ()
            loc = origins.locate(path)
            line = origins.line_of(path)
        key = (0, line, seq) if line is not None else (1, 0, seq)
        keyed.append((key, (one_line(loc), one_line(p.message))))
    keyed.sort(key=lambda kv: kv[0])
    out: list[tuple[str, str]] = []
    for _, pair in keyed:
        if pair not in out:
            out.append(pair)
    return out


def _line_in(where: str) -> int | None:
    head, sep, tail = where.rpartition(":")
    if sep and head and tail.isdigit():
        return int(tail)
    return None
