"""``python -m benchmarks.inspector``: what the live inspector costs, measured side by side.

One mock holds ``--operations`` operations (100,000 by default, created over HTTP).
Two figures:

* time to first row: from asking Chromium (headless, Debian's, driven by Selenium
  through Debian's chromedriver) for ``/_mock/ui`` to the first row of the list on
  screen, the median of several loads;
* the poll / bare ratio with the page closed, and with the page open and refreshing
  every second, interleaved round by round (wrk against the mock's poll and a bare
  Starlette endpoint, as ``python -m benchmarks`` measures it).
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
    parser.add_argument("--operations", type=int, default=100_000, help="operations in the mock's store (default 100,000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds, page closed and page open (default 5)")
    parser.add_argument("--seconds", type=int, default=3, help="length of one wrk run (default 3)")
    args = parser.parse_args(argv)
    ensure_wrk()
    work = workload(DEFAULT_DIALECT)
    with tempfile.TemporaryDirectory(prefix="bench-inspector-") as tmp:
        lua = Lua(Path(tmp))
        bare_port, mock_port = free_port(), free_port()
        with serve(bare_cmd(bare_port), "/", port=bare_port) as bare, serve(mock_cmd(mock_port), "/_mock/health", port=mock_port) as mock:
            print(f"filling the mock with {args.operations:,} operations", flush=True)
            started = time.perf_counter()
            asyncio.run(_fill(mock.url, args.operations))
            print(f"  {time.perf_counter() - started:.1f} s", flush=True)
            polls = seed_operations(mock.url, SEEDED, work)
            poll = lua.get_round_robin("poll", polls, work.headers)
            chrome = _browser()
            try:
                loads = [_first_row(chrome, f"{mock.url}/_mock/ui") for _ in range(5)]
                print(
                    f"time to first row at {args.operations + SEEDED:,} operations: median {statistics.median(loads) * 1000:.0f} ms "
                    f"(loads: {', '.join(f'{t * 1000:.0f}' for t in loads)} ms)",
                    flush=True,
                )
                ratios: dict[str, list[float]] = {"closed": [], "open": []}
                for i in range(args.rounds):
                    for state in ("closed", "open"):
                        chrome.get(f"{mock.url}/_mock/ui" if state == "open" else "about:blank")
                        time.sleep(1.5)  # the page is open and refreshing (or gone) before the load starts
                        b = run_wrk(bare.url, poll, args.seconds, CONNECTIONS)
                        m = run_wrk(mock.url, poll, args.seconds, CONNECTIONS)
                        ratios[state].append(m.rps / b.rps)
                    print(
                        f"  round {i + 1}/{args.rounds}: poll/bare page closed {ratios['closed'][-1]:.3f}, open {ratios['open'][-1]:.3f}",
                        flush=True,
                    )
            finally:
                chrome.quit()
    closed, opened = statistics.median(ratios["closed"]), statistics.median(ratios["open"])
    print(
        f"poll / bare, median of {args.rounds} rounds: page closed {closed:.3f}, page open and refreshing {opened:.3f} "
        f"(open/closed {opened / closed:.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
