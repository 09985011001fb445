"""A small web app: one ``ModelService`` shared by every request thread.

FastAPI runs plain ``def`` endpoints on a thread pool, so concurrent requests call the same
service (and registry, provider clients and ledger) from many threads at once — which is what
they are built for: registry reads take no lock, each model is built once, and the ledger's
``record()`` only enqueues.

This script starts the app with uvicorn on a free port of 127.0.0.1 in a background thread, sends
it a burst of concurrent requests with httpx, prints what came back and stops the server.
To serve it yourself: ``uvicorn web_app:app`` (from this directory).

python examples/web_app.py
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import uvicorn
from _setup import demo_service
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from modelwire import InMemoryUsageSink, ModelNotFoundError, ModelwireError

usage = InMemoryUsageSink()  # a real app passes UsageLedger("sqlite:///usage.db") instead
service = demo_service(usage)  # built once, at import; shared by every request
app = FastAPI(title="modelwire example")


class Ask(BaseModel):
    """The body of ``POST /ask``."""

    prompt: str
    model: str = "mini"
    max_tokens: int | None = 100


@app.post("/ask")
def ask(body: Ask) -> dict[str, Any]:
    """Call a model; unknown models are 404, provider failures 502."""
    try:
        resp = service.invoke_model(
            body.model, body.prompt, max_tokens=body.max_tokens, caller="web"
        )
    except ModelNotFoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except ModelwireError as exc:
        raise HTTPException(status_code=502, detail=type(exc).__name__) from exc
    return {
        "model": resp.model_id,
        "text": resp.text,
        "tokens": resp.usage.total_tokens,
        "cost_usd": str(resp.cost_usd),
        "thread": threading.get_ident(),
    }


@app.get("/usage")
def usage_totals() -> dict[str, Any]:
    """Calls and cost so far, per model."""
    calls: dict[str, int] = {}
    cost: dict[str, Decimal] = {}
    for event in list(usage.events):
        calls[event.model_id] = calls.get(event.model_id, 0) + 1
        cost[event.model_id] = cost.get(event.model_id, Decimal(0)) + (event.cost_usd or 0)
    return {m: {"calls": n, "cost_usd": str(cost[m])} for m, n in sorted(calls.items())}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        models = ["mini", "anthropic:claude-sonnet-4-5", "google:gemini-2.5-flash"]
        with httpx.Client(base_url=base, timeout=10) as client:

            def one(i: int) -> dict[str, Any]:
                reply = client.post(
                    "/ask", json={"prompt": f"question {i}", "model": models[i % 3]}
                )
                reply.raise_for_status()
                return dict(reply.json())

            with ThreadPoolExecutor(max_workers=8) as pool:
                answers = list(pool.map(one, range(24)))
            threads = {a["thread"] for a in answers}
            print(f"24 concurrent requests answered on {len(threads)} server threads")
            for a in answers[:3]:
                print(
                    f"  {a['model']}: {a['text'][:50]!r} ({a['tokens']} tokens, ${a['cost_usd']})"
                )
            missing = client.post("/ask", json={"prompt": "hi", "model": "gpt-4o-mimi"})
            print(f"unknown model -> HTTP {missing.status_code}: {missing.json()['detail'][:70]}")
            print("usage per model:", client.get("/usage").json())
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        service.close()
    print("server stopped:", not thread.is_alive())


if __name__ == "__main__":
    main()
