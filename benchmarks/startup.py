"""Start-up with every bundled dialect: ``create_app()`` in a fresh interpreter, and the
time from spawning ``python -m mockserver serve`` to its first 200.

    python -m benchmarks.startup [--times 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

from benchmarks.servers import mock_cmd, serve
from mockserver.testing import free_port

__all__ = ["measure_startup"]

_PROBE = """
import json, time
t0 = time.perf_counter()
from mockserver.app import create_app
t1 = time.perf_counter()
create_app()
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "create_app_s": t2 - t1}))
"""


def measure_startup(times: int = 5) -> dict[str, float]:
    """Medians over ``times`` fresh processes, each pinned to the server CPU."""
    imports, builds, processes, serves = [], [], [], []
    for _ in range(times):
        started = time.perf_counter()
        done = subprocess.run(["taskset", "-c", "1", sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
        processes.append(time.perf_counter() - started)
        figures = json.loads(done.stdout)
        imports.append(figures["import_s"])
        builds.append(figures["create_app_s"])
        port = free_port()
        with serve(mock_cmd(port), "/_mock/health", port=port) as served:
            serves.append(served.ready_s)
    return {
        "import_s": statistics.median(imports),
        "create_app_s": statistics.median(builds),
        "python_import_create_app_exit_s": statistics.median(processes),
        "serve_to_first_200_s": statistics.median(serves),
        "serve_to_first_200_max_s": max(serves),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=5)
    args = parser.parse_args(argv)
    for key, value in measure_startup(args.times).items():
        print(f"{key:34} {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
