"""Check every id the configuration refers to: group members, fallbacks, alias targets and the
default model must each name something a call can reach.

A reference resolves when it is

* the name or an alias of a group (alias targets and ``default_model`` only; ``auto`` too);
* a model alias (``models.<id>.aliases``) or a top-level alias;
* a model id configured under ``models:``;
* ``<provider>:<name>`` of a configured provider whose type accepts any model name (``mock``,
  ``openai_compatible``, ``huggingface``, ``huggingface_local``, plugins with
  ``open_model_set``);
* ``<provider>:<name>`` whose name the bundled catalog knows for that provider's type (dated
  snapshots included);
* a bare name (no ``:``) that is the name of exactly one configured or catalog model of a
  configured provider;
* for a provider that lists its models (``openai``, ``anthropic``, ``google``), a
  ``<provider>:<name>`` its model list contains.

What cannot resolve whatever a provider lists (an unconfigured provider, a bare name nothing is
called, an ambiguous bare name, a group where a model is needed, an alias cycle) is a problem
for :func:`~modelwire.config.loader.load_config`. A listing provider's model that the catalog
does not know may have been released after it, so ``load_config`` accepts it; ``modelwire config
check`` looks it up in the discovery cache (see :mod:`modelwire.discovery.config_check`): a fresh cached
list without it is a problem, no list or an old one a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modelwire.config.problems import Path, Problems
from modelwire.config.provider_types import PROVIDER_TYPES

if TYPE_CHECKING:
    from modelwire.catalog import Catalog
    from modelwire.config.schema import ProviderConfig

__all__ = ["AUTO", "Listing", "ListingSource", "check_references"]

AUTO = "auto"
"""The built-in group of every available model (``default_model: auto``)."""


@dataclass(frozen=True)
class Listing:
    """What a provider's cached model list says: its model names, when it was fetched, and
    whether that is recent enough (younger than ``discovery.ttl_s``) to trust a miss."""

    names: frozenset[str]
    fetched_at: datetime
    fresh: bool


ListingSource = Callable[[str], "Listing | None"]
"""A provider name -> its cached model list, or ``None`` when none is cached."""


def check_references(
    data: Mapping[str, Any],
    providers: Mapping[str, ProviderConfig] | None,
    problems: Problems,
    listings: ListingSource | None = None,
    skip: Callable[[Path], bool] = lambda path: False,
) -> None:
    """Record a problem (or, for an uncertain one, a warning) for each reference in ``data``
    (merged configuration data) that does not resolve. ``providers`` are the validated provider
    entries (``None`` when the ``providers`` section itself is invalid: nothing is checked);
    without ``listings`` a listing provider's model unknown to the catalog passes. References
    at paths ``skip`` accepts (values already reported as unusable) are not checked."""
    if providers is None:
        return
    _Resolver(data, providers, problems, listings, skip).run()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]


def _did_you_mean(found: list[str]) -> str:
    return "; did you mean " + ", ".join(repr(s) for s in found) + "?" if found else ""


class _Resolver:
    def __init__(
        self,
        data: Mapping[str, Any],
        providers: Mapping[str, ProviderConfig],
        problems: Problems,
        listings: ListingSource | None,
        skip: Callable[[Path], bool],
    ) -> None:
        self.problems = problems
        self.listings = listings
        self.skip = skip
        self.provider_types: dict[str, str | None] = {
            str(name): cfg.type for name, cfg in providers.items()
        }
        self.models = {str(k): v for k, v in _mapping(data.get("models")).items()}
        self.groups = {str(k): v for k, v in _mapping(data.get("groups")).items()}
        self.top_aliases = {
            str(k): v for k, v in _mapping(data.get("aliases")).items() if isinstance(v, str)
        }
        self.default_model = data.get("default_model")
        self.model_aliases: set[str] = set()
        for entry in self.models.values():
            self.model_aliases.update(a for _, a in _strings(_mapping(entry).get("aliases")))
        self.group_names: set[str] = {AUTO, *self.groups}
        for group in self.groups.values():
            self.group_names.update(a for _, a in _strings(_mapping(group).get("aliases")))
        self._catalog: Catalog | bool | None = False
        self._open: dict[str, bool | None] = {}
        self._names: dict[str, set[str]] | None = None

    # what exists -------------------------------------------------------------------------

    def catalog(self) -> Catalog | None:
        if self._catalog is False:
            try:
                from modelwire.catalog import load_catalog

                self._catalog = load_catalog()
            except Exception:  # a broken catalog must not make configuration unreadable
                self._catalog = None
        return self._catalog  # type: ignore[return-value]

    def is_open(self, ptype: str) -> bool | None:
        """Whether providers of ``ptype`` accept any model name (``None``: cannot tell)."""
        if ptype not in self._open:
            found = PROVIDER_TYPES.get(ptype)
            try:
                self._open[ptype] = found.open_model_set() if found is not None else None
            except Exception:  # a plugin that cannot load (reported elsewhere)
                self._open[ptype] = None
        return self._open[ptype]

    def configured_model(self, ref: str) -> bool:
        """``ref`` is a ``models:`` key of a configured provider (a key naming an unconfigured
        one is reported at the key, and again wherever it is used)."""
        return ref in self.models and ref.partition(":")[0] in self.provider_types

    def catalog_ids(self, provider: str) -> list[str]:
        ptype = self.provider_types.get(provider)
        cat = self.catalog()
        if ptype is None or cat is None:
            return []
        return [info.id for info in cat.for_provider(provider, ptype)]

    def names(self) -> dict[str, set[str]]:
        """Bare model name -> the ids of that name (configured models, catalog models of the
        configured providers), as the registry matches a name without a provider."""
        if self._names is None:
            names: dict[str, set[str]] = {}
            for provider in self.provider_types:
                for model_id in self.catalog_ids(provider):
                    names.setdefault(model_id.partition(":")[2], set()).add(model_id)
            for model_id, entry in self.models.items():
                name = model_id.partition(":")[2]
                if not (name and self.configured_model(model_id)):
                    continue
                own = _mapping(entry).get("name")
                names.setdefault(own if isinstance(own, str) and own else name, set()).add(model_id)
            self._names = names
        return self._names

    def known_ids(self) -> list[str]:
        """Every full model id a reference could have meant, for suggestions."""
        pool = [i for i in self.models if self.configured_model(i)]
        for provider in self.provider_types:
            pool += self.catalog_ids(provider)
        return pool

    def known(self, groups_ok: bool) -> list[str]:
        """Every name and id a bare reference could have meant, for suggestions."""
        pool = [*self.known_ids(), *self.model_aliases, *self.top_aliases, *self.names()]
        if groups_ok:
            pool += self.group_names
        return pool

    # the checks -----------------------------------------------------------------------------

    def run(self) -> None:
        for gname, group in self.groups.items():
            for i, member in _strings(_mapping(group).get("members")):
                self.check(member, ("groups", gname, "members", i), "member", groups_ok=False)
        for model_id, entry in self.models.items():
            for i, fallback in _strings(_mapping(entry).get("fallbacks")):
                at: Path = ("models", model_id, "fallbacks", i)
                self.check(fallback, at, "fallback", groups_ok=False)
        for alias, target in self.top_aliases.items():
            at = ("aliases", alias)
            if self.skip(at):
                continue
            cycle = self.alias_cycle(alias)
            if cycle:
                self.problems.add(at, f"alias {alias!r} leads back to itself ({cycle})")
                continue
            if target not in self.top_aliases:
                self.check(target, at, "alias target", groups_ok=True)
        if isinstance(self.default_model, str):
            self.check(self.default_model, ("default_model",), "default model", groups_ok=True)

    def alias_cycle(self, alias: str) -> str | None:
        chain = [alias]
        target = self.top_aliases[alias]
        while target in self.top_aliases:
            if target in chain:
                return " -> ".join([*chain[chain.index(target) :], target])
            chain.append(target)
            target = self.top_aliases[target]
        return None

    def final_target(self, alias: str) -> str:
        target = self.top_aliases[alias]
        seen = {alias}
        while target in self.top_aliases and target not in seen:
            seen.add(target)
            target = self.top_aliases[target]
        return target

    def check(self, ref: str, at: Path, what: str, *, groups_ok: bool) -> None:
        if self.skip(at):
            return
        if not ref:
            self.problems.add(at, f"{what} must not be empty")
            return
        if ref in self.group_names:
            if not groups_ok:
                self.problems.add(
                    at, f"{what} {ref!r} is a group; a {what} must be a model (groups do not nest)"
                )
            return
        if ref in self.top_aliases:
            target = self.final_target(ref)
            if not groups_ok and target in self.group_names:
                self.problems.add(
                    at,
                    f"{what} {ref!r} is an alias of the group {target!r}; a {what} must be a model",
                )
            return  # the alias's own target is checked at the alias
        if ref in self.model_aliases or self.configured_model(ref):
            return
        if ":" in ref:
            self.check_id(ref, at, what)
        else:
            self.check_bare(ref, at, what, groups_ok)

    def check_id(self, ref: str, at: Path, what: str) -> None:
        provider, _, name = ref.partition(":")
        if provider not in self.provider_types:
            configured = ", ".join(sorted(self.provider_types)) or "none"
            guesses = [f"{p}:{name}" for p in self.suggest(provider, list(self.provider_types))]
            close = list(dict.fromkeys([*guesses, *self.suggest(ref, self.known_ids())]))[:3]
            self.problems.add(
                at,
                f"{what} {ref!r} names provider {provider!r}, which is not configured "
                f"(configured providers: {configured}){_did_you_mean(close)}",
            )
            return
        ptype = self.provider_types[provider]
        if ptype is None:
            return  # the provider entry itself is invalid and reported as such
        if not name:
            self.problems.add(at, f"{what} {ref!r} has no model name after ':'")
            return
        is_open = self.is_open(ptype)
        if is_open:
            return
        cat = self.catalog()
        if cat is not None and cat.lookup(ptype, name) is not None:
            return
        if self.listings is None:
            return  # it may be a model released after the catalog: only `config check` knows
        self.check_listed(ref, provider, name, at, what, known_type=is_open is not None)

    def check_listed(
        self, ref: str, provider: str, name: str, at: Path, what: str, *, known_type: bool
    ) -> None:
        assert self.listings is not None
        listing = self.listings(provider)
        if listing is not None and name in listing.names:
            return
        pool = [i for i in self.known_ids() if i.startswith(provider + ":")]
        if listing is not None:
            pool += [f"{provider}:{n}" for n in listing.names]
        hint = _did_you_mean(self.suggest(ref, pool))
        if listing is None:
            self.problems.warn(
                at,
                f"{what} {ref!r} is not in the catalog and no model list of {provider!r} is "
                f"cached, so it cannot be checked (`modelwire discover` fetches the list){hint}",
            )
            return
        fetched = listing.fetched_at.strftime("%Y-%m-%d %H:%M UTC")
        if listing.fresh and known_type:
            self.problems.add(
                at,
                f"{what} {ref!r}: {provider!r} does not list a model {name!r} (model list "
                f"cached {fetched}) and the catalog does not know it{hint}",
            )
        else:
            self.problems.warn(
                at,
                f"{what} {ref!r} is neither in the catalog nor in the model list of "
                f"{provider!r} cached {fetched}, which is older than discovery.ttl_s "
                f"(`modelwire discover` refreshes it){hint}",
            )

    def check_bare(self, ref: str, at: Path, what: str, groups_ok: bool) -> None:
        ids = self.names().get(ref, set())
        if len(ids) == 1:
            return
        if ids:
            listed = ", ".join(repr(i) for i in sorted(ids))
            self.problems.add(
                at, f"{what} {ref!r} is ambiguous: it is the name of {listed}; write the full id"
            )
            return
        kinds = "configured model, alias, group or" if groups_ok else "configured model, alias or"
        close = self.suggest(ref, self.known(groups_ok))
        self.problems.add(
            at,
            f"{what} {ref!r} is not a {kinds} catalog model of a configured provider "
            f"(a model only a provider's list has needs its full '<provider>:<name>' id)"
            f"{_did_you_mean(close)}",
        )

    @staticmethod
    def suggest(ref: str, pool: list[str]) -> list[str]:
        from modelwire.naming import suggest

        return suggest(ref, [p for p in pool if p != ref])
