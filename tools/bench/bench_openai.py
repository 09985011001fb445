"""Provider call overhead: modelwire vs the raw ``openai`` SDK against the loopback fake server.

Run: ``python tools/bench/bench_openai.py [--blocks 10 --calls 50 --threads 16 --async-calls 2048]``.

The fake provider runs in a separate process (``python -m tools.fake_provider``) so its work does
not share this process's GIL. In one run, with alternating blocks (raw, modelwire, raw, ...):

1. median wall time per call: ``OpenAI().chat.completions.create`` vs
   ``ModelService.invoke_model`` with a SQLite ``UsageLedger`` (in a temporary folder);
   before that, CPU per call in process (mock transport), including a pair where both sides go
   through ``create()`` (modelwire does when a request has ``provider_params``), which shows
   modelwire's own per-call work;
2. 16-thread throughput: the same two, one shared client / one shared service;
3. asyncio throughput at 256 concurrent calls: ``AsyncOpenAI`` vs ``ModelService.ainvoke_model``;
4. tool calling, median wall time per call in alternating blocks: the same request with one
   tool — a first turn the fake model answers with two parallel calls, and a second turn that
   sends the calls' results back — through ``create(tools=...)`` and through
   ``ModelService.invoke_model(tools=[Tool])``; the same with ``tools=[a Python function]``
   (its schema derived on every call) is shown for information. In process, the first turn's
   CPU per call is compared too.

If ``litellm`` is installed, ``litellm.completion`` joins block 1. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tools.bench.loopback import (  # noqa: E402
    async_rounds,
    report_throughput,
    spread,
    start_server,
    threaded_throughput,
    timed_block,
)

MODEL = "gpt-4o-mini"
PROMPT = "Say hello to the benchmark in a few words please."
TOOL_PROMPT = 'call get_weather {"city": "Paris", "days": 2}\ncall get_weather {"city": "Rome"}'


def get_weather(city: str, days: int = 1) -> str:
    """The weather in a city.

    Args:
        city: the city's name
        days: how many days ahead
    """
    return f"sunny in {city} for {days} day(s)"


CANNED = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": MODEL,
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello, benchmark!"},
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 12,
        "completion_tokens": 4,
        "total_tokens": 16,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    },
}


CANNED_TOOLS = {
    **CANNED,
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_bench_0",
                        "type": "function",
                        "function": {
                            "name": "get_weather",
                            "arguments": '{"city": "Paris", "days": 2}',
                        },
                    },
                    {
                        "id": "call_bench_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                    },
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
}


class ToolRequests:
    """The tool-calling requests both sides send, built once: the wire form for the raw SDK,
    modelwire's ``Tool`` and messages for the service."""

    def __init__(self) -> None:
        import modelwire as mw
        from modelwire.content import ToolCall, ToolResultPart
        from modelwire.tools import Tool

        self.tool = Tool.from_function(get_weather)
        self.tools = [self.tool]
        self.wire_tools: list[dict[str, Any]] = [
            {
                "type": "function",
                "function": {
                    "name": self.tool.name,
                    "description": self.tool.description,
                    "parameters": dict(self.tool.parameters),
                },
            }
        ]
        self.first_messages: list[dict[str, Any]] = [{"role": "user", "content": TOOL_PROMPT}]
        calls = [
            ("call_bench_0", {"city": "Paris", "days": 2}),
            ("call_bench_1", {"city": "Rome"}),
        ]
        self.second_messages: list[dict[str, Any]] = [
            *self.first_messages,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": cid,
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": json.dumps(args)},
                    }
                    for cid, args in calls
                ],
            },
            *(
                {"role": "tool", "tool_call_id": cid, "content": get_weather(**args)}
                for cid, args in calls
            ),
        ]
        self.history = [
            mw.Message(role="user", content=TOOL_PROMPT),
            mw.Message(
                role="assistant",
                content=tuple(
                    ToolCall(id=cid, name="get_weather", arguments=args) for cid, args in calls
                ),
            ),
            mw.Message(
                role="tool",
                content=tuple(
                    ToolResultPart(call_id=cid, content=get_weather(**args)) for cid, args in calls
                ),
            ),
        ]


def cpu_block(fn: Callable[[], Any], calls: int) -> float:
    """Process CPU µs per call over ``calls`` sequential calls (robust on a busy machine)."""
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls * 1e6


