"""Load test: N concurrent creates, then polls until every operation ends, then a
download of every result, against ONE mock process on a real socket.

    python -m benchmarks.loadtest [--operations 10000] [--concurrency 256]

It checks what a load test of a user's pipeline relies on: every create is
answered and unique, every operation reaches an end, every result downloads as
an MP4, and nothing answers 5xx. It exits 1 when any of that fails. It prints
its figures (throughput, latency percentiles); it asserts no time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from mockserver.testing import free_port
from videogen.dialect import Dialect, load_dialects
from videogen.reading import classify, create_request, credentials, data_url_bytes, handle_of, poll_request, required_headers, results_of
from videogen.states import TERMINAL


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"create": [], "poll": [], "download": []})
    problems: list[str] = field(default_factory=list)

    def note(self, phase: str, r: httpx.Response, seconds: float) -> None:
        self.statuses[r.status_code] += 1
        self.latencies[phase].append(seconds)
        if r.status_code >= 500:
            self.problems.append(f"{phase}: {r.status_code} {r.text[:200]}")


@dataclass
class Job:
    dialect: Dialect
    handle: str
    model: str
    state: str = "pending"
    body: Any = None


def auth(dialect: Dialect) -> tuple[dict[str, str], dict[str, str] | None]:
    headers, query = credentials(dialect.create, "load-key")
    return {**required_headers(dialect), **headers}, query or None  # httpx drops a URL query when given params={}


async def timed(client: httpx.AsyncClient, tally: Tally, phase: str, method: str, url: str, **kw: Any) -> httpx.Response:
    started = time.perf_counter()
    r = await client.request(method, url, **kw)
    tally.note(phase, r, time.perf_counter() - started)
    return r


async def create_one(client: httpx.AsyncClient, tally: Tally, dialect: Dialect, i: int) -> Job | None:
    req = create_request(dialect, prompt_suffix=f" #{i}")
    headers, params = auth(dialect)
    r = await timed(client, tally, "create", req.method, f"/{dialect.name}{req.path}", json=req.json, headers=headers, params=params)
    handle = handle_of(dialect.read, r.json()) if r.status_code == dialect.create.status else None
    if handle is None:
        tally.problems.append(f"create #{i} on {dialect.name}: {r.status_code} {r.text[:200]}")
        return None
    return Job(dialect, handle, req.path_params.get("model", ""))


async def poll_one(client: httpx.AsyncClient, tally: Tally, job: Job) -> None:
    req = poll_request(job.dialect.read, job.handle, model=job.model)
    headers, params = auth(job.dialect)
    r = await timed(client, tally, "poll", req.method, f"/{job.dialect.name}{req.path}", json=req.json, headers=headers, params=params)
    if r.status_code != 200:
        tally.problems.append(f"poll {job.handle}: {r.status_code} {r.text[:200]}")
        return
    job.body = r.json()
    job.state = classify(job.dialect.read, job.body) or "unclassified"


async def download_all(client: httpx.AsyncClient, tally: Tally, job: Job) -> int:
    refs = (
        results_of(job.dialect.read, job.body, handle=job.handle, base_url=str(client.base_url).rstrip("/") + f"/{job.dialect.name}") or []
    )
    if not refs:
        tally.problems.append(f"{job.handle} succeeded with no results")
    headers, params = auth(job.dialect)
    ok = 0
    for ref in refs:
        why = ""
        if ref.base64:
            data = base64.b64decode(ref.base64)
        elif ref.url and (inline := data_url_bytes(ref.url)) is not None:
            data = inline
        elif ref.url:
            parts = urlsplit(ref.url)
            r = await timed(
                client, tally, "download", "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers, params=params
            )
            data, why = (r.content, "") if r.status_code == 200 else (b"", f" (GET {ref.url} answered {r.status_code} {r.text[:200]})")
        else:
            data, why = b"", " (neither bytes nor a URL)"
        if data[4:8] == b"ftyp":
            ok += 1
        else:
            tally.problems.append(f"{job.dialect.name} {job.handle}: result {ref.index} is not an MP4{why}")
    return ok


async def gather_bounded(limit: int, coros: list[Any]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def run(coro: Any) -> Any:
        async with gate:
            return await coro

    return await asyncio.gather(*(run(c) for c in coros))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(base: str, operations: int, concurrency: int, *, download: bool = True) -> int:
    dialects = load_dialects()
    tally = Tally()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        created = await gather_bounded(concurrency, [create_one(client, tally, dialects[i % len(dialects)], i) for i in range(operations)])
        create_s = time.perf_counter() - started
        jobs = [j for j in created if j is not None]
        handles = Counter((j.dialect.name, j.handle) for j in jobs)
        duplicates = sum(n - 1 for n in handles.values() if n > 1)

        started = time.perf_counter()
        await gather_bounded(concurrency, [poll_one(client, tally, j) for j in jobs])  # mid-flight
        # Past every bundled lifecycle (the longest plans about 110 s), well short of the shortest
        # result lifetime (openai's hour): a run whose phases take minutes still downloads everything.
        await client.post("/_mock/clock/advance", json={"seconds": 600})
        await gather_bounded(concurrency, [poll_one(client, tally, j) for j in jobs])
        poll_s = time.perf_counter() - started
        ended = sum(1 for j in jobs if j.state in TERMINAL)

        started = time.perf_counter()
        if download:
            downloaded = sum(await gather_bounded(concurrency, [download_all(client, tally, j) for j in jobs if j.state == "succeeded"]))
        else:
            downloaded = 0
        download_s = time.perf_counter() - started
        health = (await client.get("/_mock/health")).json()

    fives = sum(n for status, n in tally.statuses.items() if status >= 500)
    print(f"operations requested {operations}, created {len(jobs)}, unique {len(handles)}, duplicates {duplicates}")
    print(f"ended {ended}/{len(jobs)}; states {dict(Counter(j.state for j in jobs))}; stored {health['operations']}")
    print(f"downloaded MP4s {downloaded}; 5xx {fives}; statuses {dict(sorted(tally.statuses.items()))}")
    for phase, seconds, n in (
        ("create", create_s, len(tally.latencies["create"])),
        ("poll", poll_s, len(tally.latencies["poll"])),
        ("download", download_s, len(tally.latencies["download"])),
    ):
        lat = tally.latencies[phase]
        med = statistics.median(lat) * 1000 if lat else 0.0
        rate = n / seconds if seconds else 0.0
        print(f"{phase:9} {n:6d} requests in {seconds:6.2f} s = {rate:7.0f}/s; p50 {med:.1f} ms, p99 {percentile(lat, 0.99) * 1000:.1f} ms")
    failed = tally.problems or duplicates or ended != len(jobs) or len(jobs) != operations or health["operations"] != operations
    for problem in tally.problems[:20]:
        print("PROBLEM", problem)
    print("RESULT", "FAIL" if failed else "PASS")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadtest", description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--base-url", default=None, help="an already running mock (default: start one here)")
    parser.add_argument("--store", default="memory", help="the started mock's --store")
    parser.add_argument("--workers", type=int, default=1, help="the started mock's --workers")
    parser.add_argument("--no-download", action="store_true", help="create and poll only")
    args = parser.parse_args(argv)
    download = not args.no_download
    if args.base_url:
        return asyncio.run(run(args.base_url.rstrip("/"), args.operations, args.concurrency, download=download))
    port = free_port()
    cmd = [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--seed", "1"]
    cmd += ["--store", args.store, "--workers", str(args.workers)]
    server = subprocess.Popen(cmd, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/_mock/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        print(f"mock: {args.workers} worker(s), store {args.store}; {args.operations} operations, {args.concurrency} in flight")
        return asyncio.run(run(base, args.operations, args.concurrency, download=download))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
