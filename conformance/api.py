"""The Python API: ``conformance.check(spec, base_url, api_key, ...) -> Report``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from conformance.clock import Clock
from conformance.config import RunConfig
from conformance.report import Report
from conformance.runner import run
from conformance.session import Observer
from videogen.dialect import Dialect
from videogen.errors import VideogenError

__all__ = ["NonConformance", "assert_conforms", "check"]


def check(
    spec: str | Path | Dialect,
    base_url: str,
    api_key: str,
    *,
    other_api_key: str | None = None,
    max_creates: int = 2,
    timeout: float = 600.0,
    rate_limit: float = 2.0,
    transport: httpx.BaseTransport | None = None,
    clock: Clock | None = None,
    observer: Observer | None = None,
    **options: Any,
) -> Report:
    """Run every check against ``base_url`` and return the report.

    ``transport`` lets tests run in-process (e.g. ``httpx.ASGITransport``-like
    transports); ``clock`` replaces real waiting. Other ``options`` are
    :class:`conformance.config.RunConfig` fields (``poll_interval``,
    ``failure_suffix``, ``fuzz_examples`` ...). Raises
    :class:`videogen.errors.ConfigError` for bad options, before any request.
    """
    config = RunConfig(
        spec=spec,
        base_url=base_url,
        api_key=api_key,
        other_api_key=other_api_key,
        max_creates=max_creates,
        timeout=timeout,
        rate_limit=rate_limit,
        **options,
    )
    return run(config, transport=transport, clock=clock, observer=observer)


class NonConformance(VideogenError, AssertionError):
    """Raised by :func:`assert_conforms`; ``report`` holds every structured failure."""

    def __init__(self, report: Report) -> None:
        super().__init__(report.summary())
        self.report = report


def assert_conforms(report: Report) -> None:
    """Fail a test with the report's failures (each with expected, got and a curl line)."""
    if not report.conforms:
        raise NonConformance(report)
