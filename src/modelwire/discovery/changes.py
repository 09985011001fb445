"""What a discovery would change in a registry: new, gone, unavailable and unpriced models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from modelwire.discovery.merge import MergePlan
from modelwire.discovery.result import DiscoveryResult
from modelwire.types import ModelInfo

__all__ = ["DiscoveryChanges", "compare"]


@dataclass(frozen=True, slots=True)
class DiscoveryChanges:
    """The differences between a registry and the merge of a discovery result into it.

    ``new``: listed ids the registry does not have. ``gone``: registered ids their provider
    answered without (removed when only ever discovered, otherwise marked unavailable).
    ``unavailable``: id → reason for every model of an answering provider that is unavailable
    after the merge. ``unpriced``: listed ids without a known input and output price.
    ``errors``: provider → message.
    """

    new: tuple[str, ...] = ()
    gone: tuple[str, ...] = ()
    unavailable: dict[str, str] = field(default_factory=dict)
    unpriced: tuple[str, ...] = ()
    errors: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "new": list(self.new),
            "gone": list(self.gone),
            "unavailable": dict(self.unavailable),
            "unpriced": list(self.unpriced),
            "errors": dict(self.errors),
        }


def compare(
    before: Iterable[ModelInfo], result: DiscoveryResult, plan: MergePlan
) -> DiscoveryChanges:
    """The changes ``plan`` (the merge of ``result``) makes to the models ``before``."""
    old = {m.id: m for m in before}
    after = plan.by_id()
    answered = set(result.providers)
    listed = {m.id for m in result.models}
    gone = [
        mid
        for mid, info in old.items()
        if info.provider in answered
        and mid not in listed
        and (mid not in after or (info.available and not after[mid].available))
    ]
    unavailable = {
        mid: info.unavailable_reason or "unavailable"
        for mid, info in after.items()
        if info.provider in answered and not info.available
    }
    return DiscoveryChanges(
        new=tuple(sorted(listed - set(old))),
        gone=tuple(sorted(gone)),
        unavailable=dict(sorted(unavailable.items())),
        unpriced=tuple(sorted(m.id for m in result.models if not m.is_priced)),
        errors=dict(sorted(result.errors.items())),
    )
