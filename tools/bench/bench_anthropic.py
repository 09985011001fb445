"""Anthropic call overhead: modelwire vs the raw ``anthropic`` SDK against the loopback fake server.

Run: ``python tools/bench/bench_anthropic.py [--blocks 200 --calls 5 --threads 16]``.

The fake provider runs in a child process (``python -m tools.fake_provider``) so its work does not
share this process's GIL. In one run, with alternating blocks (raw, modelwire, raw, ...):

1. median wall time per call: ``Anthropic().messages.create`` vs ``ModelService.invoke_model``
   with a SQLite ``UsageLedger`` in a temporary folder (the same request: model, max_tokens,
   one user message), and the median of the per-block ratios to raw (the contenders run in a
   shuffled order in every block, so a change in machine load hits all alike). Two more rows
   split the overhead: ``ModelService`` without a ledger, and the provider alone
   (``AnthropicChatModel.invoke`` on a prepared ``ChatRequest``);
2. ``--threads`` threads sharing one client / one service: calls per second, alternating rounds;
3. asyncio throughput at ``--concurrency`` (256) calls in flight: ``AsyncAnthropic`` vs
   ``ModelService.ainvoke_model``, alternating rounds (``--calibrate`` adds a second, identical
   raw client to 2 and 3: how far its ratio strays from 1 is the noise of the measurement);
4. the same asyncio rounds in process, the SDK's transport replaced by a mock that answers after
   1 ms (no socket, no connection pool: the SDK's and modelwire's own async work);
5. modelwire's own CPU time per call, with the SDK's HTTP call replaced by a stub (no network,
   so far less noisy than 1 and 2 on a busy machine), for a text answer and a tool call;
6. shuffled blocks as in 1 of a streamed text answer (the raw side reads every event) and of a
   tool-calling request (one tool, ``tool_choice`` naming it: the fake model answers with a
   ``tool_use`` block): ``messages.create(tools=..., tool_choice=...)`` vs
   ``ModelService.invoke_model(tools=[Tool(...)], tool_choice=...)``, the same streamed, and the
   tool given as a Python function (its schema derived on every call).

Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
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

MODEL = "claude-bench-1"
PROMPT = "Say hello to the benchmark in a few words please."
MAX_TOKENS = 64
RAW = "raw anthropic SDK"
AGAIN = "raw SDK again (A/A)"

#: The answer of the in-process measurements: the JSON body of a short one-text-block message.
ANSWER = json.dumps(
    {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": "echo: hello"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 9, "output_tokens": 3},
    }
).encode()
MESSAGES: Any = [{"role": "user", "content": PROMPT}]

TOOL_NAME = "get_weather"
TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "the city's name"},
        "unit": {"enum": ["celsius", "fahrenheit"], "default": "celsius"},
    },
    "required": ["city"],
}
TOOL_DESCRIPTION = "The current weather in a city."
RAW_TOOLS: Any = [{"name": TOOL_NAME, "description": TOOL_DESCRIPTION, "input_schema": TOOL_SCHEMA}]
RAW_CHOICE: Any = {"type": "tool", "name": TOOL_NAME}
#: The answer of the stubbed CPU measurement of a tool call: a text block and a tool_use block.
TOOL_ANSWER = json.dumps(
    {
        "id": "msg_bench_tool",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [
            {"type": "text", "text": "Checking."},
            {
                "type": "tool_use",
                "id": "toolu_bench",
                "name": TOOL_NAME,
                "input": {"city": "Paris", "unit": "celsius"},
            },
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 40, "output_tokens": 12},
    }
).encode()


def get_weather(city: str, unit: str = "celsius") -> str:
    """The current weather in a city.

    Args:
        city: the city's name
    """
    return f"18 {unit} in {city}"


def bench_tool() -> Any:
    """The tool as modelwire takes it (the same name, description and schema as ``RAW_TOOLS``)."""
    from modelwire.tools import Tool

    return Tool(name=TOOL_NAME, description=TOOL_DESCRIPTION, parameters=TOOL_SCHEMA)


def bench_registry(base_url: str) -> Any:
    """A registry with one priced Anthropic entry at ``base_url`` (what every modelwire side uses)."""
    import modelwire as mw

    cfg = mw.Config(
        providers={"anthropic": {"api_key": "sk-ant-bench", "base_url": base_url, "timeout_s": 30}},
        models={f"anthropic:{MODEL}": {"cost": {"input_per_mtok": 3, "output_per_mtok": 15}}},
    )
    return mw.ModelRegistry.from_config(cfg)


def raw_call(client: Any) -> Callable[[], Any]:
    """The raw SDK's call on ``client``, the request every contender sends."""
    return lambda: client.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=MESSAGES)


