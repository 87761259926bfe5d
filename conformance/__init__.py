"""The conformance kit: judge any endpoint, real or mock, against its dialect's contract.

    import conformance

    report = conformance.check("tokenops", "http://127.0.0.1:8000/tokenops", api_key="k")
    conformance.assert_conforms(report)      # or: report.conforms, report.failures

It talks HTTP only (never imports the mock), so it judges real vendors exactly
as it judges the mock. See ``python -m conformance run --help``.

Names are imported on first use, so loading the pytest plugin costs nothing
until a test asks for the kit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from videogen.lazy import lazy_exports

if TYPE_CHECKING:
    from conformance.api import NonConformance, assert_conforms, check
    from conformance.catalog import CATEGORIES, CHECKS, CheckInfo
    from conformance.clock import Clock, SystemClock
    from conformance.config import RunConfig
    from conformance.failures import CaseResult, Failure, Severity, Status
    from conformance.junit import write_junit
    from conformance.report import JobSummary, Report
    from conformance.runner import UnreachableError, run

__all__ = [
    "CATEGORIES",
    "CHECKS",
    "CaseResult",
    "CheckInfo",
    "Clock",
    "Failure",
    "JobSummary",
    "NonConformance",
    "Report",
    "RunConfig",
    "Severity",
    "Status",
    "SystemClock",
    "UnreachableError",
    "assert_conforms",
    "check",
    "run",
    "write_junit",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "conformance.api": ("NonConformance", "assert_conforms", "check"),
        "conformance.catalog": ("CATEGORIES", "CHECKS", "CheckInfo"),
        "conformance.clock": ("Clock", "SystemClock"),
        "conformance.config": ("RunConfig",),
        "conformance.failures": ("CaseResult", "Failure", "Severity", "Status"),
        "conformance.junit": ("write_junit",),
        "conformance.report": ("JobSummary", "Report"),
        "conformance.runner": ("UnreachableError", "run"),
    },
    globals(),
)
