"""The gateway's ASGI app: OpenAI's and Anthropic's HTTP APIs in front of one ``ModelService``.

Routes: ``POST /v1/chat/completions`` (OpenAI, plain and streamed), ``POST /v1/messages``
(Anthropic, plain and streamed), ``GET /v1/models`` and ``GET /v1/models/{name}`` (the
registry's models, aliases and groups a key may call; Anthropic's shape when the request
carries ``anthropic-version``) and ``GET /health`` (no key needed).

Every model request goes the same way: the key (``Authorization: Bearer`` or ``x-api-key``)
is checked (401), the body read up to ``max_body_bytes`` (413) and translated (400 naming the
field), the model checked against the key's patterns (403), the key's limits asked
(``KeyLimits.admit``: 429), then the call runs through the worker's one ``ModelService`` on
the async path with the key's name as ``caller``, so every attempt lands in the ledger under
it. A stream's first event is awaited before the response starts, so a failure before any
output still gets its own status (502/503/504 after routing); a failure later in the stream is
sent as the API's error event.

Built on Starlette rather than FastAPI: the gateway reads and writes the two wire formats
itself (to name the offending field in each API's own error shape), so FastAPI's per-request
pydantic validation, dependency injection and response serialisation would be pure overhead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from modelwire.errors import ConfigError, GatewayError
from modelwire.gateway import anthropic_wire, openai_wire
from modelwire.gateway.auth import KeyRing, token_from
from modelwire.gateway.errors import (
    anthropic_body,
    classify,
    clean,
    cleaned,
    openai_body,
)
from modelwire.gateway.event_stream import EventStream
from modelwire.gateway.keys import KeyStore, VirtualKey
from modelwire.gateway.limits import KeyLimits, LedgerKeyLimits
from modelwire.gateway.settings import GatewaySettings
from modelwire.gateway.wire import WireCall, dumps

if TYPE_CHECKING:
    from modelwire.service.model_service import ModelService

__all__ = ["Gateway", "build_service", "create_app"]

log = logging.getLogger("modelwire.gateway")

Api = Literal["openai", "anthropic"]

_JSON = "application/json"
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def build_service(settings: GatewaySettings) -> ModelService:
    """The service a worker runs: the configuration's registry, recording to its ledger (or
    to ``settings.database``); the gateway refuses to run without a ledger."""
    from modelwire.config.loader import load_config
    from modelwire.registry.model_registry import ModelRegistry
    from modelwire.service.model_service import ModelService
    from modelwire.usage.ledger import UsageLedger

    config = load_config(settings.config)
    usage = config.usage
    if settings.database is None and not usage.enabled:
        raise ConfigError(
            "the gateway records every request in the ledger and keeps its keys there: "
            "usage.enabled is false (enable it, or name a database)"
        )
    ledger = UsageLedger(
        settings.database or usage.database,
        batch_size=usage.batch_size,
        flush_interval_ms=usage.flush_interval_ms,
        store_prompts=usage.store_prompts,
    )
    try:
        registry = ModelRegistry.from_config(config)
    except BaseException:
        ledger.close()
        raise
    return ModelService(registry, ledger, store_prompts=usage.store_prompts)


def key_store_of(service: ModelService) -> KeyStore:
    """The keys in the database of the service's ledger."""
    from modelwire.usage.ledger import UsageLedger

    ledger = service.ledger
    if not isinstance(ledger, UsageLedger):
        raise ConfigError(
            "the gateway needs a service that records to a UsageLedger (its keys live there)"
        )
    return KeyStore(lambda: ledger.engine)


