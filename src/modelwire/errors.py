"""The one exception hierarchy modelwire raises.

Every provider error carries the provider name, the model id and the provider's request id when
known, so a log line or a usage row can always be traced back to the vendor's side. Messages never
contain secrets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

__all__ = [
    "AllModelsFailedError",
    "AuthenticationError",
    "BudgetExceededError",
    "BusyError",
    "CatalogError",
    "ConfigError",
    "ContextWindowError",
    "DatabaseFileChanged",
    "DuplicateModelError",
    "GatewayError",
    "InvalidRequestError",
    "LedgerClosedError",
    "LedgerFullError",
    "LedgerReadError",
    "LedgerSchemaError",
    "LedgerWriteError",
    "LimitExceededError",
    "LimitsUnavailableError",
    "MalformedToolCallError",
    "MissingCheckpointError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "ModelwireError",
    "OutputValidationError",
    "ProviderCause",
    "ProviderError",
    "ProviderInterfaceError",
    "ProviderUnavailableError",
    "RateLimitError",
    "RateLimitedError",
    "TimeoutError",
    "ToolDefinitionError",
    "ToolRoundsExceededError",
    "UnsupportedFeatureError",
    "UnsupportedModelError",
    "VirtualKeyError",
    "YamlSyntaxError",
]


class ModelwireError(Exception):
    """Base class of every error modelwire raises on purpose."""


class ConfigError(ModelwireError):
    """Configuration could not be loaded or validated.

    ``problems`` lists ``(location, message)`` pairs; a location reads like
    ``modelwire.yaml:12 providers.openai.timeout_s``.
    """

    def __init__(self, problems: Sequence[tuple[str, str]] | str) -> None:
        if isinstance(problems, str):
            problems = [("", problems)]
        self.problems: list[tuple[str, str]] = list(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [f"{loc}: {msg}" if loc else msg for loc, msg in self.problems]
        if len(lines) == 1:
            return lines[0]
        return f"{len(lines)} configuration problems:\n" + "\n".join(f"  - {x}" for x in lines)


class ModelNotFoundError(ModelwireError, KeyError):
    """A model name, alias or id that the registry does not know."""

    def __init__(self, name: str, suggestions: Sequence[str] = (), detail: str = "") -> None:
        self.name = name
        self.suggestions = list(suggestions)
        msg = f"unknown model {name!r}"
        if detail:
            msg += f": {detail}"
        if self.suggestions:
            msg += "; did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        self.message = msg
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the message again
        return self.message


class CatalogError(ConfigError):
    """The catalog file is malformed; ``problems`` lists (location, message) pairs."""


class DuplicateModelError(ModelwireError, ValueError):
    """``register_model`` found the id (or an alias) taken and ``replace`` was false."""


class ProviderInterfaceError(ModelwireError, TypeError):
    """A provider class does not implement the provider interface."""


class MissingDependencyError(ModelwireError, ImportError):
    """A provider's SDK is not installed; the message names the extra that installs it."""


class LedgerReadError(ModelwireError):
    """A read (``summary``, ``records``, ``reprice``…) could not be answered: the events
    recorded before it were not written within ``read_timeout_s``, or the database failed the
    query. The message names the database error."""


class LedgerSchemaError(ModelwireError):
    """The ledger database has a schema this version of modelwire cannot use."""


class LedgerFullError(ModelwireError):
    """``record()`` waited ``put_timeout_s`` for room in a full queue (the database is too slow
    or unreachable). The event was not recorded."""


class LedgerClosedError(ModelwireError):
    """``record()`` on a closed ledger."""


class LedgerWriteError(ModelwireError):
    """The writer could not write queued events (``flush``/``close`` report it)."""


class BusyError(ModelwireError):
    """The database stayed locked for longer than the retry budget."""


class DatabaseFileChanged(ModelwireError):
    """The path of a SQLite ledger names another file than the one its connections have open."""


class ToolDefinitionError(ModelwireError, ValueError):
    """A tool cannot be described to a model (a parameter type with no JSON schema, ``*args``,
    a bad or repeated name); raised before any request is sent."""


class ToolRoundsExceededError(ModelwireError):
    """``run_tools`` reached ``max_rounds`` while the model still asked for tools; ``run`` holds
    the history so far."""

    def __init__(self, message: str, *, run: Any = None) -> None:
        super().__init__(message)
        self.run = run


