"""pytest plugin (register as a ``pytest11`` entry point): run the kit inside a test suite.

    pytest --conformance-spec tokenops --conformance-base-url https://vendor/tokenops \\
           --conformance-api-key "$KEY"

    def test_vendor_conforms(conformance_report):        # one run per session, shared
        conformance.assert_conforms(conformance_report)

    @pytest.mark.conformance(spec="xiexus", base_url="http://127.0.0.1:8000/xiexus", max_creates=1)
    def test_mock_conforms(conformance_report):          # marker options override the command line
        conformance.assert_conforms(conformance_report)

    def test_custom(conformance_check):                  # conformance.check with the options filled in
        report = conformance_check(timeout=60)

Marker keyword arguments are :class:`conformance.config.RunConfig` fields.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.report import Report

__all__ = ["conformance_check", "conformance_report"]

_OPTIONS = (
    ("spec", str, None, "a bundled dialect name or a path to a dialect YAML"),
    ("base-url", str, None, "the dialect's root URL"),
    ("api-key", str, None, "the API key (default: $CONFORMANCE_API_KEY)"),
    ("other-api-key", str, None, "a second account's key, for isolation checks"),
    ("max-creates", int, None, "most creates the run may start"),
    ("timeout", float, None, "longest wait for one operation, in seconds"),
    ("rate-limit", float, None, "requests per second (0: no limit)"),
    ("poll-interval", float, None, "first wait between polls in seconds; it grows to 30"),
    ("failure-suffix", str, None, "prompt suffix that makes the target fail a job"),
    ("fuzz-examples", int, None, "generated inputs per free operation and mode"),
    ("webhook-listen", str, None, "HOST:PORT for a receiver of the target's webhooks and callbacks"),
    ("webhook-url", str, None, "the receiver's URL as the target reaches it"),
    ("webhook-secret", str, None, "the secret the target signs events with"),
    ("webhook-wait", float, None, "seconds a job's events may take after it ends"),
)
_CACHE = pytest.StashKey[dict[tuple[tuple[str, Any], ...], "Report"]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "videogen conformance kit")
    for name, kind, default, help_ in _OPTIONS:
        group.addoption(f"--conformance-{name}", type=kind, default=default, help=help_)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(**options): options for the conformance fixtures (RunConfig fields)")
    config.stash[_CACHE] = {}


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name, _, _, _ in _OPTIONS:
        value = request.config.getoption(f"--conformance-{name}")
        if value is not None:
            options[name.replace("-", "_")] = value
    if "api_key" not in options and os.environ.get("CONFORMANCE_API_KEY"):
        options["api_key"] = os.environ["CONFORMANCE_API_KEY"]
    marker = request.node.get_closest_marker("conformance")
    if marker is not None:
        options.update(marker.kwargs)
    return options


@pytest.fixture
def conformance_check(request: pytest.FixtureRequest) -> Callable[..., Report]:
    """:func:`conformance.check` with the command-line and marker options filled in."""
    from conformance.api import check  # imported here: loading the plugin stays cheap

    return functools.partial(check, **_options(request))


@pytest.fixture
def conformance_report(request: pytest.FixtureRequest) -> Report:
    """The report for the configured endpoint; runs once per distinct options in a session."""
    options = _options(request)
    missing = [name for name in ("spec", "base_url", "api_key") if not options.get(name)]
    if missing:
        flags = ", ".join(f"--conformance-{m.replace('_', '-')}" for m in missing)
        pytest.skip(f"conformance: pass {flags} (or the conformance marker) to run the kit")
    from conformance.api import check

    cache = request.config.stash[_CACHE]
    key = tuple(sorted((k, repr(v)) for k, v in options.items()))
    if key not in cache:
        cache[key] = check(**options)
    return cache[key]
