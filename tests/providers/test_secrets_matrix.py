"""No secret in any output: every provider x every call style, against a server that echoes them.

The keys here do not look like keys (no ``sk-``/``AIza`` prefix), so only the configured values
themselves can scrub them. A loopback server answers every request with an error (401, 400 or
500 in each vendor's shape, or an error event inside a stream) whose body and headers repeat the
credentials it was sent: the key, a secret header value, the token of a custom
``Authorization`` header without its scheme, and the user and password of a ``base_url`` (as
the ``Basic`` token and decoded). Whatever the call style, none of them is in
the error, its chained causes and contexts, its formatted traceback, any log record (caplog at
DEBUG on the SDKs' and httpx's loggers too, while modelwire's handler is attached), the ledger's
file, the discovery cache or the CLI's output.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import sqlite3
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import modelwire as mw
from modelwire.cli.app import app
from modelwire.cli.errors import run_app
from modelwire.logs import SDK_LOGGERS, disable_logging, enable_logging

KEY = "tok3n-XYZ-q7Rw2Lm9Pz4Kd8Vb"
HEADER_SECRET = "hdr-val-M4nT9cQ2wE6r"
AUTH_TOKEN = "bearer-tk-Ju5Yh8"  # in a custom Authorization header of its own
PASSWORD = "pw-Zq81-hidden"  # in a base_url: the client sends it as a Basic token
BASIC_TOKEN = base64.b64encode(f"proxy:{PASSWORD}".encode()).decode()
SECRETS = (KEY, HEADER_SECRET, AUTH_TOKEN, PASSWORD, BASIC_TOKEN)

#: The model each provider entry calls (catalog models, so the registry asks no listing).
MODELS = {
    "openai": "openai:gpt-4o-mini",
    "anthropic": "anthropic:claude-3-5-haiku-latest",
    "google": "google:gemini-2.5-flash",
    "local": "local:echo-model",
    "proxied": "proxied:echo-model",
    "hf": "hf:org/echo-model",
}
STATUSES = (401, 400, 500)


class EchoServer:
    """A loopback server that fails every request, repeating the credentials it was sent.

    ``status`` is the HTTP status of the answer; with ``in_stream`` a streaming request gets a
    200 whose first event is an error carrying the credentials. The vendor's shape is chosen
    from the request (Gemini by path, Anthropic by its ``anthropic-version`` header).
    """

    def __init__(self) -> None:
        self.status = 401
        self.in_stream = False
        self.seen: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                owner.answer(self)

            def do_POST(self) -> None:
                owner.answer(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> EchoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        self.seen.append(handler.path)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        sent = " ".join(
            headers.get(name, "")
            for name in ("authorization", "x-api-key", "x-goog-api-key", "x-team-token")
        )
        scheme, _, token = headers.get("authorization", "").partition(" ")
        sent += f" token={token}"  # the credentials without their scheme
        if scheme == "Basic":
            sent += " " + base64.b64decode(token).decode()  # user:password, in plain text
        message = f"credentials refused: {sent} (request {handler.command} {handler.path})"
        google = "generateContent" in handler.path or handler.path.startswith("/v1beta")
        anthropic = "anthropic-version" in headers
        streaming = "stream" in handler.path or b'"stream": true' in raw or b'"stream":true' in raw
        echo = {"x-echo-credentials": sent.strip(), "www-authenticate": f'Bearer error="{sent}"'}
        if self.in_stream and streaming:
            self._stream_error(handler, message, echo, google=google, anthropic=anthropic)
            return
        if google:
            body: Any = {"error": {"code": self.status, "message": message, "status": "FAILED"}}
        elif anthropic:
            kind = {401: "authentication_error", 400: "invalid_request_error"}
            error = {"type": kind.get(self.status, "api_error"), "message": message}
            body = {"type": "error", "error": error}
        else:
            body = {"error": {"message": message, "type": "invalid_request_error", "code": sent}}
        data = json.dumps(body).encode()
        handler.send_response(self.status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        for name, value in echo.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _stream_error(
        self,
        handler: BaseHTTPRequestHandler,
        message: str,
        echo: dict[str, str],
        *,
        google: bool,
        anthropic: bool,
    ) -> None:
        if anthropic:
            error = {"type": "error", "error": {"type": "api_error", "message": message}}
            events = f"event: error\ndata: {json.dumps(error)}\n\n"
        elif google:
            error = {"error": {"code": 500, "message": message, "status": "INTERNAL"}}
            events = f"data: {json.dumps(error)}\n\n"
        else:
            events = f"data: {json.dumps({'error': {'message': message, 'code': 'x'}})}\n\n"
        data = events.encode()
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("content-length", str(len(data)))
        for name, value in echo.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with EchoServer() as server:
        yield server


def _providers(url: str) -> dict[str, Any]:
    secret_header = {"X-Team-Token": HEADER_SECRET}
    return {
        "openai": {"api_key": KEY, "base_url": f"{url}/v1", "headers": secret_header},
        "anthropic": {"api_key": KEY, "base_url": url, "headers": secret_header},
        "google": {"api_key": KEY, "base_url": url, "headers": secret_header},
        "local": {
            "type": "openai_compatible",
            "base_url": f"{url}/v1",
            "headers": {**secret_header, "Authorization": f"Bearer {AUTH_TOKEN}"},
        },
        "hf": {
            "type": "huggingface",
            "api_key": KEY,
            "base_url": f"{url}/v1",
            "headers": secret_header,
        },
        "proxied": {
            "type": "openai_compatible",
            "base_url": url.replace("http://", f"http://proxy:{PASSWORD}@") + "/v1",
        },
        "mock": {
            "type": "mock",
            "api_key": KEY,
            "headers": secret_header,
            "error_rate": 1.0,
            "error_kinds": ["auth"],
        },
    }


def _config(url: str, db: Path) -> dict[str, Any]:
    return {
        "providers": _providers(url),
        "groups": {"everyone": {"members": [*MODELS.values(), "mock:gpt-4o-mini"]}},
        "retry": {"max_attempts": 2, "base_delay_s": 0, "max_delay_s": 0},
        "usage": {"database": f"sqlite:///{db}"},
    }


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """modelwire's handler on every logger at DEBUG, and caplog capturing at DEBUG too."""
    names = ("modelwire", *SDK_LOGGERS)
    levels = {name: logging.getLogger(name).level for name in names}
    stream = io.StringIO()
    enable_logging(logging.DEBUG, stream=stream)
    caplog.set_level(logging.DEBUG)
    yield stream
    disable_logging()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__]
        if isinstance(item, BaseExceptionGroup):
            todo += list(item.exceptions)
    return seen


