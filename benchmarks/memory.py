"""Memory per stored operation in the memory store, over a million operations.

    python -m benchmarks.memory [--operations 1000000]

Runs in a fresh interpreter: one real create through the app gives a realistic
record; then ``operations`` copies of it (each with its own token, time and seed)
go through ``MemoryStore.put``. The figure is the growth of the process's resident
set, after a garbage collection, divided by the number of operations: everything
the store holds (serialised record, key, dict slot) and allocator slack included.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["measure_memory"]


def _rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


async def _measure(operations: int) -> dict[str, Any]:
    import httpx

    from mockserver.app import create_app
    from mockserver.config import MockConfig
    from mockserver.runtime import Runtime
    from mockserver.store import MemoryStore

    app = create_app(config=MockConfig(seed=1))
    runtime: Runtime = app.state.runtime
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        r = await client.post(
            "/gemini/v1beta/models/veo-3.0-generate-001:predictLongRunning",
            json={"instances": [{"prompt": "a lighthouse at dusk, waves rolling in"}], "parameters": {"aspectRatio": "16:9"}},
            headers={"x-goog-api-key": "memory-key"},
        )
        r.raise_for_status()
    template = (await runtime.store.page(limit=1))[0]
    store = MemoryStore()
    # the records to store are made first, so only what the store keeps is counted
    batch = 100_000
    gc.collect()
    before = _rss_bytes()
    started = time.perf_counter()
    for start in range(0, operations, batch):
        records = [
            dataclasses.replace(template, token=f"{i:012x}", created_at=template.created_at + i, inputs={**template.inputs, "seed": i})
            for i in range(start, min(operations, start + batch))
        ]
        for record in records:
            await store.put(record)
        del records
    put_s = time.perf_counter() - started
    gc.collect()
    grown = _rss_bytes() - before
    return {
        "operations": await store.count(),
        "bytes_per_operation": grown / operations,
        "record_json_bytes": len(template.to_json()),
        "record_row_bytes": len(template.to_row()),
        "rss_growth_mb": grown / 2**20,
        "puts_per_s": operations / put_s,
    }


def measure_memory(operations: int) -> dict[str, Any]:
    """Run the measurement in a fresh interpreter; returns its figures."""
    cmd = [sys.executable, "-m", "benchmarks.memory", "--operations", str(operations), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the memory measurement failed ({done.returncode}):\n{done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    figures = asyncio.run(_measure(args.operations))
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:22} {value:,.1f}" if isinstance(value, float) else f"{key:22} {value:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
