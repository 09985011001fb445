"""The environment's part in configuration.

* ``${VAR}`` / ``${VAR:-default}`` substitution inside string values of the file;
* ``MODELWIRE_*`` variables as a configuration layer (``__`` separates nesting levels);
* the built-in defaults, which add vendor providers when their API key variable is set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from modelwire.config.problems import Path
from modelwire.config.yaml_lines import MAX_DEPTH

__all__ = [
    "ENV_PREFIX",
    "VENDOR_KEY_VARS",
    "builtin_defaults",
    "env_layer",
    "nesting_depth",
    "substitute",
    "substitute_tree",
]

ENV_PREFIX = "MODELWIRE_"
CONFIG_PATH_VAR = "MODELWIRE_CONFIG"
MAX_NESTING = MAX_DEPTH
"""Deepest nesting of mappings and lists a JSON value or an ``overrides`` mapping may have."""
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SYNTAX = "expected ${NAME} or ${NAME:-default}"

VENDOR_KEY_VARS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "google": ("GOOGLE_API_KEY", "GEMINI_API_KEY"),
}
"""Provider entries the built-in defaults add when one of these variables is set (non-empty)."""


def substitute(text: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """Replace every ``${NAME}`` and ``${NAME:-default}`` in ``text``.

    ``${NAME}`` takes the variable's value (an empty value is kept); ``${NAME:-default}`` takes
    ``default`` when the variable is unset *or empty*. ``$${`` stands for a literal ``${``.
    Substituted values are never scanned again. Returns the new text and the problems found
    (unset variables without a default, malformed references); problems never quote values.
    """
    if "$" not in text:
        return text, []
    out: list[str] = []
    problems: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        j = text.find("$", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        if text.startswith("$${", j):
            out.append("${")
            i = j + 3
            continue
        if not text.startswith("${", j):
            out.append("$")
            i = j + 1
            continue
        end = text.find("}", j + 2)
        if end < 0:
            problems.append(f"unclosed '${{' in a string value ({_SYNTAX})")
            out.append(text[j:])
            break
        inner = text[j + 2 : end]
        name, sep, default = inner.partition(":-")
        if not _NAME.match(name):
            problems.append(f"malformed variable reference ({_SYNTAX}; use $${{ for a literal ${{)")
        else:
            value = env.get(name)
            if sep and not value:
                out.append(default)
            elif value is None:
                problems.append(
                    f"environment variable {name} is not set "
                    f"(write ${{{name}:-}} to make it optional, or ${{{name}:-value}} for a default)"
                )
            else:
                out.append(value)
        i = end + 1
    return "".join(out), problems


def substitute_tree(
    data: Any, env: Mapping[str, str], path: Path = ()
) -> tuple[Any, list[tuple[Path, str]]]:
    """Apply :func:`substitute` to every string value (not keys) of ``data``."""
    problems: list[tuple[Path, str]] = []

    def walk(value: Any, at: Path) -> Any:
        if isinstance(value, str):
            new, errs = substitute(value, env)
            problems.extend((at, e) for e in errs)
            return new
        if isinstance(value, dict):
            return {k: walk(v, (*at, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*at, i)) for i, v in enumerate(value)]
        return value

    return walk(data, path), problems


def env_layer(
    env: Mapping[str, str], fields: frozenset[str]
) -> tuple[dict[str, Any], dict[Path, str], list[tuple[str, str]]]:
    """The ``MODELWIRE_*`` layer: ``MODELWIRE_USAGE__DATABASE=x`` -> ``{"usage": {"database": "x"}}``.

    Names after the prefix are lower-cased and split on ``__``. Variables whose first part is not a
    top-level field (``fields``), ``MODELWIRE_CONFIG`` and empty values are ignored. Values stay
    strings (pydantic converts ``"30"`` to a number) except those starting with ``[`` or ``{``,
    which are parsed as JSON. Returns the layer, the variable that set each path, and problems as
    ``(variable, message)`` pairs.
    """
    layer: dict[str, Any] = {}
    setters: dict[Path, str] = {}
    problems: list[tuple[str, str]] = []
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX) or var == CONFIG_PATH_VAR:
            continue
        raw = env[var]
        parts = var[len(ENV_PREFIX) :].lower().split("__")
        if parts[0] not in fields or raw == "":
            continue
        if any(not p for p in parts):
            problems.append((var, "malformed name: '__' separates non-empty field names"))
            continue
        value: Any = raw
        if raw.lstrip()[:1] in ("[", "{"):
            try:
                value = json.loads(raw)
            except ValueError as exc:
                problems.append((var, f"expected JSON (the value starts with '[' or '{{'): {exc}"))
                continue
            except RecursionError:
                value = None
            if value is None or nesting_depth(value) > MAX_NESTING:
                problems.append((var, f"JSON nested more than {MAX_NESTING} levels deep"))
                continue
        node = layer
        conflict = None
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                conflict = setters.get(tuple(parts[: depth + 1]), "another variable")
                break
            node = child
        if conflict is not None or isinstance(node.get(parts[-1]), dict):
            other = conflict or "another variable"
            problems.append((var, f"conflicts with {other}, which sets the same field"))
            continue
        node[parts[-1]] = value
        setters[tuple(parts)] = var
    return layer, setters, problems


def nesting_depth(value: Any, limit: int = MAX_NESTING) -> int:
    """How deeply mappings and lists nest in ``value`` (a scalar is 0), counted up to
    ``limit + 1`` (without recursion, so a value that contains itself is simply "too deep")."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def builtin_defaults(env: Mapping[str, str]) -> dict[str, Any]:
    """The lowest layer: the ``mock`` provider, and vendor providers whose API key is set."""
    providers: dict[str, Any] = {"mock": {"type": "mock"}}
    for name, variables in VENDOR_KEY_VARS.items():
        key = next((env[v] for v in variables if env.get(v)), None)
        if key:
            providers[name] = {"type": name, "api_key": key}
    return {"providers": providers}
