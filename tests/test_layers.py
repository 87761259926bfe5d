"""The import rules of ARCHITECTURE.md, checked on the source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

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


VENDORS = re.compile(r"\b(gemini|tokenops|xiexus|veo-relay|vertex)\b", re.IGNORECASE)


@pytest.mark.parametrize("path", [p for pkg in OURS for p in modules(pkg)], ids=str)
def test_no_vendor_branches_in_python(path: Path) -> None:
    """A vendor's differences live in its YAML: no code compares against a vendor name."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                if isinstance(side, ast.Constant) and isinstance(side.value, str):
                    assert not VENDORS.search(side.value), f"{path.name}:{node.lineno} compares with a vendor name"


@pytest.mark.parametrize("path", [p for pkg in OURS for p in modules(pkg)], ids=str)
def test_no_package_imports_the_benchmarks(path: Path) -> None:
    bad = {m for m in imports_of(path) if m.split(".")[0] == "benchmarks"}
    assert not bad, f"{path.name} imports {bad}: benchmarks/ sits above everything and is not installed"


@pytest.mark.parametrize("path", modules("benchmarks"), ids=str)
def test_benchmarks_import_the_model_and_the_mock_only(path: Path) -> None:
    bad = {m for m in imports_of(path) if m.split(".")[0] == "conformance"}
    assert not bad, f"{path.name} imports {bad}"
