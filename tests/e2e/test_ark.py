"""The official Volcengine Ark SDK (``volcengine-ark-runtime``), unchanged, against the mock's ``/ark`` dialect.

Every call goes through ``Ark().content_generation.tasks`` over a real socket: the SDK
sends all twenty create fields (unset ones as JSON null), puts the parameters in the
prompt as ``--ratio 16:9``-style flags, casts each answer to its task models, and raises
its own exceptions for error statuses. Callbacks reach a local receiver.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockserver.clock import VirtualClock
from mockserver.testing import LiveMockServer
from tests.e2e.media import decoded
from tests.e2e.receiver import Receiver

pytestmark = pytest.mark.slow

ark = pytest.importorskip("volcenginesdkarkruntime")
errors = pytest.importorskip("volcenginesdkarkruntime._exceptions")

MODEL = "doubao-seedance-1-0-pro-250528"
IMAGE = "https://ark-project.tos-cn-beijing.volces.com/doc_image/seepro_i2v.png"
TERMINAL = {"succeeded", "failed", "cancelled", "expired"}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveMockServer]:
    """Real time, a hundred times faster: a task is queued 0.05 s and runs 0.4 s."""
    with LiveMockServer(clock=VirtualClock(), time_scale=0.01, seed=23) as live:
        yield live


def client(server: LiveMockServer, key: str = "ark-key-1") -> Any:
    return ark.Ark(base_url=f"{server.url('ark')}/api/v3", api_key=key, max_retries=0)


def text(prompt: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": prompt}]


def wait(c: Any, task_id: str, until: set[str] = TERMINAL, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        task = c.content_generation.tasks.get(task_id=task_id)
        if task.status in until:
            return task
        assert time.monotonic() < deadline, f"{task_id} is still {task.status}"
        time.sleep(0.02)


def called_back(receiver: Receiver, task_id: str, *statuses: str) -> dict[str, dict[str, Any]]:
    """The task's callbacks by status, once one of each of ``statuses`` arrived (in any order:
    deliveries due at once are sent concurrently); a status called back twice fails."""
    arrived = receiver.wait_until(lambda deliveries: set(statuses) <= {d.json().get("status") for d in deliveries}, about=task_id)
    bodies = [d.json() for d in arrived]
    by_status = {b["status"]: b for b in bodies}
    assert len(by_status) == len(bodies), f"a status was called back twice: {bodies}"
    return by_status


def decode(url: str) -> tuple[int, int, float]:
    r = httpx.get(url, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4", r.text[:200]
    return decoded(r.content, fps=24)


def test_text_to_video_follows_the_prompt_flags_and_calls_back(server: LiveMockServer, receiver: Receiver) -> None:
    c = client(server)
    created = c.content_generation.tasks.create(
        model=MODEL, content=text("a cat --ratio 16:9 --duration 5 --resolution 720p"), callback_url=receiver.url("ark-callbacks")
    )
    assert created.id.startswith("cgt-")
    task = wait(c, created.id)
    assert task.status == "succeeded" and task.error is None
    assert (task.id, task.model) == (created.id, MODEL)
    assert (task.resolution, task.ratio, task.duration, task.framespersecond) == ("720p", "16:9", 5, 24)
    assert isinstance(task.seed, int) and isinstance(task.created_at, int) and isinstance(task.updated_at, int)
    assert task.updated_at >= task.created_at
    assert task.usage.completion_tokens > 0 and task.usage.total_tokens == task.usage.completion_tokens
    width, height, duration = decode(task.content.video_url)
    assert (width, height) == (1248, 704) and abs(duration - 5) < 0.1

    called = called_back(receiver, created.id, "queued", "running", "succeeded")
    assert sorted(called) == ["queued", "running", "succeeded"]
    assert called["succeeded"] == task.to_dict()  # each callback is the task as a get shows it
    assert all(called[s]["ratio"] == "16:9" and called[s]["duration"] == 5 and "content" not in called[s] for s in ("queued", "running"))


def test_portrait_480p_for_ten_seconds_has_the_tables_size(server: LiveMockServer) -> None:
    c = client(server)
    created = c.content_generation.tasks.create(model=MODEL, content=text("a lighthouse --ratio 9:16 --resolution 480p --duration 10"))
    task = wait(c, created.id)
    assert (task.status, task.resolution, task.ratio, task.duration) == ("succeeded", "480p", "9:16", 10)
    width, height, duration = decode(task.content.video_url)
    assert (width, height) == (480, 864) and abs(duration - 10) < 0.1


def test_image_to_video_with_body_parameters_that_win_over_flags(server: LiveMockServer) -> None:
    c = client(server)
    created = c.content_generation.tasks.create(
        model=MODEL,
        content=[
            {"type": "text", "text": "the girl smiles and waves --rs 1080p --dur 8 --seed 7"},
            {"type": "image_url", "image_url": {"url": IMAGE}, "role": "first_frame"},
        ],
        ratio="adaptive",
        resolution="480p",
        duration=4,
    )
    task = wait(c, created.id)
    assert task.status == "succeeded"
    # adaptive reads as 16:9; the body's resolution and duration win; the flag's seed stays
    assert (task.ratio, task.resolution, task.duration, task.seed) == ("16:9", "480p", 4, 7)
    width, height, duration = decode(task.content.video_url)
    assert (width, height) == (864, 480) and abs(duration - 4) < 0.1


def test_list_pages_filters_and_shows_only_the_callers_tasks(server: LiveMockServer) -> None:
    c = client(server, "ark-lister")
    tasks = c.content_generation.tasks
    made = [tasks.create(model=MODEL, content=text(f"list {i} --dur 2 --rs 480p")).id for i in range(3)]
    failed = tasks.create(model="doubao-seedance-1-0-lite-t2v-250428", content=text("list failing --dur 2 [mock:fail]")).id
    for task_id in [*made, failed]:
        wait(c, task_id)

    first = tasks.list(page_num=1, page_size=2, status="succeeded")
    second = tasks.list(page_num=2, page_size=2, status="succeeded")
    assert (first.total, second.total) == (3, 3)
    assert len(first.items) == 2 and len(second.items) == 1
    assert [t.id for t in first.items + second.items] == list(reversed(made))  # newest first
    assert all(t.status == "succeeded" for t in first.items + second.items)
    assert [t.id for t in tasks.list(status="failed").items] == [failed]
    assert [t.id for t in tasks.list(model="doubao-seedance-1-0-lite-t2v-250428").items] == [failed]
    picked = tasks.list(task_ids=[made[0], failed])  # sent as filter.task_ids=a&filter.task_ids=b
    assert {t.id for t in picked.items} == {made[0], failed} and picked.total == 2
    assert [t.id for t in tasks.list(task_ids=made[1]).items] == [made[1]]
    everything = tasks.list(page_size=500)
    assert {t.id for t in everything.items} == {*made, failed} and everything.total == 4
    assert client(server, "ark-someone-else").content_generation.tasks.list().total == 0


def test_deleting_a_finished_task_removes_it(server: LiveMockServer) -> None:
    c = client(server)
    tasks = c.content_generation.tasks
    task = wait(c, tasks.create(model=MODEL, content=text("to delete --dur 2 --rs 480p")).id)
    assert task.status == "succeeded"
    with pytest.raises(errors.ArkNotFoundError):
        client(server, "ark-intruder").content_generation.tasks.delete(task.id)
    tasks.delete(task.id)  # the SDK sends {} and reads the {} answer as an empty task
    with pytest.raises(errors.ArkNotFoundError) as gone:
        tasks.get(task_id=task.id)
    assert gone.value.status_code == 404 and gone.value.code == "ResourceNotFound"
    assert httpx.get(task.content.video_url).status_code == 404
    with pytest.raises(errors.ArkNotFoundError):
        tasks.delete(task.id)


def test_deleting_a_queued_task_cancels_it_and_a_running_one_is_refused(server: LiveMockServer, receiver: Receiver) -> None:
    c = client(server)
    tasks = c.content_generation.tasks
    queued = tasks.create(model=MODEL, content=text("to cancel [mock:slow]"), callback_url=receiver.url("ark-callbacks"))  # queued 0.5 s
    answer = tasks.delete(queued.id)
    assert answer.id is None and answer.status is None
    task = tasks.get(task_id=queued.id)
    assert task.status == "cancelled" and task.error is None
    assert sorted(called_back(receiver, queued.id, "queued", "cancelled")) == ["cancelled", "queued"]  # never running
    with pytest.raises(errors.ArkBadRequestError) as again:
        tasks.delete(queued.id)
    assert again.value.code == "OperationDenied.InvalidState"

    running = wait(c, tasks.create(model=MODEL, content=text("busy [mock:slow]")).id, until={"running"})
    with pytest.raises(errors.ArkBadRequestError) as refused:
        tasks.delete(running.id)
    assert refused.value.status_code == 400 and refused.value.code == "OperationDenied.InvalidState"
    assert "is running: it cannot be deleted now" in refused.value.message
    assert tasks.get(task_id=running.id).status == "running"


def test_a_failed_task_carries_an_error(server: LiveMockServer, receiver: Receiver) -> None:
    c = client(server)
    created = c.content_generation.tasks.create(
        model=MODEL, content=text("a storm [mock:fail]"), callback_url=receiver.url("ark-callbacks")
    )
    task = wait(c, created.id)
    assert task.status == "failed" and task.content is None and task.usage is None
    assert task.error.code == "InternalServiceError" and task.error.message
    assert called_back(receiver, created.id, "failed")["failed"] == task.to_dict()
    blocked = wait(c, c.content_generation.tasks.create(model=MODEL, content=text("a riot [mock:filtered]")).id)
    assert blocked.status == "failed" and blocked.error.code == "OutputVideoSensitiveContentDetected"


def test_bad_requests_get_the_sdks_exceptions(server: LiveMockServer) -> None:
    tasks = client(server).content_generation.tasks
    with pytest.raises(errors.ArkBadRequestError) as empty:
        tasks.create(model=MODEL, content=[])
    assert empty.value.code == "InvalidParameter" and empty.value.type == "BadRequest"
    with pytest.raises(errors.ArkBadRequestError):
        tasks.create(model=MODEL, content=text("a cat --duration forever"))
    with pytest.raises(errors.ArkBadRequestError):
        tasks.create(model=MODEL, content=text("a cat"), resolution="4k")
    with pytest.raises(errors.ArkNotFoundError) as unknown:
        tasks.get(task_id="cgt-20250331175019-68d9t")
    assert unknown.value.code == "ResourceNotFound"
    anonymous = httpx.get(f"{server.url('ark')}/api/v3/contents/generations/tasks")  # the SDK always sends a key
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "AuthenticationError"
