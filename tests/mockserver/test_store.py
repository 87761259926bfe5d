"""One suite for every store backend (memory, SQLite, a real Redis), plus what only a shared store can promise."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
import pytest
import redis.asyncio

from mockserver.record import OperationRecord
from mockserver.store import Store, open_store
from mockserver.store.redis import RedisStore
from mockserver.store.sqlite import SQLiteStore
from tests.mockserver.conftest import StoreFactory
from videogen.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def record(token: str, dialect: str = "veo", n: int = 0, **changes: object) -> OperationRecord:
    """A record with every field set, nested inputs included, so a lossy round trip shows."""
    fields: dict[str, object] = {
        "token": token,
        "dialect": dialect,
        "owner": "k-3f9a",
        "model": "veo-3.0-generate-001",
        "created_at": 1_767_225_600.25 + n,
        "queued_s": 1.5,
        "running_s": 20.0,
        "outcome": "succeeded",
        "vars": {"name": f"operations/{token}"},
        "inputs": {"prompt": "a cat, \u00e9t\u00e9 \U0001f408", "count": 2, "size": {"width": 1280, "height": 720}, "seed": None},
    }
    return OperationRecord(**(fields | changes))  # type: ignore[arg-type]


def drive(make_store: StoreFactory, body: Callable[[Store], Awaitable[None]]) -> None:
    """Run ``body`` against a fresh store in its own event loop, and close the store after."""

    async def main() -> None:
        store = make_store()
        try:
            await body(store)
        finally:
            await store.close()

    asyncio.run(main())


def tokens(records: list[OperationRecord]) -> list[str]:
    return [r.token for r in records]


@pytest.mark.parametrize("form", ["json", "row"])
def test_both_serialised_forms_round_trip_every_field(form: str) -> None:
    """The memory store keeps the compact row (fields by position), the shared stores the
    JSON object; a field added to the record but not to a form must fail here."""
    original = record("tok-rt", forced_state="failed", forced_at=1_767_225_700.5)
    again = OperationRecord.from_json(original.to_json()) if form == "json" else OperationRecord.from_row(original.to_row())
    assert again == original
    assert [getattr(again, f) for f in OperationRecord.__slots__] == [getattr(original, f) for f in OperationRecord.__slots__]
    if form == "row":  # every field has its position, even one left at its default
        assert len(orjson.loads(original.to_row())) == len(dataclasses.fields(OperationRecord))


# --- the contract, against every backend --------------------------------------------------


def test_put_then_get_returns_an_equal_record(make_store: StoreFactory) -> None:
    async def body(store: Store) -> None:
        original = record("tok-1", forced_state="failed", forced_at=1_767_225_700.5)
        await store.put(original)
        assert await store.get("tok-1") == original

    drive(make_store, body)


def test_get_of_an_unknown_token_is_none(make_store: StoreFactory) -> None:
    async def body(store: Store) -> None:
        assert await store.get("nope") is None
        await store.put(record("tok-1"))
        assert await store.get("nope") is None

    drive(make_store, body)


def test_put_of_an_existing_token_replaces_it_and_keeps_its_place(make_store: StoreFactory) -> None:
    async def body(store: Store) -> None:
        for i, token in enumerate(["a", "b", "c"]):
            await store.put(record(token, n=i))
        changed = record("a", forced_state="filtered", forced_at=1_767_225_999.0)
        await store.put(changed)
        assert await store.get("a") == changed
        assert await store.count() == 3
        assert tokens(await store.page()) == ["a", "b", "c"]
        assert tokens(await store.page(dialect="veo")) == ["a", "b", "c"]
        assert (await store.page())[0] == changed

    drive(make_store, body)


def test_list_is_in_creation_order_filtered_by_dialect_and_limited(make_store: StoreFactory) -> None:
    async def body(store: Store) -> None:
        # Tokens out of alphabetical order, so sorting by token would be caught.
        created = [("m", "veo"), ("c", "relay"), ("x", "veo"), ("a", "relay"), ("k", "veo")]
        for i, (token, dialect) in enumerate(created):
            await store.put(record(token, dialect, n=i))
        assert tokens(await store.page()) == ["m", "c", "x", "a", "k"]
        assert tokens(await store.page(dialect="veo")) == ["m", "x", "k"]
        assert tokens(await store.page(dialect="relay")) == ["c", "a"]
        assert await store.page(dialect="unknown") == []
        assert tokens(await store.page(limit=2)) == ["m", "c"]
        assert tokens(await store.page(dialect="veo", limit=2)) == ["m", "x"]
        assert tokens(await store.page(dialect="relay", limit=10)) == ["c", "a"]
        assert all(r == record(r.token, r.dialect, n=[t for t, _ in created].index(r.token)) for r in await store.page())

    drive(make_store, body)


def test_count_counts_distinct_tokens(make_store: StoreFactory) -> None:
    async def body(store: Store) -> None:
        assert await store.count() == 0
        for i in range(5):
            await store.put(record(f"t{i}", "veo" if i % 2 else "relay"))
        await store.put(record("t0", "relay", outcome="failed"))
        assert await store.count() == 5

    drive(make_store, body)


def test_clear_empties_the_store_and_keeps_the_clock(make_store: StoreFactory) -> None:
    async def body(store: Store) -> None:
        for i in range(7):
            await store.put(record(f"t{i}", "veo" if i % 2 else "relay"))
        await store.set_clock_offset(42.5)
        await store.clear()
        assert await store.count() == 0
        assert await store.page() == []
        assert await store.page(dialect="veo") == []
        assert await store.get("t1") is None
        assert await store.get_clock_offset() == 42.5
        # Usable afterwards, and a re-put token does not resurrect stale index entries.
        await store.put(record("t3", "veo"))
        await store.put(record("new", "relay"))
        assert tokens(await store.page()) == ["t3", "new"]
        assert tokens(await store.page(dialect="veo")) == ["t3"]
        assert await store.count() == 2

    drive(make_store, body)


def test_clock_offset_defaults_to_zero_and_round_trips(make_store: StoreFactory) -> None:
    async def body(store: Store) -> None:
        assert await store.get_clock_offset() == 0.0
        for offset in (3600.0, 0.1 + 0.2, 1e-9, 86_400.0 * 365 * 10 + 0.123456789):
            await store.set_clock_offset(offset)
            assert await store.get_clock_offset() == offset  # exact: no float is rounded on the way

    drive(make_store, body)


def test_concurrent_puts_from_many_tasks_all_land(make_store: StoreFactory) -> None:
    async def body(store: Store) -> None:
        records = [record(f"c{i:03d}", "veo" if i % 3 else "relay", n=i) for i in range(500)]
        await asyncio.gather(*(store.put(r) for r in records))
        assert await store.count() == 500
        listed = await store.page(limit=1000)
        assert sorted(tokens(listed)) == sorted(tokens(records))
        assert len(await store.page(dialect="relay", limit=1000)) == len([r for r in records if r.dialect == "relay"])
        got = await asyncio.gather(*(store.get(r.token) for r in records))
        assert got == records

    drive(make_store, body)


# --- SQLite: durable in the file ----------------------------------------------------------


def test_sqlite_records_survive_a_new_store_on_the_same_file(tmp_path: Path) -> None:
    path = str(tmp_path / "deep" / "dir" / "mock.db")

    async def main() -> None:
        first = SQLiteStore(path)
        await first.put(record("a", n=0))
        await first.put(record("b", "relay", n=1))
        await first.set_clock_offset(12.5)
        await first.close()
        second = SQLiteStore(path)
        try:
            assert await second.page() == [record("a", n=0), record("b", "relay", n=1)]
            assert await second.get_clock_offset() == 12.5
            await second.put(record("c", n=2))
            assert tokens(await second.page()) == ["a", "b", "c"]
        finally:
            await second.close()

    asyncio.run(main())


_CHILD_WRITER = """
import asyncio, sys
from mockserver.store.sqlite import SQLiteStore
from tests.mockserver.test_store import record

