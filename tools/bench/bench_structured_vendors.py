"""Structured-output overhead on Anthropic and Gemini: modelwire vs the raw SDK against the
loopback fake server.

Run: ``python tools/bench/bench_structured_vendors.py [--blocks 30 --calls 10]``.

The fake provider runs in a child process. For each vendor, in shuffled blocks of ``--calls``
sequential calls: the raw SDK sending the same structured request modelwire sends (Anthropic:
``messages.create(output_config={"format": {"type": "json_schema", ...}})``; Gemini:
``models.generate_content`` with ``response_mime_type`` and ``response_json_schema``), then
validating the answer with pydantic (``Trip.model_validate_json``), against
``ModelService.invoke_model(output=Trip)`` without a ledger. Printed: the median call time of
each and the median (min-max) of the per-block ratios to raw; then this process's CPU time per
call of each (median of 5 runs of ``--cpu-calls``: far less sensitive to a busy machine than wall
time). Last, the cost of the schema rewrite itself: first call for a type, and every later one
(cached).

Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pydantic import BaseModel, Field  # noqa: E402

from tools.bench.loopback import spread, start_server, timed_block  # noqa: E402


class Stop(BaseModel):
    city: str
    nights: int = Field(ge=1, le=30)


class Trip(BaseModel):
    title: str
    kind: Literal["city", "beach"]
    stops: list[Stop]
    budget: float | None = None


def _anthropic(url: str) -> tuple[Any, Any, Any]:
    import anthropic

    import modelwire as mw
    from modelwire.output import OutputSpec
    from modelwire.providers.anthropic.schema import native_schema

    schema = native_schema(OutputSpec.of(Trip))
    assert schema is not None
    client = anthropic.Anthropic(api_key="sk-ant-bench", base_url=url, max_retries=0)
    config = {"format": {"type": "json_schema", "schema": dict(schema.schema)}}
    messages: Any = [{"role": "user", "content": "plan a trip"}]

    def raw() -> Any:
        msg = client.messages.create(
            model="claude-sonnet-4-5", max_tokens=256, messages=messages, output_config=config
        )
        return Trip.model_validate_json(msg.content[0].text)  # type: ignore[union-attr]

    service = _service(url, "anthropic", "sk-ant-bench")

    def wired() -> Any:
        return service.invoke_model(
            "anthropic:claude-sonnet-4-5", "plan a trip", output=Trip, max_tokens=256
        ).output

    del mw
    return raw, wired, client.close


def _gemini(url: str) -> tuple[Any, Any, Any]:
    from google import genai
    from google.genai import types

    from modelwire.output import OutputSpec
    from modelwire.providers.google.schema import native_schema

    options = types.HttpOptions(
        base_url=url, api_version="v1beta", retry_options=types.HttpRetryOptions(attempts=1)
    )
    client = genai.Client(api_key="AIza-bench", http_options=options)
    config = types.GenerateContentConfig(
        response_mime_type="application/json",
        response_json_schema=dict(native_schema(OutputSpec.of(Trip)).schema),
    )

    def raw() -> Any:
        answer = client.models.generate_content(
            model="gemini-2.5-flash", contents="plan a trip", config=config
        )
        return Trip.model_validate_json(answer.text or "")

    service = _service(url, "google", "AIza-bench")

    def wired() -> Any:
        return service.invoke_model("google:gemini-2.5-flash", "plan a trip", output=Trip).output

    return raw, wired, client.close


def _service(url: str, vendor: str, key: str) -> Any:
    import modelwire as mw

    cfg = mw.Config.model_validate(
        {"providers": {vendor: {"api_key": key, "base_url": url, "max_retries": 0}}}
    )
    return mw.ModelService(mw.ModelRegistry.from_config(cfg))


def _compare(name: str, raw: Any, wired: Any, blocks: int, calls: int) -> None:
    for fn in (raw, wired):  # warm-up: clients, validators, caches
        timed_block(fn, 5)
    times: dict[str, list[float]] = {"raw": [], "modelwire": []}
    ratios: list[float] = []
    for _ in range(blocks):
        order = [("raw", raw), ("modelwire", wired)]
        random.shuffle(order)
        block = {label: statistics.median(timed_block(fn, calls)) for label, fn in order}
        for label, value in block.items():
            times[label].append(value)
        ratios.append(block["modelwire"] / block["raw"])
    print(
        f"{name}: raw SDK {statistics.median(times['raw']) * 1e6:.0f} µs, modelwire "
        f"{statistics.median(times['modelwire']) * 1e6:.0f} µs per call; "
        f"modelwire/raw {spread(ratios)}"
    )


def _cpu(name: str, raw: Any, wired: Any, calls: int) -> None:
    def per_call(fn: Any) -> float:
        runs = []
        for _ in range(5):
            start = time.process_time()
            for _ in range(calls):
                fn()
            runs.append((time.process_time() - start) / calls)
        return statistics.median(runs)

    r, w = per_call(raw), per_call(wired)
    print(f"{name}: CPU per call raw {r * 1e6:.0f} µs, modelwire {w * 1e6:.0f} µs ({w / r:.3f})")


def _rewrite_cost() -> None:
    from modelwire.output import OutputSpec
    from modelwire.providers.anthropic.schema import native_schema as anthropic_schema
    from modelwire.providers.google.schema import native_schema as gemini_schema

    class Fresh(Trip):
        note: str = ""

    start = time.perf_counter()
    spec = OutputSpec.of(Fresh)
    anthropic_schema(spec), gemini_schema(spec)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(1000):
        spec = OutputSpec.of(Fresh)
        anthropic_schema(spec), gemini_schema(spec)
    again = (time.perf_counter() - start) / 1000
    print(f"schema + both rewrites: first {first * 1e6:.0f} µs, cached {again * 1e6:.2f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=30)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--cpu-calls", type=int, default=300)
    args = parser.parse_args()
    proc, url = start_server()
    try:
        for name, build in (("anthropic", _anthropic), ("gemini", _gemini)):
            raw, wired, close = build(url)
            try:
                _compare(name, raw, wired, args.blocks, args.calls)
                _cpu(name, raw, wired, args.cpu_calls)
            finally:
                close()
        _rewrite_cost()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
