"""A key's ``--budget`` and ``--rpm`` enforced by the gateway's default limits (the service's
limits in the ledger's database): 429 with ``Retry-After`` in each API's shape, before any
provider call, and a budget's settled spend never past it."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest

from modelwire.gateway.limits import LedgerKeyLimits, limits_of
from tests.gateway.harness import RunningGateway
from tests.gateway.test_errors_http import APIS, body, error_of, path, post


def known(gateway: RunningGateway, token: str) -> dict[str, str]:
    """The key's headers, once the gateway knows the new key (``/v1/models``: no limits)."""
    headers = gateway.headers(token)
    for _ in range(300):  # a key is read at most once a second on a miss
        if httpx.get(gateway.url + "/v1/models", headers=headers, timeout=30).status_code == 200:
            return headers
        time.sleep(0.05)
    raise AssertionError("the gateway never knew the new key")


def test_the_default_hook_is_the_ledgers_limits(gateway: RunningGateway) -> None:
    hook = gateway.app.state.gateway.limits
    assert isinstance(hook, LedgerKeyLimits) and hook.enforced


@pytest.mark.parametrize("api", APIS)
def test_a_keys_rpm_is_enforced_with_429(gateway: RunningGateway, api: str) -> None:
    key, token = gateway.store.create(f"rpm-{api}", rpm=2)
    headers = known(gateway, token)
    assert [post(gateway, api, body(api), headers=headers).status_code for _ in range(2)] == [
        200,
        200,
    ]
    before = len(gateway.rows(caller=key.name, status="ok"))
    refused = post(gateway, api, body(api), headers=headers)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 61
    error = error_of(api, refused)
    assert error["type"] == "rate_limit_error"
    assert error.get("code", "rate_limit_exceeded") == "rate_limit_exceeded"
    assert "2 requests/min" in error["message"] and f"caller={key.name}" in error["message"]
    assert len(gateway.rows(caller=key.name, status="ok")) == before  # nothing was sent
    streamed = httpx.post(
        gateway.url + path(api),
        json=body(api, stream=True),
        headers=headers,
        timeout=30,
    )
    assert streamed.status_code == 429  # refused before the stream starts
    assert post(gateway, api, body(api)).status_code == 200  # other keys are not limited


def test_a_keys_budget_is_never_exceeded(gateway: RunningGateway) -> None:
    budget = Decimal("0.0002")
    key, token = gateway.store.create("budgeted", budget=f"{budget}/day")
    headers = known(gateway, token)
    statuses = []
    for _ in range(200):
        reply = post(gateway, "openai", body("openai", max_tokens=64), headers=headers)
        statuses.append(reply.status_code)
        if reply.status_code == 429:
            error = error_of("openai", reply)
            assert error["code"] == "budget_exceeded"
            assert "$0.0002/day" in error["message"] and "spent $" in error["message"]
            assert int(reply.headers["retry-after"]) >= 1
            break
        assert reply.status_code == 200, reply.text
    assert statuses[-1] == 429 and statuses.count(200) >= 2
    gateway.service.ledger.flush()  # type: ignore[union-attr]
    spent = sum((r.cost_usd or 0 for r in gateway.rows(caller=key.name, status="ok")), Decimal(0))
    assert 0 < spent <= budget
    (status,) = [s for s in gateway.service.limits.status() if s.limit.caller == key.name]
    assert status.spent == spent and status.reserved == 0


def test_a_key_created_again_gets_its_new_settings(gateway: RunningGateway) -> None:
    first, _ = gateway.store.create("again", rpm=5)
    hook = gateway.app.state.gateway.limits
    assert isinstance(hook, LedgerKeyLimits)
    hook.sync([first])
    gateway.store.revoke("again")
    second, _ = gateway.store.create("again", budget="3/week")
    hook.sync([second])
    names = {x.name for x in gateway.service.limits.list()}
    assert {x.name for x in limits_of(second)} <= names
    assert not {x.name for x in limits_of(first)} & names
