"""The official ``runwayml`` SDK, unchanged, against the mock's ``/runway`` dialect over a real socket.

Every client is strict (``_strict_response_validation=True``): a task the mock renders
without a field its status' variant requires, or with a wrong type (a float
``cost.credits``, a null ``progress``), fails the test instead of silently becoming a
``Pending`` object, as a stock client would let it.

The SDK's ``wait_for_task_output`` sleeps 4.5-7.5 s before every poll and cannot be told
otherwise; the mock runs a hundred times faster than real time, so every job is done by
the first poll and each wait costs one sleep. Waits that do not depend on each other run
side by side.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest

from mockserver.clock import VirtualClock
from mockserver.testing import LiveMockServer
from tests.e2e.media import decoded

pytestmark = pytest.mark.slow

runwayml = pytest.importorskip("runwayml")

from runwayml.types.task_retrieve_response import (  # noqa: E402  (after the importorskip)
    Cancelled,
    Failed,
    Pending,
    Running,
    Succeeded,
    TaskRetrieveResponse,
    Throttled,
)

KEY = "key_" + "0123456789abcdef" * 8  # the form Runway's keys have
OTHER_KEY = "key_" + "fedcba9876543210" * 8
VERSION = "2024-11-06"
PNG_DATA_URI = (  # an 8x8 PNG
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEklEQVR4nGP438CAFWEXHbQSAKmzX8FBxi1QAAAAAElFTkSuQmCC"
)
VARIANTS: dict[str, type[Any]] = {
    "PENDING": Pending,
    "THROTTLED": Throttled,
    "RUNNING": Running,
    "SUCCEEDED": Succeeded,
    "FAILED": Failed,
    "CANCELLED": Cancelled,
}
T = TypeVar("T")


@pytest.fixture(scope="module")
def server() -> Iterator[LiveMockServer]:
    """Real time, a hundred times faster: the SDK's own polling loop sees jobs finish. Two keys are known."""
    with LiveMockServer(clock=VirtualClock(), time_scale=0.01, seed=23, api_keys=frozenset({KEY, OTHER_KEY})) as live:
        yield live


def client(server: LiveMockServer, key: str = KEY, **options: Any) -> Any:
    return runwayml.RunwayML(api_key=key, base_url=server.url("runway"), max_retries=0, _strict_response_validation=True, **options)


