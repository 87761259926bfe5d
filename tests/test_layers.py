"""The import rules of ARCHITECTURE.md, checked on the source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from videogen.dialect import dialect_paths

ROOT = Path(__file__).resolve().parent.parent
OURS = ("videogen", "mockserver", "conformance")
LOWER_MOCK = ("clock", "record", "lifecycle", "store", "media", "h264", "ranges")
HTTP = ("starlette", "uvicorn", "httpx", "mockserver.app", "mockserver.dialect_app", "mockserver.control")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules("videogen"), ids=str)
def test_videogen_imports_nothing_of_ours(path: Path) -> None:
    bad = {m for m in imports_of(path) if m.split(".")[0] in ("mockserver", "conformance")}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", modules("conformance"), ids=str)
def test_conformance_never_imports_the_server(path: Path) -> None:
    bad = {m for m in imports_of(path) if m.split(".")[0] == "mockserver"}
    assert not bad, f"{path.name} imports {bad}: the kit must talk HTTP only"


@pytest.mark.parametrize("path", [p for p in modules("mockserver") if p.stem in LOWER_MOCK or p.parent.name == "store"], ids=str)
def test_lower_mock_layers_import_no_http(path: Path) -> None:
    bad = {m for m in imports_of(path) if m.startswith(HTTP)}
    assert not bad, f"{path.name} imports {bad}"


# Every bundled dialect's name, and the vendors the names stand for.
VENDORS = re.compile(r"\b(" + "|".join(re.escape(p.stem) for p in dialect_paths()) + r")\b", re.IGNORECASE)


@pytest.mark.parametrize("path", [p for pkg in OURS for p in modules(pkg)], ids=str)
def test_no_python_names_a_vendor(path: Path) -> None:
    """A vendor is data: no code of ours names one, in a string, a name or a comparison
    (docstrings and comments may, as examples)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    prose = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            assert not VENDORS.search(node.value), f"{path.name}:{node.lineno} names a vendor: {node.value[:80]!r}"
        elif isinstance(node, ast.Name | ast.Attribute | ast.FunctionDef | ast.ClassDef):
            name = getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "name", "")
            assert not VENDORS.search(name.replace("_", " ")), f"{path.name}:{node.lineno} names a vendor: {name}"


@pytest.mark.parametrize("path", [p for pkg in OURS for p in modules(pkg)], ids=str)
def test_no_package_imports_the_benchmarks(path: Path) -> None:
    bad = {m for m in imports_of(path) if m.split(".")[0] == "benchmarks"}
    assert not bad, f"{path.name} imports {bad}: benchmarks/ sits above everything and is not installed"


@pytest.mark.parametrize("path", modules("benchmarks"), ids=str)
def test_benchmarks_import_the_model_and_the_mock_only(path: Path) -> None:
    bad = {m for m in imports_of(path) if m.split(".")[0] == "conformance"}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", [p for pkg in ("mockserver", "conformance") for p in modules(pkg)], ids=str)
def test_only_videogen_reads_the_x_videogen_format(path: Path) -> None:
    """The mock and the kit read dialects through videogen's model, never the raw extension blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    prose = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            assert "x-videogen" not in node.value, f"{path.name}:{node.lineno} reads the x-videogen format itself"