class Gateway:
    """One process's gateway: its service, its keys, its limits, and the request handlers."""

    def __init__(
        self,
        service: ModelService,
        ring: KeyRing,
        limits: KeyLimits,
        settings: GatewaySettings,
    ) -> None:
        self.service = service
        self.ring = ring
        self.limits = limits
        self.settings = settings

    # -- shared steps --------------------------------------------------------------------------

    def secrets(self, token: str | None) -> tuple[str | None, ...]:
        """Every value an error message must not show: provider secrets and the client's key."""
        values: list[str | None] = [token]
        for ctx in self.service.registry.providers.values():
            values.extend(ctx.secrets())
        return tuple(values)

    async def read_json(self, request: Request) -> dict[str, Any]:
        """The body as a JSON object, at most ``max_body_bytes`` long."""
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
        except ClientDisconnect:
            raise GatewayError("invalid_request", "the client closed the connection") from None
        try:
            body = json.loads(b"".join(chunks))
        except (ValueError, UnicodeDecodeError) as exc:
            raise GatewayError("invalid_request", f"the body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise GatewayError("invalid_request", "the body must be a JSON object")
        return body

    def names_for(self, model: str) -> tuple[str, ...]:
        """The names a key's patterns are matched against: the name sent and, when it is a
        registered alias, the model id it stands for."""
        registry = self.service.registry
        names = [model]
        target = registry.config.aliases.get(model)
        if target is not None:
            names.append(target)
        if registry.is_registered(model):
            with contextlib.suppress(Exception):  # the service reports it, with suggestions
                names.append(registry.resolve(model))
        return tuple(names)

    def check_model(self, key: VirtualKey, model: str) -> None:
        """A 403 unless ``key`` may call ``model``."""
        if key.models and not key.allows(self.names_for(model)):
            raise GatewayError(
                "permission",
                f"this key may not call {model!r}",
                param="model",
                code="model_not_allowed",
            )

    def display_model(self, model: str) -> str:
        """The model id a stream's chunks name before its end: the registered model the name
        stands for, or the name itself (a group: its last chunk names the member)."""
        registry = self.service.registry
        if registry.is_registered(model):
            try:
                return registry.resolve(model)
            except Exception:
                return model
        return model

    def error_response(
        self,
        exc: BaseException,
        api: Api,
        token: str | None,
        key: VirtualKey | None = None,
        model: str | None = None,
    ) -> Response:
        """``exc`` as the API's error, its message scrubbed, and logged (without secrets)."""
        secrets = self.secrets(token)
        error = cleaned(classify(exc), secrets)
        who = key.name if key else "-"
        model = clean(model, secrets)[:200] if model else "-"
        if error.kind == "internal":
            log.error(
                "gateway: %s %s %s: %s: %s",
                who,
                api,
                model,
                type(exc).__name__,
                clean(str(exc), secrets),
            )
        elif error.status >= 500:
            log.warning("gateway: %s %s %s: %d %s", who, api, model, error.status, error.message)
        else:
            log.info("gateway: %s %s %s: %d %s", who, api, model, error.status, error.message)
        body = openai_body(error) if api == "openai" else anthropic_body(error)
        return Response(dumps(body), error.status, error.headers(), _JSON)

    async def _prepare(
        self, request: Request, token: str | None, api: Api
    ) -> tuple[VirtualKey, WireCall]:
        key = await self.ring.authenticate(token)
        body = await self.read_json(request)
        call = (openai_wire if api == "openai" else anthropic_wire).parse_request(body)
        self.check_model(key, call.model)
        await self.limits.admit(key, call.model)
        return key, call

    # -- the routes ----------------------------------------------------------------------------

    async def chat_completions(self, request: Request) -> Response:
        """OpenAI's ``POST /v1/chat/completions``."""
        return await self._handle(request, "openai")

    async def messages(self, request: Request) -> Response:
        """Anthropic's ``POST /v1/messages``."""
        return await self._handle(request, "anthropic")

    async def _handle(self, request: Request, api: Api) -> Response:
        token = token_from(request.headers)
        key: VirtualKey | None = None
        call: WireCall | None = None
        try:
            key, call = await self._prepare(request, token, api)
            if call.stream:
                return await self._stream(key, call, api, token)
            response = await self.service.ainvoke_model(
                call.model, call.prompt, caller=key.name, **call.params
            )
        except Exception as exc:
            return self.error_response(exc, api, token, key, call.model if call else None)
        if api == "openai":
            body = openai_wire.completion_body(
                response,
                _new_id("chatcmpl-"),
                int(time.time()),
                structured="output" in call.params,
            )
        else:
            body = anthropic_wire.message_body(response, _new_id("msg_"))
        headers = {"x-modelwire-model": response.model_id}
        if response.cost_usd is not None:
            headers["x-modelwire-cost-usd"] = str(response.cost_usd)
        return Response(dumps(body), 200, headers, _JSON)

    async def _stream(
        self, key: VirtualKey, call: WireCall, api: Api, token: str | None
    ) -> Response:
        events = self.service.astream_model(call.model, call.prompt, caller=key.name, **call.params)
        try:
            first = await anext(events)
        except BaseException:
            await _close(events)
            raise
        renderer: openai_wire.OpenAIStream | anthropic_wire.AnthropicStream
        if api == "openai":
            renderer = openai_wire.OpenAIStream(
                _new_id("chatcmpl-"),
                int(time.time()),
                self.display_model(call.model),
                call.include_usage,
            )
        else:
            renderer = anthropic_wire.AnthropicStream(
                _new_id("msg_"), self.display_model(call.model)
            )

        async def body() -> AsyncIterator[bytes]:
            try:
                yield renderer.start() + renderer.event(first)
                if not first.done:
                    async for event in events:
                        yield renderer.event(event)
            except Exception as exc:
                secrets = self.secrets(token)
                error = cleaned(classify(exc), secrets)
                log.warning(
                    "gateway: %s %s %s: stream failed: %d %s",
                    key.name,
                    api,
                    clean(call.model, secrets)[:200],
                    error.status,
                    error.message,
                )
                yield renderer.error(error)
            finally:
                await _close(events)

        return EventStream(body(), 200, _SSE_HEADERS, "text/event-stream")

    async def models(self, request: Request) -> Response:
        """``GET /v1/models``, and ``GET /v1/models/{name}``: what the key may call."""
        api: Api = "anthropic" if "anthropic-version" in request.headers else "openai"
        token = token_from(request.headers)
        wanted = request.path_params.get("name")
        try:
            key = await self.ring.authenticate(token)
            entries = [
                self._model_entry(api, name, kind, target)
                for name, kind, target in self.catalogue()
                if key.allows((name, target) if target else (name,))
                and (wanted is None or name == wanted)
            ]
            if wanted is not None and not entries:
                raise GatewayError("not_found", f"no model {wanted!r} for this key", param="model")
        except Exception as exc:
            return self.error_response(exc, api, token, model=wanted)
        if wanted is not None:
            return Response(dumps(entries[0]), 200, None, _JSON)
        body: dict[str, Any]
        if api == "anthropic":
            body = {
                "data": entries,
                "has_more": False,
                "first_id": entries[0]["id"] if entries else None,
                "last_id": entries[-1]["id"] if entries else None,
            }
        else:
            body = {"object": "list", "data": entries}
        return Response(dumps(body), 200, None, _JSON)

    def _model_entry(self, api: Api, name: str, kind: str, target: str | None) -> dict[str, Any]:
        if api == "anthropic":
            return {
                "type": "model",
                "id": name,
                "display_name": name,
                "created_at": "1970-01-01T00:00:00Z",
            }
        entry: dict[str, Any] = {
            "id": name,
            "object": "model",
            "created": 0,
            "owned_by": self._owner(kind, target or name),
            "kind": kind,
        }
        if target:
            entry["target"] = target
        return entry

    def catalogue(self) -> list[tuple[str, str, str | None]]:
        """``(name, kind, target)`` for every model, alias and group the service routes."""
        service = self.service
        registry = service.registry
        seen: set[str] = set()
        out: list[tuple[str, str, str | None]] = []

        def add(name: str, kind: str, target: str | None) -> None:
            if name not in seen:
                seen.add(name)
                out.append((name, kind, target))

        for info in registry.list_models():
            add(info.id, "model", None)
        for info in registry.list_models():
            for alias in info.aliases:
                add(alias, "alias", info.id)
        for alias, target in registry.config.aliases.items():
            add(alias, "alias", target)
        for name in service.groups.names():
            add(name, "group", None)
            group = service.groups.get(name)
            for alias in group.aliases if group else ():
                add(alias, "alias", name)
        return out

    def _owner(self, kind: str, name: str) -> str:
        if kind == "group":
            return "modelwire"
        provider, sep, _ = name.partition(":")
        return provider if sep else "modelwire"

    async def health(self, request: Request) -> Response:
        """``GET /health``: the process is up (no key needed)."""
        return Response(b'{"status":"ok"}', 200, None, _JSON)

    async def not_found(self, request: Request, exc: Exception) -> Response:
        """An unknown path or method, in Anthropic's error shape for an Anthropic client (or
        path), else in OpenAI's."""
        status = getattr(exc, "status_code", 404)
        text = "no such route" if status == 404 else "method not allowed"
        message = f"{text}: {request.method} {request.url.path}"
        anthropic = "anthropic-version" in request.headers
        if anthropic or request.url.path.startswith("/v1/messages"):
            kind = "not_found_error" if status == 404 else "invalid_request_error"
            body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
        else:
            body = {
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            }
        return Response(dumps(body), status, None, _JSON)


def _too_large(limit: int) -> GatewayError:
    return GatewayError(
        "too_large",
        f"the request body is larger than the gateway accepts ({limit} bytes)",
        code="request_too_large",
    )


def _new_id(prefix: str) -> str:
    return prefix + os.urandom(12).hex()


async def _close(events: Any) -> None:
    closer = getattr(events, "aclose", None)
    if closer is not None:
        await closer()


def _warn_unenforced(keys: Iterable[VirtualKey], limits: KeyLimits) -> None:
    if limits.enforced:
        return
    for key in keys:
        if key.has_limits:
            settings = ", ".join(
                s
                for s in (
                    f"budget {key.budget}" if key.budget else "",
                    f"rpm {key.rpm}" if key.rpm else "",
                )
                if s
            )
            log.warning(
                "gateway: key %r has %s: stored with the key, NOT enforced by this version",
                key.name,
                settings,
            )


def create_app(
    settings: GatewaySettings | None = None,
    *,
    service: ModelService | None = None,
    limits: KeyLimits | None = None,
    close_service: bool = False,
) -> Starlette:
    """The gateway as an ASGI app (``app.state.gateway`` is the running ``Gateway``).

    With ``service`` the app calls through it, and closes it at shutdown only with
    ``close_service``; without, each process builds its own from ``settings`` at start-up and
    closes it at shutdown (flushing the ledger). ``limits`` enforces the keys' budgets and
    rates (default: ``LedgerKeyLimits``, through the service's limits in the ledger's database;
    see ``modelwire.gateway.limits``).
    """
    settings = settings or GatewaySettings()
    holder: dict[str, Gateway] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = service is None or close_service
        svc = build_service(settings) if service is None else service
        try:
            ring = KeyRing(key_store_of(svc), settings.key_refresh_s)
            ring.load()
            enforcer: KeyLimits = limits if limits is not None else LedgerKeyLimits(svc.limits)
            if isinstance(enforcer, LedgerKeyLimits):
                enforcer.sync(list(ring.keys()))
            _warn_unenforced(ring.keys(), enforcer)
            gateway = Gateway(svc, ring, enforcer, settings)
            holder["gateway"] = gateway
            app.state.gateway = gateway
            yield
        finally:
            holder.pop("gateway", None)
            if own:
                svc.close()

    async def chat_completions(request: Request) -> Response:
        return await holder["gateway"].chat_completions(request)

    async def messages(request: Request) -> Response:
        return await holder["gateway"].messages(request)

    async def models(request: Request) -> Response:
        return await holder["gateway"].models(request)

    async def health(request: Request) -> Response:
        return await holder["gateway"].health(request)

    async def not_found(request: Request, exc: Exception) -> Response:
        return await holder["gateway"].not_found(request, exc)

    routes = [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/messages", messages, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/models/{name:path}", models, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_found},
    )
