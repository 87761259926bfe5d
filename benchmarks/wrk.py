"""The load generator: Debian's ``wrk``, pinned to its own CPU, driven by small Lua scripts.

Every measured server gets the same client: one wrk thread, the same connections,
the same Lua ``request()`` function (the bare endpoint answers any path, so it is
polled with the very same script as the mock), so client-side cost is identical.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LOAD_CPU", "Lua", "WrkError", "WrkRun", "ensure_wrk", "run_wrk"]

LOAD_CPU = "0"  # wrk's CPU; the server under test gets the other one


class WrkError(RuntimeError):
    """wrk is missing and cannot be installed, or it failed; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class WrkRun:
    """One wrk run: throughput, latency percentiles (ms) and the failures it counted."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


def ensure_wrk() -> str:
    """The path of ``wrk`` and ``taskset``; installs the Debian ``wrk`` package when root can."""
    if shutil.which("taskset") is None:
        raise WrkError("taskset is missing: apt-get install util-linux")
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise WrkError("wrk is missing: install the Debian package as root (apt-get install wrk), then rerun")
    print("installing wrk (Debian package)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise WrkError(f"could not install wrk ({' '.join(cmd)} exited {done.returncode}): {done.stderr.strip()[-400:]}")
    found = shutil.which("wrk")
    if found is None:
        raise WrkError("apt-get installed wrk but it is not on PATH")
    return found


class Lua:
    """Writes the Lua scripts wrk runs, into one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _write(self, name: str, body: str) -> Path:
        path = self.folder / f"{name}.lua"
        path.write_text(body, encoding="utf-8")
        return path

    def get_round_robin(self, name: str, paths: list[str], headers: dict[str, str], delay_ms: float = 0.0) -> Path:
        """GET each of ``paths`` in turn; with ``delay_ms``, each connection waits that long on average between requests."""
        listed = ",\n  ".join(json.dumps(p) for p in paths)
        # exponential gaps (mean delay_ms): connections do not fall into step and arrive in bursts
        pacing = f"function delay()\n  return -math.log(1 - math.random()) * {delay_ms:g}\nend\n" if delay_ms else ""
        return self._write(
            name,
            f"local paths = {{\n  {listed}\n}}\nlocal headers = {_lua_table(headers)}\nlocal i = 0\n"
            f'function request()\n  i = i + 1\n  return wrk.format("GET", paths[(i % #paths) + 1], headers)\nend\n{pacing}',
        )

    def post(self, name: str, body: str, headers: dict[str, str]) -> Path:
        """POST the same JSON body every time."""
        lines = [f"wrk.method = {json.dumps('POST')}", f"wrk.body = {json.dumps(body)}"]
        lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in {"content-type": "application/json", **headers}.items()]
        return self._write(name, "\n".join(lines) + "\n")


def _lua_table(mapping: dict[str, str]) -> str:
    return "{" + ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in mapping.items()) + "}"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if m is None:
        raise WrkError(f"cannot read wrk's latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _search(pattern: str, out: str) -> re.Match[str]:
    m = re.search(pattern, out)
    if m is None:
        raise WrkError(f"wrk's output has no {pattern!r}:\n{out}")
    return m


def parse(out: str) -> WrkRun:
    """Read wrk's ``--latency`` report."""
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return WrkRun(
        rps=float(_search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=_ms(_search(r"\n\s+50%\s+(\S+)", out).group(1)),
        p99_ms=_ms(_search(r"\n\s+99%\s+(\S+)", out).group(1)),
        requests=int(_search(r"(\d+) requests in", out).group(1)),
        non_2xx=int(bad.group(1)) if bad else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> WrkRun:
    """One run of wrk on ``LOAD_CPU``: one thread, ``connections`` connections, ``seconds`` long."""
    cmd = [
        "taskset",
        "-c",
        LOAD_CPU,
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=seconds + 60)
    if done.returncode != 0:
        raise WrkError(f"wrk exited {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")
    return parse(done.stdout)
