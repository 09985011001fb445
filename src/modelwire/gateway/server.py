"""Running the gateway on uvicorn: one process, or ``workers`` processes sharing one socket.

With one worker the app runs in this process (on a service built here, or handed in). With
several, uvicorn's supervisor starts each worker from ``app_from_environment``, which reads the
settings this process put in ``SETTINGS_VAR``; each worker builds its own ``ModelService`` and
ledger connection, and they share the ledger's database (and so the keys and the usage rows).
"""

from __future__ import annotations

import copy
import os
from typing import TYPE_CHECKING, Any

from modelwire.gateway.app import create_app
from modelwire.gateway.settings import SETTINGS_VAR, GatewaySettings

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from modelwire.service.model_service import ModelService

__all__ = ["app_from_environment", "serve"]

#: How long a stopping server waits for requests in flight (streams included).
GRACEFUL_SHUTDOWN_S = 30


def app_from_environment() -> Starlette:
    """The app of one worker process, from the settings in ``SETTINGS_VAR``."""
    return create_app(GatewaySettings.from_environment())


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration, with modelwire's own loggers on its stderr handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["modelwire"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def serve(
    settings: GatewaySettings,
    *,
    host: str = "127.0.0.1",
    port: int = 4000,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = True,
    service: ModelService | None = None,
) -> None:
    """Serve until stopped (Ctrl-C or SIGTERM), then finish the requests in flight, close the
    service and flush its ledger. ``service`` (one worker only) is used instead of building
    one, and closed at shutdown too: uvicorn ends the process with the signal it stopped for
    once the app has shut down, so nothing after ``serve`` would run."""
    import uvicorn

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "log_config": log_config(log_level),
        "access_log": access_log,
        "lifespan": "on",
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,
        "server_header": False,
    }
    if workers <= 1:
        uvicorn.run(create_app(settings, service=service, close_service=True), **options)
        return
    if service is not None:
        raise ValueError("a service object cannot be shared by several worker processes")
    os.environ[SETTINGS_VAR] = settings.to_json()
    uvicorn.run(
        "modelwire.gateway.server:app_from_environment", factory=True, workers=workers, **options
    )
