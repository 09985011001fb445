"""Validate merged configuration data, collecting every problem with its field path.

Provider entries are validated first, each against the settings class of its type, so their
problems read ``providers.<name>.<field>``; cross-references (model keys, group members, aliases)
are checked next; the rest goes through :class:`~modelwire.config.schema.Config`.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ValidationError

from modelwire.config.problems import Path, Problems, show_value
from modelwire.config.references import ListingSource, check_references
from modelwire.config.schema import (
    BUILTIN_PROVIDER_TYPES,
    MAX_PRICE,
    PRICE_PLACES,
    Config,
    DiscoveryConfig,
    ProviderConfig,
    RequestDefaults,
    check_price,
    provider_settings_class,
    resolve_provider_type,
)
from modelwire.config.yaml_lines import describe_character

__all__ = ["ListingLoader", "allowed_fields", "translate_error", "validate_config"]

_SECTIONS = ("providers", "models", "groups", "aliases", "retry", "usage", "discovery")
_RANGE = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}
_RANGE_CTX = {
    "greater_than": "gt",
    "greater_than_equal": "ge",
    "less_than": "lt",
    "less_than_equal": "le",
}
_EXPECTED = {
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dict_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
    "string_type": "a string",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "int_parsing_size": "an integer within the field's bounds",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "finite_number": "a finite number",
}


ListingLoader = Callable[[Mapping[str, ProviderConfig], float], ListingSource]
"""Validated provider entries and ``discovery.ttl_s`` -> their cached model lists."""


def validate_config(
    merged: dict[str, Any],
    problems: Problems,
    poisoned: set[Path],
    listings: ListingLoader | None = None,
) -> Config | None:
    """Validate ``merged``; record every problem in ``problems``; ``None`` when there were any.

    With ``listings``, references to models of providers that list their models are checked
    against those lists too (see :mod:`modelwire.config.references`).
    """
    _check_characters(merged, (), problems, poisoned)
    data = dict(merged)
    if "source" in data:  # a Config attribute, but not something a file may set
        data.pop("source")
        problems.add(("source",), _unknown_field_message("source", Config))
    for section in _SECTIONS:  # `models:` with nothing under it means "none"
        if section in data and data[section] is None:
            del data[section]
    if isinstance(data.get("models"), dict):  # `local:llama3.1:` alone: an entry of defaults
        data["models"] = {k: {} if v is None else v for k, v in data["models"].items()}
    providers = data.get("providers")
    if isinstance(providers, dict):
        data["providers"] = _validate_providers(providers, problems, poisoned)
    _check_prices(data, problems)
    _check_params(data, problems, poisoned)
    configured = set(providers) if isinstance(providers, dict) else None
    _check_references(data, configured, problems)
    if isinstance(providers, dict):
        validated: dict[str, ProviderConfig] = data["providers"]
        source = listings(validated, _ttl_s(data)) if listings is not None else None
        check_references(data, validated, problems, source, lambda p: _poisoned(p, poisoned))
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        cross_checked = bool(problems)
        for err in exc.errors():
            if not err["loc"] and cross_checked:
                continue  # Config's own cross-check; ours above already named each case
            path, msg = translate_error(err, (), Config)
            if not _poisoned(path, poisoned):
                problems.add(path, msg)
        return None
    return None if problems else cfg


def _ttl_s(data: Mapping[str, Any]) -> float:
    """``discovery.ttl_s`` of ``data``, or its default when the section is not valid."""
    try:
        return DiscoveryConfig.model_validate(data.get("discovery") or {}).ttl_s
    except ValidationError:
        return DiscoveryConfig().ttl_s


def _check_characters(value: Any, at: Path, problems: Problems, poisoned: set[Path]) -> None:
    """No string may hold a control character (tab and line breaks are allowed in ``params``,
    whose values are sent to the provider): they break HTTP headers, URLs and database rows."""
    if isinstance(value, str):
        found = _control_character(value, in_params=_in_params(at))
        if found is not None:
            index, char = found
            problems.add(
                at,
                f"contains a {describe_character(char)} at position {index + 1}; "
                "configuration values must not hold control characters",
            )
            poisoned.add(at)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                found = _control_character(key, in_params=False)
                if found is not None:
                    problems.add(
                        (*at, key),
                        f"this key contains a {describe_character(found[1])}; "
                        "configuration keys must not hold control characters",
                    )
                    poisoned.add((*at, key))
                    continue
            _check_characters(item, (*at, key), problems, poisoned)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_characters(item, (*at, i), problems, poisoned)


def _in_params(at: Path) -> bool:
    return len(at) > 3 and at[0] == "models" and at[2] == "params"


def _control_character(text: str, *, in_params: bool) -> tuple[int, str] | None:
    if text.isprintable():
        return None
    for index, char in enumerate(text):
        code = ord(char)
        if in_params and char in "\t\n\r":
            continue
        if code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code <= 0xDFFF:
            return index, char
    return None


def _poisoned(path: Path, poisoned: set[Path]) -> bool:
    return any(path[: len(p)] == p for p in poisoned)


def _validate_providers(
    providers: dict[str, Any], problems: Problems, poisoned: set[Path]
) -> dict[str, ProviderConfig]:
    out: dict[str, ProviderConfig] = {}
    known = ", ".join(sorted(BUILTIN_PROVIDER_TYPES))
    for name, raw in providers.items():
        at: Path = ("providers", name)
        placeholder = ProviderConfig.model_construct(type=None)
        out[name] = placeholder
        if isinstance(raw, ProviderConfig):
            out[name] = raw
            continue
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            problems.add(at, f"expected a mapping of provider settings; got {show_value(raw)}")
            continue
        if raw.get("api_key") == "":  # `${KEY:-}` with KEY unset: no key, not an empty one
            raw = {k: v for k, v in raw.items() if k != "api_key"}
        rtype = raw.get("type")
        if rtype is not None and not isinstance(rtype, str):
            problems.add((*at, "type"), f"expected a provider type name; got {show_value(rtype)}")
            continue
        try:
            ptype = resolve_provider_type(str(name), rtype)
        except ValueError:
            problems.add(
                (*at, "type"),
                f"missing 'type': {name!r} is not a provider type, so the entry must name one "
                f"(known types: {known})",
            )
            continue
        try:
            cls = provider_settings_class(ptype)
        except Exception:  # unknown to the built-ins and to every plugin
            problems.add((*at, "type"), f"unknown provider type {ptype!r}; known types: {known}")
            continue
        try:
            out[name] = cls.model_validate({**raw, "type": ptype})
        except ValidationError as exc:
            for err in exc.errors():
                path, msg = translate_error(err, at, cls)
                if not _poisoned(path, poisoned):
                    problems.add(path, msg)
    return out


def _check_prices(data: dict[str, Any], problems: Problems) -> None:
    """Reject prices that are not finite, non-negative numbers before pydantic sees them."""
    models = data.get("models")
    if not isinstance(models, dict):
        return
    models = data["models"] = dict(models)
    for model_id, entry in list(models.items()):
        cost = entry.get("cost") if isinstance(entry, dict) else None
        if not isinstance(cost, dict):
            continue
        fixed = dict(cost)
        for key, value in cost.items():
            if (
                not key.endswith("_per_mtok")
                or value is None
                or isinstance(value, bool | list | dict)
            ):
                continue
            try:
                dec = Decimal(repr(value) if isinstance(value, float) else str(value))
                check_price(dec)
                ok = True
            except (InvalidOperation, ValueError):
                ok = False
            if not ok:
                at: Path = ("models", model_id, "cost", key)
                problems.add(
                    at,
                    f"expected a price from 0 to {MAX_PRICE} USD per million tokens with at most "
                    f"{PRICE_PLACES} decimal places; got {show_value(value)}",
                )
                fixed[key] = None
        models[model_id] = {**entry, "cost": fixed}


def _check_params(data: dict[str, Any], problems: Problems, poisoned: set[Path]) -> None:
    """A model's ``params``: request fields within their bounds, the rest plain JSON data."""
    models = data.get("models")
    if not isinstance(models, dict):
        return
    fields = RequestDefaults.model_fields
    for model_id, entry in models.items():
        params = entry.get("params") if isinstance(entry, dict) else None
        if not isinstance(params, dict):
            continue
        at: Path = ("models", model_id, "params")
        known = {k: v for k, v in params.items() if k in fields}
        try:
            RequestDefaults.model_validate(known)
        except ValidationError as exc:
            for err in exc.errors():
                path, msg = translate_error(err, at, RequestDefaults)
                problems.add(path, msg)
                poisoned.add(path)
        for key, value in params.items():
            if key not in fields:
                _check_json(value, (*at, key), problems, poisoned)