async def main(path, prefix, count):
    store = SQLiteStore(path)
    for i in range(count):
        token = f"{prefix}{i}"
        await store.put(record(token, n=i))
        print(token, flush=True)  # reported only once put has returned
    await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def _spawn_writer(path: str, prefix: str, count: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD_WRITER, path, prefix, str(count)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _reported(out: bytes) -> list[str]:
    # Only whole lines count: a line cut by the kill was never fully reported.
    lines = out.split(b"\n")
    return [line.decode() for line in lines[:-1]]


def test_sqlite_every_reported_put_survives_kill_9(tmp_path: Path) -> None:
    path = str(tmp_path / "mock.db")
    SQLiteStore(path)  # create the schema first, so the child is writing records when it dies
    child = _spawn_writer(path, "k", 10**9)  # writes until killed
    reported: list[str] = []
    try:
        assert child.stdout is not None
        while len(reported) < 300:  # kill it mid-stream, well into its writing
            line = child.stdout.readline()
            if not line:
                pytest.fail(f"the writer exited early ({child.wait()}): {child.stderr.read().decode() if child.stderr else ''}")
            reported.append(line.decode().rstrip("\n"))
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate()
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == -signal.SIGKILL
    reported += _reported(rest)

    async def main() -> None:
        store = SQLiteStore(path)
        try:
            missing = [t for t in reported if await store.get(t) is None]
            assert not missing, f"{len(missing)} of {len(reported)} acknowledged puts were lost: {missing[:5]}..."
            listed = tokens(await store.page(limit=10**9))
            assert listed[: len(reported)] == reported  # and in creation order
            assert len(listed) - len(reported) <= 1  # at most the put in flight at the kill
            assert await store.get(reported[-1]) == record(reported[-1], n=len(reported) - 1)
        finally:
            await store.close()

    asyncio.run(main())


def test_sqlite_two_processes_write_one_file_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "mock.db")
    writers = [_spawn_writer(path, prefix, 300) for prefix in ("p", "q")]
    results = [w.communicate(timeout=120) for w in writers]
    for w, (_, err) in zip(writers, results, strict=True):
        assert w.returncode == 0, err.decode()
    written = [t for out, _ in results for t in _reported(out)]
    assert len(written) == 600

    async def main() -> None:
        store = SQLiteStore(path)
        try:
            assert await store.count() == 600
            listed = tokens(await store.page(limit=1000))
            assert sorted(listed) == sorted(written)
            for prefix in ("p", "q"):  # each writer's own records stay in its order
                assert [t for t in listed if t[0] == prefix] == [f"{prefix}{i}" for i in range(300)]
        finally:
            await store.close()

    asyncio.run(main())


