"""The servers under test, each a real process pinned to ``SERVER_CPU``.

The mock and the bare reference both run under uvicorn with the same options
(uvicorn's defaults: uvloop and httptools when installed, no access log, log
level warning); Prism runs under Node; a private redis-server backs the Redis runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from mockserver.testing import free_port, redis_answers

__all__ = [
    "PRISM_DIR",
    "ROOT",
    "SERVER_CPU",
    "Served",
    "ServerError",
    "bare_cmd",
    "cpu_seconds",
    "ensure_prism",
    "exclusive",
    "mock_cmd",
    "prism_cmd",
    "redis_server",
    "serve",
]

ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU = "1"
PRISM_DIR = ROOT / "benchmarks" / ".prism"  # npm installs Prism here on first use (git-ignored)
PRISM_PACKAGE = "@stoplight/prism-cli@5"
UVICORN_OPTIONS = ["--host", "127.0.0.1", "--log-level", "warning"]


LOCK_NAME = "videogen-mock-bench.lock"  # in the temporary directory


@contextmanager
def exclusive() -> Iterator[None]:
    """Hold the machine-wide benchmark lock: two runs at once would each measure the other."""
    path = Path(tempfile.gettempdir()) / LOCK_NAME
    with path.open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"another benchmark holds {path}; waiting for it to finish", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class ServerError(RuntimeError):
    """A server under test did not start; the message carries the end of its output."""


@dataclass(frozen=True, slots=True)
class Served:
    url: str
    pid: int
    ready_s: float  # from spawning the process to its first 200


def cpu_seconds(group: int) -> float:
    """CPU time (user + system) used so far by every live process of a process group.

    Divided by the requests served, this is the server's cost per request, which other
    processes on the machine cannot inflate the way they inflate wall-clock throughput.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone since the listing
        if int(fields[2]) == group:  # fields after the name: state, ppid, pgrp, ..., utime (11), stime (12)
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def mock_cmd(port: int, *extra: str) -> list[str]:
    """``python -m mockserver serve``; uvicorn.run there uses no access log and log level warning."""
    return [sys.executable, "-m", "mockserver", "serve", *UVICORN_OPTIONS, "--port", str(port), "--seed", "1", *extra]


def bare_cmd(port: int) -> list[str]:
    """The reference: ``benchmarks.bare:app`` under uvicorn with the mock's options."""
    return [sys.executable, "-m", "uvicorn", "benchmarks.bare:app", *UVICORN_OPTIONS, "--port", str(port), "--no-access-log"]


def prism_cmd(port: int, spec: Path) -> list[str]:
    # -v warn: no line per request, as the mock and the bare endpoint log none either
    return [str(ensure_prism()), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(spec)]


def ensure_prism() -> Path:
    """Prism's CLI, installed with npm into ``benchmarks/.prism`` on first use."""
    binary = PRISM_DIR / "node_modules" / ".bin" / "prism"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise ServerError("npm is missing, so Prism cannot be installed: apt-get install npm, or run without --prism")
    print(f"installing {PRISM_PACKAGE} into {PRISM_DIR} (npm)", flush=True)
    PRISM_DIR.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "install", "--prefix", str(PRISM_DIR), "--no-audit", "--no-fund", "--loglevel", "error", PRISM_PACKAGE]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not binary.exists():
        raise ServerError(f"npm could not install Prism ({done.returncode}): {done.stderr.strip()[-600:]}")
    return binary


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, headers: dict[str, str], timeout_s: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            raise ServerError(f"exited with {process.returncode} before answering {url}:\n{_tail(log)}")
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.005)  # a poll interval: the start-up figure is this precise
    raise ServerError(f"did not answer {url} with 200 within {timeout_s:.0f} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-2000:]


@contextmanager
def serve(
    cmd: list[str],
    ready_path: str,
    *,
    port: int,
    cpus: str | None = SERVER_CPU,
    headers: dict[str, str] | None = None,
    timeout_s: float = 90.0,
) -> Iterator[Served]:
    """Run ``cmd`` pinned to ``cpus`` (None: not pinned) until the block ends; ready when ``ready_path`` answers 200."""
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        log = Path(tmp) / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["taskset", "-c", cpus, *cmd] if cpus else cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
            )
        url = f"http://127.0.0.1:{port}"
        try:
            yield Served(url, process.pid, _wait_ready(url + ready_path, process, log, headers or {}, timeout_s))
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    # start_new_session made the server a group leader: its workers share its group id
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # any worker left behind by its supervisor


@contextmanager
def redis_server(cpus: str) -> Iterator[str]:
    """A private, non-persistent redis-server on a free port; yields ``redis://host:port`` (add ``/db``)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerError("redis-server is missing: apt-get install redis-server (make bench does), or run without --redis")
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        port = free_port()
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp]
        process = subprocess.Popen(
            ["taskset", "-c", cpus, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 20
            while not redis_answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise ServerError(f"redis-server did not answer PING on port {port}")
                time.sleep(0.01)
            yield f"redis://127.0.0.1:{port}"
        finally:
            _stop(process)
