"""Load configuration: find the file, parse it with line numbers, merge the layers, validate.

Layers, lowest first: built-in defaults < (the catalog, applied later by the registry) < the file
< ``MODELWIRE_*`` environment variables < ``overrides`` from code. Every problem found is reported
at once in one :class:`~modelwire.errors.ConfigError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from modelwire.config import problems as _p
from modelwire.config.env import (
    CONFIG_PATH_VAR,
    MAX_NESTING,
    VENDOR_KEY_VARS,
    builtin_defaults,
    env_layer,
    nesting_depth,
    substitute_tree,
)
from modelwire.config.schema import Config
from modelwire.config.secrets import mask_url
from modelwire.config.validate import ListingLoader, allowed_fields, validate_config
from modelwire.errors import ConfigError

__all__ = [
    "CONFIG_FILE_NAME",
    "LoadOutcome",
    "config_to_dict",
    "default_config",
    "find_config_file",
    "load_checked",
    "load_config",
    "parse_config_text",
    "user_config_file",
]

CONFIG_FILE_NAME = "modelwire.yaml"
MASK = "**********"


def user_config_file() -> Path:
    """``<user config dir>/modelwire.yaml`` (platformdirs ``user_config_dir("modelwire")``)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("modelwire")) / CONFIG_FILE_NAME


def find_config_file(env: Mapping[str, str] | None = None) -> Path | None:
    """The configuration file to use when none is named, or ``None`` (built-in defaults).

    Order: the file ``MODELWIRE_CONFIG`` names (an error if it does not exist), then
    ``./modelwire.yaml``, then ``<user config dir>/modelwire.yaml``.
    """
    env = os.environ if env is None else env
    named = env.get(CONFIG_PATH_VAR)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigError([(named, f"file not found (named by {CONFIG_PATH_VAR})")])
        return path
    for candidate in (Path.cwd() / CONFIG_FILE_NAME, user_config_file()):
        if candidate.is_file():
            return candidate
    return None


