"""Moved to ``modelwire.demo``; this alias keeps old imports working."""

from modelwire.demo import *  # noqa: F403
from modelwire.demo import __all__ as __all__
