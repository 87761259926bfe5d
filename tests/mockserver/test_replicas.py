"""Two replicas started with the same --seed on one shared store: no acknowledged create is lost.

A seeded replica draws the same tokens as its twin. The store's insert is one atomic
insert-if-absent, and a create whose token is taken draws again, so the second replica
never overwrites the first one's operation. Nothing is mixed into the seed: a single
process with --seed N keeps drawing exactly the ids it always drew.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from mockserver.clock import VirtualClock
from mockserver.store import Store, open_store
from mockserver.store.redis import RedisStore
from mockserver.testing import MockVideoAPI

CREATE = "/gemini/v1beta/models/veo-3.0-generate-001:predictLongRunning"
KEY = {"x-goog-api-key": "replica-key"}
SEED = 7


def shared_sqlite(tmp_path: Path) -> Callable[[], Store]:
    return lambda: open_store(f"sqlite:///{tmp_path / 'shared.db'}")


@pytest.fixture(params=["sqlite", "redis"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Store]:
    """A factory of store connections that all reach one store, as two replicas' would."""
    if request.param == "sqlite":
        return shared_sqlite(tmp_path)
    redis_url: str = request.getfixturevalue("redis_url")
    prefix = f"test:{uuid.uuid4().hex}:"
    return lambda: RedisStore(redis_url, prefix=prefix)


def create(mock: MockVideoAPI, prompt: str) -> str:
    answer = mock.client.post(CREATE, headers=KEY, json={"instances": [{"prompt": prompt}]})
    assert answer.status_code == 200, answer.text
    name: str = answer.json()["name"]
    return name


def test_two_replicas_with_one_seed_never_overwrite_each_other(shared: Callable[[], Store]) -> None:
    replicas = (MockVideoAPI(store=shared(), seed=SEED, clock=VirtualClock()) for _ in range(2))  # the clock lives in the store
    with next(replicas) as first, next(replicas) as second:
        answered = {}
        for i in range(40):
            replica = (first, second)[i % 2]
            answered[f"prompt {i}"] = create(replica, f"prompt {i}")
        assert len(set(answered.values())) == 40, "one id answered to two clients"
        assert first.client.post("/_mock/clock/advance", json={"seconds": 3600}).status_code == 200  # the shared clock
        for prompt, name in answered.items():
            for reader in (first, second):  # either replica finds it, done and untouched
                polled = reader.client.get(f"/gemini/v1beta/{name}", headers=KEY)
                assert polled.status_code == 200 and polled.json()["done"] is True, (prompt, polled.text)
        listed = second.client.get("/_mock/operations", params={"dialect": "gemini", "limit": 100}).json()["operations"]
        stored = {op["inputs"]["prompt"]: op["name"] for op in listed}
        assert stored == answered, "an acknowledged create was overwritten, or its client was told another's name"


def test_a_single_seeded_process_still_draws_the_ids_it_always_drew(tmp_path: Path) -> None:
    with MockVideoAPI(seed=SEED) as alone:
        expected = [create(alone, f"prompt {i}") for i in range(3)]
    with MockVideoAPI(store=shared_sqlite(tmp_path)(), seed=SEED) as replica:
        assert [create(replica, f"prompt {i}") for i in range(3)] == expected
