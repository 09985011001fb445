"""Moved to ``modelwire.catalog.pricing`` (prices and cost arithmetic live with the catalog); this
alias keeps old imports working."""

from modelwire.catalog.pricing import *  # noqa: F403
from modelwire.catalog.pricing import __all__ as __all__