class ProviderCause(Exception):
    """What a vendor SDK raised, kept as the cause of the ``ProviderError`` it became: its type
    and its message with every configured secret removed (the SDK's exception object, whose
    text may echo a key, is not kept)."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name


class YamlSyntaxError(ModelwireError):
    """The text is not valid YAML; ``line`` is 1-based when YAML reports one, ``path`` the field
    being read when it went wrong (``()`` when unknown).

    ``also`` lists further ``(line, message)`` problems found before the syntax error (characters
    YAML does not allow), so they can be reported together.
    """

    def __init__(
        self,
        message: str,
        line: int | None,
        also: list[tuple[int, str]] | None = None,
        path: tuple[str | int, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.also = list(also or [])
        self.path = path


class OutputValidationError(ModelwireError, ValueError):
    """An answer is not valid output of the requested type: ``raw_text`` is what the model
    sent, ``errors`` pydantic's list of what is wrong (``output_retries`` asks again)."""

    def __init__(self, message: str, *, raw_text: str = "", errors: Any = ()) -> None:
        super().__init__(message)
        self.raw_text = raw_text
        self.errors = list(errors)


class ProviderError(ModelwireError):
    """A call to a provider failed.

    ``retryable`` tells the retry policy whether trying again may help. ``provider_wide`` says
    the failure is the provider entry's, not the model's (a rejected or missing key, a missing
    SDK, a host that cannot be reached): a group then skips the entry's other models for the
    rest of the call.
    """

    retryable: bool = False
    provider_wide: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model_id: str | None = None,
        request_id: str | None = None,
        status_code: int | None = None,
        retryable: bool | None = None,
        provider_wide: bool | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.model_id = model_id
        self.request_id = request_id
        self.status_code = status_code
        if retryable is not None:
            self.retryable = retryable
        if provider_wide is not None:
            self.provider_wide = provider_wide
        super().__init__(message)

    def __str__(self) -> str:
        parts = [self.message]
        ctx = []
        if self.model_id:
            ctx.append(f"model={self.model_id}")
        elif self.provider:
            ctx.append(f"provider={self.provider}")
        if self.status_code is not None:
            ctx.append(f"status={self.status_code}")
        if self.request_id:
            ctx.append(f"request_id={self.request_id}")
        if ctx:
            parts.append("(" + ", ".join(ctx) + ")")
        return " ".join(parts)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[ProviderError], message: str, state: dict[str, Any]) -> ProviderError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class AuthenticationError(ProviderError):
    """The provider rejected the credentials, or has none (never retried)."""

    provider_wide = True


class RateLimitError(ProviderError):
    """The provider asked us to slow down; ``retry_after`` is in seconds when it said."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ContextWindowError(ProviderError):
    """The request does not fit the model's context window."""


class ProviderUnavailableError(ProviderError):
    """Server error, overload or a broken connection: worth retrying later."""

    retryable = True


class TimeoutError(ProviderError):
    """The provider did not answer in time."""

    retryable = True


class InvalidRequestError(ProviderError):
    """The provider rejected the request as malformed (never retried)."""


class UnsupportedModelError(InvalidRequestError):
    """The checkpoint's architecture is recognised but not supported (never retried)."""


class MissingCheckpointError(InvalidRequestError):
    """A model name that is a local path, or a ``model_dir`` entry, names no checkpoint directory
    (never retried: the next call looks again)."""


class UnsupportedFeatureError(InvalidRequestError):
    """The model cannot take something the request needs (tools, images, documents, a tool
    choice); raised before any network request."""