def raw_async_call(client: Any) -> Callable[[], Awaitable[Any]]:
    """The same, on an ``AsyncAnthropic`` client."""

    async def call() -> Any:
        return await client.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=MESSAGES)

    return call


async def async_raw_vs_modelwire(
    new_client: Callable[[], Any],
    call_mw: Callable[[], Awaitable[Any]],
    args: argparse.Namespace,
    total: int,
) -> dict[str, list[tuple[float, float]]]:
    """``async_rounds`` of a raw client from ``new_client`` and ``call_mw`` (and with
    ``--calibrate`` a second raw client); the raw clients are closed after."""
    clients = [new_client() for _ in range(2 if args.calibrate else 1)]
    side = {RAW: raw_async_call(clients[0]), "modelwire": call_mw}
    if args.calibrate:
        side[AGAIN] = raw_async_call(clients[1])
    try:
        return await async_rounds(side, args.rounds, total, args.concurrency)
    finally:
        for client in clients:
            await client.close()


MW = "modelwire ModelService"


def cpu_overhead(tmp: Path, loops: int) -> dict[str, float]:
    """Microseconds of modelwire's own work per call, the SDK's HTTP call replaced by a stub.

    The stub answers ``messages.with_raw_response.create`` with a prebuilt raw response (the
    JSON body of a short answer and its request id), so what is left is request mapping, parsing
    the body into the SDK's ``Message``, response normalisation, the service's bookkeeping and
    (last row) the ledger's enqueue.
    """
    from types import SimpleNamespace

    import modelwire as mw
    from modelwire.types import ChatRequest

    raw = SimpleNamespace(
        http_response=SimpleNamespace(content=ANSWER), request_id="req_stub", workspace_id=None
    )
    tool_raw = SimpleNamespace(
        http_response=SimpleNamespace(content=TOOL_ANSWER), request_id="req_stub", workspace_id=None
    )

    class _Raw:
        def create(self, **kwargs: Any) -> Any:
            return tool_raw if "tools" in kwargs.get("extra_body", ()) else raw

    class _Messages:
        with_raw_response = _Raw()

    class _Stub:
        messages = _Messages()

        def close(self) -> None:
            pass

    registry = bench_registry("http://127.0.0.1:9")
    registry.provider("anthropic").client("sync", _Stub)
    ledger = mw.UsageLedger(f"sqlite:///{tmp / 'cpu.db'}")
    with_ledger = mw.ModelService(registry, ledger=ledger)
    bare = mw.ModelService(registry, ledger=None)
    model = registry.get_model(f"anthropic:{MODEL}")
    request = ChatRequest.build(PROMPT, max_tokens=MAX_TOKENS)
    name = f"anthropic:{MODEL}"
    tool = bench_tool()
    tool_request = ChatRequest.build(
        PROMPT, max_tokens=MAX_TOKENS, tools=(tool,), tool_choice=TOOL_NAME
    )
    cases: dict[str, Callable[[], Any]] = {
        "provider (.invoke)": lambda: model.invoke(request),
        "ModelService, no ledger": lambda: bare.invoke_model(name, PROMPT, max_tokens=MAX_TOKENS),
        "ModelService + ledger": lambda: with_ledger.invoke_model(
            name, PROMPT, max_tokens=MAX_TOKENS
        ),
        "tool call: provider": lambda: model.invoke(tool_request),
        "tool call: ModelService+ledger": lambda: with_ledger.invoke_model(
            name, PROMPT, max_tokens=MAX_TOKENS, tools=[tool], tool_choice=TOOL_NAME
        ),
    }
    out: dict[str, float] = {}
    for label, fn in cases.items():
        for _ in range(loops // 5):
            fn()
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(loops):
                fn()
            runs.append((time.perf_counter() - start) / loops * 1e6)
        out[label] = min(runs)
    ledger.close()
    registry.close()
    return out


def in_process_async(tmp: Path, args: argparse.Namespace) -> dict[str, list[tuple[float, float]]]:
    """asyncio throughput with the SDK's transport replaced by ``httpx.MockTransport``.

    Rounds of twice ``--async-calls``. The mock answers after 1 ms, so ``--concurrency`` calls
    are really in flight, but no socket and no connection pool take part: at 256 concurrent calls
    the pool's bookkeeping is about half of the client's CPU on the loopback and makes that
    measure noisy; this one shows the SDK's and modelwire's own async work. Both sides use the
    same mock.
    """
    import anthropic
    import httpx2

    import modelwire as mw
    from modelwire.providers._async_clients import LoopClients

    headers = {"content-type": "application/json", "request-id": "req_mock"}

    async def answer(_: httpx2.Request) -> httpx2.Response:
        await asyncio.sleep(0.001)
        return httpx2.Response(200, content=ANSWER, headers=headers)

    def client() -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(
            api_key="sk-ant-bench",
            base_url="http://127.0.0.1:9",
            max_retries=0,
            timeout=30,
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(answer)),
        )

    registry = bench_registry("http://127.0.0.1:9")
    registry.provider("anthropic").client(
        "async", lambda: LoopClients(client, lambda c: c.close()), LoopClients.close
    )
    ledger = mw.UsageLedger(f"sqlite:///{tmp / 'in-process.db'}")
    service = mw.ModelService(registry, ledger=ledger)

    async def call_mw() -> Any:
        return await service.ainvoke_model(f"anthropic:{MODEL}", PROMPT, max_tokens=MAX_TOKENS)

    try:
        return asyncio.run(async_raw_vs_modelwire(client, call_mw, args, 2 * args.async_calls))
    finally:
        ledger.close()
        registry.close()


