"""``python -m benchmarks.inspector``: what the live inspector costs, measured side by side.

Each mock holds ``--operations`` operations (100,000 by default, created over HTTP).
Two figures:

* time to first row: from asking Chromium (headless, Debian's, driven by Selenium
  through Debian's chromedriver) for ``/_mock/ui`` to the first row of the list on
  screen, the median of several loads;
* the poll / bare and create / bare ratios (wrk against the mock and a bare Starlette
  endpoint, as ``python -m benchmarks`` measures them) in three series interleaved
  round by round: exchanges kept (the default) with the page closed, kept with the
  page open and refreshing every second, and a second mock run with ``--no-exchanges``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from benchmarks.servers import bare_cmd, mock_cmd, serve
from benchmarks.throughput import CONNECTIONS, DEFAULT_DIALECT, SEEDED, seed_operations, workload
from benchmarks.wrk import Lua, ensure_wrk, run_wrk
from mockserver.testing import free_port

__all__ = ["main"]


async def _fill(base: str, count: int, concurrency: int = 64) -> None:
    work = workload(DEFAULT_DIALECT)
    url = f"{base}{work.mount}{work.create_path}"
    headers = {**work.headers, "content-type": "application/json"}
    left = count

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal left
        while left > 0:
            left -= 1
            r = await client.post(url, content=work.create_body, headers=headers)
            if r.status_code != work.dialect.create.status:
                raise RuntimeError(f"create answered {r.status_code}: {r.text[:200]}")

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))


def _browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver is None:
        raise SystemExit("error: needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(driver), options=options)


def _first_row(chrome: Any, url: str) -> float:
    chrome.get("about:blank")
    started = time.perf_counter()
    chrome.get(url)
    while not chrome.execute_script("return document.querySelector('#operations tbody tr') !== null"):
        if time.perf_counter() - started > 60:
            raise RuntimeError("no row within 60 s")
        time.sleep(0.005)
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inspector", description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=100_000, help="operations in each mock's store (default 100,000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of the three series (default 5)")
    parser.add_argument("--seconds", type=int, default=3, help="length of one wrk run (default 3)")
    args = parser.parse_args(argv)
    ensure_wrk()
    work = workload(DEFAULT_DIALECT)
    series = ("kept, page closed", "kept, page open", "--no-exchanges")
    ratios: dict[tuple[str, str], list[float]] = {(name, kind): [] for name in series for kind in ("poll", "create")}
    with tempfile.TemporaryDirectory(prefix="bench-inspector-") as tmp:
        lua = Lua(Path(tmp))
        ports = free_port(), free_port(), free_port()
        with (
            serve(bare_cmd(ports[0]), "/", port=ports[0]) as bare,
            serve(mock_cmd(ports[1]), "/_mock/health", port=ports[1]) as mock,
            serve(mock_cmd(ports[2], "--no-exchanges"), "/_mock/health", port=ports[2]) as plain,
        ):
            polls: dict[str, Path] = {}
            for server in (mock, plain):
                print(f"filling {server.url} with {args.operations:,} operations", flush=True)
                started = time.perf_counter()
                asyncio.run(_fill(server.url, args.operations))
                print(f"  {time.perf_counter() - started:.1f} s", flush=True)
                polls[server.url] = lua.get_round_robin(f"poll-{len(polls)}", seed_operations(server.url, SEEDED, work), work.headers)
            create = lua.post("create", work.create_body, work.headers)
            chrome = _browser()
            try:
                loads = [_first_row(chrome, f"{mock.url}/_mock/ui") for _ in range(5)]
                print(
                    f"time to first row at {args.operations + SEEDED:,} operations: median {statistics.median(loads) * 1000:.0f} ms "
                    f"(loads: {', '.join(f'{t * 1000:.0f}' for t in loads)} ms)",
                    flush=True,
                )
                for i in range(args.rounds):
                    for name, server in zip(series, (mock, mock, plain), strict=True):
                        chrome.get(f"{mock.url}/_mock/ui" if name == "kept, page open" else "about:blank")
                        time.sleep(1.5)  # the page is open and refreshing (or gone) before the load starts
                        b = run_wrk(bare.url, polls[server.url], args.seconds, CONNECTIONS)
                        p = run_wrk(server.url, polls[server.url], args.seconds, CONNECTIONS)
                        c = run_wrk(f"{server.url}{work.mount}{work.create_path}", create, args.seconds, CONNECTIONS)
                        ratios[name, "poll"].append(p.rps / b.rps)
                        ratios[name, "create"].append(c.rps / b.rps)
                    shown = ", ".join(f"{name} {ratios[name, 'poll'][-1]:.3f}/{ratios[name, 'create'][-1]:.3f}" for name in series)
                    print(f"  round {i + 1}/{args.rounds}, poll/bare and create/bare: {shown}", flush=True)
            finally:
                chrome.quit()
    print(f"median of {args.rounds} rounds, side by side:")
    print(f"  {'series':<20} {'poll / bare':>12} {'create / bare':>14}")
    for name in series:
        poll, made = statistics.median(ratios[name, "poll"]), statistics.median(ratios[name, "create"])
        print(f"  {name:<20} {poll:>12.3f} {made:>14.3f}")
    base = statistics.median(ratios["--no-exchanges", "poll"]), statistics.median(ratios["--no-exchanges", "create"])
    kept = statistics.median(ratios["kept, page open", "poll"]), statistics.median(ratios["kept, page open", "create"])
    print(f"kept and page open against --no-exchanges: poll {kept[0] / base[0]:.3f}, create {kept[1] / base[1]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