class MalformedToolCallError(ProviderError):
    """The model asked for a tool call that cannot be used: arguments that are not a JSON
    object, or the vendor's own malformed-call signal. ``raw_text`` holds what it sent."""

    def __init__(self, message: str, *, raw_text: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.raw_text = raw_text


class AllModelsFailedError(ProviderError):
    """Every member of a group (or every retry) failed; ``attempts`` holds each error in order.

    Its message names each provider once, with its first error and how many attempts failed
    there, so a call across many models reads in a few lines.
    """

    def __init__(self, message: str, attempts: Sequence[BaseException] = (), **kw: Any) -> None:
        super().__init__(message, **kw)
        self.attempts = list(attempts)

    def __str__(self) -> str:
        base = super().__str__()
        if not self.attempts:
            return base
        by_provider: dict[str, list[BaseException]] = {}
        for error in self.attempts:
            name = getattr(error, "provider", None) or "?"
            by_provider.setdefault(name, []).append(error)
        lines = []
        for name, errors in by_provider.items():
            first = errors[0]
            text = getattr(first, "message", None) or str(first)
            if len(text) > 240:
                text = text[:237] + "..."
            more = f" ({len(errors)} attempts)" if len(errors) > 1 else ""
            lines.append(f"{name}: {type(first).__name__}: {text}{more}")
        return base + ":\n  " + "\n  ".join(lines)


class VirtualKeyError(ModelwireError, ValueError):
    """A gateway key setting that cannot be used (a name, a budget, a rate, a model pattern), a
    name an active key has already, or no active key of a name (one line, never a key)."""


class LimitExceededError(ModelwireError):
    """A request may not be made now: a budget is spent (``kind="budget"``) or a request or
    token rate is reached (``kind="rate"``). Raised before any provider is called, by the
    service's limits (``BudgetExceededError``, ``RateLimitedError``) or a gateway's limits hook
    (``modelwire.gateway.limits``); never retried. A gateway client gets a 429 with
    ``Retry-After`` (``retry_after``, in seconds)."""

    def __init__(
        self, message: str, *, retry_after: float, kind: Literal["budget", "rate"] = "rate"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.kind = kind


GatewayErrorKind = Literal[
    "invalid_request",
    "authentication",
    "permission",
    "not_found",
    "too_large",
    "rate_limit",
    "upstream",
    "unavailable",
    "timeout",
    "internal",
]

#: The HTTP status of each kind of gateway failure.
GATEWAY_STATUS: dict[GatewayErrorKind, int] = {
    "invalid_request": 400,
    "authentication": 401,
    "permission": 403,
    "not_found": 404,
    "too_large": 413,
    "rate_limit": 429,
    "upstream": 502,
    "unavailable": 503,
    "timeout": 504,
    "internal": 500,
}


class GatewayError(ModelwireError):
    """A gateway request's failure as its client sees it: its ``kind`` (and so its HTTP
    ``status``), a message, and optionally the request field it concerns (``param``), a
    machine-readable ``code`` and a ``retry_after`` in seconds. ``modelwire.gateway.errors``
    renders it in each API's error shape."""

    def __init__(
        self,
        kind: GatewayErrorKind,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: GatewayErrorKind = kind
        self.message = message
        self.param = param
        self.code = code
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        """The HTTP status."""
        return GATEWAY_STATUS[self.kind]

    def headers(self) -> dict[str, str]:
        """``Retry-After`` when there is one (whole seconds, at least 1)."""
        if self.retry_after is None:
            return {}
        return {"retry-after": str(max(1, math.ceil(self.retry_after)))}


class BudgetExceededError(LimitExceededError):
    """A budget would be exceeded by the request's worst-case cost. ``scope`` and ``limit``
    describe the budget, ``spent`` and ``reserved`` (USD) what its window holds, ``needed`` the
    request's reservation, ``resets_at`` when the window ends (``None``: a total budget)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        scope: str = "",
        limit: str = "",
        spent: Any = None,
        reserved: Any = None,
        needed: Any = None,
        resets_at: Any = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after, kind="budget")
        self.scope = scope
        self.limit = limit
        self.spent = spent
        self.reserved = reserved
        self.needed = needed
        self.resets_at = resets_at


class RateLimitedError(LimitExceededError):
    """A request or token rate of the service's limits is reached; ``retry_after`` says in how
    many seconds the request would fit (``wait_for_rate=True`` on a call waits instead, up to a
    bound). ``scope``, ``limit``, ``used`` and ``reserved`` describe the rate's window."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        scope: str = "",
        limit: str = "",
        used: Any = None,
        reserved: Any = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after, kind="rate")
        self.scope = scope
        self.limit = limit
        self.used = used
        self.reserved = reserved


class LimitsUnavailableError(ModelwireError):
    """The limits' database could not be reached to reserve a request, and the limits fail
    closed (``limits.on_database_error: closed``, the default): the request is refused, the
    database error named in the message."""
