"""An answered create is never lost, and a store that cannot keep that promise is refused or said so.

Real processes: a redis-server killed with SIGKILL and restarted from its append-only
file; a SQLite file whose folder is deleted under the running mock, or made read-only.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from mockserver.testing import free_port, redis_answers
from tests.mockserver.test_cli import CREATE, KEY, create, poll, serve

pytestmark = pytest.mark.slow


@contextmanager
def redis(workdir: Path, *settings: str, port: int | None = None) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: make test installs it (apt-get install redis-server)")
    port = port or free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir), *settings]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(500):
            if redis_answers(port):
                break
            if proc.poll() is not None:
                pytest.fail(f"redis-server exited with {proc.returncode}")
            __import__("time").sleep(0.01)
        yield port, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def refused_start(store: str) -> subprocess.CompletedProcess[str]:
    """``serve`` on ``store``, run to its exit (a store it refuses ends it at start-up)."""
    argv = [sys.executable, "-m", "mockserver", "serve", "--port", str(free_port()), "--store", store]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_a_redis_that_can_lose_answered_creates_is_refused_with_the_fix(tmp_path: Path) -> None:
    with redis(tmp_path, "--appendonly", "no") as (port, _):
        done = refused_start(f"redis://127.0.0.1:{port}/0")
    assert done.returncode == 2, done.stderr
    assert "can lose answered operations on a crash (appendonly no, appendfsync everysec)" in done.stderr
    assert "--appendonly yes --appendfsync always" in done.stderr and "--store-durability relaxed" in done.stderr


def test_relaxed_durability_is_an_explicit_choice(tmp_path: Path) -> None:
    with (
        redis(tmp_path, "--appendonly", "no") as (port, _),
        serve("--store", f"redis://127.0.0.1:{port}/0", "--store-durability", "relaxed") as base,
    ):
        assert poll(base, create(base)).status_code == 200


def test_with_appendfsync_always_a_killed_redis_loses_no_answered_create(tmp_path: Path) -> None:
    durable = ("--appendonly", "yes", "--appendfsync", "always")
    with redis(tmp_path, *durable) as (port, proc):
        store = f"redis://127.0.0.1:{port}/0"
        with serve("--store", store) as base:
            names = [create(base, f"clip {i}") for i in range(200)]
            os.kill(proc.pid, signal.SIGKILL)  # Redis dies right after the last answer
            proc.wait()
            with redis(tmp_path, *durable, port=port):
                found = [poll(base, n).status_code for n in names]
    assert found.count(200) == len(names), f"{found.count(200)} of {len(names)} answered creates survived"


@pytest.mark.parametrize("mode", ["stopped", "frozen"])
def test_a_redis_outage_is_the_vendors_503_with_retry_after_and_recovers(tmp_path: Path, mode: str) -> None:
    durable = ("--appendonly", "yes", "--appendfsync", "always")
    with redis(tmp_path, *durable) as (port, proc), serve("--store", f"redis://127.0.0.1:{port}/0") as base:
        name = create(base)
        if mode == "stopped":
            proc.kill()
            proc.wait()
        else:
            os.kill(proc.pid, signal.SIGSTOP)
        r = httpx.post(base + CREATE, json={"instances": [{"prompt": "during the outage"}]}, headers=KEY, timeout=30)
        assert r.status_code == 503 and r.headers["retry-after"] == "1", r.text
        assert r.json()["error"]["status"] == "UNAVAILABLE"  # gemini's own error shape
        assert poll(base, name).status_code == 503
        if mode == "stopped":
            restarted = redis(tmp_path, *durable, port=port)
            restarted.__enter__()
        else:
            os.kill(proc.pid, signal.SIGCONT)
        try:
            assert poll(base, name).status_code == 200, "the mock recovers by itself"
        finally:
            if mode == "stopped":
                restarted.__exit__(None, None, None)


def test_sqlite_whose_folder_is_deleted_answers_503_not_a_lost_200(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    with serve("--store", f"sqlite:///{folder}/mock.db") as base:
        name = create(base)
        shutil.rmtree(folder)
        r = httpx.post(base + CREATE, json={"instances": [{"prompt": "into a vanished file"}]}, headers=KEY, timeout=30)
        assert r.status_code == 503 and "retry-after" in r.headers, r.text
        assert poll(base, name).status_code == 503


def test_a_read_only_sqlite_file_is_refused_at_start(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    path = folder / "mock.db"
    with serve("--store", f"sqlite:///{path}") as base:
        create(base)
    # Immutable (chattr +i): read-only even for root, which CI runs as.
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path), str(folder)], check=False).returncode != 0:
        pytest.skip("chattr +i is not available on this filesystem")
    try:
        done = refused_start(f"sqlite:///{path}")
    finally:
        subprocess.run(["chattr", "-i", str(path), str(folder)], check=True)
    assert done.returncode == 2 and f"{str(path)!r} is not a usable SQLite database this user can write" in done.stderr, done.stderr
