"""Structured output overhead: ``invoke_model(output=City)`` vs the raw ``openai`` SDK asking for the
same JSON schema, side by side.

Run: ``python tools/bench/bench_structured.py [--blocks 30 --calls 200 --loop-calls 20]``.

Both sides get the same answer (a ``City`` as JSON) and end with a validated ``City``:

* raw, create: ``chat.completions.create(response_format={"type": "json_schema", ...})`` with the
  strict schema built once, then ``City.model_validate_json`` of the content: the least work a
  caller can do for a validated instance (the ratio's base);
* raw, parse: ``chat.completions.parse(response_format=City)``, the SDK's own helper, shown for
  information (it builds the strict schema on every call);
* modelwire: ``ModelService.invoke_model("openai:...", PROMPT, output=City)`` with a SQLite
  ``UsageLedger``: the spec cached per type, the provider's native mode, validation against the
  original type, the usage row;
* modelwire, +format: the same with the raw side's ``response_format`` also given in
  ``provider_params``, so that the request on the wire is the raw side's whatever the provider's
  own mapping sends (and it goes through ``create()`` like the raw side), for information.

1. In process (``httpx2.MockTransport`` answering a canned completion, no socket): median CPU µs
   per call in alternating blocks; the difference is modelwire's own work per call.
2. Loopback (``python -m tools.fake_provider`` in a child process): median wall ms per call in
   alternating blocks, when the fake server answers a ``json_schema`` request with JSON that
   validates (a probe call checks; otherwise this part says so and is skipped).

Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tools.bench.loopback import spread, start_server, timed_block  # noqa: E402

MODEL = "gpt-4o-mini"
PROMPT = "The largest city in the world, as JSON."
ANSWER = '{"name": "Tokyo", "country": "Japan", "population": 13960000}'


class City(BaseModel):
    """A city and how many people live there."""

    name: str
    country: str
    population: int = Field(ge=0)


def strict_format() -> dict[str, Any]:
    """OpenAI's strict ``response_format`` for ``City`` (what a caller writes once)."""
    schema = City.model_json_schema()
    schema["additionalProperties"] = False
    schema["required"] = list(schema["properties"])
    for prop in schema["properties"].values():
        prop.pop("minimum", None)  # not in strict mode's subset: checked by validation
    return {
        "type": "json_schema",
        "json_schema": {"name": "City", "schema": schema, "strict": True},
    }


CANNED = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": MODEL,
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": ANSWER, "refusal": None},
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 40,
        "completion_tokens": 18,
        "total_tokens": 58,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    },
}


def cpu_block(fn: Callable[[], Any], calls: int) -> float:
    """Process CPU µs per call over ``calls`` sequential calls."""
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls * 1e6


def sides(raw: Any, service: Any, model_id: str) -> dict[str, Callable[[], Any]]:
    """The three ways to a validated ``City``; each checks its result."""
    fmt = strict_format()
    messages = [{"role": "user", "content": PROMPT}]

    def raw_create() -> Any:
        answer = raw.chat.completions.create(model=MODEL, messages=messages, response_format=fmt)
        city = City.model_validate_json(answer.choices[0].message.content)
        assert city.population > 0
        return city

    def raw_parse() -> Any:
        answer = raw.chat.completions.parse(model=MODEL, messages=messages, response_format=City)
        city = answer.choices[0].message.parsed
        assert city is not None and city.population > 0
        return city

    def modelwire() -> Any:
        city = service.invoke_model(model_id, PROMPT, output=City).output
        assert city.population > 0
        return city

    def modelwire_format() -> Any:
        params = {"response_format": fmt}
        city = service.invoke_model(model_id, PROMPT, output=City, provider_params=params).output
        assert city.population > 0
        return city

    return {
        "raw, create": raw_create,
        "raw, parse": raw_parse,
        "modelwire": modelwire,
        "modelwire, +format": modelwire_format,
    }


def alternate(
    contenders: dict[str, Callable[[], Any]], blocks: int, measure: Callable[..., Any]
) -> tuple[dict[str, list[float]], list[float]]:
    """Samples per contender in alternating (ABBA) order, and modelwire/raw-create per block."""
    names = list(contenders)
    samples: dict[str, list[float]] = {n: [] for n in names}
    ratios: list[float] = []
    for i in range(blocks):
        block: dict[str, float] = {}
        for name in names if i % 2 == 0 else names[::-1]:
            value = measure(contenders[name])
            samples[name] += value if isinstance(value, list) else [value]
            block[name] = statistics.median(value) if isinstance(value, list) else value
        ratios.append(block["modelwire"] / block["raw, create"])
    return samples, ratios


