"""Moved to ``modelwire.providers.hf_local.recommend``; this alias keeps old imports working."""

from modelwire.providers.hf_local.recommend import *  # noqa: F403
from modelwire.providers.hf_local.recommend import __all__ as __all__