def test_sqlite_opens_a_file_another_process_is_writing(tmp_path: Path) -> None:
    """Workers starting together: switching a file to WAL while another connection holds
    its write lock fails at once, without SQLite's busy wait; the store waits it out."""
    path = str(tmp_path / "mock.db")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("CREATE TABLE started_first (x)")
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO started_first VALUES (1)")
        release = threading.Timer(0.3, other.execute, ("COMMIT",))
        release.start()
        try:
            store = SQLiteStore(path)  # raised "database is locked" at once before the retry
        finally:
            release.join()
        asyncio.run(store.close())
    finally:
        other.close()


def test_open_store_builds_sqlite_from_a_url(tmp_path: Path) -> None:
    absolute = open_store(f"sqlite:///{tmp_path}/abs.db")  # four slashes: an absolute path
    assert isinstance(absolute, SQLiteStore)
    assert absolute.path == f"{tmp_path}/abs.db"
    assert (tmp_path / "abs.db").exists()  # created, schema and all, at start-up


def test_sqlite_rejects_an_unusable_file_at_construction(tmp_path: Path) -> None:
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_bytes(b"this is not a database, just some text that is long enough" * 20)
    with pytest.raises(ConfigError, match="not a usable SQLite database"):
        SQLiteStore(str(not_a_db))


# --- Redis: shared by workers, confined to its prefix ------------------------------------


def test_redis_two_stores_see_each_others_records(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"

    async def main() -> None:
        worker_a, worker_b = RedisStore(redis_url, prefix=prefix), RedisStore(redis_url, prefix=prefix)
        try:
            await worker_a.put(record("a", n=0))
            assert await worker_b.get("a") == record("a", n=0)
            await worker_b.put(record("b", "relay", n=1))
            await worker_a.put(record("c", n=2))
            for worker in (worker_a, worker_b):
                assert tokens(await worker.page()) == ["a", "b", "c"]
                assert await worker.count() == 3
            await worker_b.set_clock_offset(90.0)
            assert await worker_a.get_clock_offset() == 90.0
            await worker_a.clear()
            assert await worker_b.count() == 0
        finally:
            await worker_a.close()
            await worker_b.close()

    asyncio.run(main())


def test_redis_clear_leaves_other_prefixes_alone(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    unrelated = f"unrelated:{uuid.uuid4().hex}"

    async def main() -> None:
        # A neighbour whose keys a naive SCAN of "{prefix}op*" would also match.
        ours, neighbour = RedisStore(redis_url, prefix=prefix), RedisStore(redis_url, prefix=prefix + "opx:")
        raw = redis.asyncio.Redis.from_url(redis_url)
        try:
            await raw.set(unrelated, b"keep me")
            await neighbour.put(record("n1"))
            await neighbour.set_clock_offset(5.0)
            for i in range(1200):  # more than one clear() batch
                await ours.put(record(f"o{i}", "veo" if i % 2 else "relay"))
            await ours.clear()
            assert await ours.count() == 0
            assert await raw.keys(f"{prefix}op:*") == []
            assert await raw.keys(f"{prefix}ops*") == []
            assert await raw.get(unrelated) == b"keep me"
            assert await neighbour.get("n1") == record("n1")
            assert await neighbour.count() == 1
            assert await neighbour.get_clock_offset() == 5.0
        finally:
            await raw.delete(unrelated)
            await neighbour.clear()
            await raw.aclose()
            await ours.close()
            await neighbour.close()

    asyncio.run(main())


def test_redis_store_does_not_connect_until_used() -> None:
    # Port 1 has no server: building the store (as the CLI does to validate --store) must not notice.
    store = open_store("redis://127.0.0.1:1/0")
    assert isinstance(store, RedisStore)
    asyncio.run(store.close())


def test_redis_rejects_a_malformed_url() -> None:
    with pytest.raises(ConfigError, match="expected 'redis://host:port/db'"):
        RedisStore("redis://127.0.0.1:notaport/0")
