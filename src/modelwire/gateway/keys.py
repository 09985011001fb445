"""Virtual keys: what a gateway client presents instead of a provider key.

A key is one token, ``mwk_<id>_<secret>``, shown once when it is created. The ledger's database
keeps only its public ``id``, a random per-key salt and the HMAC-SHA256 of the token under that
salt; a presented token is checked with ``hmac.compare_digest``. Each key has a ``name`` (the
``caller`` of every usage row its requests make; unique among the keys not revoked), the model
patterns it may call (``fnmatch``, none meaning every model), and its budget and request rate
as given to ``keys create``: stored with the key, and enforced through the gateway's limits hook
(``modelwire.gateway.limits``).

The table lives in the ledger's database beside the usage tables, with its own version table
(``gateway_schema_version``) and migrations run through the ledger's migration lock.

This module imports SQLAlchemy: import it only when a gateway or a ``keys`` command runs.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
    update,
)

from modelwire.errors import VirtualKeyError
from modelwire.usage import migrations

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = [
    "BUDGET_WINDOWS",
    "KEYS",
    "KEY_PATTERN",
    "MAX_RPM",
    "MIGRATIONS",
    "Budget",
    "KeyStore",
    "VirtualKey",
    "VirtualKeyError",
    "key_id_of",
    "parse_budget",
]

BudgetWindow = Literal["hour", "day", "week", "month", "total"]
BUDGET_WINDOWS: tuple[BudgetWindow, ...] = ("hour", "day", "week", "month", "total")
#: The largest ``--rpm`` a key may be given.
MAX_RPM = 1_000_000
#: The largest budget, in USD.
MAX_BUDGET_USD = Decimal(10) ** 9
_NANOS = Decimal(10) ** 9

_PREFIX = "mwk_"
_ID_HEX = 12
#: What a virtual key looks like (to scrub one from any text).
KEY_PATTERN = re.compile(r"mwk_[0-9a-f]{12}_[A-Za-z0-9_\-]{8,}")
_TOKEN_ID = re.compile(r"mwk_([0-9a-f]{12})_.")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_BUDGET = re.compile(r"^\$?(\d{1,12}(?:\.\d{1,9})?)\s*/\s*([a-z]+)$")


@dataclass(frozen=True, slots=True)
class Budget:
    """A spending limit: ``usd`` per ``window`` (``total``: over the key's whole life)."""

    usd: Decimal
    window: BudgetWindow

    def __str__(self) -> str:
        return f"{self.usd.normalize():f}/{self.window}"


def parse_budget(value: str) -> Budget:
    """``"50/month"`` (also ``"$12.5/day"``, ``"100/total"``) as a ``Budget``."""
    match = _BUDGET.match(value.strip().lower())
    if match is None:
        raise VirtualKeyError(
            f"budget {value!r}: write AMOUNT/WINDOW in USD, e.g. 50/month "
            f"(windows: {', '.join(BUDGET_WINDOWS)})"
        )
    amount, window = match.groups()
    if window not in BUDGET_WINDOWS:
        raise VirtualKeyError(
            f"budget {value!r}: unknown window {window!r} (use {', '.join(BUDGET_WINDOWS)})"
        )
    try:
        usd = Decimal(amount)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise VirtualKeyError(f"budget {value!r}: not a number") from None
    if not 0 < usd <= MAX_BUDGET_USD:
        raise VirtualKeyError(f"budget {value!r}: the amount must be above 0 and at most 1e9")
    return Budget(usd, window)


def check_name(name: str) -> str:
    """A key name as given, or ``VirtualKeyError`` naming what is wrong with it."""
    if not _NAME.match(name):
        raise VirtualKeyError(
            f"key name {name!r}: use 1 to 64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_rpm(rpm: int | None) -> int | None:
    """A requests-per-minute setting (``None``: no rate limit)."""
    if rpm is not None and not 1 <= rpm <= MAX_RPM:
        raise VirtualKeyError(f"rpm {rpm}: use a whole number from 1 to {MAX_RPM}")
    return rpm


def check_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    """Model patterns, split on commas, blanks dropped, order kept, duplicates removed."""
    out: list[str] = []
    for item in patterns:
        for piece in item.split(","):
            pattern = piece.strip()
            if not pattern:
                continue
            if len(pattern) > 255 or any(c.isspace() or not c.isprintable() for c in pattern):
                raise VirtualKeyError(f"model pattern {pattern[:40]!r}: no spaces, at most 255")
            if pattern not in out:
                out.append(pattern)
    return tuple(out)


def key_id_of(token: str) -> str | None:
    """The public id inside a token shaped like a virtual key, else ``None``."""
    found = _TOKEN_ID.match(token)
    return found.group(1) if found else None


def _digest(salt: bytes, token: str) -> bytes:
    return hmac.new(salt, token.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


_DUMMY_SALT = secrets.token_bytes(16)
_DUMMY_DIGEST = _digest(_DUMMY_SALT, "mwk_000000000000_none")


def compare_nothing(token: str) -> None:
    """The work of one verification, for a token whose id matches no key (so that an unknown
    id takes as long to refuse as a wrong secret)."""
    hmac.compare_digest(_digest(_DUMMY_SALT, token), _DUMMY_DIGEST)


@dataclass(frozen=True, slots=True)
class VirtualKey:
    """One virtual key as stored: never the token itself."""

    id: str
    name: str
    salt: bytes
    digest: bytes
    created: datetime
    revoked: datetime | None = None
    budget: Budget | None = None
    rpm: int | None = None
    models: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The token's public start (``mwk_<id>``), safe to show."""
        return f"{_PREFIX}{self.id}"

    @property
    def has_limits(self) -> bool:
        """Whether the key was given a budget or a request rate."""
        return self.budget is not None or self.rpm is not None

    def verify(self, token: str) -> bool:
        """Whether ``token`` is this key (constant time in the token's secret)."""
        return hmac.compare_digest(_digest(self.salt, token), self.digest)

    def allows(self, names: Iterable[str]) -> bool:
        """Whether a request for a model known by ``names`` (the name sent, and the model id it
        stands for) may go through: a key without patterns may call every model."""
        if not self.models:
            return True
        return any(fnmatch.fnmatchcase(n, p) for n in names for p in self.models)

    def describe(self) -> dict[str, Any]:
        """The key's settings, for listings (no salt, no digest)."""
        return {
            "name": self.name,
            "key": self.label + "_…",
            "created": self.created.isoformat(timespec="seconds"),
            "revoked": self.revoked.isoformat(timespec="seconds") if self.revoked else None,
            "budget": str(self.budget) if self.budget else None,
            "rpm": self.rpm,
            "models": list(self.models),
        }


# -- the table and its migrations -------------------------------------------------------------

metadata = MetaData()

KEYS = Table(
    "gateway_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("salt", String(64), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger),
    Column("budget_nanos", BigInteger),
    Column("budget_window", String(16)),
    Column("rpm", Integer),
    Column("models", Text, nullable=False),
    Index(
        "ux_gateway_keys_active_name",
        "name",
        unique=True,
        sqlite_where=text("revoked_us IS NULL"),
        postgresql_where=text("revoked_us IS NULL"),
    ),
)

VERSION_TABLE = Table(
    "gateway_schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(255), nullable=False),
    Column("applied_us", BigInteger, nullable=False),
)


def _v1(conn: Connection) -> None:
    md = MetaData()
    Table(
        "gateway_keys",
        md,
        Column("id", String(32), primary_key=True),
        Column("name", String(64), nullable=False),
        Column("salt", String(64), nullable=False),
        Column("digest", String(128), nullable=False),
        Column("created_us", BigInteger, nullable=False),
        Column("revoked_us", BigInteger),
        Column("budget_nanos", BigInteger),
        Column("budget_window", String(16)),
        Column("rpm", Integer),
        Column("models", Text, nullable=False),
        Index(
            "ux_gateway_keys_active_name",
            "name",
            unique=True,
            sqlite_where=text("revoked_us IS NULL"),
            postgresql_where=text("revoked_us IS NULL"),
        ),
    )
    md.create_all(conn)


MIGRATIONS: list[migrations.Migration] = [
    (1, "gateway_keys: virtual keys (salted HMAC-SHA256), one active key per name", _v1),
]


def _now_us() -> int:
    return time.time_ns() // 1000


def _moment(us: int | None) -> datetime | None:
    if us is None:
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(us))


def _from_row(row: Any) -> VirtualKey:
    budget = None
    if row.budget_nanos is not None and row.budget_window:
        budget = Budget(Decimal(int(row.budget_nanos)) / _NANOS, row.budget_window)
    created = _moment(row.created_us)
    assert created is not None
    return VirtualKey(
        id=row.id,
        name=row.name,
        salt=bytes.fromhex(row.salt),
        digest=bytes.fromhex(row.digest),
        created=created,
        revoked=_moment(row.revoked_us),
        budget=budget,
        rpm=row.rpm,
        models=tuple(json.loads(row.models or "[]")),
    )


class KeyStore:
    """The virtual keys in a ledger's database.

    ``engine`` is a SQLAlchemy engine, or a function returning the current one (a
    ``UsageLedger``'s ``engine`` property may change when its SQLite file is replaced). The
    table is created on first use through the ledger's migrations.
    """

    def __init__(self, engine: Engine | Callable[[], Engine]) -> None:
        from sqlalchemy.engine import Engine

        if isinstance(engine, Engine):
            fixed = engine
            self._engine_source: Callable[[], Engine] = lambda: fixed
        else:
            self._engine_source = engine
        self._migrated: Engine | None = None

    def _engine(self) -> Engine:
        engine = self._engine_source()
        if self._migrated is not engine:
            migrations.migrate(engine, migrations=MIGRATIONS, version_table=VERSION_TABLE)
            self._migrated = engine
        return engine

    def migrate(self) -> None:
        """Create or upgrade the keys table now."""
        self._engine()

    def create(
        self,
        name: str,
        *,
        budget: Budget | str | None = None,
        rpm: int | None = None,
        models: Sequence[str] = (),
    ) -> tuple[VirtualKey, str]:
        """A new key and its token (the only time the token exists outside the client)."""
        from sqlalchemy.exc import IntegrityError

        check_name(name)
        if isinstance(budget, str):
            budget = parse_budget(budget)
        check_rpm(rpm)
        patterns = check_patterns(models)
        key_id = secrets.token_hex(_ID_HEX // 2)
        token = f"{_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        salt = secrets.token_bytes(16)
        digest = _digest(salt, token)
        created_us = _now_us()
        row = {
            "id": key_id,
            "name": name,
            "salt": salt.hex(),
            "digest": digest.hex(),
            "created_us": created_us,
            "revoked_us": None,
            "budget_nanos": int(budget.usd * _NANOS) if budget else None,
            "budget_window": budget.window if budget else None,
            "rpm": rpm,
            "models": json.dumps(list(patterns)),
        }
        engine = self._engine()
        try:
            with engine.begin() as conn:
                conn.execute(KEYS.insert(), row)
        except IntegrityError:
            raise VirtualKeyError(
                f"a key named {name!r} exists already (revoke it first, or choose another name)"
            ) from None
        created = _moment(created_us)
        assert created is not None
        key = VirtualKey(key_id, name, salt, digest, created, None, budget, rpm, patterns)
        return key, token

    def list(self, *, include_revoked: bool = False) -> list[VirtualKey]:
        """The keys, oldest first (the revoked ones too when asked)."""
        query = select(KEYS).order_by(KEYS.c.created_us, KEYS.c.id)
        if not include_revoked:
            query = query.where(KEYS.c.revoked_us.is_(None))
        with self._engine().connect() as conn:
            return [_from_row(r) for r in conn.execute(query)]

    def active(self) -> dict[str, VirtualKey]:
        """The keys not revoked, by id."""
        return {k.id: k for k in self.list()}

    def revoke(self, name: str) -> VirtualKey:
        """Revoke the active key called ``name`` (its usage rows stay)."""
        now = _now_us()
        engine = self._engine()
        with engine.begin() as conn:
            found = conn.execute(
                select(KEYS).where(KEYS.c.name == name, KEYS.c.revoked_us.is_(None))
            ).first()
            if found is None:
                raise VirtualKeyError(f"no active key named {name!r} (modelwire keys list)")
            conn.execute(update(KEYS).where(KEYS.c.id == found.id).values(revoked_us=now))
        key = _from_row(found)
        return VirtualKey(
            key.id,
            key.name,
            key.salt,
            key.digest,
            key.created,
            _moment(now),
            key.budget,
            key.rpm,
            key.models,
        )
