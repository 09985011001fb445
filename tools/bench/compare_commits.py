"""Before vs after: the same measurements on an old commit's modelwire and this tree's, in one run.

Run: ``python tools/bench/compare_commits.py [--old b450470] [--bench openai anthropic ledger]
[--blocks 20 | --instructions 30]``.

The old commit is extracted with ``git archive`` into a temporary folder. Each side runs in its
own long-lived worker process (this script with ``--worker``), ``PYTHONPATH=<tree>/src`` so that
it imports that tree's modelwire (each worker prints the file it imported); both are warmed up
once, then driven in alternating blocks (old, new, new, old, ...), so a change in the machine's
load hits both alike. Only one side runs at a time; a side's block ends with its ledger flushed,
so no writer thread works during the other side's block. Both sides run the measurement code of
this file through the public API, against one fake provider (``python -m tools.fake_provider``
of this tree) in a child process on 127.0.0.1:

- ``openai``, ``anthropic``: ``ModelService.invoke_model`` with a SQLite ``UsageLedger`` (the
  requests of ``bench_openai.py`` and ``bench_anthropic.py``): median wall time per call, process
  CPU per call, a streamed call read to its end (``stream_model``), 16 threads sharing the
  service and 64 concurrent ``ainvoke_model`` calls (wall time per call: the inverse of the
  throughput); then, in process, the process CPU per call (the ledger's writer thread included)
  of ``invoke_model``, ``stream_model`` and sequential ``ainvoke_model`` calls through a second
  service whose SDK clients (given through ``ProviderContext.client``; the async one in the
  providers' ``LoopClients`` holder, the same at both commits) replay the fake server's recorded
  answers: no socket, no server, so far less sensitive to other load on the machine;
- ``ledger``: ``bench_ledger.py``'s measures (that file is the same at both commits): 16
  producers recording pre-built events until ``flush()`` returns, the caller-side cost of
  ``record()`` and ``summary(by=("model", "day"))`` from the rollup over ``--rows`` rows.

With ``--instructions N`` the script times nothing: each side's worker runs under valgrind's
callgrind (``PYTHONHASHSEED=0``), makes N in-process calls of each kind (N ledger summaries
over ten, 10 N recorded events) after as many of warm-up, and calls ``os.getppid()`` between the
parts, at which callgrind (``--dump-before=os_getppid``) writes the instructions counted since
the last one. The load of the machine does not change those counts, but the ledger's writer
thread's work does vary with timing (how events fall into batches), by a few per cent from run
to run; ``--no-ledger`` takes the ledger off the in-process calls (no row, no writer thread), so
the counts are of the call path alone and steady. ``--all-counts`` sets every
token count of the ledger's events that the side has to 1-3 (cache writes, reasoning and, where
the side has them, the 1-hour cache writes and the audio and image counts; ``bench_ledger.py``
leaves them 0): the summary then sums and reads back every count.

Every timed figure is a cost (lower is better); for each the script prints both sides' medians, the
ratio new/old of those medians and of both sides' least disturbed (minimum) blocks, and the
median and min-max of the per-block ratios new/old (the paired figure: each block's two sides ran
one after the other).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BENCHES = ("openai", "anthropic", "ledger")
PROMPT = "Say hello to the benchmark in a few words please."

#: What each bench reports per block, in print order, with its unit.
METRICS: dict[str, dict[str, str]] = {
    "openai": {
        "invoke, wall per call": "ms",
        "invoke, CPU per call": "µs",
        "stream, wall per call": "ms",
        "16 threads, wall per call": "ms",
        "asyncio 64 concurrent, wall per call": "ms",
        "in process: invoke, CPU per call": "µs",
        "in process: stream, CPU per call": "µs",
        "in process: asyncio invoke, CPU per call": "µs",
    },
    "anthropic": {
        "invoke, wall per call": "ms",
        "invoke, CPU per call": "µs",
        "stream, wall per call": "ms",
        "16 threads, wall per call": "ms",
        "asyncio 64 concurrent, wall per call": "ms",
        "in process: invoke, CPU per call": "µs",
        "in process: stream, CPU per call": "µs",
        "in process: asyncio invoke, CPU per call": "µs",
    },
    "ledger": {
        "16 producers until flush, wall per row": "µs",
        "16 producers until flush, CPU per row": "µs",
        "record(), median per call": "µs",
        "summary from the rollup": "ms",
    },
}


# --- the worker: one side, one tree ----------------------------------------------------------


class Replay:
    """An httpx transport (sync and async) that forwards the first plain and the first streamed
    request to the fake server and then answers every request with the recorded reply."""

    def __init__(self) -> None:
        import httpx2

        self.httpx = httpx2
        self.real = httpx2.HTTPTransport()
        self.recording = True
        self.answers: dict[bool, tuple[int, list[tuple[str, str]], bytes]] = {}

    @staticmethod
    def _streamed(request: Any) -> bool:
        return b'"stream":true' in request.content.replace(b" ", b"")

    def _answer(self, request: Any) -> Any:
        status, headers, body = self.answers[self._streamed(request)]
        return self.httpx.Response(status, headers=headers, content=body)

    def handle_request(self, request: Any) -> Any:
        if self.recording:
            response = self.real.handle_request(request)
            body = response.read()
            response.close()
            skip = {"content-length", "transfer-encoding", "content-encoding", "connection"}
            headers = [(k, v) for k, v in response.headers.items() if k.lower() not in skip]
            self.answers[self._streamed(request)] = (response.status_code, headers, body)
        return self._answer(request)

    async def handle_async_request(self, request: Any) -> Any:
        return self._answer(request)

    def close(self) -> None:
        self.real.close()

    async def aclose(self) -> None:
        pass


def install_replaying_clients(vendor: str, registry: Any, replay: Replay) -> None:
    """Give the registry's provider SDK clients whose transport is ``replay``."""
    import httpx2

    from modelwire.providers._async_clients import LoopClients

    ctx = registry.provider(vendor)
    if vendor == "openai":
        import openai

        sdk, asdk = openai.OpenAI, openai.AsyncOpenAI
        kw: dict[str, Any] = {"api_key": "sk-bench", "base_url": ctx.config.base_url}
    else:
        import anthropic

        sdk, asdk = anthropic.Anthropic, anthropic.AsyncAnthropic  # type: ignore[assignment]
        kw = {"api_key": "sk-ant-bench", "base_url": ctx.config.base_url}
    kw["max_retries"] = 0

    def build_async() -> Any:
        return asdk(**kw, http_client=httpx2.AsyncClient(transport=replay))  # type: ignore[arg-type]

    ctx.client("sync", lambda: sdk(**kw, http_client=httpx2.Client(transport=replay)), close_sync)  # type: ignore[arg-type]
    ctx.client("async", lambda: LoopClients(build_async, close_async), LoopClients.close)


