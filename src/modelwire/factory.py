"""Moved to ``modelwire.providers.factory``; this alias keeps old imports working."""

from modelwire.providers.factory import *  # noqa: F403
from modelwire.providers.factory import __all__ as __all__