def _texts_of(error: BaseException) -> list[str]:
    """Everything an error shows: its text, repr and args, its chain's, its traceback."""
    texts = ["".join(traceback.format_exception(error))]
    for item in _chain(error):
        texts += [str(item), repr(item), repr(item.args)]
        for attempt in getattr(item, "attempts", None) or ():
            if isinstance(attempt, BaseException):
                texts += _texts_of(attempt)
    return texts


def _log_texts(caplog: pytest.LogCaptureFixture, stream: io.StringIO) -> list[str]:
    texts = [stream.getvalue(), caplog.text]
    for record in caplog.records:
        texts += [record.getMessage(), str(record.exc_text or ""), str(record.stack_info or "")]
    return texts


def _database_text(db: Path) -> str:
    if not db.exists():
        return ""
    with sqlite3.connect(db) as conn:
        return "\n".join(conn.iterdump())


def _assert_clean(texts: list[str], where: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} in {where}: {text[:2000]}"


# -- the call styles, through the service (so its attempts reach the ledger) ------------------


def _invoke(svc: mw.ModelService, model: str) -> BaseException:
    with pytest.raises(mw.ModelwireError) as info:
        svc.invoke_model(model, "hello there", max_tokens=8)
    return info.value


def _ainvoke(svc: mw.ModelService, model: str) -> BaseException:
    async def main() -> None:
        await svc.ainvoke_model(model, "hello there", max_tokens=8)

    with pytest.raises(mw.ModelwireError) as info:
        asyncio.run(main())
    return info.value


def _stream(svc: mw.ModelService, model: str) -> BaseException:
    with pytest.raises(mw.ModelwireError) as info:
        list(svc.stream_model(model, "hello there", max_tokens=8))
    return info.value


def _astream(svc: mw.ModelService, model: str) -> BaseException:
    async def main() -> None:
        async for _ in svc.astream_model(model, "hello there", max_tokens=8):
            pass

    with pytest.raises(mw.ModelwireError) as info:
        asyncio.run(main())
    return info.value


