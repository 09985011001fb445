"""Parse YAML into plain Python data while remembering the line of every key.

PyYAML's ``SafeLoader`` composes a node tree whose nodes carry start marks; walking that tree
ourselves (instead of ``yaml.safe_load``) lets every field path map back to a file line, and lets
duplicate keys be reported instead of silently keeping the last one.

Nothing in a text makes this module raise anything but :class:`YamlSyntaxError`: characters YAML
does not allow (NUL, ESC, other control characters) are reported at their line and field, nesting
is bounded while the tree is composed (before PyYAML's recursion could overflow), and a scalar
that cannot be built (``2024-13-45``, a 5,000-digit integer) is reported at its field.
"""

from __future__ import annotations

import re
from typing import Any

from modelwire.config.problems import Path, is_secret_path
from modelwire.errors import YamlSyntaxError

__all__ = ["MAX_DEPTH", "ParsedYaml", "YamlSyntaxError", "describe_character", "parse_yaml"]

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists a configuration file may have."""
_MAX_NODES = 200_000
_MAX_REPORTED_LINES = 20
_MAX_FIELD_SEGMENTS = 6

# Characters outside YAML's printable set (YAML 1.1, section 5.1), which PyYAML refuses.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_REPLACEMENT = "\ufffd"
_C0_NAMES = {
    0x00: "NUL",
    0x07: "BEL",
    0x08: "BS",
    0x09: "TAB",
    0x0A: "LF",
    0x0B: "VT",
    0x0C: "FF",
    0x0D: "CR",
    0x1B: "ESC",
    0x7F: "DEL",
}


def describe_character(char: str) -> str:
    """``control character U+001B (ESC)``, ``unpaired surrogate U+D800``, ``character U+FFFE``."""
    code = ord(char)
    label = f"U+{code:04X}"
    if code < 0x20 or 0x7F <= code < 0xA0:
        name = _C0_NAMES.get(code)
        return f"control character {label}" + (f" ({name})" if name else "")
    if 0xD800 <= code <= 0xDFFF:
        return f"unpaired surrogate {label}"
    return f"character {label}"


class ParsedYaml:
    """The parsed ``data``, the 1-based ``lines`` of each path, and structural ``issues``.

    ``issues`` are ``(path, line, message)`` triples: duplicate keys, non-scalar keys, characters
    YAML does not allow, values that cannot be read. ``unusable`` holds the paths whose value is
    a stand-in for one that could not be read, so validation says nothing more about them.
    """

    def __init__(
        self,
        data: Any,
        lines: dict[Path, int],
        issues: list[tuple[Path, int, str]],
        unusable: set[Path] | None = None,
    ):
        self.data = data
        self.lines = lines
        self.issues = issues
        self.unusable: set[Path] = unusable or set()


def parse_yaml(text: str) -> ParsedYaml:
    """Parse one YAML document; an empty document gives ``None``.

    Raises :class:`YamlSyntaxError` for text that is not YAML (or holds several documents).
    """
    bad_chars = _find_bad_characters(text)
    if bad_chars:
        text = _NOT_PRINTABLE.sub(_REPLACEMENT, text)
    try:
        parsed = _parse(text)
    except YamlSyntaxError as exc:
        exc.also = [(line, message) for line, _, message in bad_chars] + exc.also
        raise
    for line, column, message in bad_chars:
        path, is_value = _path_at(parsed, line)
        parsed.issues.append((path, line, message))
        if is_value and parsed.lines.get(path) == line and column > 0:
            parsed.unusable.add(path)
    return parsed


def _find_bad_characters(text: str) -> list[tuple[int, int, str]]:
    """``(line, column, message)`` for the first character YAML refuses on each line."""
    found: list[tuple[int, int, str]] = []
    extra_lines = 0
    line, line_start, scanned = 1, 0, 0
    last_line = 0
    for match in _NOT_PRINTABLE.finditer(text):
        start = match.start()
        newlines = text.count("\n", scanned, start)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", scanned, start) + 1
        scanned = start
        if line == last_line:
            continue
        last_line = line
        if len(found) >= _MAX_REPORTED_LINES:
            extra_lines += 1
            continue
        column = start - line_start + 1
        what = describe_character(match.group())
        found.append((line, column, f"{what} at column {column} is not allowed in YAML"))
    if extra_lines:
        found.append(
            (found[-1][0], 0, f"and {extra_lines} more line(s) with characters YAML does not allow")
        )
    return found


def _path_at(parsed: ParsedYaml, line: int) -> tuple[Path, bool]:
    """The deepest field written on ``line`` (else the last one before it), and whether its
    value is a scalar."""
    best: Path = ()
    best_line = 0
    for path, at in parsed.lines.items():
        if at > line:
            continue
        if at > best_line or (at == best_line and len(path) > len(best)):
            best, best_line = path, at
    value: Any = parsed.data
    for seg in best:
        try:
            value = value[seg]
        except (KeyError, IndexError, TypeError):
            return best, False
    return best, not isinstance(value, dict | list)


def _parse(text: str) -> ParsedYaml:
    import yaml  # imported only when configuration is actually loaded

    loader = _loader_class()(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            what = exc.problem or "invalid YAML"
            if exc.context:
                what = f"{exc.context}, {what}"
            start = exc.context_mark
            if start is not None and mark is not None and start.line != mark.line:
                what += f" (the construct began at line {start.line + 1})"
            raise YamlSyntaxError(
                f"YAML syntax error: {_one_line(what)}",
                None if mark is None else mark.line + 1,
                path=loader.current_field(),
            ) from None
        except yaml.YAMLError as exc:
            raise YamlSyntaxError(
                f"YAML syntax error: {_one_line(str(exc))}", None, path=loader.current_field()
            ) from None
        except Exception as exc:  # PyYAML's own ValueError, e.g. for the escape "\U00999999"
            raise YamlSyntaxError(
                f"YAML syntax error: {_one_line(str(exc)) or type(exc).__name__}",
                loader.get_mark().line + 1,
                path=loader.current_field(),
            ) from None
        lines: dict[Path, int] = {}
        if node is None:
            return ParsedYaml(None, {(): 1}, [])
        walker = _Walker(loader, lines)
        try:
            data = walker.build(node, ())
        except yaml.MarkedYAMLError as exc:  # a merge key (<<) whose value is not a mapping
            mark = exc.problem_mark or exc.context_mark
            raise YamlSyntaxError(
                f"YAML error: {_one_line(str(exc.problem or exc))}",
                None if mark is None else mark.line + 1,
                path=walker.path,
            ) from None
        except RecursionError:  # merge keys (<<: *a) chained or containing themselves
            raise YamlSyntaxError(
                "YAML merge keys (<<) are nested too deeply or refer to themselves",
                walker.line,
                path=walker.path,
            ) from None
        return ParsedYaml(data, lines, walker.issues, walker.unusable)
    finally:
        loader.dispose()


_LOADER: Any = None


def _loader_class() -> Any:
    """``SafeLoader`` that knows the field it is composing and refuses to compose nodes nested
    deeper than :data:`MAX_DEPTH` (PyYAML's composer recurses once per level)."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    class FieldTrackingLoader(yaml.SafeLoader):
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.field_stack: list[str | int | None] = []
            self.error_field: list[str | int | None] | None = None

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                return super().compose_node(parent, index)
            if isinstance(index, yaml.ScalarNode):
                self.field_stack.append(str(index.value))
            elif isinstance(index, int) and not isinstance(index, bool):
                self.field_stack.append(index)
            else:  # the document itself, or a mapping key
                self.field_stack.append(None)
            try:
                if len(self.field_stack) > MAX_DEPTH:
                    mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                    raise yaml.composer.ComposerError(
                        None, None, f"nested more than {MAX_DEPTH} levels deep", mark
                    )
                return super().compose_node(parent, index)
            except Exception:
                if self.error_field is None:
                    self.error_field = list(self.field_stack)
                raise
            finally:
                self.field_stack.pop()

        def current_field(self) -> Path:
            """The field whose reading failed."""
            return _field_of(tuple(seg for seg in self.error_field or () if seg is not None))

    _LOADER = FieldTrackingLoader
    return _LOADER


def _field_of(path: Path) -> Path:
    """The mapping keys of ``path`` up to its first list index (at most a few of them): the
    field to name in a message about a value nested too deeply to show in full."""
    out: list[str | int] = []
    for seg in path:
        if isinstance(seg, int) or len(out) == _MAX_FIELD_SEGMENTS:
            break
        out.append(seg)
    return tuple(out)


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Walker:
    def __init__(self, loader: Any, lines: dict[Path, int]) -> None:
        self.loader = loader
        self.lines = lines
        self.issues: list[tuple[Path, int, str]] = []
        self.unusable: set[Path] = set()
        self.depth = 0
        self.visited = 0
        self.line: int | None = None
        self.path: Path = ()

    def build(self, node: Any, path: Path) -> Any:
        import yaml

        self.line = node.start_mark.line + 1
        self.path = _field_of(path)
        self.lines.setdefault(path, self.line)
        self.depth += 1
        self.visited += 1
        try:
            if self.depth > MAX_DEPTH or self.visited > _MAX_NODES:
                raise YamlSyntaxError(
                    "YAML document is too deep or too large (aliases expanding?)",
                    node.start_mark.line + 1,
                    path=_field_of(path),
                )
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self._scalar(node, path)
        finally:
            self.depth -= 1

    def _scalar(self, node: Any, path: Path) -> Any:
        import yaml

        try:
            return self.loader.construct_object(node, deep=True)
        except Exception as exc:  # a date that does not exist, an integer too long to read, ...
            line = node.start_mark.line + 1
            if isinstance(exc, yaml.MarkedYAMLError):  # an unknown tag, bad base64, ...
                message = f"YAML error: {_one_line(str(exc.problem or exc))}"
            else:
                message = _unreadable(node, exc, is_secret_path(path))
            self.issues.append((path, line, message))
            self.unusable.add(path)
            return None

    def _mapping(self, node: Any, path: Path) -> dict[str, Any]:
        import yaml

        first_line: dict[str, int] = {}
        for key_node, _ in node.value:  # duplicates among the keys written here (not merged)
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append((path, line, "a mapping key must be a plain value"))
                continue
            key = str(key_node.value)
            if key in first_line:
                msg = f"duplicate key {key!r} (first defined at line {first_line[key]})"
                self.issues.append(((*path, key), line, msg))
            else:
                first_line[key] = line
        self.loader.flatten_mapping(node)  # merge keys (<<: *anchor) first, then the keys here
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = str(key_node.value)  # keys are names: `yes:` or `1:` stay the text written
            self.lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, (*path, key))  # the last one wins
        return out


def _unreadable(node: Any, exc: Exception, secret: bool) -> str:
    """What is wrong with a scalar PyYAML resolved to a type but could not build."""
    text = str(node.value)
    kind = node.tag.rpartition(":")[2] or "value"
    if kind == "int" and len(text) > 100:
        return f"an integer of {len(text)} characters is too long to read"
    shown = repr(text if len(text) <= 40 else text[:37] + "...")
    reason = _one_line(str(exc)) or type(exc).__name__
    if secret:
        shown, reason = "(value hidden)", type(exc).__name__
    names = {"timestamp": "date", "int": "integer", "float": "number", "bool": "boolean"}
    return f"not a valid {names.get(kind, kind)}: {shown} ({reason})"
