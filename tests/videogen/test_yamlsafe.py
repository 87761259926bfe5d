"""Hostile YAML: every document someone else wrote is read bounded, and refused with a message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mockserver.cli import main as mock_main
from videogen import yamlsafe
from videogen.yamlsafe import MAX_DEPTH, UnsafeYamlError, load_yaml, load_yaml_file

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(9)
)  # ten levels of ten: 10^10 nodes once expanded, 100 in the file

HOSTILE = {
    "alias bomb": (LAUGHS.encode(), "alias bomb"),
    "deep nesting": (("[" * (MAX_DEPTH + 10) + "]" * (MAX_DEPTH + 10)).encode(), f"nested deeper than {MAX_DEPTH}"),
    "a 5,000-digit integer": (b"seed: " + b"9" * 5000 + b"\n", "cannot build the document"),
    "binary": (b"faults: !!binary aGVsbG8=\n", "holds a bytes"),
    "an unquoted date": (b"version: 2024-11-06\n", "quote it to keep it a string"),
    "not UTF-8": (b"faults: []\nname: caf\xe9\n", "not UTF-8 (byte 0xe9 on line 2)"),
    "malformed": (b"faults: [\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_each_hostile_document_is_refused_with_a_message(case: str, tmp_path: Path) -> None:
    data, message = HOSTILE[case]
    path = tmp_path / "hostile.yaml"
    path.write_bytes(data)
    with pytest.raises(UnsafeYamlError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_yaml_file(path)


def test_an_alias_that_contains_itself_is_refused() -> None:
    # libyaml composes a self-referencing alias into a node that contains itself
    with pytest.raises(UnsafeYamlError, match="contains it"):
        load_yaml("a: &a [1, *a]\n", "loop.yaml")


def test_aliases_within_the_bound_still_work() -> None:
    assert load_yaml("base: &b {x: 1}\nuse: [*b, *b]\n") == {"base": {"x": 1}, "use": [{"x": 1}, {"x": 1}]}


def test_the_fast_loader_is_used() -> None:
    assert yamlsafe._LOADER is yaml.CSafeLoader, "libyaml reads a 5 MB profile in well under a second; the pure-Python loader does not"


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_fault_profile_is_exit_2(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "profile.yaml"
    path.write_bytes(HOSTILE[case][0])
    assert mock_main(["serve", "--faults", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err


def test_a_hostile_dialect_is_a_broken_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bomb.yaml").write_text("openapi: 3.1.0\n" + LAUGHS.replace("a:", "x-a:", 1), encoding="utf-8")
    assert mock_main(["check", "--specs", str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert "alias bomb" in out.out + out.err and "Traceback" not in out.out + out.err
