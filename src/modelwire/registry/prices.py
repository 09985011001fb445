"""``price_of``: the prices of a model, from a registry (configuration included) or the catalog.

Resolution is done once per question, never on the call path: a service prices calls with the
``ModelCost`` already attached to each model's ``ModelInfo``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelwire.types import ModelCost, ModelInfo

if TYPE_CHECKING:
    from modelwire.registry.model_registry import ModelRegistry

__all__ = ["price_of"]


def price_of(model: str | ModelInfo, registry: ModelRegistry | None = None) -> ModelCost | None:
    """The prices of ``model`` (an id, alias, bare name, ``ModelEnum`` member or ``ModelInfo``).

    With ``registry``: what that registry charges, so configuration overrides (``cost:``) and
    aliases apply; a name the registry does not know raises ``ModelNotFoundError`` with
    suggestions. Without: the bundled catalog, which knows ``"<vendor>:<name>"`` ids, dated
    snapshots and aliases (``claude-sonnet-4-5-20250929``), bare names across vendors
    (``"gpt-4o"``), and any other provider's id by its model name (``"mock:gpt-4o-mini"``);
    ``None`` when the catalog does not know the model.
    """
    if isinstance(model, ModelInfo):
        return model.cost
    if registry is not None:
        return registry.get_model_info(str(model)).cost
    from modelwire.catalog import load_catalog

    return load_catalog().price_for(str(model))
