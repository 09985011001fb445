"""``modelwire serve``: the OpenAI- and Anthropic-compatible gateway on uvicorn.

The configuration, the ledger database and the keys table are checked here, before the server
starts, so a bad file or an unreachable database is one line and exit 2 (like every command).
"""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelwire.cli.common import connect_ledger, load
from modelwire.cli.errors import fail
from modelwire.cli.models_cmd import ConfigOpt

if TYPE_CHECKING:
    from modelwire.config.schema import Config
    from modelwire.usage.ledger import UsageLedger

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")

GATEWAY_HINT = "the gateway needs Starlette and uvicorn: pip install 'modelwire[gateway]'"


def require_gateway() -> None:
    """Exit 2 with the extra to install when Starlette or uvicorn is missing."""
    for module in ("starlette", "uvicorn"):
        if importlib.util.find_spec(module) is None:
            fail(GATEWAY_HINT)


def ledger_url(config: Config, db: str | None) -> str | None:
    """The database the gateway's keys and usage rows live in (exit 2 when usage is off)."""
    if db is None and not config.usage.enabled:
        fail(
            "the gateway records every request in the ledger and keeps its keys there: "
            "usage.enabled is false in the configuration (enable it, or pass --db)"
        )
    return db or config.usage.database


def open_keys_ledger(config: Config, db: str | None) -> UsageLedger:
    """The ledger (exit 2 with one line when it cannot be opened), its keys table ready."""
    from modelwire.gateway.keys import KeyStore

    ledger = connect_ledger(
        ledger_url(config, db),
        batch_size=config.usage.batch_size,
        flush_interval_ms=config.usage.flush_interval_ms,
        store_prompts=config.usage.store_prompts,
    )
    try:
        KeyStore(lambda: ledger.engine).migrate()
    except BaseException:
        ledger.close()
        raise
    return ledger


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind (other machines reach only a non-loopback one).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port).")] = 4000,
    workers: Annotated[
        int, typer.Option(min=1, max=256, help="Worker processes sharing the port.")
    ] = 1,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Ledger URL (default: usage.database of the configuration)."),
    ] = None,
    max_body_mb: Annotated[
        int, typer.Option(min=1, max=1024, help="Largest request body accepted, in MiB.")
    ] = 16,
    log_level: Annotated[
        str, typer.Option(help="critical, error, warning, info or debug.")
    ] = "info",
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log one line per request.")
    ] = True,
    config: ConfigOpt = None,
) -> None:
    """Serve OpenAI's and Anthropic's APIs in front of the registry, for clients holding a
    virtual key (modelwire keys create).

    Routes: POST /v1/chat/completions, POST /v1/messages, GET /v1/models, GET /health.
    A request's model may be any model id, alias or group the configuration knows; every
    request is recorded in the ledger with its key's name as caller. Processes started
    with --workers, or on other machines, share keys and usage through one PostgreSQL
    ledger (--db). Needs the gateway extra of modelwire (Starlette and uvicorn).

    Examples:

    modelwire serve -c modelwire.yaml

    modelwire serve --workers 4 --db postgresql+psycopg://mw@db/modelwire

    Point OpenAI clients at http://127.0.0.1:4000/v1 and Anthropic clients at
    http://127.0.0.1:4000, with the virtual key as their API key.
    """
    require_gateway()
    if log_level not in LOG_LEVELS:
        fail(f"--log-level must be one of {', '.join(LOG_LEVELS)}; got {log_level!r}")
    from modelwire.gateway.keys import KeyStore
    from modelwire.gateway.server import serve as run_server
    from modelwire.gateway.settings import GatewaySettings

    cfg = load(config)
    ledger = open_keys_ledger(cfg, db)
    keys = KeyStore(lambda: ledger.engine).list()
    settings = GatewaySettings(
        config=str(Path(config).absolute()) if config is not None else None,
        database=db,
        max_body_bytes=max_body_mb * 1024 * 1024,
    )
    if not keys:
        typer.echo(
            "note: no virtual keys yet; every request will be refused until one is made "
            "(modelwire keys create NAME)",
            err=True,
        )
    if not _is_loopback(host):
        typer.echo(
            f"note: binding {host}: other machines can reach the gateway (put TLS in front)",
            err=True,
        )
    if workers > 1:
        ledger.close()
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops the workers, then us
            run_server(
                settings,
                host=host,
                port=port,
                workers=workers,
                log_level=log_level,
                access_log=access_log,
            )
        return
    from modelwire.registry.model_registry import ModelRegistry
    from modelwire.service.model_service import ModelService

    try:
        service = ModelService(
            ModelRegistry.from_config(cfg), ledger, store_prompts=cfg.usage.store_prompts
        )
    except BaseException:
        ledger.close()
        raise
    try:
        run_server(
            settings,
            host=host,
            port=port,
            log_level=log_level,
            access_log=access_log,
            service=service,  # closed, and its ledger flushed, when the server stops
        )
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has stopped the server and the app already
        pass
    finally:
        service.close()  # (again: closing is idempotent) when the server never started
