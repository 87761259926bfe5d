"""The public surface: every package's and module's ``__all__``, and the one exception tree.

As httpx's ``tests/test_exported_members.py``: what a package exports is exactly what
its ``__all__`` says, sorted; and the tree drawn in ``videogen.errors`` is the tree the
code defines, so a new error cannot be added without being drawn where readers look.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from types import ModuleType

import pytest

from videogen.errors import VideogenError

PACKAGES = ("videogen", "mockserver", "conformance")


def isort_style(names: list[str]) -> list[str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""
    return sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[:1].isupper() else 2, n))


def all_modules() -> list[ModuleType]:
    out = []
    for name in PACKAGES:
        package = importlib.import_module(name)
        out.append(package)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if info.name.endswith("__main__"):
                continue
            out.append(importlib.import_module(info.name))
    return out


MODULES = all_modules()


@pytest.mark.parametrize("name", PACKAGES)
def test_a_package_exports_exactly_its_sorted_all(name: str) -> None:
    package = importlib.import_module(name)
    assert package.__all__ == isort_style(package.__all__)
    for member in package.__all__:
        getattr(package, member)  # resolves (lazily)
    public = {m for m in dir(package) if not m.startswith("_") and not isinstance(getattr(package, m), ModuleType)}
    public -= {"annotations", "TYPE_CHECKING", "lazy_exports"}
    assert public == set(package.__all__)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_module_declares_a_sorted_all_of_names_it_has(module: ModuleType) -> None:
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{module.__name__} has no __all__"
    assert list(exported) == isort_style(list(exported)), f"{module.__name__}.__all__ is not sorted"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{module.__name__}.__all__ names what it does not have: {missing}"


def drawn_tree() -> dict[str, tuple[str, str | None]]:
    """The tree in videogen.errors' docstring: class -> (module, parent)."""
    doc = inspect.getdoc(importlib.import_module("videogen.errors")) or ""
    out: dict[str, tuple[str, str | None]] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        m = re.match(r"^(?P<lead>[\s│├└─]*)(?P<name>[A-Z]\w+)(?:\s+(?P<module>[a-z_.]+))?", line)
        if not m or not (m.group("lead").strip() or m.group("name") == "VideogenError"):
            continue
        depth = len(m.group("lead"))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        out[m.group("name")] = (m.group("module") or "videogen.errors", stack[-1][1] if stack else None)
        stack.append((depth, m.group("name")))
    return out


def defined_tree() -> dict[str, tuple[str, str | None]]:
    out: dict[str, tuple[str, str | None]] = {"VideogenError": ("videogen.errors", None)}
    pending = [VideogenError]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.split(".")[0] in PACKAGES:
                out[sub.__name__] = (sub.__module__, cls.__name__)
                pending.append(sub)
    return out


def test_the_drawn_exception_tree_is_the_defined_one() -> None:
    assert all_modules()  # every module imported, so every subclass exists
    assert drawn_tree() == defined_tree()
