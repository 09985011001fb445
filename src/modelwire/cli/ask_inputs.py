"""What ``modelwire ask`` reads besides the prompt: ``--schema`` (the structured output to ask
for) and ``--image`` (images attached to the prompt).

``--schema FILE`` is a JSON-schema file, or ``module:Name`` naming a pydantic model (or any type
pydantic validates, or a JSON-schema dict) in importable code: the user named that code on the
command line, so importing it is what they asked for. The current directory is importable, as
with ``uvicorn app:app``. ``--image`` is a file (its type recognised from its bytes, else its
name) or an ``http(s)`` URL the provider fetches. Each problem is one line and exit 2.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwire.cli.errors import fail, one_line

if TYPE_CHECKING:
    from modelwire.content import ImagePart
    from modelwire.output import OutputSpec

__all__ = ["jsonable", "load_images", "load_schema"]


def _import_target(value: str) -> Any:
    """The object ``module:attr.path`` names (the current directory importable)."""
    module_name, _, path = value.partition(":")
    if not module_name or not path:
        fail(f"--schema {value!r}: expected a JSON-schema file or module:Name")
    here = os.getcwd()
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        fail(f"--schema {value!r}: cannot import module {module_name!r} ({exc})")
    except Exception as exc:  # the user's module failed while importing
        fail(f"--schema {value!r}: importing {module_name!r} failed: {type(exc).__name__}: {exc}")
    finally:
        if added:
            sys.path.remove(here)
    target: Any = module
    for name in path.split("."):
        if not hasattr(target, name):
            fail(f"--schema {value!r}: {module_name!r} has no attribute {path!r}")
        target = getattr(target, name)
    return target


def _read_schema(path: Path) -> dict[str, Any]:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"--schema {str(path)!r}: cannot read it ({exc.strerror or exc})")
    except ValueError as exc:
        fail(f"--schema {str(path)!r}: not valid JSON ({exc})")
    if not isinstance(schema, dict):
        fail(f"--schema {str(path)!r}: a JSON schema must be an object")
    return schema


def load_schema(value: str) -> OutputSpec:
    """The output spec ``--schema`` names: a JSON-schema file, or ``module:Name``."""
    from modelwire.output import OutputSpec

    path = Path(value)
    if path.is_file():
        target: Any = _read_schema(path)
    elif ":" in value and not value.lower().endswith(".json"):
        target = _import_target(value)
    else:
        fail(f"--schema {value!r}: no such file (give a JSON-schema file or module:Name)")
    try:
        return OutputSpec.of(target)
    except TypeError as exc:
        fail(f"--schema {value!r}: {exc}")


def load_images(values: list[str]) -> tuple[ImagePart, ...]:
    """The images ``--image`` names: files, or ``http(s)`` URLs."""
    from pydantic import ValidationError

    from modelwire.content import ImagePart

    images: list[ImagePart] = []
    for value in values:
        try:
            if value.startswith(("http://", "https://")):
                images.append(ImagePart(url=value))
            else:
                images.append(ImagePart.from_path(value))
        except FileNotFoundError:
            fail(f"--image {value!r}: no such file")
        except OSError as exc:
            fail(f"--image {value!r}: cannot read it ({exc.strerror or exc})")
        except ValidationError as exc:
            problems = exc.errors(include_url=False)
            message = problems[0]["msg"] if problems else str(exc)
            fail(f"--image {value!r}: {one_line(str(message)).removeprefix('Value error, ')}")
    return tuple(images)


def jsonable(value: Any) -> Any:
    """A validated output as plain JSON values (models, dataclasses, dates ...)."""
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value)
