"""A gateway's settings: where its configuration and ledger are, and its request limits.

Every worker process of ``modelwire serve --workers N`` builds its own app from the same
settings, handed down in the ``MODELWIRE_GATEWAY_SETTINGS`` environment variable (JSON).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

__all__ = ["DEFAULT_MAX_BODY_BYTES", "SETTINGS_VAR", "GatewaySettings"]

#: The environment variable that carries the settings to worker processes.
SETTINGS_VAR = "MODELWIRE_GATEWAY_SETTINGS"
#: The default request body limit: room for a few large images as base64.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """``config``: the configuration file (``None``: the default search); ``database``: the
    ledger URL (``None``: the configuration's ``usage.database``); ``max_body_bytes``: the
    largest request body accepted (413 beyond); ``key_refresh_s``: how often each process
    reads the keys again (a revoked key stops working within this time everywhere)."""

    config: str | None = None
    database: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    key_refresh_s: float = 5.0

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1024:
            raise ValueError(f"max_body_bytes must be at least 1024, not {self.max_body_bytes}")
        if not 0 < self.key_refresh_s <= 3600:
            raise ValueError(
                f"key_refresh_s must be above 0 and at most 3600, not {self.key_refresh_s}"
            )

    def to_json(self) -> str:
        """The settings as JSON (for ``SETTINGS_VAR``)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> GatewaySettings:
        """Settings from ``to_json``'s text."""
        return cls(**json.loads(text))

    @classmethod
    def from_environment(cls) -> GatewaySettings:
        """The settings in ``SETTINGS_VAR``, or the defaults when it is unset."""
        text = os.environ.get(SETTINGS_VAR)
        return cls.from_json(text) if text else cls()
