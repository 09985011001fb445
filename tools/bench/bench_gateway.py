"""The gateway's cost: ``modelwire serve`` over HTTP vs ``ModelService`` in process, same mock.

Run: ``python tools/bench/bench_gateway.py [--blocks 20 --calls 50 --workers 1,2]``.

The gateway runs as users run it (``modelwire serve`` in child processes, access log off, a
SQLite ledger in a temporary folder); the baseline is a ``ModelService`` in this process over
the same configuration (the mock provider, no latency) with a ledger of its own. In one run:

1. latency: median wall time per non-streamed call, in alternating blocks: in process
   (``invoke_model``); through the gateway with a minimal keep-alive HTTP/1.1 client on a
   plain socket (what the gateway adds, with next to no client cost), with ``httpx`` and with
   the official ``openai`` SDK (what an application sees); and ``GET /health`` with the plain
   client (the HTTP stack's own floor: uvicorn and Starlette, no model call);
2. time to first byte of a stream: in process (the first ``StreamEvent`` of ``stream_model``)
   vs the first content chunk through the gateway (plain socket client);
3. throughput: calls per second with 1..N gateway workers (``--workers``), plain-socket asyncio
   clients at ``--concurrency`` connections, next to the service in process on asyncio.

4. with ``--litellm PATH`` (the ``litellm`` command of an environment where ``litellm[proxy]``
   is installed; it is not a dependency of modelwire): both gateways in front of the SAME
   backend, the fake OpenAI server (``tools/fake_provider``) in its own process: median latency
   per call (plain socket client, alternating blocks; the fake server called directly is the
   floor) and throughput with the same worker counts. LiteLLM runs with a master key, its local
   price map (``LITELLM_LOCAL_MODEL_COST_MAP``) and no database, as its quick start does.

Nothing leaves 127.0.0.1. The machine's cores are shared by the clients and the gateway's workers: read the
throughput figures with the core count printed next to them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
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
sys.path.insert(0, str(ROOT))

from tools.bench.loopback import async_throughput, start_server, timed_block  # noqa: E402

MODEL = "mock:gpt-4o-mini"
PROMPT = "Say hello to the benchmark in a few words please."
CONFIG = """\
providers:
  mock: {type: mock}
models:
  mock:gpt-4o-mini: {aliases: [mini]}
