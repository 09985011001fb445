"""Values made up from a JSON schema: the arguments the mock provider sends when it calls a tool.

``example_arguments(schema, rng)`` returns a JSON object valid against a tool's ``parameters``
schema, drawn from ``rng`` (the same seed gives the same arguments). It understands what
pydantic and hand-written tool schemas use:

* ``type`` (one, or a list such as ``["string", "null"]``), ``const``, ``enum``;
* ``$ref`` into the schema (``#/$defs/...``), recursive models included (past a few levels only
  what the schema requires is made), ``allOf``, ``anyOf`` and ``oneOf``;
* strings: ``minLength``/``maxLength``, ``pattern`` (simple regular expressions), and the
  formats ``date``, ``date-time``, ``time``, ``duration``, ``uuid``, ``email``, ``uri``,
  ``hostname``, ``ipv4``, ``ipv6`` and ``base64``;
* numbers and integers: ``minimum``/``maximum`` (exclusive ones too) and ``multipleOf``;
* arrays: ``items``, ``prefixItems``, ``minItems``/``maxItems``, ``uniqueItems``;
* objects: ``properties`` (every required one, each optional one with an even chance),
  ``additionalProperties`` and ``propertyNames`` (maps), ``minProperties``/``maxProperties``.

A schema that admits no value (``false``, an empty ``enum``, required properties that nest
forever) is a ``ValueError``.
"""

from __future__ import annotations

import base64
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from random import Random
from typing import Any

__all__ = ["example_arguments", "example_value"]

_WORDS = (
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
)
#: From this depth on, only what the schema requires is made (recursive models end here).
_SHALLOW_DEPTH = 4
#: A schema still nesting at this depth requires itself forever.
_MAX_DEPTH = 48
#: The span numbers are drawn from when a schema bounds them loosely or not at all.
_SPAN = 100

_FORMATS: dict[str, Callable[[Random], str]] = {
    "date": lambda r: f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
    "date-time": lambda r: (
        f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T"
        f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:00Z"
    ),
    "time": lambda r: f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:00",
    "duration": lambda r: f"PT{r.randint(1, 59)}M",
    "uuid": lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "email": lambda r: f"{r.choice(_WORDS)}@example.com",
    "idn-email": lambda r: f"{r.choice(_WORDS)}@example.com",
    "uri": lambda r: f"https://example.com/{r.choice(_WORDS)}",
    "iri": lambda r: f"https://example.com/{r.choice(_WORDS)}",
    "url": lambda r: f"https://example.com/{r.choice(_WORDS)}",
    "uri-reference": lambda r: f"/{r.choice(_WORDS)}",
    "hostname": lambda r: f"{r.choice(_WORDS)}.example.com",
    "ipv4": lambda r: f"192.0.2.{r.randint(1, 254)}",
    "ipv6": lambda r: f"2001:db8::{r.randint(1, 0xFFFF):x}",
    "base64": lambda r: base64.b64encode(r.choice(_WORDS).encode()).decode("ascii"),
}


def example_arguments(schema: Mapping[str, Any], rng: Random) -> dict[str, Any]:
    """A JSON object valid against the object schema ``schema``."""
    value = _Maker(schema, rng).value(schema, 0)
    if not isinstance(value, dict):
        raise ValueError("a tool's parameters must be an object schema")
    return value


