"""Failures are records; reports, scores, JUnit and JSON render the same records."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import conformance
from conformance.catalog import CHECKS
from conformance.failures import Failure, Ledger, Severity, Status
from conformance.junit import write_junit
from conformance.report import Report


def failure(check: str = "lifecycle.media", target: str = "job#1", title: str = "not an MP4") -> Failure:
    return Failure(check, target, Severity.HIGH, title, "an MP4", "HTML", "GET http://x/f", "curl -sS http://x/f")


def sample_report() -> Report:
    ledger = Ledger()
    ledger.passed("response.schema", "getOperation")
    ledger.failed(failure())
    ledger.failed(failure())  # the same finding twice: counted, not repeated
    ledger.passed("lifecycle.media", "job#1")
    ledger.passed("auth.missing_key", "getOperation")
    ledger.skipped("courtesy.documented", "(all operations)", "no 429 was received")
    return Report("xiexus", "xiexus relay", "http://x/xiexus", tuple(ledger.results()), creates_spent=1, max_creates=2)


def test_a_failure_names_a_known_check() -> None:
    with pytest.raises(ValueError, match="unknown check id"):
        failure(check="lifecycle.vibes")


def test_the_ledger_counts_repeats_and_a_failure_wins_over_passes() -> None:
    report = sample_report()
    media = next(c for c in report.cases if c.check == "lifecycle.media")
    assert media.status is Status.FAILED and media.passes == 1
    assert [f.occurrences for f in media.failures] == [2]
    assert not report.conforms and report.failed_checks == {"lifecycle.media"}


def test_scores_per_category_ignore_skipped_cases() -> None:
    scores = sample_report().scores()
    assert scores == {"response": 100.0, "input": None, "lifecycle": 0.0, "auth": 100.0, "courtesy": None, "webhook": None}
    assert sample_report().score == pytest.approx(66.7)


def test_junit_has_one_case_per_check_and_target(tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    write_junit(sample_report(), path)
    root = ET.parse(path).getroot()
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == [
        "response.schema [getOperation]",
        "lifecycle.media [job#1]",
        "auth.missing_key [getOperation]",
        "courtesy.documented [(all operations)]",
    ]
    failed = root.find(".//testcase[@name='lifecycle.media [job#1]']/failure")
    assert failed is not None and failed.get("type") == "high" and "curl -sS" in (failed.text or "")
    assert root.find(".//testcase[@name='courtesy.documented [(all operations)]']/skipped") is not None


def test_the_json_report_holds_every_record(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    sample_report().write_json(path)
    data = json.loads(path.read_text())
    assert data["conforms"] is False and data["creates"] == {"spent": 1, "max": 2, "unexpected": 0}
    media = next(c for c in data["cases"] if c["check"] == "lifecycle.media")
    assert media["failures"][0]["occurrences"] == 2 and media["failures"][0]["curl"].startswith("curl")
    assert media["title"] == CHECKS["lifecycle.media"].title


def test_the_public_surface_is_sorted_and_importable() -> None:
    assert conformance.__all__ == sorted(conformance.__all__)
    for name in conformance.__all__:
        assert getattr(conformance, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = conformance.nope  # type: ignore[attr-defined]


def test_loading_the_package_and_plugin_imports_no_heavy_dependency() -> None:
    heavy = "('schemathesis', 'openapi_core', 'av', 'httpx')"
    code = f"import sys, conformance.pytest_plugin; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_assert_conforms_raises_with_the_summary() -> None:
    with pytest.raises(conformance.NonConformance, match="not an MP4") as caught:
        conformance.assert_conforms(sample_report())
    assert caught.value.report.failed_checks == {"lifecycle.media"}


def test_the_terminal_shows_what_was_skipped_and_why() -> None:
    from rich.console import Console

    from conformance.terminal import render

    console = Console(record=True, width=200, color_system=None)
    render(sample_report(), console)
    text = console.export_text()
    assert "skipped" in text.splitlines()[1] + text.splitlines()[2]  # a column of the score table
    assert "skipped courtesy.documented (all operations): no 429 was received" in text
