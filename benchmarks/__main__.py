"""``python -m benchmarks``: the mock against a bare Starlette endpoint (and Prism), side by side.

    python -m benchmarks [--rounds 10] [--seconds 3] [--prism] [--redis] [--memory N] [--json PATH]
    python -m benchmarks --check          # 3 rounds x 2 s; exit 1 when a ratio is below its floor
    python -m benchmarks concurrency      # 10,000 operations across two workers on Redis, none lost

The mock and the bare endpoint run under uvicorn with the same options, each pinned
to CPU 1, one worker, memory store; wrk runs on CPU 0 (see benchmarks/throughput.py).
A full run also measures memory per stored operation and start-up, and writes
benchmarks/RESULTS.md. ``--check`` is a regression check on ratios only: it never
compares absolute times, and it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks import concurrency
from benchmarks.memory import measure_memory
from benchmarks.report import CHECK_FLOORS, Report
from benchmarks.servers import ROOT, ServerError, exclusive, mock_cmd, redis_server, serve
from benchmarks.startup import measure_startup
from benchmarks.throughput import DEFAULT_DIALECT, measure_main, measure_redis, workload
from benchmarks.wrk import WrkError, ensure_wrk
from mockserver.testing import free_port

RESULTS = ROOT / "benchmarks" / "RESULTS.md"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds per series (default 10)")
    parser.add_argument("--seconds", type=int, default=3, help="length of one wrk run (default 3)")
    parser.add_argument("--prism", action="store_true", help="also measure Prism on the same spec (npm installs it on first use)")
    parser.add_argument("--redis", action="store_true", help="also measure Redis with 1 and 2 workers, and correctness under load")
    parser.add_argument("--memory", type=int, default=1_000_000, help="operations for the bytes-per-operation figure (0: skip)")
    parser.add_argument("--check", action="store_true", help="3 rounds x 2 s, main ratios only; exit 1 below the floors")
    parser.add_argument(
        "--dialect",
        default=DEFAULT_DIALECT,
        help=f"the dialect whose example create and poll are measured (default {DEFAULT_DIALECT}, the recorded reference)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write every figure here")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the Markdown report of a full run (default benchmarks/RESULTS.md)")
    return parser


def _correctness() -> tuple[bool, list[str]]:
    """10,000 operations through two workers on a fresh Redis database (see benchmarks/concurrency.py)."""
    port = free_port()
    with (
        redis_server("0") as redis_url,
        serve(
            mock_cmd(port, "--store", f"{redis_url}/0", "--workers", "2", "--store-durability", "relaxed"),
            "/_mock/health",
            port=port,
            cpus="0,1",
        ) as served,
    ):
        outcome = asyncio.run(concurrency.exercise(served.url, 10_000, 64, workers=2))
    return outcome.ok, outcome.lines()


def run(args: argparse.Namespace, command: str) -> int:
    ensure_wrk()
    if args.check:
        args.rounds, args.seconds, args.memory, args.prism, args.redis = 3, 2, 0, False, False
    report = Report(command, args.rounds, args.seconds)
    try:
        work = workload(args.dialect)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report.series.update(measure_main(args.rounds, args.seconds, prism=args.prism, paced=not args.check, work=work))
    if args.redis:
        report.series.update(measure_redis(args.rounds, args.seconds))
        print("correctness under load: 10,000 operations, 2 workers, Redis", flush=True)
        report.concurrency_ok, report.concurrency = _correctness()
    if not args.check:
        print("start-up", flush=True)
        report.startup = measure_startup()
    if args.memory:
        print(f"memory: {args.memory:,} operations", flush=True)
        report.memory = measure_memory(args.memory)
    print(report.terminal())
    if args.json:
        figures = {
            "command": command,
            "series": {name: s.summary() for name, s in report.series.items()},
            "ratios": {name: value for name, (value, _, _) in report.ratios().items()},
            "memory": report.memory,
            "startup": report.startup,
            "concurrency_ok": report.concurrency_ok,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    if args.check:
        low = report.regressions()
        if low:
            shown = ", ".join(f"{name} {value:.2f} < {CHECK_FLOORS[name]}" for name, value in low.items())
            print(f"REGRESSION: {shown}", file=sys.stderr)
            return 1
        print("check: every ratio is above its floor " + ", ".join(f"({n} >= {f})" for n, f in CHECK_FLOORS.items()))
        return 0
    args.results.write_text(report.markdown(), encoding="utf-8")
    print(f"\nwrote {args.results}")
    return 0 if report.concurrency_ok is not False else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["concurrency"]:
        return concurrency.main(argv[1:])
    args = _parser().parse_args(argv)
    command = shlex.join(["python", "-m", "benchmarks", *argv])
    try:
        with exclusive():
            return run(args, command)
    except (WrkError, ServerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
