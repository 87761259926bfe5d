"""Store fixtures: every backend behind one factory, and a real redis-server for the Redis one."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mockserver.store import MemoryStore, Store
from mockserver.store.redis import RedisStore
from mockserver.store.sqlite import SQLiteStore
from mockserver.testing import free_port, redis_answers

StoreFactory = Callable[[], Store]

_REDIS_START_TIMEOUT_S = 10.0


def _start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not on PATH, and the Redis store tests need a real one. "
            "Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) and rerun.",
            pytrace=False,
        )
    log = workdir / "redis.log"
    for _ in range(3):  # another process may grab the free port before redis binds it
        port = free_port()
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always"]
        args += ["--dir", str(workdir)]  # durable, as --store-durability strict (the default) requires
        with log.open("wb") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + _REDIS_START_TIMEOUT_S
        while proc.poll() is None and time.monotonic() < deadline:
            if redis_answers(port):
                return proc, port
            time.sleep(0.01)  # a poll interval, bounded by the deadline
        proc.kill()
        proc.wait()
    pytest.fail(f"redis-server did not answer PING within {_REDIS_START_TIMEOUT_S} s; its log:\n{log.read_text()}", pytrace=False)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port, for the whole session."""
    proc, port = _start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Builds a new, unconnected store of one backend; stores from one factory share their data.

    (Memory stores cannot share: each call gives an empty one.) The Redis server
    is only started when a Redis test runs, so ``-k 'not redis'`` needs none.
    """
    if request.param == "memory":
        return MemoryStore
    if request.param == "sqlite":
        path = str(tmp_path / "store" / "mock.db")
        return lambda: SQLiteStore(path)
    url: str = request.getfixturevalue("redis_url")
    prefix = f"test:{uuid.uuid4().hex}:"  # one namespace per test on the shared server
    return lambda: RedisStore(url, prefix=prefix)
