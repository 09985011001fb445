"""Turn user errors into one readable line and exit code 2, never a traceback.

Every failure the command line reports is one line on stderr, ``error: <what went wrong>``:
a bad option (click's usage errors, normally a boxed panel), a configuration problem, an unknown
model, an invalid request parameter (pydantic's multi-line dump reduced to its first problem), a
database that cannot be opened (SQLAlchemy's "Background on this error" link dropped). Set
``MODELWIRE_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, NoReturn

import typer

from modelwire.errors import ConfigError, ModelwireError

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = ["database_error", "fail", "one_line", "run_app", "validation_error"]


#: Lines SQLAlchemy adds to a database error: the statement, its parameters, a link.
_DATABASE_NOISE = ("(Background on this error", "[SQL:", "[parameters:")


def one_line(text: str) -> str:
    """``text`` on one line: its non-empty lines joined with ``; ``, spaces collapsed, without
    the statement, parameters and link lines SQLAlchemy appends to database errors."""
    lines = [" ".join(line.split()) for line in str(text).splitlines()]
    return "; ".join(line for line in lines if line and not line.startswith(_DATABASE_NOISE))


def _print_error(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(
        f"[bold red]error:[/] {escape(one_line(message))}", highlight=False, soft_wrap=True
    )


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` to stderr as an error (on one line) and exit with ``code``."""
    _print_error(message)
    raise typer.Exit(code)


def validation_error(exc: ValidationError) -> str:
    """A pydantic error as one line: the first problem's field and message (and how many more)."""
    problems = exc.errors(include_url=False)
    if not problems:
        return one_line(str(exc))
    first = problems[0]
    where = ".".join(str(p) for p in first["loc"])
    text = f"{where}: {first['msg']}" if where else str(first["msg"])
    if len(problems) > 1:
        text += f" (and {len(problems) - 1} more)"
    return text


def database_error(exc: BaseException, url: str | None = None) -> str:
    """A database failure as one line: the driver's message, without SQLAlchemy's SQL echo and
    "Background on this error" link; ``url`` (password masked) names the database."""
    orig = getattr(exc, "orig", None)
    message = one_line(str(orig) if orig is not None else str(exc)) or type(exc).__name__
    if isinstance(exc, ModuleNotFoundError):  # the URL's database driver is not installed
        driver = (exc.name or "").split(".")[0]
        hints = {
            "psycopg": "pip install 'modelwire[postgres]'",
            "psycopg2": "pip install 'modelwire[postgres]' and write postgresql+psycopg://",
        }
        message += f" ({hints.get(driver, f'install the {driver!r} driver, or use another URL')})"
    if url:
        from modelwire.config.secrets import mask_url

        return f"cannot use the database {mask_url(url)}: {message}"
    return f"database error: {message}"


def _config_error(exc: ConfigError) -> str:
    if len(exc.problems) <= 1:
        return str(exc)
    location, message = exc.problems[0]
    first = f"{location}: {message}" if location else message
    return (
        f"{len(exc.problems)} configuration problems (modelwire config check lists them); "
        f"the first: {first}"
    )


def _usage_error(exc: typer.TyperException) -> str:
    ctx = getattr(exc, "ctx", None)
    message = exc.format_message()
    if ctx is None:
        return message
    return f"{message} (see '{ctx.command_path} --help')"


def run_app(app: typer.Typer, args: list[str] | None = None) -> None:
    """Run the typer app and exit: bad options, configuration, model names, request parameters
    and databases exit 2 with one line; anything else unexpected exits 1 with one line (the
    traceback only when ``MODELWIRE_DEBUG`` is set)."""
    from pydantic import ValidationError

    try:
        code = app(args=args, standalone_mode=False)
    except typer.TyperException as exc:  # click's usage errors: a bad option or argument
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help is printed already
            sys.exit(2)
        _print_error(_usage_error(exc))
        sys.exit(2)
    except typer.Abort:
        _print_error("aborted")
        sys.exit(1)
    except ConfigError as exc:
        _print_error(_config_error(exc))
        sys.exit(2)
    except ModelwireError as exc:
        _print_error(str(exc))
        sys.exit(2)
    except ValidationError as exc:
        _print_error(validation_error(exc))
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("MODELWIRE_DEBUG"):
            raise
        if _is_database_error(exc):
            _print_error(database_error(exc))
            sys.exit(2)
        if type(exc).__module__.startswith("yaml"):  # a file the loader did not wrap
            _print_error(f"cannot read the configuration: {exc}")
            sys.exit(2)
        if isinstance(exc, OSError | ValueError | ArithmeticError):
            _print_error(f"{type(exc).__name__}: {exc}")
            sys.exit(2)
        _print_error(f"unexpected {type(exc).__name__}: {exc} (set MODELWIRE_DEBUG=1 for details)")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _is_database_error(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module.startswith("sqlalchemy") or module.startswith(("psycopg", "sqlite3"))