def _batch(svc: mw.ModelService, model: str) -> BaseException:
    results = svc.invoke_batch(model, ["one", "two"], max_tokens=8)
    assert [r.ok for r in results] == [False, False]
    _assert_clean([repr(results)], "the batch's results")
    error = results[0].error
    assert isinstance(error, mw.ModelwireError)
    return error


def _abatch(svc: mw.ModelService, model: str) -> BaseException:
    results = asyncio.run(svc.ainvoke_batch(model, ["one", "two"], max_tokens=8))
    assert [r.ok for r in results] == [False, False]
    _assert_clean([repr(results)], "the batch's results")
    error = results[1].error
    assert isinstance(error, mw.ModelwireError)
    return error


STYLES: dict[str, Callable[[mw.ModelService, str], BaseException]] = {
    "invoke": _invoke,
    "ainvoke": _ainvoke,
    "stream": _stream,
    "astream": _astream,
    "batch": _batch,
    "abatch": _abatch,
}
CASES = [(p, s, st) for p in [*MODELS, "mock"] for s in STYLES for st in STATUSES if p != "mock"]
CASES += [("mock", style, 401) for style in STYLES]
CASES += [("group", style, 401) for style in STYLES]  # every member fails: AllModelsFailedError


@pytest.mark.parametrize(("provider", "style", "status"), CASES)
def test_no_call_style_shows_a_secret(
    echo: EchoServer,
    logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    provider: str,
    style: str,
    status: int,
) -> None:
    echo.status = status
    db = tmp_path / "usage.db"
    config = mw.Config.model_validate(_config(echo.url, db))
    registry = mw.ModelRegistry.from_config(config)
    ledger = mw.UsageLedger(f"sqlite:///{db}")
    try:
        service = mw.ModelService(registry, ledger=ledger)
        target = {"mock": "mock:gpt-4o-mini", "group": "everyone"}.get(provider)
        error = STYLES[style](service, target or MODELS[provider])
        if provider == "group":
            assert isinstance(error, mw.AllModelsFailedError)
            assert len({getattr(e, "provider", None) for e in error.attempts}) == len(MODELS) + 1
        logging.getLogger("modelwire.test").exception("the call failed", exc_info=error)
        ledger.flush(timeout=30)
    finally:
        ledger.close()
        registry.close()
    if provider != "mock":
        assert echo.seen, "the call never reached the echoing server"
        assert any("***" in text for text in _texts_of(error))  # echoed, then scrubbed
    _assert_clean(_texts_of(error), f"the {style} error")
    _assert_clean(_log_texts(caplog, logs), "the logs")
    assert _database_text(db).count("INSERT") > 0
    _assert_clean([_database_text(db)], "the ledger")


@pytest.mark.parametrize("provider", list(MODELS))
@pytest.mark.parametrize("style", ["stream", "astream"])
def test_an_error_event_inside_a_stream_shows_no_secret(
    echo: EchoServer,
    logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    provider: str,
    style: str,
) -> None:
    echo.in_stream = True
    config = mw.Config.model_validate(_config(echo.url, tmp_path / "u.db"))
    registry = mw.ModelRegistry.from_config(config)
    try:
        error = STYLES[style](mw.ModelService(registry), MODELS[provider])
    finally:
        registry.close()
    assert echo.seen
    assert any("***" in text for text in _texts_of(error))  # echoed, then scrubbed
    _assert_clean(_texts_of(error), f"the {style} error")
    _assert_clean(_log_texts(caplog, logs), "the logs")


