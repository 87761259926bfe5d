"""JUnit XML: one test suite per category, one test case per check per target."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.catalog import CATEGORIES, CHECKS, category_of
from conformance.failures import Status
from conformance.report import Report

__all__ = ["junit_xml", "write_junit"]


def junit_xml(report: Report) -> ET.Element:
    root = ET.Element("testsuites", name=f"conformance {report.spec}", time=f"{report.duration_s:.3f}")
    if report.stopped:  # the run itself did not finish: CI must see it even when no check failed
        suite = ET.SubElement(root, "testsuite", name=f"{report.spec}.run", tests="1", failures="1", skipped="0", errors="0")
        node = ET.SubElement(suite, "testcase", classname=f"conformance.{report.spec}.run", name="the run finished")
        ET.SubElement(node, "failure", message=report.stopped, type="high").text = report.stopped
    for category in CATEGORIES:
        cases = [c for c in report.cases if category_of(c.check) == category]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"{report.spec}.{category}",
            tests=str(len(cases)),
            failures=str(sum(c.status is Status.FAILED for c in cases)),
            skipped=str(sum(c.status is Status.SKIPPED for c in cases)),
            errors="0",
        )
        for case in cases:
            node = ET.SubElement(suite, "testcase", classname=f"conformance.{report.spec}.{category}", name=f"{case.check} [{case.target}]")
            if case.status is Status.SKIPPED:
                ET.SubElement(node, "skipped", message=case.note or "not applicable")
            for failure in case.failures:
                text = "\n".join(
                    [
                        f"check: {failure.check} ({CHECKS[failure.check].title})",
                        f"severity: {failure.severity.value}",
                        f"expected: {failure.expected}",
                        f"got: {failure.got}",
                        f"request: {failure.request}",
                        f"reproduce: {failure.curl}",
                        f"occurrences: {failure.occurrences}",
                    ]
                )
                child = ET.SubElement(node, "failure", message=failure.title, type=failure.severity.value)
                child.text = text
    return root


def write_junit(report: Report, path: Path) -> None:
    tree = ET.ElementTree(junit_xml(report))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
