"""The pytest plugin, run in a separate pytest exactly as a user's suite would load it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver.clock import VirtualClock
from mockserver.testing import LiveMockServer

ROOT = Path(__file__).resolve().parents[2]

USER_SUITE = """
import pytest
import conformance

pytestmark = pytest.mark.conformance(max_creates=1, rate_limit=0, poll_interval=0.05, timeout=30, fuzz_examples=2)


def test_the_vendor_conforms(conformance_report):
    conformance.assert_conforms(conformance_report)
    assert conformance_report.creates_spent == 1


def test_the_report_is_shared(conformance_report):
    assert conformance_report.spec == "xiexus"


def test_check_has_the_options_filled_in(conformance_check, request):
    if not request.config.getoption("--conformance-base-url"):
        pytest.skip("no endpoint configured")
    report = conformance_check(max_creates=0)
    assert report.creates_spent == 0 and report.conforms
"""


def run_pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_vendor.py").write_text(USER_SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --strict-markers\nfilterwarnings = error\n")
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pytest", "-p", "conformance.pytest_plugin", "-q", "-p", "no:cacheprovider", str(tmp_path), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300, check=False)


def test_without_options_the_fixtures_skip_with_a_hint(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, "-rs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 skipped" in done.stdout and "--conformance-spec" in done.stdout


PACING = """
def test_the_pacing_options_reach_the_kit(conformance_check):
    assert conformance_check.keywords["poll_interval"] == 0.25
    assert conformance_check.keywords["rate_limit"] == 0.5
    assert conformance_check.keywords["webhook_listen"] == "127.0.0.1:8799"
"""


def test_the_pacing_options_are_the_clis(tmp_path: Path) -> None:
    (tmp_path / "test_pacing.py").write_text(PACING)
    done = run_pytest(
        tmp_path,
        "-k",
        "pacing",
        "--conformance-poll-interval",
        "0.25",
        "--conformance-rate-limit",
        "0.5",
        "--conformance-webhook-listen",
        "127.0.0.1:8799",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    wrong = run_pytest(tmp_path, "--conformance-poll-interval", "soon")
    assert wrong.returncode == 4 and "--conformance-poll-interval" in wrong.stderr and "invalid float value" in wrong.stderr


@pytest.mark.slow
def test_command_line_options_run_the_kit_once(tmp_path: Path) -> None:
    with LiveMockServer(clock=VirtualClock(), time_scale=0.02, seed=4) as server:
        done = run_pytest(
            tmp_path, "--conformance-spec", "xiexus", "--conformance-base-url", server.url("xiexus"), "--conformance-api-key", "k1"
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
