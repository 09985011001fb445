"""Several gateway processes, one ledger: ``modelwire serve`` run as users run it (subprocesses on
loopback, always stopped), concurrent clients, one key; every request recorded exactly once,
with the usage each client was told.

The budget part of the scale-out guarantee: three gateway processes on one ledger (a SQLite
file, or PostgreSQL) and one key with a small budget; the total settled spend stays within it,
refusals are 429s with ``Retry-After``, and no request's row is lost.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelwire.gateway.keys import KeyStore
from modelwire.gateway.limits import limits_of
from modelwire.usage.ledger import UsageLedger
from modelwire.usage.limits import Limits
from tests.support.ledger import ledger_url
from tests.support.paths import ROOT

__all__ = ["ledger_url"]

#: How a gateway stopped by SIGTERM exits: 0, or by the signal uvicorn raises again once done.
STOPPED = (0, -signal.SIGTERM)
_LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


class GatewayProcess:
    """``modelwire serve`` in a child process; its stderr read in a thread."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "modelwire.cli", "serve", "--port", "0", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.url: str | None = None
        self._seen = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            found = _LISTENING.search(line)
            if found and self.url is None:
                self.url = found.group(1)
                self._seen.set()
        self._seen.set()

    def wait_ready(self, timeout: float = 60) -> str:
        self._seen.wait(timeout)
        if self.url is None:
            raise RuntimeError("gateway did not start:\n" + "".join(self.lines))
        return self.url

    def stop(self) -> int:
        """SIGTERM (a graceful stop: requests finished, the ledger flushed), then wait; the exit
        status (uvicorn ends the process with the signal once the app has shut down)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=10)
        self._reader.join(timeout=10)
        return code


@pytest.fixture
def gateways() -> Iterator[list[GatewayProcess]]:
    started: list[GatewayProcess] = []
    try:
        yield started
    finally:
        for gateway in started:
            gateway.stop()


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "modelwire.yaml"
    path.write_text(
        "providers:\n"
        "  mock: {type: mock, latency_ms: 3}\n"
        "models:\n"
        "  mock:gpt-4o-mini: {aliases: [mini]}\n"
        "usage: {store_prompts: true, flush_interval_ms: 20}\n"
        "discovery: {enabled: false}\n"
    )
    return path


def one_call(url: str, token: str, prompt: str, api: str, stream: bool) -> tuple[int, int]:
    """Send one request; the (input, output) tokens the client was told."""
    headers = {"authorization": f"Bearer {token}"}
    messages = [{"role": "user", "content": prompt}]
    if api == "openai":
        body: dict[str, Any] = {"model": "mini", "messages": messages}
        if stream:
            body |= {"stream": True, "stream_options": {"include_usage": True}}
        path = "/v1/chat/completions"
    else:
        body = {"model": "mini", "max_tokens": 64, "messages": messages, "stream": stream}
        path = "/v1/messages"
    if not stream:
        reply = httpx.post(url + path, json=body, headers=headers, timeout=60)
        reply.raise_for_status()
        usage = reply.json()["usage"]
    else:
        with httpx.stream("POST", url + path, json=body, headers=headers, timeout=60) as reply:
            reply.raise_for_status()
            datas = [json.loads(x[6:]) for x in reply.iter_lines() if x[6:].startswith("{")]
        usage = next(d.get("usage") for d in reversed(datas) if d.get("usage"))
    if api == "openai":
        return usage["prompt_tokens"], usage["completion_tokens"]
    return usage["input_tokens"], usage["output_tokens"]


def test_three_gateways_record_every_request_once(
    ledger_url: str, tmp_path: Path, gateways: list[GatewayProcess]
) -> None:
    with UsageLedger(ledger_url) as ledger:
        _, token = KeyStore(lambda: ledger.engine).create("shared")
    config = config_file(tmp_path)
    for _ in range(3):
        gateways.append(GatewayProcess("-c", str(config), "--db", ledger_url, "--no-access-log"))
    urls = [g.wait_ready() for g in gateways]
    run = uuid.uuid4().hex[:8]
    jobs = [
        (urls[i % 3], f"request {i} of run {run}", ("openai", "anthropic")[i % 2], i % 3 == 0)
        for i in range(90)
    ]
    with ThreadPoolExecutor(max_workers=12) as pool:
        told = list(pool.map(lambda job: one_call(job[0], token, *job[1:]), jobs))
    for gateway in gateways:
        assert gateway.stop() in STOPPED, "".join(gateway.lines)
    with UsageLedger(ledger_url) as ledger:
        rows = list(ledger.records(caller="shared"))
    assert len(rows) == len(jobs)
    by_prompt = {row.prompt: row for row in rows}
    assert len(by_prompt) == len(jobs)  # each request exactly once
    for (_, prompt, _, stream), (input_tokens, output_tokens) in zip(jobs, told, strict=True):
        row = by_prompt[f"user: {prompt}"]
        assert (row.input_tokens, row.output_tokens) == (input_tokens, output_tokens)
        assert row.status == "ok" and row.stream == stream


def test_workers_share_one_port_and_one_ledger(
    tmp_path: Path, gateways: list[GatewayProcess]
) -> None:
    db = f"sqlite:///{tmp_path / 'usage.db'}"
    with UsageLedger(db) as ledger:
        _, token = KeyStore(lambda: ledger.engine).create("w")
    gateways.append(
        GatewayProcess(
            "-c", str(config_file(tmp_path)), "--db", db, "--workers", "2", "--no-access-log"
        )
    )
    url = gateways[0].wait_ready()
    deadline = time.monotonic() + 60
    while "Application startup complete" not in "".join(gateways[0].lines):
        assert time.monotonic() < deadline, "".join(gateways[0].lines)
        time.sleep(0.1)
    prompts = [f"worker request {i}" for i in range(20)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda p: one_call(url, token, p, "openai", False), prompts))
    assert gateways[0].stop() in STOPPED, "".join(gateways[0].lines)
    with UsageLedger(db) as ledger:
        recorded = sorted(r.prompt or "" for r in ledger.records(caller="w"))
    assert recorded == sorted(f"user: {p}" for p in prompts)


def budget_call(url: str, token: str, prompt: str, api: str, stream: bool) -> httpx.Response:
    """Send one request that asks for at most 32 tokens; the response, its body read."""
    headers = {"authorization": f"Bearer {token}"}
    messages = [{"role": "user", "content": prompt}]
    body: dict[str, Any] = {"model": "mini", "max_tokens": 32, "messages": messages}
    if stream:
        body["stream"] = True
    path = "/v1/chat/completions" if api == "openai" else "/v1/messages"
    with httpx.stream("POST", url + path, json=body, headers=headers, timeout=60) as reply:
        reply.read()
    return reply


def test_three_gateways_enforce_one_budget(
    ledger_url: str, tmp_path: Path, gateways: list[GatewayProcess]
) -> None:
    """Three ``modelwire serve`` processes on one ledger, concurrent clients of both APIs (plain
    and streamed) spread over all three, one key with a small budget: the settled spend stays
    within it, every refusal is a 429 in its API's shape with ``Retry-After``, and every request
    is one row (answered: ``ok``, refused: an ``error`` row of the refusal)."""
    budget = Decimal("0.0005")
    with UsageLedger(ledger_url) as ledger:
        key, token = KeyStore(lambda: ledger.engine).create("budgeted", budget=f"{budget}/day")
    config = config_file(tmp_path)
    for _ in range(3):
        gateways.append(GatewayProcess("-c", str(config), "--db", ledger_url, "--no-access-log"))
    urls = [g.wait_ready() for g in gateways]
    run = uuid.uuid4().hex[:8]
    jobs = [
        (
            urls[i % 3],
            f"budget request {i} of run {run}",
            ("openai", "anthropic")[i % 2],
            i % 5 == 0,
        )
        for i in range(120)
    ]
    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(lambda job: budget_call(job[0], token, *job[1:]), jobs))
    for gateway in gateways:
        assert gateway.stop() in STOPPED, "".join(gateway.lines)

    assert not [line for g in gateways for line in g.lines if token in line]  # never logged
    statuses = [r.status_code for r in replies]
    assert set(statuses) == {200, 429}, [r.text for r in replies if r.status_code not in (200, 429)]
    assert statuses.count(200) >= 10
    served_by = {job[0] for job, status in zip(jobs, statuses, strict=True) if status == 200}
    assert served_by == set(urls)  # every process answered some and the budget held across all
    for (_, _, api, _), reply in zip(jobs, replies, strict=True):
        if reply.status_code != 429:
            continue
        assert int(reply.headers["retry-after"]) >= 1
        assert reply.headers["content-type"].startswith("application/json")  # before any stream
        if api == "openai":
            error = reply.json()["error"]
            assert (error["type"], error["code"]) == ("rate_limit_error", "budget_exceeded")
        else:
            assert reply.json()["type"] == "error"
            error = reply.json()["error"]
            assert error["type"] == "rate_limit_error"
        assert f"${budget}/day" in error["message"] and "caller=budgeted" in error["message"]

    with UsageLedger(ledger_url) as ledger:
        rows = list(ledger.records(caller="budgeted"))
        status = Limits(lambda: ledger.engine, limits_of(key)).status()
    by_prompt = {row.prompt: row for row in rows}
    assert len(rows) == len(by_prompt) == len(jobs)  # each request exactly one row, none lost
    for (_, prompt, _, stream), reply in zip(jobs, replies, strict=True):
        row = by_prompt[f"user: {prompt}"]
        assert row.stream == stream
        if reply.status_code == 200:
            assert row.status == "ok" and row.cost_usd is not None and row.cost_usd > 0
        else:
            assert (row.status, row.error_type) == ("error", "BudgetExceededError")
            assert row.cost_usd == 0 and row.input_tokens == row.output_tokens == 0
    spent = sum((r.cost_usd or Decimal(0) for r in rows), Decimal(0))
    assert 0 < spent <= budget
    (now,) = status
    assert (now.spent, now.reserved) == (spent, 0)  # every reservation settled, to the row