def tool_latency(
    raw: Any, service: Any, blocks: int, calls: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Shuffled blocks of streamed text answers and of tool-calling requests, raw SDK vs
    modelwire, each modelwire row with its ratio to the raw SDK's same request (the tool rows
    only when this modelwire maps Anthropic tools: its answer has a tool call)."""
    name = f"anthropic:{MODEL}"
    tool = bench_tool()
    params: dict[str, Any] = {"max_tokens": MAX_TOKENS, "tool_choice": TOOL_NAME}
    with_tools: dict[str, Any] = {"tools": RAW_TOOLS, "tool_choice": RAW_CHOICE}

    def call_raw() -> Any:
        return raw.messages.create(
            model=MODEL, max_tokens=MAX_TOKENS, messages=MESSAGES, **with_tools
        )

    def call_mw() -> Any:
        return service.invoke_model(name, PROMPT, tools=[tool], **params)

    def stream_raw(**extra: Any) -> Any:
        with raw.messages.create(
            model=MODEL, max_tokens=MAX_TOKENS, messages=MESSAGES, stream=True, **extra
        ) as events:
            return list(events)

    def stream_mw() -> Any:
        return list(service.stream_model(name, PROMPT, tools=[tool], **params))

    def call_function() -> Any:
        return service.invoke_model(name, PROMPT, tools=[get_weather], **params)

    contenders: dict[str, Callable[[], Any]] = {
        TEXT_STREAM_RAW: stream_raw,
        "text stream: ModelService": lambda: list(
            service.stream_model(name, PROMPT, max_tokens=MAX_TOKENS)
        ),
    }
    baseline = {"text stream: ModelService": TEXT_STREAM_RAW}
    expected = call_raw().content[0].input
    answer = call_mw()
    if answer.tool_calls:
        assert answer.tool_calls[0].arguments == expected  # the same request, the same answer
        assert stream_mw()[-1].tool_calls[0].arguments == expected
        contenders |= {
            TOOL_RAW: call_raw,
            "tool call: ModelService (Tool)": call_mw,
            TOOL_STREAM_RAW: lambda: stream_raw(**with_tools),
            "tool stream: ModelService": stream_mw,
            "  tool as a Python function": call_function,
        }
        baseline |= {
            "tool call: ModelService (Tool)": TOOL_RAW,
            "tool stream: ModelService": TOOL_STREAM_RAW,
            "  tool as a Python function": TOOL_RAW,
        }
    for fn in contenders.values():
        timed_block(fn, 10)
    samples: dict[str, list[float]] = {n: [] for n in contenders}
    ratios: dict[str, list[float]] = {n: [] for n in baseline}
    order = list(contenders)
    shuffler = random.Random(1)
    for _ in range(blocks):
        shuffler.shuffle(order)
        medians: dict[str, float] = {}
        for label in order:
            times = timed_block(contenders[label], calls)
            samples[label] += times
            medians[label] = statistics.median(times)
        for label, base in baseline.items():
            ratios[label].append(medians[label] / medians[base])
    return samples, ratios


TEXT_STREAM_RAW = "text stream: raw SDK (events)"
TOOL_RAW = "tool call: raw SDK"
TOOL_STREAM_RAW = "tool stream: raw SDK (events)"


def main(argv: list[str] | None = None) -> None:
    """Run both measurements and print medians and ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--blocks", type=int, default=200, help="alternating blocks per side")
    parser.add_argument("--calls", type=int, default=5, help="calls per latency block")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--per-thread", type=int, default=20, help="calls per thread per round")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--async-calls", type=int, default=1024, help="calls per async round")
    parser.add_argument("--rounds", type=int, default=7, help="alternating throughput rounds")
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="add a second raw client to the throughput rounds: its ratio is the noise floor",
    )
    parser.add_argument("--cpu-loops", type=int, default=5000, help="stubbed calls per CPU run")
    parser.add_argument(
        "--tool-blocks", type=int, default=100, help="shuffled blocks of tool-calling requests"
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    import anthropic

    import modelwire as mw
    from modelwire.types import ChatRequest

    proc, url = start_server()
    tmp = tempfile.TemporaryDirectory()
    try:
        base_url = url + "/anthropic"
        raw = anthropic.Anthropic(
            api_key="sk-ant-bench", base_url=base_url, max_retries=0, timeout=30
        )
        registry = bench_registry(base_url)
        ledger = mw.UsageLedger(f"sqlite:///{Path(tmp.name) / 'usage.db'}")
        service = mw.ModelService(registry, ledger=ledger, caller="bench")
        call_raw = raw_call(raw)

        def call_mw() -> Any:
            return service.invoke_model(f"anthropic:{MODEL}", PROMPT, max_tokens=MAX_TOKENS)

        bare = mw.ModelService(registry, ledger=None)
        model = registry.get_model(f"anthropic:{MODEL}")
        request = ChatRequest.build(PROMPT, max_tokens=MAX_TOKENS)

        def call_bare() -> Any:
            return bare.invoke_model(f"anthropic:{MODEL}", PROMPT, max_tokens=MAX_TOKENS)

        def call_provider() -> Any:
            return model.invoke(request)

        contenders: dict[str, Callable[[], Any]] = {
            RAW: call_raw,
            MW: call_mw,
            "  ModelService, no ledger": call_bare,
            "  provider only (.invoke)": call_provider,
        }
        assert call_raw().content[0].text == call_mw().text  # the same request, the same answer
        for fn in contenders.values():  # warm up connections and first-use builds
            timed_block(fn, 20)

        samples: dict[str, list[float]] = {name: [] for name in contenders}
        block_ratios: dict[str, list[float]] = {name: [] for name in contenders}
        order = list(contenders)
        shuffler = random.Random(0)
        for _ in range(args.blocks):
            shuffler.shuffle(order)  # no side always runs first: load drift hits all alike
            medians: dict[str, float] = {}
            for name in order:
                times = timed_block(contenders[name], args.calls)
                samples[name] += times
                medians[name] = statistics.median(times)
            for name in contenders:
                block_ratios[name].append(medians[name] / medians[RAW])

        sync_side: dict[str, Callable[[], Any]] = {RAW: call_raw, "modelwire": call_mw}
        closing = [raw]
        if args.calibrate:
            again = anthropic.Anthropic(
                api_key="sk-ant-bench", base_url=base_url, max_retries=0, timeout=30
            )
            closing.append(again)
            sync_side[AGAIN] = raw_call(again)
        tput: dict[str, list[tuple[float, float]]] = {name: [] for name in sync_side}
        for _ in range(args.rounds):
            for name, fn in sync_side.items():
                tput[name].append(threaded_throughput(fn, args.threads, args.per_thread))

        def new_async_client() -> anthropic.AsyncAnthropic:
            return anthropic.AsyncAnthropic(
                api_key="sk-ant-bench", base_url=base_url, max_retries=0, timeout=30
            )

        async def acall_mw() -> Any:
            return await service.ainvoke_model(f"anthropic:{MODEL}", PROMPT, max_tokens=MAX_TOKENS)

        atput = asyncio.run(
            async_raw_vs_modelwire(new_async_client, acall_mw, args, args.async_calls)
        )
        tools = tool_latency(raw, service, args.tool_blocks, args.calls)
        cpu = cpu_overhead(Path(tmp.name), args.cpu_loops)
        mock_async = in_process_async(Path(tmp.name), args)
        ledger.flush()
        rows = sum(r["calls"] for r in ledger.summary(by=("model",)))
        ledger.close()
        registry.close()
        for client in closing:
            client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        tmp.cleanup()

    base = statistics.median(samples[RAW])
    print(f"latency: median ms per call ({args.blocks} shuffled blocks x {args.calls} calls)")
    for name, values in samples.items():
        median = statistics.median(values)
        ratio = spread(block_ratios[name]) if name != RAW else "-"
        print(
            f"  {name:<26} {median * 1e3:7.3f} ms  x{median / base:5.3f}  per-block ratio {ratio}"
        )
    report_throughput(f"{args.threads} threads", args.rounds, tput, RAW)
    report_throughput(
        f"asyncio, {args.concurrency} concurrent (raw: AsyncAnthropic)",
        args.rounds,
        atput,
        RAW,
    )
    report_throughput(
        f"in process, mock transport answering after 1 ms, asyncio, {args.concurrency} concurrent",
        args.rounds,
        mock_async,
        RAW,
    )
    tool_samples, tool_ratios = tools
    print(
        f"streams and tool calls: median ms per call ({args.tool_blocks} shuffled blocks x "
        f"{args.calls} calls; ratio to the raw SDK's same request, per block)"
    )
    if TOOL_RAW not in tool_samples:
        print("  (no tool rows: this modelwire does not map Anthropic tools)")
    for name, values in tool_samples.items():
        ratio = spread(tool_ratios[name]) if name in tool_ratios else "-"
        print(f"  {name:<32} {statistics.median(values) * 1e3:7.3f} ms  per-block ratio {ratio}")
    print("CPU per call with the SDK's HTTP call stubbed out (best of 5 runs)")
    for label, micros in cpu.items():
        print(f"  {label:<30} {micros:7.1f} us")
    print(f"ledger rows written: {rows}")


if __name__ == "__main__":
    main()
