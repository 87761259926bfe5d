"""The kit against hostile vendors on real sockets: bounded in memory and time, and always a verdict.

Each run is a child process, as in CI, so its peak memory and its wall time are its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.clock import VirtualClock
from mockserver.testing import LiveMockServer
from tests.conformance.hostile import GIB, HostileProxy

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MEASURED = """
import resource, sys
from conformance.cli import main
code = main(sys.argv[1:])
print(f"MAXRSS_KB {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
sys.exit(code)
"""


@pytest.fixture(scope="module")
def live() -> Iterator[LiveMockServer]:
    with LiveMockServer(clock=VirtualClock(), time_scale=0.01, seed=21) as server:
        yield server


def kit(base_url: str, tmp_path: Path, *options: str) -> tuple[int, str, float, int, dict[str, object]]:
    """(exit code, output, wall seconds, peak RSS in MB, the JSON report) of one run of the kit."""
    tmp_path.mkdir(exist_ok=True)
    report = tmp_path / "report.json"
    argv = ["run", "--spec", "xiexus", "--base-url", f"{base_url}/xiexus", "--api-key", "k1", "--rate-limit", "0", "--poll-interval", "0.2"]
    argv += ["--fuzz-examples", "2", "--json", str(report), "--quiet", *options]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, *argv], capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False, env=_env()
    )
    wall = time.monotonic() - started
    rss = int(next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("MAXRSS_KB"))) // 1024
    data = json.loads(report.read_text()) if report.exists() else {}
    return done.returncode, done.stdout + done.stderr, wall, rss, data


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_a_result_of_two_gib_is_cut_off_and_memory_stays_bounded(live: LiveMockServer, tmp_path: Path) -> None:
    # The same run against the honest mock is the baseline: what the kit's imports and work cost in this
    # interpreter (under coverage in CI, they cost more), so the bound is on what the 2 GiB added.
    honest_code, honest_out, _, baseline, _ = kit(live.base_url, tmp_path / "honest", "--max-creates", "1")
    assert honest_code == 0, honest_out
    with HostileProxy(live.base_url, "huge") as proxy:
        code, out, _, rss, report = kit(proxy.url, tmp_path, "--max-creates", "1")
        streamed = proxy.streamed
    assert code == 1, out
    assert "larger than the kit's cap of 268,435,456 bytes" in out, out
    assert rss - baseline < 64, f"peak RSS {rss} MB with a 2 GiB result, {baseline} MB with the honest mock's"
    assert streamed < GIB, f"the kit read {streamed:,} bytes of 2 GiB"
    assert report["stopped"] is None


@pytest.mark.parametrize(("mode", "honest"), [("drip", 0), ("silent", 3)])
def test_a_target_that_drips_or_goes_silent_gets_a_verdict_within_the_deadlines(
    live: LiveMockServer, tmp_path: Path, mode: str, honest: int
) -> None:
    with HostileProxy(live.base_url, mode, honest=honest) as proxy:
        code, out, wall, _, report = kit(proxy.url, tmp_path, "--request-timeout", "2", "--budget", "60")
    assert code == 1, out
    assert "the target stopped answering: 3 requests in a row got no answer" in out, out
    assert "no complete answer within 2 s" in out
    assert report["conforms"] is False and "stopped answering" in str(report["stopped"])
    assert wall < 30, f"{mode}: {wall:.0f} s"


def test_retry_after_on_every_answer_ends_at_the_budget(live: LiveMockServer, tmp_path: Path) -> None:
    with HostileProxy(live.base_url, "retry_after", honest=2) as proxy:
        code, out, wall, _, report = kit(proxy.url, tmp_path, "--budget", "15")
    assert code == 1, out
    assert "the run's budget of 15 s ran out" in str(report["stopped"]), out
    assert wall < 15 + 3 * 4 + 15, f"{wall:.0f} s"  # the budget, one request's courteous retries, start-up