def side_by_side(*calls: Callable[[], T]) -> list[T]:
    """Run blocking SDK waits at once (each sleeps ~6 s before its first poll)."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]


def settled(c: Any, task_id: str, limit_s: float = 10.0) -> TaskRetrieveResponse:
    """``tasks.retrieve`` until the task leaves PENDING/THROTTLED/RUNNING (no SDK sleep)."""
    deadline = time.monotonic() + limit_s
    while True:
        task: TaskRetrieveResponse = c.tasks.retrieve(task_id)
        if task.status not in ("PENDING", "THROTTLED", "RUNNING") or time.monotonic() > deadline:
            return task
        time.sleep(0.02)


def test_image_and_text_to_video_are_generated_and_download_at_the_asked_size(server: LiveMockServer) -> None:
    c = client(server)
    i2v = c.image_to_video.create(
        model="gen4_turbo", prompt_image=PNG_DATA_URI, prompt_text="an orange square, dolly-in", ratio="960:960", duration=5, seed=42
    )
    t2v = c.text_to_video.create(model="veo3.1_fast", prompt_text="clouds over snowy mountains", ratio="720:1280", duration=4, audio=False)
    assert i2v.id != t2v.id
    assert i2v.estimated_cost.credits == 25 and t2v.estimated_cost.credits == 25

    first = c.tasks.retrieve(i2v.id)
    assert first.id == i2v.id and first.status in ("PENDING", "RUNNING", "SUCCEEDED")
    assert isinstance(first, VARIANTS[first.status]), "every field the status' variant requires is there"
    assert first.created_at.tzinfo is not None
    if isinstance(first, Running):
        assert isinstance(first.progress, float) and 0 <= first.progress <= 1

    done_i2v, done_t2v = side_by_side(i2v.wait_for_task_output, t2v.wait_for_task_output)
    for done, (width, height, seconds) in ((done_i2v, (960, 960, 5)), (done_t2v, (720, 1280, 4))):
        assert isinstance(done, Succeeded) and done.status == "SUCCEEDED"
        assert done.cost.credits == 25
        (url,) = done.output
        assert url.startswith(server.url("runway") + "/v1/outputs/") and url.endswith(".mp4")
        response = httpx.get(url)  # a public URL, like Runway's signed CDN links: no key
        assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
        got_width, got_height, duration = decoded(response.content)
        assert (got_width, got_height) == (width, height) and abs(duration - seconds) < 0.1

    assert (done_i2v.id, done_i2v.created_at) == (i2v.id, first.created_at) and done_t2v.id == t2v.id
    again = c.tasks.retrieve(done_i2v.id)
    assert isinstance(again, Succeeded) and again.output == done_i2v.output  # the same URL on every poll


def test_a_failed_job_raises_task_failed_error_and_a_filtered_one_names_the_safety_code(server: LiveMockServer) -> None:
    c = client(server)
    failing = c.text_to_video.create(model="gen4.5", prompt_text="a storm [mock:fail]", ratio="1280:720", duration=2)
    filtered = c.image_to_video.create(model="veo3.1", prompt_image=PNG_DATA_URI, prompt_text="x [mock:filtered]", ratio="1080:1920")
    with pytest.raises(runwayml.TaskFailedError) as caught:
        failing.wait_for_task_output()
    failed = caught.value.task_details
    assert isinstance(failed, Failed) and failed.id == failing.id
    assert failed.failure and failed.failure_code == "INTERNAL" and failed.cost.credits == 0
    blocked = settled(c, filtered.id)
    assert isinstance(blocked, Failed)
    assert blocked.failure_code == "SAFETY.INPUT.TEXT" and "moderation" in blocked.failure


def test_delete_cancels_a_live_task_and_deletes_a_finished_one(server: LiveMockServer) -> None:
    c = client(server)
    live = c.image_to_video.create(model="gen4_turbo", prompt_image=PNG_DATA_URI, prompt_text="forever [mock:never]", ratio="1280:720")
    assert c.tasks.retrieve(live.id).status in ("PENDING", "RUNNING")
    assert c.tasks.delete(live.id) is None  # 204, no body
    cancelled = c.tasks.retrieve(live.id)
    assert isinstance(cancelled, Cancelled) and cancelled.cost.credits == 0
    c.tasks.delete(live.id)  # a cancelled task is finished: now it is deleted
    with pytest.raises(runwayml.NotFoundError):
        c.tasks.retrieve(live.id)

    finished = c.text_to_video.create(model="veo3.1", prompt_text="a red kite", ratio="1280:720")
    done = settled(c, finished.id)
    assert isinstance(done, Succeeded)
    assert c.tasks.delete(finished.id) is None
    with pytest.raises(runwayml.NotFoundError) as gone:
        c.tasks.retrieve(finished.id)
    assert gone.value.status_code == 404 and isinstance(gone.value.body, dict) and isinstance(gone.value.body["error"], str)
    assert httpx.get(done.output[0]).status_code == 404  # its output went with it
    with pytest.raises(runwayml.NotFoundError):
        c.tasks.delete(finished.id)
    with pytest.raises(runwayml.NotFoundError):
        c.tasks.retrieve("00000000-0000-4000-8000-000000000000")


def test_models_ratios_and_durations_are_validated_in_runways_error_shape(server: LiveMockServer) -> None:
    c = client(server)
    refused: list[Callable[[], Any]] = [
        lambda: c.image_to_video.create(model="gen4_turbo", prompt_image=PNG_DATA_URI, ratio="1920:1080"),  # a veo ratio
        lambda: c.image_to_video.create(model="veo3.1", prompt_image=PNG_DATA_URI, ratio="1280:720", duration=5),  # 4, 6 or 8
        lambda: c.text_to_video.create(model="gen4_turbo", prompt_text="image only", ratio="1280:720"),
        lambda: c.text_to_video.create(model="gen4.5", prompt_text="no duration", ratio="1280:720"),
        lambda: c.image_to_video.create(model="gen4_turbo", prompt_image="http://plain.example/x.png", ratio="1280:720"),
        lambda: c.image_to_video.create(model="not_a_model", prompt_image=PNG_DATA_URI, ratio="1280:720"),
    ]
    for call in refused:
        with pytest.raises(runwayml.BadRequestError) as caught:
            call()
        assert caught.value.status_code == 400
        body = caught.value.body
        assert isinstance(body, dict) and list(body) == ["error"] and body["error"], body


def test_keys_are_checked_and_tasks_belong_to_theirs(server: LiveMockServer) -> None:
    with pytest.raises(runwayml.AuthenticationError) as refused:
        client(server, "key_" + "0" * 128).text_to_video.create(model="veo3.1_fast", prompt_text="x", ratio="1280:720")
    assert refused.value.status_code == 401 and isinstance(refused.value.body, dict) and "error" in refused.value.body
    missing = httpx.get(f"{server.url('runway')}/v1/tasks/00000000-0000-4000-8000-000000000000", headers={"X-Runway-Version": VERSION})
    assert missing.status_code == 401 and set(missing.json()) == {"error"}
    mine = client(server).text_to_video.create(model="veo3.1_fast", prompt_text="mine", ratio="1280:720")
    with pytest.raises(runwayml.NotFoundError):
        client(server, OTHER_KEY).tasks.retrieve(mine.id)


def test_a_wrong_version_header_is_refused(server: LiveMockServer) -> None:
    with pytest.raises(runwayml.BadRequestError) as caught:
        client(server, runway_version="2099-01-01").text_to_video.create(model="veo3.1_fast", prompt_text="x", ratio="1280:720")
    assert "X-Runway-Version" in caught.value.body["error"]
    wrong = httpx.get(
        f"{server.url('runway')}/v1/tasks/00000000-0000-4000-8000-000000000000",
        headers={"Authorization": f"Bearer {KEY}", "X-Runway-Version": "2023-01-01"},
    )
    assert wrong.status_code == 400 and "X-Runway-Version" in wrong.json()["error"]


def test_a_missing_version_header_is_refused(server: LiveMockServer) -> None:
    body = {"model": "veo3.1_fast", "promptText": "no version header", "ratio": "1280:720"}
    r = httpx.post(f"{server.url('runway')}/v1/text_to_video", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 400 and "X-Runway-Version" in r.json()["error"]