def _check_json(value: Any, at: Path, problems: Problems, poisoned: set[Path]) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            problems.add(at, f"expected a finite number; got {show_value(value, at)}")
            poisoned.add(at)
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, (*at, i), problems, poisoned)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_json(item, (*at, key), problems, poisoned)
        return
    problems.add(
        at,
        "expected plain data (a string, number, boolean, null, list or mapping) to send to "
        f"the provider; got {show_value(value, at)}",
    )
    poisoned.add(at)


def _check_references(
    data: dict[str, Any], configured: set[str] | None, problems: Problems
) -> None:
    """Model keys must name configured providers; aliases are unique; group names have no ':';
    weights name members. (Where group members, fallbacks and alias targets lead is checked by
    :func:`~modelwire.config.references.check_references`.)"""
    listing = ", ".join(sorted(configured)) if configured else "none"

    def provider_ok(ref: Any, at: Path, what: str) -> None:
        if configured is None or not isinstance(ref, str) or ":" not in ref:
            return
        provider = ref.partition(":")[0]
        if provider not in configured:
            problems.add(
                at,
                f"{what} {ref!r} names provider {provider!r}, which is not configured "
                f"(configured providers: {listing})",
            )

    owners: dict[str, str] = {}

    def claim(alias: Any, owner: str, at: Path) -> None:
        if not isinstance(alias, str):
            return
        if alias in owners and owners[alias] != owner:
            problems.add(at, f"alias {alias!r} is already used by {owners[alias]!r}")
        else:
            owners[alias] = owner

    models = data.get("models")
    if isinstance(models, dict):
        for model_id, entry in models.items():
            provider, sep, name = str(model_id).partition(":")
            if not (sep and provider and name):
                problems.add(
                    ("models", model_id),
                    f"a model key must look like '<provider>:<model>' "
                    f"(e.g. 'openai:gpt-4o-mini'); got {model_id!r}",
                )
            else:
                provider_ok(model_id, ("models", model_id), "model")
            if isinstance(entry, dict) and isinstance(entry.get("aliases"), list):
                for i, alias in enumerate(entry["aliases"]):
                    claim(alias, str(model_id), ("models", model_id, "aliases", i))
    groups = data.get("groups")
    if isinstance(groups, dict):
        for gname, group in groups.items():
            if ":" in str(gname):
                problems.add(("groups", gname), "a group name must not contain ':' (ids do)")
            if not isinstance(group, dict):
                continue
            members = group.get("members")
            weights = group.get("weights")
            if isinstance(weights, dict) and isinstance(members, list):
                for key in weights:
                    if key not in members:
                        problems.add(
                            ("groups", gname, "weights", key),
                            f"a weight for {key!r}, which is not a member of the group",
                        )
            if isinstance(group.get("aliases"), list):
                for i, alias in enumerate(group["aliases"]):
                    claim(alias, str(gname), ("groups", gname, "aliases", i))
    aliases = data.get("aliases")
    if isinstance(aliases, dict):
        for alias, target in aliases.items():
            claim(alias, str(target), ("aliases", alias))