def close_sync(client: Any) -> None:
    client.close()


async def close_async(client: Any) -> None:
    await client.close()


class CallBench:
    """A service over the fake server's OpenAI or Anthropic format, and one block of its measures."""

    def __init__(
        self, vendor: str, url: str, tmp: Path, calls: int, inproc_calls: int, warm: bool = True
    ) -> None:
        import modelwire as mw

        if vendor == "openai":
            cfg = mw.Config(
                providers={"openai": {"api_key": "sk-bench", "base_url": url + "/v1"}},
            )
            self.model = "openai:gpt-4o-mini"
            self.params: dict[str, Any] = {}
        else:
            cfg = mw.Config(
                providers={
                    "anthropic": {"api_key": "sk-ant-bench", "base_url": url + "/anthropic"}
                },
                models={
                    "anthropic:claude-bench-1": {
                        "cost": {"input_per_mtok": 3, "output_per_mtok": 15}
                    }
                },
            )
            self.model = "anthropic:claude-bench-1"
            self.params = {"max_tokens": 64}
        self.registry = mw.ModelRegistry.from_config(cfg)
        self.ledger = mw.UsageLedger(f"sqlite:///{tmp / 'usage.db'}")
        self.service = mw.ModelService(self.registry, ledger=self.ledger, caller="bench")
        self.calls = calls
        self.inproc_calls = inproc_calls
        assert self.invoke().text
        assert "".join(e.text or "" for e in self.stream())
        # In process: a second service whose SDK clients replay the fake server's answers.
        self.inproc_registry = mw.ModelRegistry.from_config(cfg)
        replay = Replay()
        install_replaying_clients(vendor, self.inproc_registry, replay)
        self.inproc_ledger = mw.UsageLedger(f"sqlite:///{tmp / 'inproc.db'}")
        self.inproc = mw.ModelService(
            self.inproc_registry, ledger=self.inproc_ledger, caller="bench"
        )
        assert self.inproc.invoke_model(self.model, PROMPT, **self.params).text  # recorded
        assert list(self.inproc.stream_model(self.model, PROMPT, **self.params))  # recorded
        replay.recording = False
        if warm:
            self.block()  # warm up connections, first-use builds, the event loop's clients

    def invoke(self) -> Any:
        return self.service.invoke_model(self.model, PROMPT, **self.params)

    def stream(self) -> list[Any]:
        return list(self.service.stream_model(self.model, PROMPT, **self.params))

    async def ainvoke(self) -> Any:
        return await self.service.ainvoke_model(self.model, PROMPT, **self.params)

    def threads(self, threads: int = 16, per_thread: int = 10) -> float:
        barrier = threading.Barrier(threads + 1)

        def worker() -> None:
            barrier.wait()
            for _ in range(per_thread):
                self.invoke()

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for t in pool:
            t.start()
        barrier.wait()
        start = time.perf_counter()
        for t in pool:
            t.join()
        return (time.perf_counter() - start) / (threads * per_thread)

    async def concurrent(self, total: int = 256, concurrency: int = 64) -> float:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                await self.ainvoke()

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(total)))
        return (time.perf_counter() - start) / total

    def block(self) -> dict[str, float]:
        walls: list[float] = []
        cpu = time.process_time()
        for _ in range(self.calls):
            start = time.perf_counter()
            self.invoke()
            walls.append(time.perf_counter() - start)
        cpu_per_call = (time.process_time() - cpu) / self.calls
        streams: list[float] = []
        for _ in range(self.calls):
            start = time.perf_counter()
            self.stream()
            streams.append(time.perf_counter() - start)
        out = {
            "invoke, wall per call": statistics.median(walls) * 1e3,
            "invoke, CPU per call": cpu_per_call * 1e6,
            "stream, wall per call": statistics.median(streams) * 1e3,
            "16 threads, wall per call": self.threads() * 1e3,
            "asyncio 64 concurrent, wall per call": asyncio.run(self.concurrent()) * 1e3,
        }
        self.ledger.flush()
        out |= self.in_process()
        return out

    def in_process(self) -> dict[str, float]:
        """Process CPU per call (the ledger's writer included) with replayed answers."""
        service, model, params, n = self.inproc, self.model, self.params, self.inproc_calls

        def cpu(fn: Callable[[], Any]) -> float:
            start = time.process_time()
            for _ in range(n):
                fn()
            self.inproc_ledger.flush()
            return (time.process_time() - start) / n * 1e6

        async def sequential() -> None:
            for _ in range(n):
                await service.ainvoke_model(model, PROMPT, **params)

        def cpu_async() -> float:
            start = time.process_time()
            asyncio.run(sequential())
            self.inproc_ledger.flush()
            return (time.process_time() - start) / n * 1e6

        return {
            "in process: invoke, CPU per call": cpu(
                lambda: service.invoke_model(model, PROMPT, **params)
            ),
            "in process: stream, CPU per call": cpu(
                lambda: list(service.stream_model(model, PROMPT, **params))
            ),
            "in process: asyncio invoke, CPU per call": cpu_async(),
        }

    def close(self) -> None:
        self.ledger.close()
        self.registry.close()
        self.inproc_ledger.close()
        self.inproc_registry.close()