# -- listing the models ---------------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("provider", list(MODELS))
def test_list_models_shows_no_secret(
    echo: EchoServer,
    logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    provider: str,
    status: int,
) -> None:
    echo.status = status
    config = mw.Config.model_validate(_config(echo.url, tmp_path / "u.db"))
    registry = mw.ModelRegistry.from_config(config, catalog=False)
    try:
        ctx = registry.provider(provider)
        cls = registry.factory.provider_class(ctx.type)
        with pytest.raises(mw.ProviderError) as info:
            cls.list_models(ctx)
        error = info.value
        assert error.provider == provider and error.status_code == status
        assert isinstance(error.__cause__, mw.ProviderCause)  # the SDK's type kept, scrubbed
        assert error.__suppress_context__ and error.__context__ is None
        logging.getLogger("modelwire.test").exception("listing failed", exc_info=error)
        with mw.ModelDiscoveryService(registry, background=False) as discovery:
            result = discovery.discover(refresh=True, providers=[provider])
    finally:
        registry.close()
    assert echo.seen and set(result.errors) == {provider}
    assert "***" in str(error.__cause__)  # echoed, then scrubbed
    _assert_clean(_texts_of(error), "the listing error")
    _assert_clean([repr(result), json.dumps(result.errors)], "the discovery result")
    _assert_clean(_log_texts(caplog, logs), "the logs")


# -- the command line ---------------------------------------------------------------------------


def _write_config(path: Path, url: str, db: Path) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(_config(url, db)), encoding="utf-8")
    return path


def _cache_text(root: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in root.rglob("*") if p.is_file()
    )


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """``run_app`` (what the ``modelwire`` console script runs) on ``args``; the exit code."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(SystemExit) as stopped:
        run_app(app, args)
    code = stopped.value.code
    return code if isinstance(code, int) else 1


@pytest.mark.parametrize("status", STATUSES)
def test_cli_discover_and_ask_show_no_secret(
    echo: EchoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    status: int,
) -> None:
    echo.status = status
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "400")
    db = tmp_path / "usage.db"
    config = str(_write_config(tmp_path / "modelwire.yaml", echo.url, db))
    outputs: list[str] = []
    for args in (["discover", "--refresh"], ["discover", "--json", "--refresh"]):
        assert _run([*args, "-c", config], monkeypatch) == 0
        captured = capsys.readouterr()
        outputs += [captured.out, captured.err]
    for provider in MODELS:
        assert provider in outputs[0]  # each provider's error is reported
    for model in [*MODELS.values(), "mock:gpt-4o-mini"]:
        for extra in ([], ["--stream"]):
            assert _run(["ask", "-c", config, model, "hi", *extra], monkeypatch) == 2
            captured = capsys.readouterr()
            assert captured.err.startswith("error: ")
            outputs += [captured.out, captured.err]
    assert any("***" in text for text in outputs)  # echoed, then scrubbed
    _assert_clean(outputs, "the CLI's output")
    _assert_clean([_database_text(db)], "the ledger")
    _assert_clean([_cache_text(tmp_path / "cache")], "the discovery cache")


# -- passwords in URLs: configuration, reprs, the ledger, DEBUG logs ------------------------------

DB_PASSWORD = "dbPw-77-hidden"


def test_url_passwords_are_masked_in_config_show_reprs_and_debug_logs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = f"postgresql+psycopg://mw:{DB_PASSWORD}@127.0.0.1:9/nothing"  # nothing listens
    base_url = f"http://proxy:{PASSWORD}@127.0.0.1:9/v1"
    path = tmp_path / "modelwire.yaml"
    path.write_text(
        "providers:\n"
        f"  local: {{type: openai_compatible, base_url: '{base_url}'}}\n"
        f"usage: {{database: '{database}'}}\n",
        encoding="utf-8",
    )
    outputs: list[str] = []
    for extra in ([], ["--json"]):
        assert _run(["config", "show", str(path), *extra], monkeypatch) == 0
        captured = capsys.readouterr()
        outputs += [captured.out, captured.err]
    assert "mw:***@127.0.0.1:9" in outputs[0] and "proxy:***@127.0.0.1:9" in outputs[0]
    config = mw.load_config(path)
    registry = mw.ModelRegistry.from_config(config)
    try:
        outputs += [repr(config), str(config), repr(config.usage), repr(registry.provider("local"))]
        outputs += [repr(registry.provider("local").config)]
        with pytest.raises(Exception) as info:  # the database cannot be reached
            ledger = mw.UsageLedger(config.usage.database, read_timeout_s=10)
            outputs.append(repr(ledger))
            ledger.summary()
        outputs += _texts_of(info.value)
    finally:
        registry.close()
    logging.getLogger("sqlalchemy.engine").debug("connecting to %s", database)
    _assert_clean(outputs, "configuration output and reprs")
    for text in [*outputs, *_log_texts(caplog, logs)]:
        assert DB_PASSWORD not in text, text[:2000]
