"""The service: the one object applications call models through, and the call paths behind it."""

from __future__ import annotations

from modelwire.service.batch import BatchResult
from modelwire.service.binding import BoundModel
from modelwire.service.model_service import ModelService
from modelwire.service.requests import Prompt
from modelwire.service.tool_runs import ToolRun

__all__ = ["BatchResult", "BoundModel", "ModelService", "Prompt", "ToolRun"]