class LedgerBench:
    """``bench_ledger.py``'s measures, one round each per block."""

    def __init__(self, tmp: Path, per_thread: int, rows: int) -> None:
        sys.path.insert(0, str(ROOT))
        from modelwire.usage.ledger import UsageLedger
        from tools.bench import bench_ledger

        self.bench = bench_ledger
        self.tmp = tmp
        self.per = [bench_ledger.make_events(per_thread, seed=t * per_thread) for t in range(16)]
        self.record_events = bench_ledger.make_events(50_000)
        self.summary_ledger = UsageLedger(tmp / "summary.db", batch_size=5000, queue_size=rows + 1)
        step = min(100_000, rows)
        for i in range(0, rows, step):
            for event in bench_ledger.make_events(step, seed=i, days=90, span=rows):
                self.summary_ledger.record(event)
            self.summary_ledger.flush()
        self.round = 0
        self.block()

    def block(self) -> dict[str, float]:
        from modelwire.usage.ledger import UsageLedger

        self.round += 1
        path = self.tmp / f"throughput{self.round}.db"
        wall, cpu = self.bench._ledger_round(path, self.per)
        path.unlink()
        total = sum(len(p) for p in self.per)

        ledger = UsageLedger(
            self.tmp / f"record{self.round}.db", queue_size=len(self.record_events) + 1
        )
        events = self.record_events
        ledger.record(events[0])  # start the writer outside the measurement
        rec, clock, per_call = ledger.record, time.perf_counter_ns, []
        for i in range(1, len(events) - 100, 100):
            chunk = events[i : i + 100]
            t0 = clock()
            for e in chunk:
                rec(e)
            per_call.append((clock() - t0) / 100 / 1000)
        ledger.close()

        runs: list[float] = []
        for _ in range(5):
            start = time.perf_counter()
            self.summary_ledger.summary(by=("model", "day"), source="rollup")
            runs.append((time.perf_counter() - start) * 1e3)
        return {
            "16 producers until flush, wall per row": wall / total * 1e6,
            "16 producers until flush, CPU per row": cpu / total * 1e6,
            "record(), median per call": statistics.median(per_call),
            "summary from the rollup": statistics.median(runs),
        }

    def close(self) -> None:
        self.summary_ledger.close()