discovery: {enabled: false}
"""
_LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


class Gateway:
    """``modelwire serve`` in a child process, stopped with SIGTERM."""

    def __init__(self, config: Path, db: str, workers: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "modelwire.cli",
                "serve",
                "--port",
                "0",
                "-c",
                str(config),
                "--db",
                db,
                "--workers",
                str(workers),
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.url: str | None = None
        self._ready = threading.Event()
        self._started = 0
        self._workers = workers
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        output = self.proc.stderr or self.proc.stdout
        assert output is not None
        for line in output:
            self.lines.append(line)
            found = _LISTENING.search(line)
            if found:
                self.url = found.group(1)
            if "Application startup complete" in line:
                self._started += 1
            if self.url and self._started >= self._workers:
                self._ready.set()
        self._ready.set()

    def wait(self, timeout: float = 120) -> str:
        self._ready.wait(timeout)
        if self.url is None or self._started < self._workers:
            self.stop()
            raise RuntimeError("the gateway did not start:\n" + "".join(self.lines))
        return self.url

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


LITELLM_KEY = "sk-bench-master-key-0123456789abcdef"


class LiteLLMProxy(Gateway):
    """LiteLLM's proxy (``litellm --config``) in a child process, in front of ``backend``."""

    def __init__(self, command: str, folder: Path, backend: str, workers: int, port: int) -> None:
        config = folder / "litellm.yaml"
        config.write_text(
            "model_list:\n"
            "  - model_name: gpt-4o-mini\n"
            "    litellm_params:\n"
            "      model: openai/gpt-4o-mini\n"
            f"      api_base: {backend}/v1\n"
            "      api_key: bench-key\n"
            "litellm_settings:\n"
            "  telemetry: false\n"
            "general_settings:\n"
            f"  master_key: {LITELLM_KEY}\n"
        )
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        self.proc = subprocess.Popen(
            [
                command,
                "--config",
                str(config),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--num_workers",
                str(workers),
            ],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # it logs its start-up on both
            text=True,
        )
        self.lines = []
        self.url = None
        self._ready = threading.Event()
        self._started = 0
        self._workers = workers
        threading.Thread(target=self._read, daemon=True).start()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def versus_litellm(args: argparse.Namespace, folder: Path, db: str, token: str) -> None:
    """Section 4: modelwire's gateway and LiteLLM's proxy in front of one fake OpenAI server."""
    backend_proc, backend = start_server()
    config = folder / "versus.yaml"
    config.write_text(
        "providers:\n"
        f"  openai: {{type: openai, base_url: '{backend}/v1', api_key: bench-key}}\n"
        "models:\n"
        "  openai:gpt-4o-mini: {}\n"
        "discovery: {enabled: false}\n"
    )
    ours = json.dumps(
        {"model": "openai:gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}]}
    ).encode()
    theirs = json.dumps(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}]}
    ).encode()
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    try:
        print("4. in front of the same fake OpenAI server (its own process)")
        modelwire = Gateway(config, db, 1)
        litellm = LiteLLMProxy(args.litellm, folder, backend, 1, free_port())
        try:
            mw_url, ll_url = modelwire.wait(), litellm.wait(300)
            clients = {
                "fake server directly": (PlainClient(backend, "bench-key"), ours),
                "modelwire gateway": (PlainClient(mw_url, token), ours),
                "LiteLLM proxy": (PlainClient(ll_url, LITELLM_KEY), theirs),
            }
            calls = {
                name: (lambda c=client, b=body: c.call("POST", "/v1/chat/completions", b))
                for name, (client, body) in clients.items()
            }
            for fn in calls.values():
                timed_block(fn, 20)
            samples: dict[str, list[float]] = {name: [] for name in calls}
            order = list(calls)
            for block in range(args.blocks):
                for name in order if block % 2 else order[::-1]:
                    samples[name] += timed_block(calls[name], args.calls)
            floor = median_ms(samples["fake server directly"])
            print(f"  latency, median ms per call ({args.blocks} blocks x {args.calls} calls)")
            for name, values in samples.items():
                value = median_ms(values)
                extra = "" if name == order[0] else f"   over the server {value - floor:6.3f} ms"
                print(f"    {name:<22} {value:8.3f} ms{extra}")
            for name, (client, _) in clients.items():
                if client.reconnects:
                    print(f"    ({name}: {client.reconnects} idle connection(s) closed, resent)")
                client.close()
        finally:
            modelwire.stop()
            litellm.stop()
        print(f"  throughput, calls/s at {args.concurrency} in flight, median of {args.rounds}")
        for workers in worker_counts:
            for name, start, url_token, body in (
                ("modelwire gateway", lambda w: Gateway(config, db, w), token, ours),
                (
                    "LiteLLM proxy",
                    lambda w: LiteLLMProxy(args.litellm, folder, backend, w, free_port()),
                    LITELLM_KEY,
                    theirs,
                ),
            ):
                server = start(workers)
                try:
                    url = server.wait(300)
                    rounds = [(url, url_token, body, args.total, args.concurrency)] * (
                        args.rounds + 1
                    )
                    rates = [asyncio.run(plain_throughput(*r)) for r in rounds][1:]
                finally:
                    server.stop()
                print(f"    {name}, {workers} worker(s)  {statistics.median(rates):8.1f}")
    finally:
        backend_proc.terminate()
        backend_proc.wait(timeout=30)


