"""Shared helpers for the usage-ledger tests: database backends and event builders.

``ledger_url`` is parametrised over SQLite (a temporary file) and PostgreSQL (a fresh schema per
test in ``MODELWIRE_TEST_POSTGRES_URL``; skipped when the variable is unset). Import the fixture
into a test module to use it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from modelwire.usage.events import UsageEvent

PG_ENV = "MODELWIRE_TEST_POSTGRES_URL"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def pg_base_url() -> str | None:
    """The PostgreSQL URL tests may use, or ``None``."""
    return os.environ.get(PG_ENV) or None


def _psycopg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class PgSchema:
    """A throw-away schema: ``url`` points SQLAlchemy at it via ``search_path``."""

    def __init__(self, base: str) -> None:
        import psycopg

        self.base = base
        self.name = "mw_test_" + uuid.uuid4().hex[:12]
        with psycopg.connect(_psycopg_dsn(base), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {self.name}")
        sep = "&" if "?" in base else "?"
        self.url = f"{base}{sep}options={quote('-csearch_path=' + self.name)}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(_psycopg_dsn(self.base), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")


def make_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh database URL for ``backend`` ('sqlite' or 'postgres'), cleaned up after the test."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'usage.db'}"
    base = pg_base_url()
    if base is None:
        pytest.skip(f"{PG_ENV} is not set")
    schema = PgSchema(base)
    request.addfinalizer(schema.drop)
    return schema.url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty ledger database on each backend."""
    yield make_url(request.param, tmp_path, request)


def event(i: int = 0, **over: Any) -> UsageEvent:
    """A varied but deterministic event number ``i`` (override any field)."""
    fields: dict[str, Any] = {
        "model_id": ("mock:alpha", "mock:beta", "other:gamma")[i % 3],
        "provider": "other" if i % 3 == 2 else "mock",
        "status": "error" if i % 7 == 3 else "ok",
        "attempt": 1 + i % 2,
        "caller": (None, "web", "batch")[i % 3 if i % 5 else 0],
        "group": "smart" if i % 4 == 0 else None,
        "error_type": "RateLimitError" if i % 7 == 3 else None,
        "input_tokens": 100 + i,
        "output_tokens": 10 + i % 13,
        "cache_read_tokens": i % 17,
        "cache_write_tokens": i % 5,
        "reasoning_tokens": i % 3,
        "cost_usd": None if i % 6 == 5 else Decimal(i) / Decimal(1_000_000) + Decimal("0.0001"),
        "latency_ms": float(i % 250) + 0.5,
        "ttft_ms": float(i % 40) if i % 2 else None,
        "request_id": f"req_{i}",
        "stream": bool(i % 2),
        "timestamp": T0 + timedelta(minutes=37 * i),
    }
    fields.update(over)
    return UsageEvent(**fields)