def count_worker(args: argparse.Namespace) -> None:
    """The in-process calls between ``os.getppid()`` calls, at which callgrind (run with
    ``--dump-before=os_getppid``) writes the instructions counted since the previous one."""
    import modelwire

    with tempfile.TemporaryDirectory() as d:
        tmp, n = Path(d), args.count
        parts: dict[str, Callable[[], Any]]
        if args.bench == "ledger":
            sys.path.insert(0, str(ROOT))
            from modelwire.usage.ledger import UsageLedger
            from tools.bench import bench_ledger

            events = bench_ledger.make_events(20 * n, days=90)  # 720 groups in the rollup
            if args.all_counts:
                events = [every_count_set(e, 1 + k % 3) for k, e in enumerate(events)]
            ledger = UsageLedger(tmp / "count.db", queue_size=len(events) + 1)
            chunks = iter([events[: 10 * n], events[10 * n :]])  # the warm-up's, the measured's

            def record() -> None:
                for event in next(chunks):
                    ledger.record(event)
                ledger.flush()

            parts = {
                "record() and the writer, per event": record,
                "summary from the rollup, per call": lambda: [
                    ledger.summary(by=("model", "day"), source="rollup") for _ in range(n // 10)
                ],
            }
            divide = {
                "record() and the writer, per event": 10 * n,
                "summary from the rollup, per call": n // 10,
            }
            for fn in parts.values():
                fn()  # warm up
            close: Callable[[], Any] = ledger.close
        else:
            bench = CallBench(args.bench, args.url, tmp, 1, n, warm=False)
            service, model, params = bench.inproc, bench.model, bench.params
            if args.no_ledger:
                service.ledger = None  # the call path alone: no row, no writer thread

            async def sequential() -> None:
                for _ in range(n):
                    await service.ainvoke_model(model, PROMPT, **params)

            def calls(fn: Callable[[], Any]) -> Callable[[], Any]:
                def run() -> None:
                    for _ in range(n):
                        fn()
                    bench.inproc_ledger.flush()

                return run

            parts = {
                "in process: invoke": calls(lambda: service.invoke_model(model, PROMPT, **params)),
                "in process: stream": calls(
                    lambda: list(service.stream_model(model, PROMPT, **params))
                ),
                "in process: asyncio invoke": lambda: (
                    asyncio.run(sequential()),
                    bench.inproc_ledger.flush(),
                ),
            }
            divide = dict.fromkeys(parts, n)
            for fn in parts.values():
                fn()  # warm up
            close = bench.close
        os.getppid()  # callgrind dumps here: start-up and warm-up
        for fn in parts.values():
            fn()
            os.getppid()  # and here: this part
        close()
        print(json.dumps({"ready": modelwire.__file__, "parts": list(parts), "divide": divide}))


_SOMETIMES_ZERO = (
    "cache_write_tokens",
    "reasoning_tokens",
    "cache_write_1h_tokens",
    "input_audio_tokens",
    "input_image_tokens",
    "output_audio_tokens",
    "output_image_tokens",
)


def every_count_set(event: Any, value: int) -> Any:
    """``event`` with each count of ``_SOMETIMES_ZERO`` its type has set to ``value`` (a usage
    event is a named tuple now, a dataclass at older commits)."""
    import dataclasses

    if dataclasses.is_dataclass(event):
        names = {f.name for f in dataclasses.fields(event)}
        return dataclasses.replace(event, **{f: value for f in _SOMETIMES_ZERO if f in names})
    return event._replace(**{f: value for f in _SOMETIMES_ZERO if f in event._fields})


def count_instructions(
    bench: str,
    trees: dict[str, Path],
    count: int,
    url: str,
    all_counts: bool = False,
    no_ledger: bool = False,
) -> None:
    """Instructions per call of each side (callgrind), printed side by side."""
    got: dict[str, dict[str, float]] = {}
    for label, tree in trees.items():
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "cg.out"
            env = {**os.environ, "PYTHONPATH": str(tree / "src"), "PYTHONHASHSEED": "0"}
            done = subprocess.run(
                [
                    "valgrind",
                    "--tool=callgrind",
                    "--dump-before=os_getppid",
                    f"--callgrind-out-file={out}",
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--worker",
                    "--bench",
                    bench,
                    "--url",
                    url,
                    "--count",
                    str(count),
                    *(["--all-counts"] if all_counts else []),
                    *(["--no-ledger"] if no_ledger else []),
                ],
                env=env,
                cwd=tempfile.gettempdir(),
                capture_output=True,
                text=True,
            )
            if done.returncode:
                raise SystemExit(f"{label}: callgrind run failed:\n{done.stderr[-3000:]}")
            info = json.loads(done.stdout.strip().splitlines()[-1])
            if not str(info["ready"]).startswith(str(tree / "src")):
                raise SystemExit(f"{label}: imported modelwire from {info['ready']}")
            totals = []
            for k in range(2, len(info["parts"]) + 2):  # part 1 is start-up and warm-up
                text = (Path(f"{out}.{k}")).read_text()
                totals.append(int(text.split("\ntotals: ")[1].split()[0]))
            got[label] = {
                part: total / info["divide"][part]
                for part, total in zip(info["parts"], totals, strict=True)
            }
    counts = ", every count set" if all_counts else ""
    counts += ", no ledger" if no_ledger else ""
    print(
        f"{bench}: instructions per call (callgrind, {count} calls a part after a warm-up{counts})"
    )
    for part in got["old"]:
        old, new = got["old"][part], got["new"][part]
        print(f"  {part:<40} old {old:12,.0f}  new {new:12,.0f}  new/old {new / old:6.3f}")
    sys.stdout.flush()


def worker(args: argparse.Namespace) -> None:
    """Serve blocks on stdin/stdout: one JSON line per ``block`` command, until ``quit``."""
    import modelwire

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bench: CallBench | LedgerBench
        if args.bench == "ledger":
            bench = LedgerBench(tmp, args.per_thread, args.rows)
        else:
            bench = CallBench(args.bench, args.url, tmp, args.calls, args.inproc_calls)
        print(json.dumps({"ready": modelwire.__file__}), flush=True)
        for line in sys.stdin:
            if line.strip() != "block":
                break
            print(json.dumps(bench.block()), flush=True)
        bench.close()


# --- the driver ------------------------------------------------------------------------------


class Side:
    """A worker process for one tree."""

    def __init__(self, label: str, tree: Path, bench: str, extra: list[str]) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree / "src")}
        self.label = label
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", "--bench", bench, *extra],
            env=env,
            cwd=tempfile.gettempdir(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self._read()["ready"]
        if not str(self.ready).startswith(str(tree / "src")):
            self.close()
            raise SystemExit(f"{label}: imported modelwire from {self.ready}, not {tree / 'src'}")

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"{self.label} worker ended early (exit {self.proc.wait()})")
        result: dict[str, Any] = json.loads(line)
        return result

    def block(self) -> dict[str, float]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("block\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def compare(bench: str, trees: dict[str, Path], blocks: int, extra: list[str]) -> None:
    """Alternating blocks of ``bench`` on both trees; print medians and ratios new/old."""
    sides = {}
    try:
        for label, tree in trees.items():
            sides[label] = Side(label, tree, bench, extra)
        samples: dict[str, dict[str, list[float]]] = {
            label: {m: [] for m in METRICS[bench]} for label in trees
        }
        order = list(trees)
        for _ in range(blocks):
            for label in order:
                for metric, value in sides[label].block().items():
                    samples[label][metric].append(value)
            order.reverse()  # old, new, new, old, ...: neither side always goes first
    finally:
        for side in sides.values():
            side.close()
    print(
        f"{bench}: {blocks} alternating blocks; old {sides['old'].ready}, new {sides['new'].ready}"
    )
    print(
        f"  {'measure (median over blocks)':<46} {'old':>9} {'new':>9}  new/old  of the minima"
        "  per-block new/old: median (min-max)"
    )
    for metric, unit in METRICS[bench].items():
        old, new = samples["old"][metric], samples["new"][metric]
        m_old, m_new = statistics.median(old), statistics.median(new)
        ratios = [n / o for n, o in zip(new, old, strict=True)]
        print(
            f"  {metric + ' (' + unit + ')':<46} {m_old:9.3f} {m_new:9.3f}  {m_new / m_old:6.3f}"
            f"  {min(new) / min(old):12.3f}  {spread(ratios)}"
        )
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    """Extract the old commit, run each bench in alternating blocks and print the ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--old", default="b450470", help="the commit before the change")
    parser.add_argument("--bench", nargs="+", choices=BENCHES, default=list(BENCHES))
    parser.add_argument("--blocks", type=int, default=20, help="alternating blocks per bench")
    parser.add_argument("--calls", type=int, default=40, help="sequential calls per block")
    parser.add_argument("--inproc-calls", type=int, default=200, help="calls per in-process block")
    parser.add_argument("--per-thread", type=int, default=5_000, help="ledger events per producer")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for the ledger summary")
    parser.add_argument(
        "--instructions",
        type=int,
        default=0,
        metavar="N",
        help="instead of timing: instructions per call under valgrind's callgrind, N calls a part",
    )
    parser.add_argument(
        "--all-counts",
        action="store_true",
        help="with --instructions: the ledger's events set every token count (see above)",
    )
    parser.add_argument(
        "--no-ledger",
        action="store_true",
        help="with --instructions: the in-process calls record no ledger row (see above)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.bench = args.bench[0]
        (count_worker if args.count else worker)(args)
        return

    sys.path.insert(0, str(ROOT))
    from tools.bench.loopback import start_server

    commit = subprocess.run(
        ["git", "rev-parse", "--short", args.old],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    head = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    load = os.getloadavg()[0]
    print(f"old {commit} vs new {head} ({ROOT}); {os.cpu_count()} CPUs, load average {load:.1f}")
    with tempfile.TemporaryDirectory() as d:
        old_tree = Path(d)
        archive = subprocess.Popen(["git", "archive", commit], cwd=ROOT, stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(old_tree)], stdin=archive.stdout, check=True)
        if archive.wait():
            raise SystemExit(f"git archive {commit} failed")
        trees = {"old": old_tree, "new": ROOT}
        proc, url = start_server()
        try:
            extra = [
                "--url",
                url,
                "--calls",
                str(args.calls),
                "--inproc-calls",
                str(args.inproc_calls),
            ]
            extra += ["--per-thread", str(args.per_thread), "--rows", str(args.rows)]
            for bench in args.bench:
                if args.instructions:
                    count_instructions(
                        bench, trees, args.instructions, url, args.all_counts, args.no_ledger
                    )
                else:
                    compare(bench, trees, args.blocks, extra)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