class PlainClient:
    """HTTP/1.1 on one keep-alive socket, no parsing beyond what a reply's length needs."""

    def __init__(self, url: str, token: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.address = (host, int(port))
        self.auth = f"authorization: Bearer {token}\r\n"
        self.reconnects = 0
        self._connect()

    def _connect(self) -> None:
        self.sock = socket.create_connection(self.address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def _request(self, method: str, path: str, body: bytes = b"") -> None:
        head = f"{method} {path} HTTP/1.1\r\nhost: bench\r\n{self.auth}"
        if body:
            head += f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
        self.sock.sendall(head.encode() + b"\r\n" + body)

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the gateway closed the connection")
            self.buffer += chunk
        found, _, self.buffer = self.buffer.partition(marker)
        return found

    def call(self, method: str, path: str, body: bytes = b"") -> bytes:
        """One request, its whole (content-length) body.

        A server closes a keep-alive connection that stayed idle longer than its timeout
        (uvicorn's default is 5 s, which a loaded machine can exceed between two blocks): the
        request is then sent again once on a new connection, as HTTP clients do.
        """
        try:
            self._request(method, path, body)
            head = self._until(b"\r\n\r\n")
        except OSError:  # ConnectionError included
            if self.buffer:
                raise
            self.sock.close()
            self.reconnects += 1
            self._connect()
            self._request(method, path, body)
            head = self._until(b"\r\n\r\n")
        length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
        while len(self.buffer) < length:
            self.buffer += self.sock.recv(65536)
        reply, self.buffer = self.buffer[:length], self.buffer[length:]
        return reply

    def first_text(self, path: str, body: bytes) -> float:
        """Seconds to the first chunk of text of a streamed reply (read to its end)."""
        start = time.perf_counter()
        self._request("POST", path, body)
        self._until(b'"content":"')
        while self.buffer.startswith(b'"'):  # the role chunk's empty content
            self.buffer = self.buffer[1:]
            self._until(b'"content":"')
        first = time.perf_counter() - start
        self._until(b"\r\n0\r\n\r\n")  # the chunked body's end
        return first

    def close(self) -> None:
        self.sock.close()


async def plain_throughput(url: str, token: str, body: bytes, total: int, conns: int) -> float:
    """Calls per second over ``conns`` keep-alive connections, ``total`` calls in all."""
    host, port = url.removeprefix("http://").split(":")
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer {token}"
        f"\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode() + body

    async def connection(calls: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for _ in range(calls):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection(total // conns) for _ in range(conns)))
    return (total // conns * conns) / (time.perf_counter() - start)


def load_average() -> str:
    """The 1, 5 and 15-minute load averages: other work on the machine skews every figure."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def ttfb_in_process(service: Any) -> float:
    start = time.perf_counter()
    events = service.stream_model(MODEL, PROMPT)
    for event in events:
        if event.text:
            first = time.perf_counter() - start
            break
    for _ in events:  # finish the stream, as the gateway does
        pass
    return first


def main(argv: list[str] | None = None) -> None:
    """Run the three measurements and print medians and differences."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=20, help="alternating blocks per side")
    parser.add_argument("--calls", type=int, default=50, help="calls per latency block")
    parser.add_argument("--streams", type=int, default=200, help="streams timed per side")
    parser.add_argument("--workers", default="1,2", help="gateway worker counts to measure")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--total", type=int, default=2000, help="calls per throughput round")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds per setting")
    parser.add_argument(
        "--litellm",
        default=None,
        help="the litellm command of an environment with litellm[proxy]: compare with its proxy",
    )
    args = parser.parse_args(argv)
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]

    import httpx
    import openai

    import modelwire as mw
    from modelwire.gateway.keys import KeyStore

    tmp = tempfile.TemporaryDirectory()
    folder = Path(tmp.name)
    config = folder / "modelwire.yaml"
    config.write_text(CONFIG)
    db = f"sqlite:///{folder / 'gateway.db'}"
    with mw.UsageLedger(db) as ledger:
        _, token = KeyStore(lambda: ledger.engine).create("bench")
    headers = {"authorization": f"Bearer {token}"}
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}).encode()
    cfg = mw.Config.model_validate(
        {"providers": {"mock": {"type": "mock"}}, "discovery": {"enabled": False}}
    )
    service = mw.ModelService(
        mw.ModelRegistry.from_config(cfg), mw.UsageLedger(folder / "inproc.db"), caller="bench"
    )
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(
        f"{started}; cores: {os.cpu_count()}, load average {load_average()}; mock provider, "
        "no latency; SQLite ledgers"
    )

    gateway = Gateway(config, db, 1)
    try:
        url = gateway.wait()
        plain = PlainClient(url, token)
        http = httpx.Client(timeout=30)
        sdk = openai.OpenAI(base_url=url + "/v1", api_key=token, max_retries=0, timeout=30)

        def call_service() -> Any:
            return service.invoke_model(MODEL, PROMPT)

        def call_plain() -> Any:
            return plain.call("POST", "/v1/chat/completions", body)

        def call_httpx() -> Any:
            reply = http.post(
                url + "/v1/chat/completions",
                content=body,
                headers={**headers, "content-type": "application/json"},
            )
            reply.raise_for_status()
            return reply

        def call_sdk() -> Any:
            return sdk.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": PROMPT}],
            )

        def call_health() -> Any:
            return plain.call("GET", "/health")

        contenders: dict[str, Callable[[], Any]] = {
            "in process": call_service,
            "gateway, plain socket": call_plain,
            "gateway, httpx": call_httpx,
            "gateway, openai SDK": call_sdk,
            "GET /health, plain": call_health,
        }
        for fn in contenders.values():
            timed_block(fn, 50)
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        order = list(contenders)
        for block in range(args.blocks):
            for name in order if block % 2 else order[::-1]:
                samples[name] += timed_block(contenders[name], args.calls)
        base = median_ms(samples["in process"])
        print(f"1. latency, median ms per call ({args.blocks} blocks x {args.calls} calls)")
        for name, values in samples.items():
            value = median_ms(values)
            extra = "" if name == "in process" else f"   over in process {value - base:6.3f} ms"
            print(f"  {name:<22} {value:8.3f} ms{extra}")

        stream_body = json.dumps({**json.loads(body), "stream": True}).encode()
        inproc_ttfb: list[float] = []
        gateway_ttfb: list[float] = []
        for i in range(args.streams):
            pair = [
                lambda: inproc_ttfb.append(ttfb_in_process(service)),
                lambda: gateway_ttfb.append(plain.first_text("/v1/chat/completions", stream_body)),
            ]
            for step in pair if i % 2 else pair[::-1]:
                step()
        a, b = median_ms(inproc_ttfb), median_ms(gateway_ttfb)
        print(f"2. stream time to first text, median over {args.streams} streams")
        print(f"  in process             {a:8.3f} ms")
        print(f"  gateway, plain socket  {b:8.3f} ms   added {b - a:6.3f} ms")
        if plain.reconnects:
            print(f"  (plain client: {plain.reconnects} idle connection(s) closed, resent)")
        plain.close()
        http.close()
        sdk.close()
    finally:
        gateway.stop()

    async def inproc_round() -> float:
        async def one() -> Any:
            return await service.ainvoke_model(MODEL, PROMPT)

        rate, _ = await async_throughput(one, args.total, args.concurrency)
        return rate

    print(
        f"3. throughput, calls/s at {args.concurrency} in flight, median of {args.rounds} "
        f"rounds of {args.total}"
    )
    rates = [asyncio.run(inproc_round()) for _ in range(args.rounds)]
    print(f"  in process (asyncio)   {statistics.median(rates):8.1f}")
    for workers in worker_counts:
        gateway = Gateway(config, db, workers)
        try:
            url = gateway.wait()
            rounds = [(url, token, body, args.total, args.concurrency)] * (args.rounds + 1)
            rates = [asyncio.run(plain_throughput(*r)) for r in rounds][1:]  # the first warms up
        finally:
            gateway.stop()
        print(f"  gateway, {workers} worker(s)    {statistics.median(rates):8.1f}")
    service.close()
    if args.litellm:
        versus_litellm(args, folder, db, token)
    else:
        print("4. LiteLLM proxy: not measured (give --litellm PATH to compare)")
    with mw.UsageLedger(db) as ledger:
        rows = sum(r["calls"] for r in ledger.summary(by=("caller",), caller="bench"))
    print(f"gateway ledger rows (caller 'bench'): {rows}")
    ended = time.strftime("%H:%M UTC", time.gmtime())
    print(f"ended {ended}, load average {load_average()}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
