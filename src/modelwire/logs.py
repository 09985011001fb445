"""Logging without secrets: a filter that scrubs every secret modelwire knows of from log
records, and ``enable_logging`` to see modelwire's (and the vendor SDKs') logs with it.

Secret values are remembered as provider entries and ledgers are set up (API keys, header
values, passwords in URLs); key-shaped tokens (``sk-…``, ``AIza…``) are scrubbed even when the
value is not known. The filter rewrites a record's message, its formatted traceback and stack,
so a handler that uses it never writes a secret, whatever logger the record came from.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence
from typing import IO

from modelwire.config.secrets import scrub_known

__all__ = ["SDK_LOGGERS", "SecretFilter", "disable_logging", "enable_logging"]

#: Loggers of the libraries a call goes through, covered by ``enable_logging``.
SDK_LOGGERS: tuple[str, ...] = (
    "openai",
    "anthropic",
    "google_genai",
    "httpx",
    "httpcore",
    "httpx2",
    "httpcore2",
    "urllib3",
    "sqlalchemy",
)

_HANDLER_FLAG = "_modelwire_handler"


class SecretFilter(logging.Filter):
    """Scrubs known secrets from a record before a handler formats it (always lets it pass)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, scrubbed
            message = f"{record.msg} {record.args}"
        record.msg = scrub_known(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = scrub_known(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub_known(record.stack_info)
        return True


def enable_logging(
    level: int | str = logging.INFO,
    *,
    stream: IO[str] | None = None,
    loggers: Sequence[str] = ("modelwire", *SDK_LOGGERS),
    fmt: str = "%(asctime)s %(levelname)s %(name)s: %(message)s",
) -> logging.Handler:
    """Log modelwire's records (and the vendor SDKs' and HTTP libraries') to ``stream``
    (stderr by default) at ``level``, through a ``SecretFilter``. Returns the handler;
    ``disable_logging()`` removes it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(SecretFilter())
    setattr(handler, _HANDLER_FLAG, True)
    for name in loggers:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(level)
    return handler


def disable_logging() -> None:
    """Remove every handler ``enable_logging`` added."""
    for name in ("modelwire", *SDK_LOGGERS):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if getattr(handler, _HANDLER_FLAG, False):
                logger.removeHandler(handler)