def in_process(blocks: int, calls: int, tmp: Path) -> tuple[dict[str, float], list[float]]:
    """Median CPU µs per call with a mock transport (no server, no socket)."""
    import httpx2
    import openai

    import modelwire as mw

    body = json.dumps(CANNED).encode()
    headers = {"content-type": "application/json", "x-request-id": "req_bench"}

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers=headers)

    kw: dict[str, Any] = {"api_key": "sk-bench", "base_url": "http://mock/v1", "max_retries": 0}

    def client() -> openai.OpenAI:
        return openai.OpenAI(
            **kw, http_client=httpx2.Client(transport=httpx2.MockTransport(handler))
        )

    cfg = mw.Config(providers={"openai": {"api_key": "sk-bench", "base_url": "http://mock/v1"}})
    registry = mw.ModelRegistry.from_config(cfg)
    registry.provider("openai").client("sync", client, lambda c: c.close())
    ledger = mw.UsageLedger(f"sqlite:///{tmp / 'inproc.db'}")
    service = mw.ModelService(registry, ledger=ledger, caller="bench")
    raw = client()
    contenders = sides(raw, service, f"openai:{MODEL}")
    for fn in contenders.values():
        cpu_block(fn, calls)  # warm up: imports, first-use builds, caches
    samples, ratios = alternate(contenders, blocks, lambda fn: cpu_block(fn, calls))
    ledger.close()
    registry.close()
    raw.close()
    return {n: statistics.median(s) for n, s in samples.items()}, ratios


def loopback(blocks: int, calls: int, tmp: Path) -> tuple[dict[str, float], list[float]] | str:
    """Median wall ms per call against the fake server, or why it was skipped."""
    import openai

    import modelwire as mw

    proc, url = start_server()
    try:
        base_url = url + "/v1"
        raw = openai.OpenAI(api_key="sk-bench", base_url=base_url, max_retries=0, timeout=30)
        probe = raw.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": PROMPT}],
            response_format=strict_format(),  # type: ignore[arg-type]
        )
        content = probe.choices[0].message.content or ""
        try:
            City.model_validate_json(content)
        except ValueError:
            raw.close()
            return (
                "skipped: the fake server answers a json_schema request with "
                f"{content[:40]!r}, not a City (tools/fake_provider answers schemas later)"
            )
        cfg = mw.Config(
            providers={"openai": {"api_key": "sk-bench", "base_url": base_url, "timeout_s": 30}}
        )
        registry = mw.ModelRegistry.from_config(cfg)
        ledger = mw.UsageLedger(f"sqlite:///{tmp / 'loop.db'}")
        service = mw.ModelService(registry, ledger=ledger, caller="bench")
        contenders = sides(raw, service, f"openai:{MODEL}")
        for fn in contenders.values():
            timed_block(fn, 20)
        samples, ratios = alternate(contenders, blocks, lambda fn: timed_block(fn, calls))
        ledger.close()
        registry.close()
        raw.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {n: statistics.median(s) * 1e3 for n, s in samples.items()}, ratios


def main(argv: list[str] | None = None) -> None:
    """Run both measurements and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=30, help="alternating blocks per side")
    parser.add_argument("--calls", type=int, default=200, help="calls per in-process block")
    parser.add_argument("--loop-calls", type=int, default=20, help="calls per loopback block")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        medians, ratios = in_process(args.blocks, args.calls, Path(tmp))
        print(
            f"in process (mock transport): median CPU µs per call "
            f"({args.blocks} alternating blocks x {args.calls} calls)"
        )
        base = medians["raw, create"]
        for name, value in medians.items():
            print(f"  {name:<18} {value:8.1f} µs   ratio {value / base:5.3f}")
        print(f"  modelwire/raw-create per block: median {spread(ratios)}")
        result = loopback(args.blocks, args.loop_calls, Path(tmp))
    if isinstance(result, str):
        print(f"loopback: {result}")
        return
    medians, ratios = result
    print(
        f"loopback: median wall ms per call ({args.blocks} alternating blocks x "
        f"{args.loop_calls} calls)"
    )
    base = medians["raw, create"]
    for name, value in medians.items():
        print(f"  {name:<18} {value:8.3f} ms   ratio {value / base:5.3f}")
    print(f"  modelwire/raw-create per block: median {spread(ratios)}")


if __name__ == "__main__":
    main()
