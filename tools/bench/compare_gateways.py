"""Gateways side by side in one run: an old commit's and this tree's, on chosen HTTP stacks.

Run: ``python tools/bench/compare_gateways.py [--side old:h11:asyncio --side new:h11:asyncio
--side new:httptools:uvloop] [--old a8eebbc] [--blocks 12]``.

Each ``--side TREE:HTTP:LOOP`` starts one gateway in a child process: ``TREE`` is ``old`` (the
``--old`` commit, extracted with ``git archive`` into a temporary folder) or ``new`` (this
tree), imported through ``sys.path`` (each child prints the ``modelwire`` it imported);
``HTTP`` and ``LOOP`` are uvicorn's ``http`` and ``loop`` settings (``h11`` or ``httptools``,
``asyncio`` or ``uvloop``). All sides serve the same configuration (the mock provider, no
latency) and one SQLite ledger with one key. The measures are those of ``bench_gateway.py``'s
sections 1 and 2: the median wall time of a non-streamed call and the time to the first text
of a stream, with the minimal plain-socket client, each side and the in-process service in
alternating blocks (reversed every other block), so a change in the machine's load hits every
side alike. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tools.bench.bench_gateway import (  # noqa: E402
    CONFIG,
    MODEL,
    PROMPT,
    PlainClient,
    load_average,
    ttfb_in_process,
)
from tools.bench.loopback import timed_block  # noqa: E402

_LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")

#: What a side's child process runs: the gateway of one tree on one HTTP stack.
_CHILD = """
import sys
tree, http, loop, config, database = sys.argv[1:6]
sys.path.insert(0, tree + "/src")
import uvicorn
import modelwire
from modelwire.gateway.app import create_app
from modelwire.gateway.settings import GatewaySettings
print("imported", modelwire.__file__, file=sys.stderr, flush=True)
app = create_app(GatewaySettings(config=config, database=database), close_service=True)
uvicorn.run(app, host="127.0.0.1", port=0, http=http, loop=loop, access_log=False,
            log_level="info", lifespan="on")
"""


def start(tree: Path, http: str, loop: str, config: Path, db: str) -> tuple[Any, str]:
    """One gateway in a child process; it and its URL once it listens."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tree), http, loop, str(config), db],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("imported"):
            print("  " + line.strip())
        found = _LISTENING.search(line)
        if found:
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep it drained
            return proc, found.group(1)
    raise RuntimeError(f"the gateway of {tree} ({http}, {loop}) did not start")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", action="append", help="TREE:HTTP:LOOP (repeatable)")
    parser.add_argument("--old", default="HEAD", help="the commit of the 'old' tree")
    parser.add_argument("--blocks", type=int, default=12, help="alternating blocks")
    parser.add_argument("--calls", type=int, default=50, help="calls per block and side")
    parser.add_argument("--streams", type=int, default=20, help="streams per block and side")
    args = parser.parse_args(argv)
    sides = args.side or ["old:h11:asyncio", "new:h11:asyncio", "new:httptools:uvloop"]

    import modelwire as mw
    from modelwire.gateway.keys import KeyStore

    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        old_tree = folder / "old"
        old_tree.mkdir()
        archive = subprocess.Popen(["git", "archive", args.old], cwd=ROOT, stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(old_tree)], stdin=archive.stdout, check=True)
        if archive.wait():
            raise SystemExit(f"git archive {args.old} failed")
        config = folder / "modelwire.yaml"
        config.write_text(CONFIG)
        db = f"sqlite:///{folder / 'gateway.db'}"
        with mw.UsageLedger(db) as ledger:
            _, token = KeyStore(lambda: ledger.engine).create("bench")
        message = [{"role": "user", "content": PROMPT}]
        body = json.dumps({"model": MODEL, "messages": message}).encode()
        stream_body = json.dumps({"model": MODEL, "messages": message, "stream": True}).encode()
        cfg = mw.Config.model_validate(
            {"providers": {"mock": {"type": "mock"}}, "discovery": {"enabled": False}}
        )
        service = mw.ModelService(
            mw.ModelRegistry.from_config(cfg), mw.UsageLedger(folder / "inproc.db")
        )
        print(f"{os.cpu_count()} CPUs, load average {load_average()}; old = {args.old}")
        procs = []
        clients: dict[str, PlainClient] = {}
        try:
            for side in sides:
                tree, http, loop = side.split(":")
                proc, url = start(old_tree if tree == "old" else ROOT, http, loop, config, db)
                procs.append(proc)
                clients[side] = PlainClient(url, token)
            for client in clients.values():  # warm up
                for _ in range(100):
                    client.call("POST", "/v1/chat/completions", body)
                    client.first_text("/v1/chat/completions", stream_body)
            calls: dict[str, list[float]] = {name: [] for name in ["in process", *clients]}
            firsts: dict[str, list[float]] = {name: [] for name in calls}
            for block in range(args.blocks):
                order = list(calls) if block % 2 else list(calls)[::-1]
                for name in order:
                    if name == "in process":
                        calls[name] += timed_block(
                            lambda: service.invoke_model(MODEL, PROMPT), args.calls
                        )
                        firsts[name] += [ttfb_in_process(service) for _ in range(args.streams)]
                        continue
                    client = clients[name]
                    calls[name] += timed_block(
                        lambda c=client: c.call("POST", "/v1/chat/completions", body),
                        args.calls,
                    )
                    firsts[name] += [
                        client.first_text("/v1/chat/completions", stream_body)
                        for _ in range(args.streams)
                    ]
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=60)
            service.close()
        base_call = statistics.median(calls["in process"]) * 1e3
        base_first = statistics.median(firsts["in process"]) * 1e3
        print(f"load average at the end {load_average()}")
        print(f"{'side':<24} {'call ms':>9} {'added':>7} {'first text ms':>14} {'added':>7}")
        print(f"{'in process':<24} {base_call:9.3f} {'':>7} {base_first:14.3f}")
        for name in clients:
            call = statistics.median(calls[name]) * 1e3
            first = statistics.median(firsts[name]) * 1e3
            print(
                f"{name:<24} {call:9.3f} {call - base_call:7.3f} "
                f"{first:14.3f} {first - base_first:7.3f}"
            )


if __name__ == "__main__":
    main()
