"""Helpers shared by CLI commands: building a service from options, money and number formatting."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwire.config.secrets import mask_url

if TYPE_CHECKING:
    from modelwire.config.schema import Config
    from modelwire.service.model_service import ModelService
    from modelwire.usage.events import UsageSink
    from modelwire.usage.ledger import UsageLedger


def load(config: Path | None) -> Config:
    """The configuration from ``--config`` or the default search."""
    from modelwire.config.loader import load_config

    return load_config(config)


def open_ledger(config: Config, db: str | None) -> UsageSink | None:
    """The ledger ``--db`` names, or the configured one; ``None`` when usage is disabled."""
    if db is None and not config.usage.enabled:
        return None
    return connect_ledger(
        db or config.usage.database,
        batch_size=config.usage.batch_size,
        flush_interval_ms=config.usage.flush_interval_ms,
        store_prompts=config.usage.store_prompts,
    )


def connect_ledger(url: str | None, **options: Any) -> UsageLedger:
    """``UsageLedger(url, **options)``; a database that cannot be opened (a bad URL, a
    directory, an unreachable server) exits 2 with one line naming it, password masked."""
    from modelwire.cli.errors import database_error, fail
    from modelwire.errors import ModelwireError
    from modelwire.usage.ledger import UsageLedger
    from modelwire.usage.store import normalise_url, sqlite_path

    real = normalise_url(url)
    try:
        path = sqlite_path(real)
    except Exception as exc:  # not a URL SQLAlchemy can read
        fail(database_error(exc, real))
    if path is not None and path.is_dir():
        fail(f"cannot use the database {mask_url(real)}: {path} is a directory")
    try:
        return UsageLedger(real, **options)
    except ModelwireError:
        raise
    except Exception as exc:
        fail(database_error(exc, real))


def build_service(config: Config, *, db: str | None = None, ledger: bool = True) -> ModelService:
    """A service over ``config``, recording to the ledger unless ``ledger`` is false."""
    from modelwire.registry.model_registry import ModelRegistry
    from modelwire.service.model_service import ModelService

    sink = open_ledger(config, db) if ledger else None
    return ModelService(
        ModelRegistry.from_config(config), sink, store_prompts=config.usage.store_prompts
    )


def money(value: Decimal | None, places: int = 6) -> str:
    """USD with fixed places, or ``unpriced`` when the price is unknown."""
    if value is None:
        return "unpriced"
    return f"${value:,.{places}f}"


def price(value: Decimal | None) -> str:
    """A per-million-token price, or ``-``."""
    return "-" if value is None else f"${value.normalize():f}"