def load_config(
    path: str | Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Load, merge and validate the configuration.

    ``path`` names the file; when ``None`` the search order of :func:`find_config_file` applies,
    and without any file the built-in defaults are used. ``env`` replaces ``os.environ`` for
    ``${VAR}`` substitution, ``MODELWIRE_*`` variables and vendor API keys. ``overrides`` is
    deep-merged last. Raises :class:`~modelwire.errors.ConfigError` listing every problem.
    """
    return load_checked(path, overrides=overrides, env=env).config_or_raise()


def parse_config_text(
    text: str,
    source_name: str = "<string>",
    *,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Like :func:`load_config` for YAML ``text`` already in hand; ``source_name`` labels errors."""
    env = os.environ if env is None else env
    return _from_text(text, source_name, env, overrides, None).config_or_raise()


@dataclass(frozen=True)
class LoadOutcome:
    """What loading found: the configuration (``None`` when there are ``problems``), every
    problem and every warning, each as a ``(location, message)`` pair."""

    config: Config | None
    problems: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def config_or_raise(self) -> Config:
        """The configuration, or :class:`~modelwire.errors.ConfigError` with the problems."""
        if self.problems or self.config is None:
            raise ConfigError(self.problems or [("", "configuration could not be loaded")])
        return self.config


def load_checked(
    path: str | Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    listings: ListingLoader | None = None,
) -> LoadOutcome:
    """:func:`load_config`'s work, returning problems and warnings instead of raising; with
    ``listings`` references are also checked against the providers' model lists."""
    env = os.environ if env is None else env
    try:
        file = Path(path) if path is not None else find_config_file(env)
    except ConfigError as exc:
        return LoadOutcome(None, exc.problems)
    if file is None:
        return _build(None, "", env, overrides, listings)
    shown = str(path) if path is not None else str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadOutcome(None, [(shown, "file not found")])
    except UnicodeDecodeError as exc:
        return LoadOutcome(None, [(shown, f"not UTF-8 text ({exc.reason} at byte {exc.start})")])
    except OSError as exc:
        return LoadOutcome(None, [(shown, f"cannot read the file: {exc.strerror or exc}")])
    except ValueError as exc:  # a path holding a NUL character
        return LoadOutcome(None, [(_p.one_line(shown), f"cannot read the file: {exc}")])
    return _from_text(text, shown, env, overrides, listings)


def _from_text(
    text: str,
    source_name: str,
    env: Mapping[str, str],
    overrides: Mapping[str, Any] | None,
    listings: ListingLoader | None,
) -> LoadOutcome:
    from modelwire.config.yaml_lines import YamlSyntaxError, parse_yaml

    try:
        parsed = parse_yaml(text)
    except YamlSyntaxError as exc:
        where = source_name if exc.line is None else f"{source_name}:{exc.line}"
        if exc.path:
            where = f"{where} {_p.format_path(exc.path)}"
        earlier = [(f"{source_name}:{line}", message) for line, message in exc.also]
        return LoadOutcome(None, [*earlier, (where, exc.message)])
    return _build(parsed, source_name, env, overrides, listings)


def default_config(*, env: Mapping[str, str] | None = None) -> Config:
    """The built-in defaults alone: the ``mock`` provider plus vendors whose API key is set."""
    env = os.environ if env is None else env
    return Config.model_validate(builtin_defaults(env))


def config_to_dict(cfg: Config, *, mask_secrets: bool = True) -> dict[str, Any]:
    """``cfg`` as plain JSON-able data; API keys, header values and passwords in URLs (a
    ``base_url``, the usage database) are masked."""
    data: dict[str, Any] = cfg.model_dump(mode="json", serialize_as_any=True)
    if mask_secrets:
        for entry in data.get("providers", {}).values():
            headers = entry.get("headers") or {}
            for name in headers:  # any header may carry a credential: names only
                headers[name] = MASK
            if entry.get("base_url"):
                entry["base_url"] = mask_url(entry["base_url"])
        usage = data.get("usage") or {}
        if usage.get("database"):
            usage["database"] = mask_url(usage["database"])
    if not mask_secrets:
        for name, provider in cfg.providers.items():
            if provider.api_key is not None:
                data["providers"][name]["api_key"] = provider.api_key.get_secret_value()
    return data


def _build(
    parsed: Any,
    source: str,
    env: Mapping[str, str],
    overrides: Mapping[str, Any] | None,
    listings: ListingLoader | None,
) -> LoadOutcome:
    problems = _p.Problems()
    origins = _p.Origins()
    poisoned: set[_p.Path] = set()
    file_data: dict[str, Any] = {}
    if parsed is not None:
        for path, line, message in parsed.issues:
            problems.add(path, message, where=f"{source}:{line}")
        poisoned.update(parsed.unusable)
        data = parsed.data
        if data is None:
            data = {}
        if not isinstance(data, dict):
            found = _p.show_value(data)
            return LoadOutcome(
                None,
                [
                    *problems.render(origins),
                    (f"{source}:1", f"expected a mapping of configuration sections; got {found}"),
                ],
            )
        # top-level ``x-*`` keys are free for YAML anchors (``x-server: &server {...}``)
        # and a section left empty (`models:` alone) means "none", not "replace the defaults"
        data = {k: v for k, v in data.items() if not k.startswith("x-") and v is not None}
        data, subst = substitute_tree(data, env)
        for path, message in subst:
            problems.add(path, message)
            poisoned.add(path)
        file_data = data

    merged = builtin_defaults(env)
    _record(origins, merged, (), lambda p: ("defaults", None))
    for vendor, variables in VENDOR_KEY_VARS.items():
        variable = next((v for v in variables if env.get(v)), None)
        if variable is not None and vendor in merged["providers"]:
            origins.set(("providers", vendor, "api_key"), f"${variable}")
    file_providers = file_data.get("providers")
    if isinstance(file_providers, dict):
        for vendor in VENDOR_KEY_VARS:  # a file's own entry replaces the built-in one wholesale
            if vendor in file_providers:
                merged["providers"].pop(vendor, None)
    if parsed is not None:
        lines: dict[_p.Path, int] = parsed.lines
        origins.set((), source, lines.get(()))
        _merge(merged, file_data, (), origins, lambda p: (source, _nearest(lines, p)))

    fields = frozenset(allowed_fields(Config))
    layer, setters, env_problems = env_layer(env, fields)
    for var, message in env_problems:
        problems.add(None, message, where=f"${var}")
    _merge(merged, layer, (), origins, lambda p: (f"${_setter(setters, p)}", None))

    if overrides:
        if nesting_depth(overrides) > MAX_NESTING:
            return LoadOutcome(None, [("overrides", f"nested more than {MAX_NESTING} levels deep")])
        plain = _plain(overrides)
        if not isinstance(plain, dict):
            return LoadOutcome(None, [("overrides", "expected a mapping")])
        _merge(merged, plain, (), origins, lambda p: ("overrides", None))

    cfg = validate_config(merged, problems, poisoned, listings)
    warnings = problems.render_warnings(origins)
    if problems or cfg is None:
        return LoadOutcome(None, problems.render(origins), warnings)
    return LoadOutcome(cfg.model_copy(update={"source": source or None}), [], warnings)


def _nearest(lines: Mapping[_p.Path, int], path: _p.Path) -> int | None:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def _setter(setters: Mapping[_p.Path, str], path: _p.Path) -> str:
    probe = path
    while probe and probe not in setters:
        probe = probe[:-1]
    return setters.get(probe, "MODELWIRE_*")


def _record(origins: _p.Origins, value: Any, path: _p.Path, label: Any) -> None:
    name, line = label(path)
    origins.set(path, name, line)
    if isinstance(value, dict):
        for k, v in value.items():
            _record(origins, v, (*path, k), label)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _record(origins, v, (*path, i), label)


def _merge(
    base: dict[str, Any], layer: Mapping[str, Any], path: _p.Path, origins: _p.Origins, label: Any
) -> None:
    """Deep-merge ``layer`` into ``base`` (mappings merge key by key; anything else replaces)."""
    for key, value in layer.items():
        at = (*path, key)
        current = base.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _merge(current, value, at, origins, label)
        else:
            base[key] = _copy(value)
            _record(origins, value, at, label)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """Overrides as plain data: pydantic models become the fields that were set on them."""
    if isinstance(value, BaseModel):
        return {k: _plain(v) for k, v in value.model_dump(exclude_unset=True).items()}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