def translate_error(
    err: Mapping[str, Any], prefix: Path, root: type[BaseModel]
) -> tuple[Path, str]:
    """One pydantic error as ``(field path, message)``: what was expected and what was found."""
    loc: Path = tuple(err["loc"])
    kind = str(err["type"])
    ctx = err.get("ctx") or {}
    found = err.get("input")
    if loc and loc[-1] == "[key]":
        path = (*prefix, *loc[:-1])
        return path, f"expected a string key; got {show_value(found)}"
    path = (*prefix, *loc)
    shown = show_value(found, path)
    if kind == "extra_forbidden":
        owner = model_at(root, loc[:-1])
        return path, _unknown_field_message(str(loc[-1]), owner)
    if kind == "missing":
        return path, f"required field {str(loc[-1])!r} is missing" if loc else "required"
    if kind == "literal_error":
        return path, f"expected one of {ctx.get('expected')}; got {shown}"
    if kind in _RANGE:
        bound = ctx.get(_RANGE_CTX[kind])
        return path, f"expected a number {_RANGE[kind]} {bound}; got {shown}"
    if kind == "too_short":
        n = ctx.get("min_length")
        return path, f"expected at least {n} item{'s' if n != 1 else ''}; got {shown}"
    if len(path) >= 2 and path[-2] == "capabilities" and kind != "extra_forbidden":
        names = "basic, moderate, strong, exceptional"
        return path, f"expected a capability strength ({names}, or 1-4); got {shown}"
    if kind == "value_error" and not loc:  # a whole-config check: nothing single was "found"
        return path, str(err.get("msg", "")).removeprefix("Value error, ")
    if kind == "value_error":
        text = str(err.get("msg", "")).removeprefix("Value error, ")
        if shown.endswith("(value hidden)"):
            return path, f"invalid value: {shown}"
        return path, text if "got" in text else f"{text}; got {shown}"
    if kind in _EXPECTED:
        return path, f"expected {_EXPECTED[kind]}; got {shown}"
    text = str(err.get("msg", "invalid value"))
    if text.startswith("Input should be "):
        text = "expected " + text.removeprefix("Input should be ")
    return path, f"{text}; got {shown}"


def _unknown_field_message(field: str, owner: type[BaseModel] | None) -> str:
    if owner is None:
        return f"unknown field {field!r}"
    allowed = allowed_fields(owner)
    close = difflib.get_close_matches(field, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown field {field!r}{hint}; allowed fields: {', '.join(allowed)}"


def allowed_fields(cls: type[BaseModel]) -> list[str]:
    """The field names a configuration section accepts, in declaration order."""
    return [name for name, f in cls.model_fields.items() if not f.exclude]


def model_at(root: type[BaseModel], path: Path) -> type[BaseModel] | None:
    """The pydantic model class that validates the value at ``path`` under ``root``, if any."""
    tp: Any = root
    for seg in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(str(seg))
            if info is None:
                return None
            tp = info.annotation
            continue
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (dict, Mapping) and len(args) == 2:
            tp = args[1]
        elif origin in (list, tuple) and args:
            tp = args[0]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        arms = [a for a in typing.get_args(tp) if a is not type(None)]
        for arm in arms:
            if isinstance(arm, type) and issubclass(arm, BaseModel):
                return arm
        return arms[0] if arms else tp
    return tp