def example_value(schema: Mapping[str, Any] | bool, rng: Random) -> Any:
    """Any JSON value valid against ``schema`` (the root of its ``$ref``s)."""
    root = schema if isinstance(schema, Mapping) else {}
    return _Maker(root, rng).value(schema, 0)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class _Maker:
    """One walk over a schema, drawing from one random generator."""

    def __init__(self, root: Mapping[str, Any], rng: Random) -> None:
        self.root = root
        self.rng = rng

    # -- composition ---------------------------------------------------------------------------

    def value(self, schema: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise ValueError("the schema requires values nested without end")
        if schema is True or schema is None:
            schema = {}
        if schema is False:
            raise ValueError("a schema of 'false' admits no value")
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            choices = list(schema["enum"])
            if not choices:
                raise ValueError("an empty enum admits no value")
            return self.rng.choice(choices)
        if "allOf" in schema:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged.update(self.resolve(part))
            return self.value(merged, depth)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                rest = {k: v for k, v in schema.items() if k not in (key, "default")}
                branch = self.resolve(self.pick(schema[key], depth))
                return self.value({**rest, **branch}, depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"] or ["null"]
            kind = kinds[0] if depth >= _SHALLOW_DEPTH else self.rng.choice(kinds)
        if kind is None:
            if "properties" in schema or "additionalProperties" in schema:
                kind = "object"
            elif "items" in schema or "prefixItems" in schema:
                kind = "array"
            else:
                kind = "string"
        make = _KINDS.get(kind)
        if make is None:
            raise ValueError(f"unknown JSON schema type {kind!r}")
        return make(self, schema, depth)

    def resolve(self, schema: Any) -> dict[str, Any]:
        """``schema`` with its ``$ref`` replaced by what it points to (siblings kept)."""
        if schema is True:
            return {}
        if not isinstance(schema, Mapping):
            raise ValueError(f"not a schema: {schema!r}")
        seen: set[str] = set()
        out = dict(schema)
        while "$ref" in out:
            ref = out.pop("$ref")
            if ref in seen:
                raise ValueError(f"$ref {ref!r} refers to itself")
            seen.add(ref)
            out = {**self.pointer(ref), **out}
        return out

    def pointer(self, ref: str) -> dict[str, Any]:
        if not ref.startswith("#"):
            raise ValueError(f"cannot follow $ref {ref!r} (only refs into the same schema)")
        target: Any = self.root
        for token in ref[1:].split("/")[1:] if ref != "#" else []:
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or token not in target:
                raise ValueError(f"$ref {ref!r} points nowhere")
            target = target[token]
        if not isinstance(target, Mapping):
            raise ValueError(f"$ref {ref!r} is not a schema")
        return dict(target)

    def pick(self, options: Sequence[Any], depth: int) -> Any:
        """One branch of an ``anyOf``/``oneOf``; deep down, the one that nests least."""
        if not options:
            raise ValueError("an empty anyOf/oneOf admits no value")
        if depth < _SHALLOW_DEPTH:
            return self.rng.choice(list(options))
        return min(options, key=_nesting)

    # -- the kinds of value --------------------------------------------------------------------

    def null(self, schema: Mapping[str, Any], depth: int) -> None:
        return None

    def boolean(self, schema: Mapping[str, Any], depth: int) -> bool:
        return self.rng.random() < 0.5

    def integer(self, schema: Mapping[str, Any], depth: int) -> int | float:
        low, high = _bounds(schema)
        step = schema.get("multipleOf")
        if step:
            return _multiple(float(step), low, high, self.rng)
        lo = -math.inf if low is None else math.floor(low[0]) + 1 if low[1] else math.ceil(low[0])
        hi = (
            math.inf if high is None else math.ceil(high[0]) - 1 if high[1] else math.floor(high[0])
        )
        a, b = _window(lo, hi)
        return self.rng.randint(int(a), int(b))

    def number(self, schema: Mapping[str, Any], depth: int) -> int | float:
        low, high = _bounds(schema)
        step = schema.get("multipleOf")
        if step:
            return _multiple(float(step), low, high, self.rng)
        # An exclusive bound becomes the nearest float inside it, so every bound is inclusive.
        lo = -math.inf if low is None else math.nextafter(low[0], math.inf) if low[1] else low[0]
        hi = (
            math.inf if high is None else math.nextafter(high[0], -math.inf) if high[1] else high[0]
        )
        a, b = _window(lo, hi)
        for candidate in (round(self.rng.uniform(a, b), 2), (a + b) / 2, a):
            if math.isfinite(candidate) and _within(candidate, low, high):
                return candidate
        raise ValueError("the number's bounds admit no value")

    def string(self, schema: Mapping[str, Any], depth: int) -> str:
        shortest = int(schema.get("minLength", 0))
        longest = schema.get("maxLength")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            for _ in range(8):
                found = _regex_example(pattern, self.rng)
                if found is not None and shortest <= len(found) <= (longest or len(found)):
                    return found
        make = _FORMATS.get(str(schema.get("format")))
        if make is not None:
            return make(self.rng)
        text = " ".join(self.rng.choice(_WORDS) for _ in range(self.rng.randint(1, 3)))
        if len(text) < shortest:
            text += "x" * (shortest - len(text))
        return text if longest is None else text[: int(longest)]

    def array(self, schema: Mapping[str, Any], depth: int) -> list[Any]:
        items = schema.get("items", {})
        prefix = list(schema.get("prefixItems") or ())
        if isinstance(items, list):  # the older tuple form
            prefix, items = items, schema.get("additionalItems", {})
        fewest = int(schema.get("minItems", 0))
        most = schema.get("maxItems")
        unique = bool(schema.get("uniqueItems"))
        out = [self.value(p, depth + 1) for p in prefix]
        if items is False:
            return out
        want = fewest if depth >= _SHALLOW_DEPTH else max(fewest, self.rng.randint(1, 2))
        if most is not None:
            want = min(want, int(most))
        seen = {_key(v) for v in out}
        for _ in range(want * 20 + 20):
            if len(out) >= want:
                break
            value = self.value(items, depth + 1)
            if unique and _key(value) in seen:
                continue
            seen.add(_key(value))
            out.append(value)
        return out

    def object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        properties: Mapping[str, Any] = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        fewest = int(schema.get("minProperties", 0))
        most = schema.get("maxProperties")
        out: dict[str, Any] = {}
        optional = []
        for name, sub in properties.items():
            if name in required:
                out[name] = self.value(sub, depth + 1)
            elif depth < _SHALLOW_DEPTH and self.rng.random() < 0.5:
                optional.append(name)
        for name in [n for n in required if n not in properties]:
            out[name] = self.value({}, depth + 1)
        room = (int(most) if most is not None else math.inf) - len(out)
        for name in optional[: max(0, int(min(room, len(optional))))]:
            out[name] = self.value(properties[name], depth + 1)
        missing = [n for n in properties if n not in out]
        while len(out) < fewest and missing:
            name = missing.pop(0)
            out[name] = self.value(properties[name], depth + 1)
        extra = schema.get("additionalProperties", True)
        if extra is False:
            return out
        extra_schema = extra if isinstance(extra, Mapping) else {}
        want = fewest
        if not properties and isinstance(extra, Mapping) and depth < _SHALLOW_DEPTH:
            want = max(want, self.rng.randint(1, 2))  # a map: give it an entry or two
        if most is not None:
            want = min(want, int(most))
        names = schema.get("propertyNames")
        for _ in range(want * 20):
            if len(out) >= want:
                break
            name = (
                self.value({"type": "string", **self.resolve(names)}, depth + 1)
                if names is not None
                else self.rng.choice(_WORDS)
            )
            if isinstance(name, str) and name not in out and name not in properties:
                out[name] = self.value(extra_schema, depth + 1)
        return out


_KINDS: dict[str, Callable[[_Maker, Mapping[str, Any], int], Any]] = {
    "null": _Maker.null,
    "boolean": _Maker.boolean,
    "integer": _Maker.integer,
    "number": _Maker.number,
    "string": _Maker.string,
    "array": _Maker.array,
    "object": _Maker.object,
}


def _nesting(schema: Any) -> int:
    """How much a branch nests: null first, then scalars, then containers and refs."""
    if not isinstance(schema, Mapping):
        return 1
    kind = schema.get("type")
    if kind == "null":
        return 0
    if "$ref" in schema or kind in ("object", "array") or "properties" in schema:
        return 2
    return 1


def _bounds(
    schema: Mapping[str, Any],
) -> tuple[tuple[float, bool] | None, tuple[float, bool] | None]:
    """The lower and upper bounds, each as (value, exclusive), or ``None``."""
    return (
        _bound(schema, "minimum", "exclusiveMinimum", max),
        _bound(schema, "maximum", "exclusiveMaximum", min),
    )


def _bound(
    schema: Mapping[str, Any], inclusive: str, exclusive: str, tighter: Callable[..., float]
) -> tuple[float, bool] | None:
    flag = schema.get(exclusive)
    if isinstance(flag, bool):  # draft 4 spells exclusivity as a flag on the bound
        return (schema[inclusive], flag) if inclusive in schema else None
    found: list[tuple[float, bool]] = []
    if inclusive in schema:
        found.append((schema[inclusive], False))
    if isinstance(flag, int | float):
        found.append((flag, True))
    if not found:
        return None
    best = tighter(value for value, _ in found)
    return best, any(value == best and strict for value, strict in found)


def _window(lo: float, hi: float) -> tuple[float, float]:
    """Where to draw a number between ``lo`` and ``hi``: from the lower bound (or zero) on, at
    most ``_SPAN`` wide."""
    if lo > hi:
        raise ValueError("the number's bounds admit no value")
    if lo == -math.inf:
        return (0, min(_SPAN, hi)) if hi >= 0 else (hi - _SPAN, hi)
    return lo, min(hi, lo + _SPAN)


def _within(value: float, low: tuple[float, bool] | None, high: tuple[float, bool] | None) -> bool:
    above = low is None or (value > low[0] if low[1] else value >= low[0])
    below = high is None or (value < high[0] if high[1] else value <= high[0])
    return above and below


def _multiple(
    step: float, low: tuple[float, bool] | None, high: tuple[float, bool] | None, rng: Random
) -> int | float:
    """A multiple of ``step`` within the bounds (an int when it is whole)."""
    k_lo = -math.inf if low is None else math.ceil(low[0] / step)
    k_hi = math.inf if high is None else math.floor(high[0] / step)
    if low is not None and low[1] and k_lo * step <= low[0]:
        k_lo += 1
    if high is not None and high[1] and k_hi * step >= high[0]:
        k_hi -= 1
    a, b = _window(k_lo, k_hi)
    value = rng.randint(int(a), int(b)) * step
    return int(value) if value.is_integer() else value


# -- regular expressions ------------------------------------------------------------------------

_re_parser: Any = getattr(re, "_parser", None)
_CANDIDATES = "abcxyzABCXYZ0123456789_- "


def _regex_example(pattern: str, rng: Random) -> str | None:
    """A string that ``pattern`` finds a match in, or ``None`` when this simple generator did
    not find one (lookarounds and flags are not followed, only checked)."""
    if _re_parser is None:
        return None
    try:
        parsed = _re_parser.parse(pattern)
        text = _from_parsed(parsed, rng, {})
    except (re.error, ValueError, TypeError, KeyError, RecursionError):
        return None
    return text if re.search(pattern, text) else None


def _from_parsed(parsed: Any, rng: Random, groups: dict[int, str]) -> str:
    out: list[str] = []
    for op, arg in parsed:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append(next(c for c in _CANDIDATES if ord(c) != arg))
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_from_set(arg, rng))
        elif name == "CATEGORY":
            out.append(_from_set([(op, arg)], rng))
        elif name == "BRANCH":
            out.append(_from_parsed(rng.choice(arg[1]), rng, groups))
        elif name == "SUBPATTERN":
            group, _, _, body = arg
            text = _from_parsed(body, rng, groups)
            if group is not None:
                groups[group] = text
            out.append(text)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, body = arg
            count = rng.randint(low, min(high, low + 2))
            out.extend(_from_parsed(body, rng, groups) for _ in range(count))
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # anchors and lookarounds: the made-up text is checked against the pattern
        elif name == "GROUPREF":
            out.append(groups[arg])
        else:
            raise ValueError(f"unsupported regular expression element {name}")
    return "".join(out)


def _from_set(items: Any, rng: Random) -> str:
    negate = bool(items) and str(items[0][0]) == "NEGATE"
    members = [c for c in _CANDIDATES if _in_set(c, items)]
    if negate:
        members = [c for c in _CANDIDATES if not _in_set(c, items[1:])]
    if members:
        return rng.choice(members)
    for op, arg in items:
        if str(op) == "LITERAL" and not negate:
            return chr(arg)
        if str(op) == "RANGE" and not negate:
            return chr(arg[0])
    raise ValueError("a character set this generator cannot satisfy")


def _in_set(char: str, items: Any) -> bool:
    code = ord(char)
    for op, arg in items:
        kind = str(op)
        if kind == "LITERAL" and code == arg:
            return True
        if kind == "RANGE" and arg[0] <= code <= arg[1]:
            return True
        if kind == "CATEGORY" and _in_category(char, str(arg)):
            return True
    return False


def _in_category(char: str, category: str) -> bool:
    tests = {
        "CATEGORY_DIGIT": char.isdigit(),
        "CATEGORY_NOT_DIGIT": not char.isdigit(),
        "CATEGORY_WORD": char.isalnum() or char == "_",
        "CATEGORY_NOT_WORD": not (char.isalnum() or char == "_"),
        "CATEGORY_SPACE": char.isspace(),
        "CATEGORY_NOT_SPACE": not char.isspace(),
    }
    return tests.get(category, False)
