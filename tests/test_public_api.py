"""The public names: the lazy table, the block type checkers read, and where errors live."""

from __future__ import annotations

import ast
import inspect

import modelwire
import modelwire.errors
from tests.support.paths import ROOT


def _type_checking_imports() -> dict[str, str]:
    tree = ast.parse((ROOT / "src" / "modelwire" / "__init__.py").read_text(encoding="utf-8"))
    block = next(
        n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    )
    return {
        alias.name: node.module or ""
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_type_checkers_see_exactly_the_lazy_names() -> None:
    assert _type_checking_imports() == modelwire._LAZY


def test_every_public_name_resolves_to_the_object_of_its_module() -> None:
    for name, module in modelwire._LAZY.items():
        obj = getattr(modelwire, name)
        assert obj is getattr(__import__(module, fromlist=[name]), name)
    assert set(dir(modelwire)) == {*modelwire._LAZY, "__version__"}


def test_every_exception_class_lives_in_errors_and_is_exported() -> None:
    import pkgutil

    src = ROOT / "src"
    for info in pkgutil.walk_packages([str(src / "modelwire")], "modelwire."):
        if info.name.endswith("__main__"):
            continue  # running it would start the CLI
        module = __import__(info.name, fromlist=["_"])
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__.startswith("modelwire"):
                assert obj.__module__ == "modelwire.errors", (
                    f"{obj.__qualname__} in {obj.__module__}"
                )
    for name, obj in inspect.getmembers(modelwire.errors, inspect.isclass):
        if issubclass(obj, BaseException) and obj.__module__ == "modelwire.errors":
            assert modelwire._LAZY.get(name) == "modelwire.errors", f"{name} is not exported"
