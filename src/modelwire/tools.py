"""Tools a model may call: their names, descriptions and JSON-schema parameters.

``as_tools`` accepts what an application naturally has — a Python function (its parameters'
schema derived from the signature, type hints and docstring, with pydantic), a pydantic model
(its fields are the parameters), or an explicit ``Tool(name, description, parameters)`` — and
returns ``Tool`` objects, checked before any request is sent: one clear error names the function
and parameter whose schema cannot be derived, or the name given twice.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PydanticUserError, TypeAdapter, create_model

from modelwire.errors import ToolDefinitionError

__all__ = ["Tool", "as_tool", "as_tools"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


class Tool(BaseModel):
    """One tool: ``parameters`` is the JSON schema of its arguments (an object schema).

    ``function`` is the Python callable that runs it, when there is one (``run_tools`` calls
    it); ``model`` is the pydantic model its arguments validate against, when there is one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )
    function: Callable[..., Any] | None = Field(default=None, exclude=True, repr=False)
    model: type[BaseModel] | None = Field(default=None, exclude=True, repr=False)

    def model_post_init(self, __context: Any) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"tool name {self.name!r}: use letters, digits, '_' and '-' "
                "(at most 64, starting with a letter or '_')"
            )
        if self.parameters.get("type", "object") != "object":
            raise ValueError(f"tool {self.name!r}: parameters must be a JSON object schema")

    @classmethod
    def from_function(cls, function: Callable[..., Any], *, name: str | None = None) -> Tool:
        """A tool from a function: its name, its docstring's first paragraph as description,
        and its parameters' schema from their type hints (string annotations included).
        Parameters without a hint are taken as any JSON value; ``*args``/``**kwargs`` are
        refused. A docstring's ``Args:`` section describes the parameters."""
        label = getattr(function, "__qualname__", repr(function))
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError) as exc:
            raise ToolDefinitionError(f"tool {label}: cannot read its signature: {exc}") from None
        hints = _type_hints(function, signature, label)
        described = _argument_docs(inspect.getdoc(function) or "")
        fields: dict[str, Any] = {}
        for pname, param in signature.parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise ToolDefinitionError(
                    f"tool {label}: parameter {pname!r}: *args and **kwargs cannot be described "
                    "to a model; name each parameter"
                )
            annotation = hints.get(pname, Any)
            default = ... if param.default is param.empty else param.default
            fields[pname] = (annotation, Field(default, description=described.get(pname)))
        try:
            model = create_model(f"{_title(label)}Arguments", **fields)
            schema = model.model_json_schema()
        except (PydanticUserError, TypeError, ValueError) as exc:
            bad = _first_bad_parameter(fields)
            where = f"parameter {bad!r}" if bad else "its parameters"
            raise ToolDefinitionError(
                f"tool {label}: {where} has a type with no JSON schema ({exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0]})"
            ) from None
        schema.pop("title", None)
        return cls(
            name=name or getattr(function, "__name__", "tool"),
            description=_summary(inspect.getdoc(function) or ""),
            parameters=schema,
            function=function,
            model=model,
        )

    @classmethod
    def from_model(cls, model: type[BaseModel], *, name: str | None = None) -> Tool:
        """A tool whose arguments are the fields of a pydantic model (its docstring describes
        it)."""
        schema = model.model_json_schema()
        schema.pop("title", None)
        description = schema.pop("description", None) or _summary(inspect.getdoc(model) or "")
        return cls(
            name=name or model.__name__, description=description, parameters=schema, model=model
        )

    def validate_arguments(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments, validated and converted by the tool's model when it has one (nested
        models become instances, as the function's annotations ask); raises pydantic's
        ``ValidationError``."""
        if self.model is None:
            return dict(arguments)
        validated = self.model.model_validate(dict(arguments))
        return {name: getattr(validated, name) for name in type(validated).model_fields}


def as_tool(tool: Tool | type[BaseModel] | Callable[..., Any]) -> Tool:
    """A ``Tool`` from a ``Tool``, a pydantic model class or a function (built once per class
    or function: deriving a schema costs milliseconds, a request should not pay it again)."""
    if isinstance(tool, Tool):
        return tool
    if callable(tool):
        try:
            return _derived(tool)
        except TypeError:  # an unhashable callable: derived each time
            return _derive(tool)
    raise ToolDefinitionError(
        f"a tool must be a function, a pydantic model class or a modelwire.Tool; got {tool!r}"
    )


def _derive(tool: Any) -> Tool:
    if isinstance(tool, type) and issubclass(tool, BaseModel):
        return Tool.from_model(tool)
    return Tool.from_function(tool)


_derived = functools.lru_cache(maxsize=1024)(_derive)


def as_tools(tools: Iterable[Tool | type[BaseModel] | Callable[..., Any]]) -> tuple[Tool, ...]:
    """``as_tool`` of each; a name given twice is an error."""
    out = tuple(as_tool(t) for t in tools)
    seen: set[str] = set()
    for tool in out:
        if tool.name in seen:
            raise ToolDefinitionError(f"two tools are named {tool.name!r}; tool names must differ")
        seen.add(tool.name)
    return out


def _type_hints(
    function: Callable[..., Any], signature: inspect.Signature, label: str
) -> dict[str, Any]:
    """The parameters' resolved type hints; a hint that cannot be resolved (a string naming a
    class the function's module does not define) names its parameter."""
    try:
        return typing.get_type_hints(function)
    except Exception:
        pass
    module_globals = getattr(inspect.unwrap(function), "__globals__", {})
    hints: dict[str, Any] = {}
    for pname, param in signature.parameters.items():
        annotation = param.annotation
        if annotation is param.empty:
            continue
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, module_globals)
            except Exception as exc:
                raise ToolDefinitionError(
                    f"tool {label}: parameter {pname!r}: cannot resolve its type hint "
                    f"{param.annotation!r} ({type(exc).__name__}: {exc})"
                ) from None
        hints[pname] = annotation
    return hints


def _summary(doc: str) -> str:
    """The docstring's first paragraph, on one line."""
    first = doc.strip().split("\n\n", 1)[0]
    return " ".join(first.split())


_SECTION = re.compile(r"^(Args|Arguments|Parameters):\s*$", re.MULTILINE)
_ARG_LINE = re.compile(r"^\s{2,}(\w+)(?:\s*\([^)]*\))?\s*:\s*(.+)$")


def _argument_docs(doc: str) -> dict[str, str]:
    """Google-style ``Args:`` entries of a docstring: parameter → description."""
    match = _SECTION.search(doc)
    if match is None:
        return {}
    out: dict[str, str] = {}
    for line in doc[match.end() :].splitlines()[1:]:
        if line and not line.startswith(" "):
            break
        entry = _ARG_LINE.match(line)
        if entry:
            out[entry.group(1)] = entry.group(2).strip()
    return out


def _title(label: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", label) if part)


def _first_bad_parameter(fields: Mapping[str, tuple[Any, Any]]) -> str | None:
    for pname, (annotation, _) in fields.items():
        try:
            TypeAdapter(annotation).json_schema()
        except Exception:
            return pname
    return None
