"""The benchmark's figures: ratios against their targets, the terminal table and RESULTS.md.

Only ratios are judged (``--check`` compares them with generous floors), never
absolute times: the machine's speed cancels out of a ratio measured side by side.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.servers import PRISM_DIR
from benchmarks.throughput import CONNECTIONS, PACED_DELAY_MS, Series

__all__ = ["CHECK_FLOORS", "Report", "Verdict", "machine"]

# Floors for --check: well below the targets, so only a real regression trips them on a noisy machine.
CHECK_FLOORS = {"poll / bare": 0.45, "create / bare": 0.28}  # measured 0.75 and 0.45 on a quiet machine


@dataclass(frozen=True, slots=True)
class Verdict:
    name: str
    value: float
    target: str  # e.g. ">= 0.60"
    met: bool
    note: str = ""


def _ratio(series: dict[str, Series], ours: str, reference: str) -> tuple[float, float, float] | None:
    """(median, lowest and highest of the per-round ratios), or None when a series is absent.

    Each round's two runs are seconds apart, so a ratio within a round cancels the slow
    drifts of a shared machine's speed; the median over rounds drops the rounds a burst hit.
    """
    if ours not in series or reference not in series:
        return None
    a, b = series[ours], series[reference]
    per_round = [x.rps / y.rps for x, y in zip(a.runs, b.runs, strict=False) if y.rps]
    return (statistics.median(per_round), min(per_round), max(per_round)) if per_round else None


def _cpu_ratio(series: dict[str, Series], ours: str, reference: str) -> tuple[float, float, float] | None:
    """Like :func:`_ratio`, from server CPU time per request (reference / ours: higher is better)."""
    if ours not in series or reference not in series or not series[ours].cpu_us or not series[reference].cpu_us:
        return None
    a, b = series[ours], series[reference]
    per_round = [y / x for x, y in zip(a.cpu_us, b.cpu_us, strict=False) if x]
    return (statistics.median(per_round), min(per_round), max(per_round)) if per_round else None


def _at_least(name: str, value: float, floor: float, note: str = "") -> Verdict:
    return Verdict(name, value, f">= {floor:g}", value >= floor, note)


def _at_most(name: str, value: float, ceiling: float, note: str = "") -> Verdict:
    return Verdict(name, value, f"<= {ceiling:g}", value <= ceiling, note)


@dataclass
class Report:
    """Everything one run measured."""

    command: str
    rounds: int
    seconds: int
    series: dict[str, Series] = field(default_factory=dict)
    memory: dict[str, Any] | None = None
    startup: dict[str, float] | None = None
    concurrency: list[str] | None = None
    concurrency_ok: bool | None = None

    def ratios(self) -> dict[str, tuple[float, float, float]]:
        pairs = {
            "poll / bare": ("mock poll", "bare"),
            "create / bare": ("mock create", "bare"),
            "poll / Prism poll": ("mock poll", "prism poll"),
            "create / Prism create": ("mock create", "prism create"),
            "redis 2 workers / 1 worker": ("redis poll, 2 workers", "redis poll, 1 worker"),
            "redis 1 worker / memory": ("redis poll, 1 worker", "mock poll"),
        }
        out = {name: r for name, (a, b) in pairs.items() if (r := _ratio(self.series, a, b)) is not None}
        for name in ("poll / bare", "create / bare", "poll / Prism poll", "create / Prism create"):
            a, b = pairs[name]
            if (r := _cpu_ratio(self.series, a, b)) is not None:
                out[f"{name}, by CPU/request"] = r
        return out

    def verdicts(self) -> list[Verdict]:
        ratios = self.ratios()
        out = []
        if "poll / bare" in ratios:
            out.append(_at_least("poll / bare req/s", ratios["poll / bare"][0], 0.60))
        if "create / bare" in ratios:
            out.append(_at_least("create / bare req/s", ratios["create / bare"][0], 0.40))
        if "mock poll, paced" in self.series:
            p99 = self.series["mock poll, paced"].median(lambda r: r.p99_ms)
            floor = self.series["bare, paced"].median(lambda r: r.p99_ms) if "bare, paced" in self.series else float("nan")
            out.append(_at_most("poll p99 ms, 32 connections, paced", p99, 5.0, f"~1,000 req/s; bare: {floor:.2f}"))
        if "mock poll" in self.series:
            p99 = self.series["mock poll"].median(lambda r: r.p99_ms)
            out.append(_at_most("poll p99 ms, 32 connections, saturated", p99, 5.0, "restates req/s"))
        if "poll / Prism poll" in ratios:
            out.append(_at_least("poll / Prism poll req/s", ratios["poll / Prism poll"][0], 3.0))
        if "create / Prism create" in ratios:
            out.append(_at_least("create / Prism create req/s", ratios["create / Prism create"][0], 3.0))
        if self.memory:
            out.append(
                _at_most(
                    "bytes per stored operation", self.memory["bytes_per_operation"], 1024, f"{self.memory['operations']:,} operations"
                )
            )
        if self.startup:
            out.append(_at_most("create_app() s, all dialects", self.startup["create_app_s"], 1.0))
            out.append(_at_most("serve: spawn to first 200, s", self.startup["serve_to_first_200_s"], 1.0))
        if self.concurrency_ok is not None:
            out.append(
                Verdict(
                    "10,000 operations, 2 workers on Redis: lost or duplicated",
                    0 if self.concurrency_ok else 1,
                    "== 0",
                    self.concurrency_ok,
                )
            )
        return out

    def regressions(self) -> dict[str, float]:
        """Ratios below their --check floors."""
        ratios = self.ratios()
        return {name: ratios[name][0] for name, floor in CHECK_FLOORS.items() if name in ratios and ratios[name][0] < floor}

    # -- rendering ------------------------------------------------------------

    def table(self) -> list[str]:
        lines = [
            f"| {'series':28} | {'req/s':>8} | {'min-max':>15} | {'p50 ms':>6} | {'p99 ms':>6} | {'CPU us/req':>10} | {'failures':>8} |",
            f"|{'-' * 30}|{'-' * 9}:|{'-' * 16}:|{'-' * 7}:|{'-' * 7}:|{'-' * 11}:|{'-' * 9}:|",
        ]
        for name, s in self.series.items():
            if not s.runs:
                continue
            spread = f"{min(r.rps for r in s.runs):,.0f}-{max(r.rps for r in s.runs):,.0f}"
            p50, p99 = s.median(lambda r: r.p50_ms), s.median(lambda r: r.p99_ms)
            cpu = s.cpu_us_per_request
            lines.append(f"| {name:28} | {s.rps:8,.0f} | {spread:>15} | {p50:6.2f} | {p99:6.2f} | {cpu:10.1f} | {s.failures:8d} |")
        return lines

    def ratio_lines(self) -> list[str]:
        lines = [f"| {'ratio (median of rounds)':40} | {'value':>6} | {'per round':>11} |", f"|{'-' * 42}|{'-' * 7}:|{'-' * 12}:|"]
        for name, (value, low, high) in self.ratios().items():
            lines.append(f"| {name:40} | {value:6.2f} | {low:5.2f}-{high:<5.2f} |")
        return lines

    def verdict_lines(self) -> list[str]:
        lines = [f"| {'target':66} | {'measured':>9} | {'target':>8} | met |", f"|{'-' * 68}|{'-' * 10}:|{'-' * 9}:|:---:|"]
        for v in self.verdicts():
            note = f" ({v.note})" if v.note else ""
            lines.append(f"| {(v.name + note):66} | {v.value:9.3g} | {v.target:>8} | {'yes' if v.met else 'NO'} |")
        return lines

    def terminal(self) -> str:
        out = ["", *self.table(), "", *self.ratio_lines(), "", *self.verdict_lines()]
        if self.memory:
            out += ["", "memory: " + ", ".join(f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v:,}" for k, v in self.memory.items())]
        if self.startup:
            out += ["startup: " + ", ".join(f"{k} {v:.3f}" for k, v in self.startup.items())]
        if self.concurrency:
            out += ["", "concurrency (2 workers, Redis):", *(f"  {line}" for line in self.concurrency)]
        return "\n".join(out)

    def markdown(self) -> str:
        out = [
            "# Benchmark results",
            "",
            "Written by `python -m benchmarks` (`make bench`); rerun it to refresh this file. Only the",
            "ratios mean anything beyond this machine: every pair was measured side by side in one",
            f"run, {self.rounds} rounds of {self.seconds} s, interleaved; figures are medians over rounds, and a",
            "ratio is the median of the per-round ratios (the two runs of a round are seconds apart).",
            "",
            f"Command: `{self.command}`",
            "",
            "## Machine",
            "",
            *(f"- {line}" for line in machine()),
            "",
            "## Targets",
            "",
            *self.verdict_lines(),
            "",
            "## Ratios",
            "",
            *self.ratio_lines(),
            "",
            "## Series",
            "",
            f"wrk, one thread on CPU 0, {CONNECTIONS} connections; each server alone on CPU 1 (the Redis runs",
            "put redis-server on CPU 0 beside wrk, and give two workers CPUs 0-1). The bare endpoint is",
            "polled with the very script that polls the mock (it answers any path), so both pay the",
            f"same client cost. *paced*: every connection waits {PACED_DELAY_MS:g} ms on average (exponential gaps, wrk's",
            "`delay()`) between requests, about 1,000 req/s in all: the latency of a request the server is",
            "not queueing behind others; the bare endpoint's paced p99 is this machine's floor. The",
            "saturated p99 restates throughput (Little's law: mean latency = connections / req/s).",
            "*CPU us/req*: the server's CPU time (all its processes) over the requests wrk counted; other",
            "processes on the machine cannot inflate it the way they inflate wall-clock figures.",
            "",
            *self.table(),
        ]
        if self.memory:
            out += ["", "## Memory store", ""]
            out += [f"- {k}: {v:,.1f}" if isinstance(v, float) else f"- {k}: {v:,}" for k, v in self.memory.items()]
        if self.startup:
            out += ["", "## Start-up (all bundled dialects; medians of 5 fresh processes)", ""]
            out += [f"- {k}: {v:.3f} s" for k, v in self.startup.items()]
        if self.concurrency:
            out += ["", "## Correctness under load: `python -m benchmarks concurrency`", "", "```", *self.concurrency, "```"]
        return "\n".join(out) + "\n"


def _version(cmd: list[str], pattern: str) -> str:
    if shutil.which(cmd[0]) is None and not Path(cmd[0]).exists():
        return "absent"
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    m = re.search(pattern, done.stdout + done.stderr)
    return m.group(1) if m else "unknown"


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def machine() -> list[str]:
    """What the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8") if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), platform.processor())
    prism = PRISM_DIR / "node_modules" / ".bin" / "prism"
    wrk = _version(["wrk", "-v"], r"wrk (\S+)")
    redis = _version(["redis-server", "--version"], r"v=(\S+)")
    prism_version = _version([str(prism), "--version"], r"(\d+\.\d+\.\d+)")
    node = _version(["node", "--version"], r"v(\S+)")
    return [
        f"{os.cpu_count()} CPUs: {model}; {platform.system()} {platform.release()}",
        f"Python {sys.version.split()[0]}; uvicorn {_package('uvicorn')} (uvloop {_package('uvloop')}, "
        f"httptools {_package('httptools')}); starlette {_package('starlette')}; orjson {_package('orjson')}",
        f"wrk {wrk}; redis-server {redis}; Prism {prism_version} on Node {node}",
        f"measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
    ]
