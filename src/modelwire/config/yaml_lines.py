"""Parse YAML into plain Python data while remembering the line of every key.

PyYAML's ``SafeLoader`` composes a node tree whose nodes carry start marks; walking that tree
ourselves (instead of ``yaml.safe_load``) lets every field path map back to a file line, and lets
duplicate keys be reported instead of silently keeping the last one.
"""

from __future__ import annotations

from typing import Any

from modelwire.config.problems import Path

__all__ = ["ParsedYaml", "YamlSyntaxError", "parse_yaml"]

_MAX_DEPTH = 64
_MAX_NODES = 200_000


class YamlSyntaxError(Exception):
    """The text is not valid YAML; ``line`` is 1-based when YAML reports one."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class ParsedYaml:
    """The parsed ``data``, the 1-based ``lines`` of each path, and structural ``issues``.

    ``issues`` are ``(path, line, message)`` triples: duplicate keys, non-scalar keys.
    """

    def __init__(self, data: Any, lines: dict[Path, int], issues: list[tuple[Path, int, str]]):
        self.data = data
        self.lines = lines
        self.issues = issues


def parse_yaml(text: str) -> ParsedYaml:
    """Parse one YAML document; an empty document gives ``None``.

    Raises :class:`YamlSyntaxError` for text that is not YAML (or holds several documents).
    """
    import yaml  # imported only when configuration is actually loaded

    loader = yaml.SafeLoader(text)
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
                f"YAML syntax error: {what}", None if mark is None else mark.line + 1
            ) from None
        except yaml.YAMLError as exc:
            raise YamlSyntaxError(f"YAML syntax error: {exc}", None) from None
        lines: dict[Path, int] = {}
        if node is None:
            return ParsedYaml(None, {(): 1}, [])
        walker = _Walker(loader, lines)
        try:
            data = walker.build(node, ())
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            raise YamlSyntaxError(
                f"YAML error: {exc.problem or exc}", None if mark is None else mark.line + 1
            ) from None
        return ParsedYaml(data, lines, walker.issues)
    finally:
        loader.dispose()


class _Walker:
    def __init__(self, loader: Any, lines: dict[Path, int]) -> None:
        self.loader = loader
        self.lines = lines
        self.issues: list[tuple[Path, int, str]] = []
        self.depth = 0
        self.visited = 0

    def build(self, node: Any, path: Path) -> Any:
        import yaml

        self.lines.setdefault(path, node.start_mark.line + 1)
        self.depth += 1
        self.visited += 1
        try:
            if self.depth > _MAX_DEPTH or self.visited > _MAX_NODES:
                raise YamlSyntaxError(
                    "YAML document is too deep or too large (aliases expanding?)",
                    node.start_mark.line + 1,
                )
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self.loader.construct_object(node, deep=True)
        finally:
            self.depth -= 1

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