def in_process_overhead(blocks: int, calls: int, tmp: Path) -> dict[str, float]:
    """Median CPU µs per call, raw SDK vs modelwire, with an in-process mock transport.

    Without a socket or a server the difference is modelwire's own work per call (request
    building, mapping, usage event, ledger enqueue), measured in alternating blocks.
    """
    import httpx2
    import openai

    import modelwire as mw
    from modelwire.providers._async_clients import LoopClients

    body = json.dumps(CANNED).encode()
    tool_body = json.dumps(CANNED_TOOLS).encode()
    headers = {"content-type": "application/json", "x-request-id": "req_bench"}

    def handler(request: httpx2.Request) -> httpx2.Response:
        answer = tool_body if b'"tools"' in request.content else body
        return httpx2.Response(200, content=answer, headers=headers)

    async def ahandler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers=headers)

    kw: dict[str, Any] = {"api_key": "sk-bench", "base_url": "http://mock/v1", "max_retries": 0}

    def sync_client() -> openai.OpenAI:
        return openai.OpenAI(
            **kw, http_client=httpx2.Client(transport=httpx2.MockTransport(handler))
        )

    def async_client() -> openai.AsyncOpenAI:
        transport = httpx2.MockTransport(ahandler)
        return openai.AsyncOpenAI(**kw, http_client=httpx2.AsyncClient(transport=transport))

    cfg = mw.Config(providers={"openai": {"api_key": "sk-bench", "base_url": "http://mock/v1"}})
    registry = mw.ModelRegistry.from_config(cfg)
    ctx = registry.provider("openai")
    ctx.client("sync", sync_client, lambda c: c.close())
    ctx.client("async", lambda: LoopClients(async_client, lambda c: c.close()), LoopClients.close)
    ledger = mw.UsageLedger(f"sqlite:///{tmp / 'inproc.db'}")
    service = mw.ModelService(registry, ledger=ledger)
    raw, araw = sync_client(), async_client()
    messages = [{"role": "user", "content": PROMPT}]

    def call_raw() -> Any:
        return raw.chat.completions.create(model=MODEL, messages=messages)  # type: ignore[arg-type]

    def call_mw() -> Any:
        return service.invoke_model(f"openai:{MODEL}", PROMPT)

    # With provider_params modelwire calls chat.completions.create like the raw SDK does, so
    # this pair shows modelwire's own per-call work without the client.post saving.
    def call_raw_create() -> Any:
        return raw.chat.completions.create(model=MODEL, messages=messages, user="bench")  # type: ignore[arg-type]

    def call_mw_create() -> Any:
        return service.invoke_model(f"openai:{MODEL}", PROMPT, provider_params={"user": "bench"})

    tool_requests = ToolRequests()

    def call_raw_tools() -> Any:
        return raw.chat.completions.create(
            model=MODEL,
            messages=tool_requests.first_messages,  # type: ignore[arg-type]
            tools=tool_requests.wire_tools,  # type: ignore[arg-type]
        )

    def call_mw_tools() -> Any:
        return service.invoke_model(f"openai:{MODEL}", TOOL_PROMPT, tools=tool_requests.tools)

    async def async_blocks() -> tuple[list[float], list[float]]:
        out_raw: list[float] = []
        out_mw: list[float] = []
        for i in range(blocks + 1):
            pairs = [
                (lambda: araw.chat.completions.create(model=MODEL, messages=messages), out_raw),  # type: ignore[arg-type]
                (lambda: service.ainvoke_model(f"openai:{MODEL}", PROMPT), out_mw),
            ]
            for fn, out in pairs if i % 2 else pairs[::-1]:
                start = time.process_time()
                for _ in range(calls):
                    await fn()
                if i:  # block 0 warms up
                    out.append((time.process_time() - start) / calls * 1e6)
        return out_raw, out_mw

    sync_pairs = {
        "sync": (call_raw, call_mw),
        "sync, both via create()": (call_raw_create, call_mw_create),
        "sync, a tool call": (call_raw_tools, call_mw_tools),
    }
    sync_samples: dict[str, tuple[list[float], list[float]]] = {}
    for label, (fn_raw, fn_mw) in sync_pairs.items():
        timed_block(fn_raw, calls)
        timed_block(fn_mw, calls)
        s_raw: list[float] = []
        s_mw: list[float] = []
        for i in range(blocks):  # ABBA order cancels warm-cache and drift effects
            if i % 2:
                s_mw.append(cpu_block(fn_mw, calls))
                s_raw.append(cpu_block(fn_raw, calls))
            else:
                s_raw.append(cpu_block(fn_raw, calls))
                s_mw.append(cpu_block(fn_mw, calls))
        sync_samples[label] = (s_raw, s_mw)
    a_raw, a_mw = asyncio.run(async_blocks())
    ledger.close()
    registry.close()
    raw.close()
    out = {"async raw": statistics.median(a_raw), "async modelwire": statistics.median(a_mw)}
    for label, (s_raw, s_mw) in sync_samples.items():
        out[f"{label} raw"] = statistics.median(s_raw)
        out[f"{label} modelwire"] = statistics.median(s_mw)
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the three measurements and print a table of medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=30, help="alternating blocks per side")
    parser.add_argument("--calls", type=int, default=20, help="calls per latency block")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--per-thread", type=int, default=20, help="calls per thread per block")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--async-calls", type=int, default=1024, help="calls per async block")
    parser.add_argument("--rounds", type=int, default=7, help="alternating throughput rounds")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    import openai

    import modelwire as mw

    tmp = tempfile.TemporaryDirectory()
    inproc = in_process_overhead(args.blocks, 200, Path(tmp.name))
    print("in process (mock transport, no server): median CPU µs per call, alternating blocks")
    for kind in ("sync", "async", "sync, both via create()", "sync, a tool call"):
        r, m = inproc[f"{kind} raw"], inproc[f"{kind} modelwire"]
        print(
            f"  {kind:<24} raw {r:7.1f}  modelwire {m:7.1f}  difference {m - r:6.1f} µs"
            f"  ratio {m / r:5.3f}"
        )
    proc, url = start_server()
    try:
        base_url = url + "/v1"
        raw = openai.OpenAI(api_key="sk-bench", base_url=base_url, max_retries=0, timeout=30)
        cfg = mw.Config(
            providers={"openai": {"api_key": "sk-bench", "base_url": base_url, "timeout_s": 30}}
        )
        registry = mw.ModelRegistry.from_config(cfg)
        ledger = mw.UsageLedger(f"sqlite:///{Path(tmp.name) / 'usage.db'}")
        service = mw.ModelService(registry, ledger=ledger, caller="bench")
        messages = [{"role": "user", "content": PROMPT}]

        def call_raw() -> Any:
            return raw.chat.completions.create(model=MODEL, messages=messages)  # type: ignore[arg-type]

        def call_mw() -> Any:
            return service.invoke_model(f"openai:{MODEL}", PROMPT)

        contenders: dict[str, Callable[[], Any]] = {
            "raw openai SDK": call_raw,
            "modelwire": call_mw,
        }
        if importlib.util.find_spec("litellm") is not None:
            # LiteLLM fetches its price list from GitHub on import unless told to use its own copy
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            def call_litellm() -> Any:
                return litellm.completion(
                    model=f"openai/{MODEL}",
                    messages=messages,
                    api_base=base_url,
                    api_key="sk-bench",
                )

            contenders["litellm.completion"] = call_litellm

        for fn in contenders.values():  # warm up connections, imports, first-use builds
            timed_block(fn, 20)

        # 1. latency, alternating blocks
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        block_ratios: list[float] = []
        for _ in range(args.blocks):
            block: dict[str, float] = {}
            for name, fn in contenders.items():
                times = timed_block(fn, args.calls)
                samples[name] += times
                block[name] = statistics.median(times)
            block_ratios.append(block["modelwire"] / block["raw openai SDK"])
        medians = {name: statistics.median(s) * 1e3 for name, s in samples.items()}

        # 2. thread throughput, alternating rounds
        tput: dict[str, list[tuple[float, float]]] = {"raw openai SDK": [], "modelwire": []}
        for _ in range(args.rounds):
            tput["raw openai SDK"].append(
                threaded_throughput(call_raw, args.threads, args.per_thread)
            )
            tput["modelwire"].append(threaded_throughput(call_mw, args.threads, args.per_thread))

        # 3. asyncio throughput, alternating rounds
        async def run_async() -> dict[str, list[tuple[float, float]]]:
            araw = openai.AsyncOpenAI(
                api_key="sk-bench", base_url=base_url, max_retries=0, timeout=60
            )

            async def acall_raw() -> Any:
                return await araw.chat.completions.create(model=MODEL, messages=messages)  # type: ignore[arg-type]

            async def acall_mw() -> Any:
                return await service.ainvoke_model(f"openai:{MODEL}", PROMPT)

            out = await async_rounds(
                {"raw openai SDK": acall_raw, "modelwire": acall_mw},
                args.rounds,
                args.async_calls,
                args.concurrency,
            )
            await araw.close()
            return out

        atput = asyncio.run(run_async())

        # 4. tool calling, alternating blocks
        tool_requests = ToolRequests()
        model_id = f"openai:{MODEL}"

        def raw_first() -> Any:
            answer = raw.chat.completions.create(
                model=MODEL,
                messages=tool_requests.first_messages,  # type: ignore[arg-type]
                tools=tool_requests.wire_tools,  # type: ignore[arg-type]
            )
            assert len(answer.choices[0].message.tool_calls or ()) == 2
            return answer

        def mw_first() -> Any:
            answer = service.invoke_model(model_id, TOOL_PROMPT, tools=tool_requests.tools)
            assert len(answer.tool_calls) == 2
            return answer

        def mw_first_function() -> Any:
            return service.invoke_model(model_id, TOOL_PROMPT, tools=[get_weather])

        def raw_second() -> Any:
            return raw.chat.completions.create(
                model=MODEL,
                messages=tool_requests.second_messages,  # type: ignore[arg-type]
                tools=tool_requests.wire_tools,  # type: ignore[arg-type]
            )

        def mw_second() -> Any:
            return service.invoke_model(model_id, tool_requests.history, tools=tool_requests.tools)

        tool_turns = {
            "tool call (turn 1)": {
                "raw openai SDK": raw_first,
                "modelwire, tools=[Tool]": mw_first,
                "modelwire, tools=[function]": mw_first_function,
            },
            "tool results (turn 2)": {
                "raw openai SDK": raw_second,
                "modelwire, tools=[Tool]": mw_second,
            },
        }
        tool_medians: dict[str, dict[str, float]] = {}
        tool_ratios: dict[str, list[float]] = {}
        for turn, sides in tool_turns.items():
            for fn in sides.values():
                timed_block(fn, 20)
            got: dict[str, list[float]] = {name: [] for name in sides}
            ratios: list[float] = []
            names = list(sides)
            for i in range(args.blocks):  # ABBA order: no side always goes first
                block: dict[str, float] = {}
                for name in names if i % 2 == 0 else names[::-1]:
                    times = timed_block(sides[name], args.calls)
                    got[name] += times
                    block[name] = statistics.median(times)
                ratios.append(block["modelwire, tools=[Tool]"] / block["raw openai SDK"])
            tool_medians[turn] = {name: statistics.median(t) * 1e3 for name, t in got.items()}
            tool_ratios[turn] = ratios
        ledger.flush()
        rows = sum(r["calls"] for r in ledger.summary(by=("model",)))
        ledger.close()
        registry.close()
        raw.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        tmp.cleanup()

    base = medians["raw openai SDK"]
    print(f"latency: median ms per call ({args.blocks} alternating blocks x {args.calls} calls)")
    for name, value in medians.items():
        print(f"  {name:<20} {value:8.3f} ms   ratio {value / base:5.3f}")
    print(f"  modelwire/raw per block: median {spread(block_ratios)}")
    report_throughput(f"{args.threads} threads", args.rounds, tput, "raw openai SDK")
    report_throughput(
        f"asyncio, {args.concurrency} concurrent (raw: AsyncOpenAI)",
        args.rounds,
        atput,
        "raw openai SDK",
    )
    for turn, turn_medians in tool_medians.items():
        base = turn_medians["raw openai SDK"]
        print(f"{turn}: median ms per call ({args.blocks} alternating blocks x {args.calls} calls)")
        for name, value in turn_medians.items():
            print(f"  {name:<28} {value:8.3f} ms   ratio {value / base:5.3f}")
        print(f"  modelwire/raw per block: median {spread(tool_ratios[turn])}")
    print(f"ledger rows written: {rows}")


if __name__ == "__main__":
    main()
