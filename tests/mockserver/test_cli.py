"""``python -m mockserver``, as users run it: real processes, real stores, kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from mockserver.testing import free_port
from videogen.dialect import dialect_paths

pytestmark = pytest.mark.slow

CREATE = "/gemini/v1beta/models/veo-3.0-generate-001:predictLongRunning"
KEY = {"x-goog-api-key": "cli-key"}


@contextmanager
def serve(*args: str, port: int | None = None) -> Iterator[str]:
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so kill -9 reaches uvicorn's worker processes too
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"the server exited with {proc.returncode}: {proc.stdout.read().decode() if proc.stdout else ''}")
            try:
                if httpx.get(f"{base}/_mock/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the server did not answer /_mock/health within 30 s")
            time.sleep(0.05)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # no graceful shutdown: the store must not need one
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()


def create(base: str, prompt: str = "a cat") -> str:
    r = httpx.post(base + CREATE, json={"instances": [{"prompt": prompt}]}, headers=KEY, timeout=10)
    assert r.status_code == 200, r.text
    name: str = r.json()["name"]
    return name


def poll(base: str, name: str) -> httpx.Response:
    return httpx.get(f"{base}/gemini/v1beta/{name}", headers=KEY, timeout=10)


def test_serve_answers_every_dialect_and_its_openapi_document() -> None:
    with serve("--time-scale", "0", "--seed", "1") as base:
        index = httpx.get(base + "/").json()
        bundled = {p.stem for p in dialect_paths()}
        assert set(index["dialects"]) == bundled
        for name in bundled:
            doc = httpx.get(f"{base}/{name}/openapi.json").json()
            assert [s["url"] for s in doc["servers"]] == [f"{base}/{name}"]
        name = create(base)
        done = poll(base, name).json()
        assert done["done"] is True and done["response"]["generateVideoResponse"]["generatedSamples"]


def test_sqlite_keeps_every_answered_create_across_kill_9(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'mock.db'}"
    port = free_port()
    with serve("--store", store, "--seed", "2", port=port) as base:
        names = [create(base, f"clip {i}") for i in range(20)]
        assert httpx.post(f"{base}/_mock/clock/advance", json={"seconds": 3600}).status_code == 200
        before = [poll(base, n).json() for n in names]
    # the process was killed with SIGKILL; start a new one on the same file, with the
    # same seed, so its generator replays the same tokens
    with serve("--store", store, "--seed", "2", port=port) as base:
        after = [poll(base, n).json() for n in names]
        fresh = [create(base, f"new clip {i}") for i in range(20)]
        still = [poll(base, n).json() for n in names]
    assert after == before == still, "a replayed token must never overwrite an answered operation"
    assert not set(fresh) & set(names)
    assert all(body["done"] is True for body in after), "the clock offset survived the restart too"


def test_two_workers_on_redis_share_operations_and_the_clock(redis_url: str) -> None:
    with serve("--store", redis_url, "--workers", "2", "--seed", "4") as base:
        names = [create(base, f"clip {i}") for i in range(40)]
        # every connection is new, so the polls land on both workers
        assert all(poll(base, n).json().get("done") is not True for n in names)
        assert httpx.post(f"{base}/_mock/clock/advance", json={"seconds": 3600}).status_code == 200
        bodies = [poll(base, n).json() for n in names]
        assert all(b["done"] is True and b["name"] == n for b, n in zip(bodies, names, strict=True))
        pids = {httpx.get(f"{base}/_mock/health").json().get("pid") for _ in range(40)}
        assert len(pids) == 2, f"expected answers from two worker processes, saw {pids}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "2"], "needs a shared store"),
        (["--store", "postgres://x"], "expected 'memory'"),
        (["--time-scale", "-1"], "time_scale"),
        (["--specs", "/nonexistent/specs"], "nonexistent"),
    ],
)
def test_bad_options_exit_2_with_a_message(args: list[str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "mockserver", "serve", *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr


def test_check_validates_the_bundled_specs() -> None:
    done = subprocess.run([sys.executable, "-m", "mockserver", "check"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("ok ") == len(dialect_paths())
