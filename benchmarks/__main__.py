"""``python -m benchmarks``: the mock against a bare Starlette endpoint, side by side.

    python -m benchmarks [--rounds 5] [--seconds 5] [--prism] [--redis] [--check]

Every server runs under uvicorn with the same options, pinned to CPU 1; wrk runs pinned
to CPU 0 with 32 connections. Rounds interleave the servers, so the machine's noise
hits all of them alike; the report gives medians and the ratios of medians.

- poll: ``GET /gemini/v1beta/models/.../operations/...`` round-robin over 500 stored
  operations (auth, lookup, state computation, render), against the bare endpoint;
- create: ``POST ...:predictLongRunning`` with full body validation;
- Prism (``--prism``): the same poll against ``prism mock specs/gemini.yaml``;
- Redis (``--redis``): poll throughput with ``--store redis://`` and 1 vs 2 workers;
- memory per stored operation over 1,000,000 operations, and start-up time.

``--check`` runs a short version and exits 1 when a ratio falls below generous bounds:
a regression check on ratios, never on absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from mockserver.testing import free_port

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PRISM_DIR = ROOT / "benchmarks" / ".prism"
SERVER_CPU, LOAD_CPU = "1", "0"
CONNECTIONS = 32
MODEL = "veo-3.0-generate-001"
KEY = "bench-key"
PRISM_POLL = f"/v1beta/models/{MODEL}/operations/abc123"
CREATE_PATH = f"/gemini/v1beta/models/{MODEL}:predictLongRunning"
CREATE_BODY = '{"instances":[{"prompt":"a lighthouse at dusk"}],"parameters":{"aspectRatio":"16:9","durationSeconds":8,"sampleCount":1}}'
# Generous floors for --check: far below the targets, so only a real regression trips them.
CHECK_FLOORS = {"poll/bare": 0.35, "create/bare": 0.20}


@dataclass(frozen=True)
class Wrk:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, script: Path, seconds: float, connections: int = CONNECTIONS) -> Wrk:
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return Wrk(rps, p50, p99, errors)


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise SystemExit(f"server exited early ({process.returncode}): {url}")
        try:
            if httpx.get(url, timeout=1, headers={"x-goog-api-key": KEY}).status_code < 500:
                return time.perf_counter() - started
        except httpx.TransportError:
            time.sleep(0.02)
    raise SystemExit(f"server did not answer {url} within {timeout} s")


@contextmanager
def server(cmd: list[str], ready: str, cpus: str = SERVER_CPU) -> Iterator[float]:
    process = subprocess.Popen(["taskset", "-c", cpus, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield wait_ready(ready, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def lua(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.lua"
    path.write_text(body, encoding="utf-8")
    return path


def scripts(folder: Path, poll_paths: list[str]) -> dict[str, Path]:
    folder.mkdir(exist_ok=True)
    paths = ",\n".join(json.dumps(p) for p in poll_paths)
    pick = f'wrk.format("GET", paths[(i % #paths) + 1], {{["x-goog-api-key"] = "{KEY}"}})'
    return {
        "bare": lua(folder, "bare", f'wrk.headers["x-goog-api-key"] = "{KEY}"\n'),
        "poll": lua(
            folder,
            "poll",
            f"local paths = {{\n{paths}\n}}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return {pick}\nend\n",
        ),
        "create": lua(
            folder,
            "create",
            f'wrk.method = "POST"\nwrk.body = {json.dumps(CREATE_BODY)}\n'
            f'wrk.headers["content-type"] = "application/json"\nwrk.headers["x-goog-api-key"] = "{KEY}"\n',
        ),
    }


def seed_operations(base: str, n: int) -> list[str]:
    with httpx.Client(base_url=base, timeout=10) as client:
        names = []
        for _ in range(n):
            r = client.post(CREATE_PATH, content=CREATE_BODY, headers={"x-goog-api-key": KEY})
            r.raise_for_status()
            names.append(r.json()["name"])
    return [f"/gemini/v1beta/{name}" for name in names]


def mock_cmd(port: int, *extra: str) -> list[str]:
    return [PY, "-m", "mockserver", "serve", "--port", str(port), "--seed", "1", *extra]


def bare_cmd(port: int) -> list[str]:
    return [PY, "-m", "uvicorn", "benchmarks.bare:app", "--port", str(port), "--no-access-log", "--log-level", "warning"]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def measure_main(rounds: int, seconds: float, prism: bool) -> dict[str, object]:
    bare_port, mock_port = free_port(), free_port()
    bare, mock = f"http://127.0.0.1:{bare_port}", f"http://127.0.0.1:{mock_port}"
    results: dict[str, list[Wrk]] = {"bare": [], "poll": [], "create": [], "prism": []}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        stack.enter_context(server(bare_cmd(bare_port), f"{bare}/"))
        stack.enter_context(server(mock_cmd(mock_port), f"{mock}/_mock/health"))
        lua_files = scripts(tmp, seed_operations(mock, 500))
        prism_url = stack.enter_context(prism_server()) if prism else None
        prism_lua = scripts(tmp / "prism", [PRISM_POLL]) if prism_url else {}
        warm = min(2.0, seconds)
        wrk(f"{bare}/", lua_files["bare"], warm)
        wrk(mock, lua_files["poll"], warm)
        for _ in range(rounds):
            results["bare"].append(wrk(f"{bare}/", lua_files["bare"], seconds))
            results["poll"].append(wrk(mock, lua_files["poll"], seconds))
            results["create"].append(wrk(f"{mock}{CREATE_PATH}", lua_files["create"], seconds))
            if prism_url:
                results["prism"].append(wrk(prism_url, prism_lua["poll"], seconds))
    out: dict[str, object] = {name: summarize(runs) for name, runs in results.items() if runs}
    poll_rps = median([r.rps for r in results["poll"]])
    ratios = {"poll/bare": poll_rps / median([r.rps for r in results["bare"]])}
    ratios["create/bare"] = median([r.rps for r in results["create"]]) / median([r.rps for r in results["bare"]])
    if results["prism"]:
        ratios["poll/prism"] = poll_rps / median([r.rps for r in results["prism"]])
    out["ratios"] = ratios
    return out


def summarize(runs: list[Wrk]) -> dict[str, float]:
    return {
        "rps_median": median([r.rps for r in runs]),
        "p50_ms_median": median([r.p50_ms for r in runs]),
        "p99_ms_median": median([r.p99_ms for r in runs]),
        "errors": float(sum(r.errors for r in runs)),
        "rounds": float(len(runs)),
    }


@contextmanager
def prism_server() -> Iterator[str]:
    prism = shutil.which("prism") or str(PRISM_DIR / "node_modules" / ".bin" / "prism")
    if not Path(prism).exists():
        print(f"installing Prism into {PRISM_DIR} (npm)", file=sys.stderr)
        cmd = ["npm", "install", "--prefix", str(PRISM_DIR), "--no-audit", "--no-fund", "--loglevel=error", "@stoplight/prism-cli@5"]
        if shutil.which("npm") is None or subprocess.run(cmd, check=False).returncode != 0:
            raise SystemExit("Prism is needed for --prism: install Node.js and npm, or put prism on PATH")
    port = free_port()
    cmd = [prism, "mock", "-p", str(port), "-h", "127.0.0.1", "--errors", "false", str(ROOT / "specs" / "gemini.yaml")]
    with server(cmd, f"http://127.0.0.1:{port}/v1beta/models/veo-3.0-generate-001/operations/abc123"):
        yield f"http://127.0.0.1:{port}"


def measure_redis(rounds: int, seconds: float) -> dict[str, object]:
    redis_port = free_port()
    folder = tempfile.mkdtemp()
    redis = subprocess.Popen(
        [
            "taskset",
            "-c",
            SERVER_CPU,
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            folder,
        ],
        stdout=subprocess.DEVNULL,
    )
    out: dict[str, object] = {}
    try:
        time.sleep(0.3)
        store = f"redis://127.0.0.1:{redis_port}/0"
        for workers in (1, 2):
            port = free_port()
            cpus = SERVER_CPU if workers == 1 else "0,1"
            with (
                tempfile.TemporaryDirectory() as tmp,
                server(mock_cmd(port, "--store", store, "--workers", str(workers)), f"http://127.0.0.1:{port}/_mock/health", cpus),
            ):
                lua_files = scripts(Path(tmp), seed_operations(f"http://127.0.0.1:{port}", 500))
                runs = [wrk(f"http://127.0.0.1:{port}", lua_files["poll"], seconds) for _ in range(rounds)]
                out[f"redis poll, {workers} worker(s)"] = summarize(runs)
        one = out["redis poll, 1 worker(s)"]["rps_median"]  # type: ignore[index]
        two = out["redis poll, 2 worker(s)"]["rps_median"]  # type: ignore[index]
        out["ratios"] = {"redis 2 workers / 1 worker": two / one}
    finally:
        redis.terminate()
        redis.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
    return out


def measure_memory(n: int) -> dict[str, float]:
    code = f"""
