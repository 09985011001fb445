"""Virtual keys: stored only as a salted hash in the ledger's database, checked in constant
time, one active key per name; the in-memory ring reads them again on its own schedule."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from modelwire.errors import GatewayError, VirtualKeyError
from modelwire.gateway import keys as keys_module
from modelwire.gateway.auth import MISS_REFRESH_S, KeyRing, token_from
from modelwire.gateway.keys import (
    BUDGET_WINDOWS,
    Budget,
    KeyStore,
    check_patterns,
    key_id_of,
    parse_budget,
)
from modelwire.usage.ledger import UsageLedger
from tests.support.ledger import ledger_url

__all__ = ["ledger_url"]


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[UsageLedger]:
    with UsageLedger(ledger_url) as opened:
        yield opened


@pytest.fixture
def store(ledger: UsageLedger) -> KeyStore:
    return KeyStore(lambda: ledger.engine)


def test_the_token_is_never_stored(ledger: UsageLedger, store: KeyStore) -> None:
    key, token = store.create("web", budget="50/month", rpm=60, models=["mock:*", "mini"])
    assert token.startswith(f"mwk_{key.id}_") and key_id_of(token) == key.id
    with ledger.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM gateway_keys"))]
    stored = " ".join(str(v) for row in rows for v in row)
    secret = token.split("_", 2)[2]
    assert token not in stored and secret not in stored
    assert hashlib.sha256(token.encode()).hexdigest() not in stored  # salted, not a bare hash
    (listed,) = store.list()
    assert (listed.name, listed.budget, listed.rpm, listed.models) == (
        "web",
        Budget(Decimal(50), "month"),
        60,
        ("mock:*", "mini"),
    )
    assert listed.verify(token) and not listed.verify(token + "x")
    assert "mwk_" in listed.describe()["key"] and secret not in str(listed.describe())


def test_two_keys_of_one_name_salt_differently(store: KeyStore) -> None:
    first, _ = store.create("a")
    store.revoke("a")
    second, _ = store.create("a")
    assert first.salt != second.salt and first.digest != second.digest
    assert [k.name for k in store.list(include_revoked=True)] == ["a", "a"]
    assert [k.id for k in store.list()] == [second.id]


def test_one_active_key_per_name(store: KeyStore) -> None:
    store.create("web")
    with pytest.raises(VirtualKeyError, match="exists already"):
        store.create("web")
    store.revoke("web")
    store.create("web")  # the name is free again once revoked
    with pytest.raises(VirtualKeyError, match="no active key named 'nope'"):
        store.revoke("nope")


def test_verification_compares_in_constant_time(
    store: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, token = store.create("web")
    calls: list[tuple[bytes, bytes]] = []
    real = keys_module.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys_module.hmac, "compare_digest", spy)
    assert key.verify(token)
    assert not key.verify("mwk_" + key.id + "_wrong")
    assert len(calls) == 2 and all(len(a) == len(b) == 32 for a, b in calls)


def test_the_keys_table_has_its_own_version_beside_the_ledgers(
    ledger: UsageLedger, store: KeyStore
) -> None:
    store.migrate()
    store.migrate()  # idempotent
    with ledger.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        gateway = conn.execute(text("SELECT MAX(version) FROM gateway_schema_version")).scalar()
        usage = conn.execute(text("SELECT MAX(version) FROM usage_schema_version")).scalar()
    assert {"gateway_keys", "gateway_schema_version", "usage_calls"} <= tables
    assert gateway == len(keys_module.MIGRATIONS)
    assert usage == ledger.schema_version


@given(
    amount=st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal(10) ** 9, places=9),
    window=st.sampled_from(BUDGET_WINDOWS),
    dollar=st.booleans(),
)
def test_budgets_parse_and_print_back(amount: Decimal, window: str, dollar: bool) -> None:
    spelled = f"{'$' if dollar else ''}{amount:f}/{window}"
    budget = parse_budget(spelled)
    assert budget == Budget(amount, window)  # type: ignore[arg-type]
    assert parse_budget(str(budget)) == budget


@pytest.mark.parametrize(
    "bad", ["50", "50/fortnight", "-5/day", "0/day", "abc/day", "1e3/day", "50/month/x", ""]
)
def test_bad_budgets_say_how_to_write_one(bad: str) -> None:
    with pytest.raises(VirtualKeyError, match="budget"):
        parse_budget(bad)


@given(st.text(max_size=40))
def test_key_ids_are_read_only_from_tokens_of_the_right_shape(token: str) -> None:
    key_id = key_id_of(token)
    if key_id is not None:
        assert token.startswith(f"mwk_{key_id}_") and len(key_id) == 12


def test_model_patterns(store: KeyStore) -> None:
    assert check_patterns(["mock:*, mini", "mini", ""]) == ("mock:*", "mini")
    with pytest.raises(VirtualKeyError):
        check_patterns(["has space"])
    limited, _ = store.create("limited", models=["mock:*", "team"])
    assert limited.allows(["mock:gpt-4o-mini"])
    assert limited.allows(["mini", "mock:gpt-4o-mini"])  # an alias of an allowed model
    assert limited.allows(["team"])
    assert not limited.allows(["s:m"]) and not limited.allows(["MOCK:x"])
    everything, _ = store.create("everything")
    assert everything.allows(["anything:at-all"])


@pytest.mark.parametrize("name", ["", "-lead", "a b", "x" * 65, "名前"])
def test_bad_key_names(store: KeyStore, name: str) -> None:
    with pytest.raises(VirtualKeyError, match="key name"):
        store.create(name)


def test_tokens_come_from_either_header() -> None:
    assert token_from({"authorization": "Bearer abc"}) == "abc"
    assert token_from({"authorization": "bearer  abc "}) == "abc"
    assert token_from({"x-api-key": "abc"}) == "abc"
    assert token_from({"authorization": "Basic abc", "x-api-key": "def"}) == "def"
    assert token_from({"authorization": "Bearer "}) is None
    assert token_from({}) is None


class CountingStore:
    """A key store whose reads are counted, and can be made to fail."""

    def __init__(self, store: KeyStore) -> None:
        self.store = store
        self.reads = 0
        self.broken = False

    def active(self) -> dict[str, Any]:
        self.reads += 1
        if self.broken:
            raise OSError("database unreachable at postgresql://mw:hunter2@db/x")
        return self.store.active()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def authenticate(ring: KeyRing, token: str | None) -> Any:
    return asyncio.run(ring.authenticate(token))


def test_the_ring_reads_the_keys_on_its_own_schedule(store: KeyStore) -> None:
    counting, clock = CountingStore(store), Clock()
    ring = KeyRing(counting, refresh_s=5.0, clock=clock)  # type: ignore[arg-type]
    _, token = store.create("web")
    ring.load()
    assert counting.reads == 1
    assert authenticate(ring, token).name == "web"
    assert authenticate(ring, token).name == "web"
    assert counting.reads == 1  # nothing stale yet
    store.revoke("web")
    clock.now += 4.9
    assert authenticate(ring, token).name == "web"  # not read again yet: still accepted
    clock.now += 0.2
    with pytest.raises(GatewayError) as refused:
        authenticate(ring, token)
    assert refused.value.status == 401 and counting.reads == 2


def test_an_unknown_key_id_reads_the_keys_at_most_once_a_second(store: KeyStore) -> None:
    counting, clock = CountingStore(store), Clock()
    ring = KeyRing(counting, refresh_s=60.0, clock=clock)  # type: ignore[arg-type]
    ring.load()
    _, token = store.create("new")  # made by another process after this one read the keys
    clock.now += 0.5
    assert authenticate(ring, token).name == "new"  # the miss read the keys again
    assert counting.reads == 2
    for _ in range(5):
        with pytest.raises(GatewayError):
            authenticate(ring, "mwk_0123456789ab_" + "x" * 40)
    assert counting.reads == 2  # misses within a second of the last miss read nothing
    with pytest.raises(GatewayError):
        authenticate(ring, "not-a-virtual-key")
    assert counting.reads == 2
    clock.now += MISS_REFRESH_S
    with pytest.raises(GatewayError):
        authenticate(ring, "mwk_0123456789ab_" + "x" * 40)
    assert counting.reads == 3


def test_an_unreachable_database_keeps_the_keys_last_read(
    store: KeyStore, caplog: pytest.LogCaptureFixture
) -> None:
    counting, clock = CountingStore(store), Clock()
    ring = KeyRing(counting, refresh_s=5.0, clock=clock)  # type: ignore[arg-type]
    _, token = store.create("web")
    ring.load()
    counting.broken = True
    clock.now += 10
    with caplog.at_level(logging.WARNING, logger="modelwire.gateway"):
        assert authenticate(ring, token).name == "web"
        assert authenticate(ring, token).name == "web"
    assert counting.reads == 2  # the failed read is retried after refresh_s, not every request
    assert "cannot read the virtual keys" in caplog.text and "hunter2" not in caplog.text


def test_no_keys_read_yet_is_a_503(store: KeyStore) -> None:
    counting = CountingStore(store)
    counting.broken = True
    ring = KeyRing(counting, refresh_s=5.0)  # type: ignore[arg-type]
    with pytest.raises(GatewayError) as unavailable:
        authenticate(ring, "mwk_0123456789ab_" + "x" * 40)
    assert unavailable.value.status == 503 and unavailable.value.retry_after == 1.0