import asyncio, gc, resource, sys
from mockserver.record import OperationRecord
from mockserver.store.memory import MemoryStore

def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

async def main():
    store = MemoryStore()
    inputs = {{"prompt": "a lighthouse at dusk", "aspect_ratio": "16:9", "count": 1, "duration_s": 8.0,
              "resolution": "720p", "fps": 24, "width": 1280, "height": 720, "seed": 577090037}}
    gc.collect(); before = rss_kb()
    for i in range({n}):
        await store.put(OperationRecord(token=f"{{i:012x}}", dialect="gemini", owner="8254c329a92850f6d539dd37",
            model="veo-3.0-generate-001", created_at=1767225600.0 + i, queued_s=1.0, running_s=5.0,
            outcome="succeeded", vars={{}}, inputs=dict(inputs, seed=i)))
    gc.collect(); after = rss_kb()
    print((after - before) * 1024 / {n}, await store.count())

asyncio.run(main())
"""
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    return {"bytes_per_operation": float(out[0]), "operations": float(out[1])}


def measure_startup(times: int = 5) -> dict[str, float]:
    code = "import time; t = time.perf_counter(); from mockserver.app import create_app; create_app(); print(time.perf_counter() - t)"
    app_s = [float(subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout) for _ in range(times)]
    serve_s = []
    for _ in range(times):
        port = free_port()
        with server(mock_cmd(port), f"http://127.0.0.1:{port}/_mock/health") as ready:
            serve_s.append(ready)
    return {"create_app_s_median": median(app_s), "serve_to_first_200_s_median": median(serve_s)}


def machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")
    python = sys.version.split()[0]
    return f"{os.cpu_count()} CPUs ({cpu}); Python {python}; wrk -t1 -c{CONNECTIONS} on CPU {LOAD_CPU}, servers on CPU {SERVER_CPU}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--prism", action="store_true", help="also measure Prism (needs prism on PATH or in /tmp/prism)")
    parser.add_argument("--redis", action="store_true", help="also measure the Redis store with 1 and 2 workers")
    parser.add_argument("--memory", type=int, default=1_000_000, help="operations for the memory-per-operation figure (0: skip)")
    parser.add_argument("--check", action="store_true", help="short run; exit 1 if a ratio is below its floor")
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        print("error: wrk and taskset are needed: apt-get install wrk util-linux (make bench installs wrk)", file=sys.stderr)
        return 2
    if args.check:
        args.rounds, args.seconds, args.memory = 3, 2.0, 0
    print(machine())
    report: dict[str, object] = {"machine": machine(), "rounds": args.rounds, "seconds": args.seconds}
    report.update(measure_main(args.rounds, args.seconds, args.prism))
    if args.redis:
        redis = measure_redis(args.rounds, args.seconds)
        report["ratios"].update(redis.pop("ratios"))  # type: ignore[attr-defined]
        report.update(redis)
    if not args.check:
        report["startup"] = measure_startup()
    if args.memory:
        report["memory"] = measure_memory(args.memory)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    if args.check:
        ratios: dict[str, float] = report["ratios"]  # type: ignore[assignment]
        low = {k: v for k, v in ratios.items() if k in CHECK_FLOORS and v < CHECK_FLOORS[k]}
        if low:
            print(f"REGRESSION: {low} below floors {CHECK_FLOORS}", file=sys.stderr)
            return 1
    return 0


def print_report(report: dict[str, object]) -> None:
    print(f"{'server':32} {'req/s (median)':>15} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, value in report.items():
        if isinstance(value, dict) and "rps_median" in value:
            print(
                f"{name:32} {value['rps_median']:15.0f} {value['p50_ms_median']:8.2f} {value['p99_ms_median']:8.2f} {value['errors']:7.0f}"
            )
    for name, ratio in report["ratios"].items():  # type: ignore[attr-defined]
        print(f"ratio {name:26} {ratio:6.2f}")
    for section in ("startup", "memory"):
        if section in report:
            print(section, json.dumps(report[section]))


if __name__ == "__main__":
    sys.exit(main())
