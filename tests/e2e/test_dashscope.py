"""The official ``dashscope`` SDK, unchanged, against the mock's ``/dashscope`` dialect over a real socket.

The SDK reads the module global ``dashscope.base_http_api_url`` on every request, so the
fixture points it at the mock and restores it afterwards. Every call passes ``api_key=``.
HTTP errors are not raised by this SDK: they come back as responses with ``status_code``,
``code`` and ``message``, which is what these tests read.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockserver.clock import VirtualClock
from mockserver.testing import LiveMockServer
from tests.e2e.media import decoded
from videogen.dialect import bundled_specs_dir, load_dialect

pytestmark = pytest.mark.slow

dashscope = pytest.importorskip("dashscope")
from dashscope import VideoSynthesis  # noqa: E402
from dashscope.aigc.video_synthesis import AioVideoSynthesis  # noqa: E402

KEY = "sk-dashscope-test-1"
OTHER_KEY = "sk-dashscope-test-2"
DT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")  # DashScope's "2025-09-29 14:18:52.331"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveMockServer]:
    """Real time, a hundred times faster: the SDK's own wait loop sees tasks finish; the
    dialect's 15 s PENDING phase lasts 0.15 s, long enough to cancel a fresh task."""
    dialect = load_dialect(bundled_specs_dir() / "dashscope.yaml")
    with LiveMockServer([dialect], clock=VirtualClock(), time_scale=0.01, seed=23) as live:
        yield live


@pytest.fixture(autouse=True)
def base_url(server: LiveMockServer) -> Iterator[str]:
    """Point the SDK's module global at the mock for one test, then put it back."""
    saved = dashscope.base_http_api_url
    dashscope.base_http_api_url = f"{server.url('dashscope')}/api/v1"
    try:
        yield dashscope.base_http_api_url
    finally:
        dashscope.base_http_api_url = saved


def download(url: str) -> bytes:
    r = httpx.get(url, follow_redirects=True, timeout=30)  # no key: the link itself is the authority
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "video/mp4"
    return r.content


def submit(**kwargs: Any) -> Any:
    task = VideoSynthesis.async_call(api_key=KEY, **kwargs)
    assert task.status_code == 200, task
    assert task.output.task_status == "PENDING" and task.output.task_id and task.request_id
    return task


def test_async_call_fetch_wait_then_download(server: LiveMockServer) -> None:
    task = submit(model="wan2.1-t2v-turbo", prompt="A kitten running in the moonlight", size="832*480", duration=5, seed=42)
    snap = VideoSynthesis.fetch(task, api_key=KEY)
    assert snap.status_code == 200 and snap.output.task_id == task.output.task_id
    assert snap.output.task_status in ("PENDING", "RUNNING", "SUCCEEDED")
    assert DT.match(snap.output.submit_time)
    final = VideoSynthesis.wait(task, api_key=KEY)
    assert final.status_code == 200 and final.request_id
    out = final.output
    assert out.task_status == "SUCCEEDED" and out.task_id == task.output.task_id
    for key in ("submit_time", "scheduled_time", "end_time"):
        assert DT.match(out[key]), (key, out[key])
    assert out.submit_time <= out.scheduled_time <= out.end_time
    assert out.orig_prompt == "A kitten running in the moonlight" == out.actual_prompt
    assert (final.usage.video_duration, final.usage.video_ratio, final.usage.video_count) == (5, "832*480", 1)
    width, height, duration = decoded(download(out.video_url))
    assert (width, height) == (832, 480) and abs(duration - 5) < 0.1
    again = VideoSynthesis.fetch(task.output.task_id, api_key=KEY)  # a task id string works too
    assert again.output.task_status == "SUCCEEDED" and again.output.video_url == out.video_url


def test_another_model_and_its_1080p_size() -> None:
    task = submit(model="wan2.2-t2v-plus", prompt="A paper boat on a rainy street", size="1920*1080", prompt_extend=True)
    final = VideoSynthesis.wait(task, api_key=KEY)
    assert final.output.task_status == "SUCCEEDED"
    assert final.usage.video_ratio == "1920*1080"
    width, height, duration = decoded(download(final.output.video_url))
    assert (width, height) == (1920, 1080) and abs(duration - 5) < 0.1


@pytest.mark.parametrize(("model", "ratio"), [("wan2.2-t2v-plus", "1920*1080"), ("wan2.1-t2v-plus", "1280*720")])
def test_without_a_size_each_model_makes_its_documented_default(model: str, ratio: str) -> None:
    final = VideoSynthesis.wait(submit(model=model, prompt="defaults only"), api_key=KEY)
    assert final.usage.video_ratio == ratio
    width, height, _ = decoded(download(final.output.video_url))
    assert f"{width}*{height}" == ratio


@pytest.mark.parametrize(
    ("model", "size"),
    [("wan2.2-t2v-plus", "1280*720"), ("wan2.1-t2v-plus", "832*480"), ("wan2.1-t2v-turbo", "1920*1080"), ("wan2.1-t2v-turbo", "999*999")],
)
def test_a_size_the_model_does_not_offer_is_invalid(model: str, size: str) -> None:
    bad = VideoSynthesis.async_call(model=model, prompt="x", size=size, api_key=KEY)
    assert (bad.status_code, bad.code) == (400, "InvalidParameter"), bad
    assert "size" in bad.message and bad.request_id and bad.output is None


def test_invalid_requests_are_400_invalid_parameter() -> None:
    for kwargs in (
        {"model": "wan2.2-t2v-plus", "prompt": "x", "duration": 10},  # 5 s only
        {"model": "wan2.1-t2v-turbo"},  # text to video needs a prompt; the SDK sends "prompt": null
        {"model": "wan9-t2v", "prompt": "x"},  # no such model
        {"model": "wan2.2-i2v-flash", "resolution": "720P"},  # image to video needs img_url
    ):
        bad = VideoSynthesis.async_call(api_key=KEY, **kwargs)
        assert (bad.status_code, bad.code) == (400, "InvalidParameter"), (kwargs, bad)


def test_cancel_a_pending_task_then_cancel_again() -> None:
    task = submit(model="wan2.1-t2v-turbo", prompt="to be cancelled", size="832*480")
    cancelled = VideoSynthesis.cancel(task, api_key=KEY)
    assert cancelled.status_code == 200 and cancelled.request_id, cancelled
    after = VideoSynthesis.fetch(task, api_key=KEY)
    assert after.status_code == 200 and after.output.task_status == "CANCELED"
    assert DT.match(after.output.end_time) and after.output.video_url == ""
    assert VideoSynthesis.wait(task, api_key=KEY).output.task_status == "CANCELED"  # wait stops on CANCELED
    again = VideoSynthesis.cancel(task.output.task_id, api_key=KEY)
    assert (again.status_code, again.code) == (400, "UnsupportedOperation"), again
    assert again.message


def test_a_finished_task_cannot_be_cancelled() -> None:
    task = submit(model="wan2.1-t2v-turbo", prompt="finished first", size="624*624")
    assert VideoSynthesis.wait(task, api_key=KEY).output.task_status == "SUCCEEDED"
    refused = VideoSynthesis.cancel(task, api_key=KEY)
    assert (refused.status_code, refused.code) == (400, "UnsupportedOperation"), refused
    assert VideoSynthesis.fetch(task, api_key=KEY).output.task_status == "SUCCEEDED"


def test_a_failed_task_is_200_failed_with_code_and_message() -> None:
    task = submit(model="wan2.1-t2v-turbo", prompt="a storm [mock:fail]", size="832*480")
    final = VideoSynthesis.wait(task, api_key=KEY)
    assert final.status_code == 200 and final.code is None
    assert final.output.task_status == "FAILED"
    assert final.output.code == "InternalError.Algo" and final.output.message
    assert DT.match(final.output.end_time) and final.output.video_url == "" and final.usage is None


def test_a_safety_block_reads_failed_data_inspection() -> None:
    task = submit(model="wan2.1-t2v-turbo", prompt="something blocked [mock:filtered]", size="832*480")
    final = VideoSynthesis.wait(task, api_key=KEY)
    assert final.output.task_status == "FAILED" and final.output.code == "DataInspectionFailed"


def test_an_unknown_or_foreign_task_id_reads_unknown() -> None:
    unknown = VideoSynthesis.fetch("00000000-0000-0000-0000-000000000000", api_key=KEY)
    assert unknown.status_code == 200, unknown
    assert unknown.output.task_status == "UNKNOWN" and unknown.output.task_id == "00000000-0000-0000-0000-000000000000"
    assert VideoSynthesis.wait("00000000-0000-0000-0000-000000000000", api_key=KEY).output.task_status == "UNKNOWN"
    mine = submit(model="wan2.1-t2v-turbo", prompt="only mine", size="832*480")
    theirs = VideoSynthesis.fetch(mine.output.task_id, api_key=OTHER_KEY)
    assert theirs.status_code == 200 and theirs.output.task_status == "UNKNOWN"
    assert VideoSynthesis.cancel(mine.output.task_id, api_key=OTHER_KEY).status_code == 404


def test_image_to_video_and_first_and_last_frame() -> None:
    i2v = submit(model="wan2.2-i2v-flash", img_url="https://example.com/first.png", resolution="480P")
    final = VideoSynthesis.wait(i2v, api_key=KEY)
    assert final.output.task_status == "SUCCEEDED" and final.usage.video_ratio == "832*480"
    assert "orig_prompt" not in final.output  # the SDK sent "prompt": null
    kf2v = submit(  # the SDK posts kf2v models to .../image2video/video-synthesis
        model="wan2.2-kf2v-flash",
        prompt="A kitten wakes up",
        first_frame_url="https://example.com/first.png",
        last_frame_url="https://example.com/last.png",
    )
    final = VideoSynthesis.wait(kf2v, api_key=KEY)
    assert final.output.task_status == "SUCCEEDED" and final.usage.video_ratio == "1280*720"
    width, height, _ = decoded(download(final.output.video_url))
    assert (width, height) == (1280, 720)


def test_missing_or_malformed_key_is_401_invalid_api_key(base_url: str) -> None:
    r = httpx.get(f"{base_url}/tasks/abc")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/json")
    assert r.json()["code"] == "InvalidApiKey" and r.json()["request_id"]
    bad = VideoSynthesis.fetch("abc", api_key=" ")  # the SDK sends "Authorization: Bearer  "
    assert (bad.status_code, bad.code) == (401, "InvalidApiKey"), bad


def test_the_async_header_takes_one_value(base_url: str) -> None:
    body = {"model": "wan2.1-t2v-turbo", "input": {"prompt": "x"}, "parameters": {"size": "832*480"}}
    url = f"{base_url}/services/aigc/video-generation/video-synthesis"
    r = httpx.post(url, json=body, headers={"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "disable"})
    assert r.status_code == 400 and r.json()["code"] == "InvalidParameter"
    r = httpx.post(url, json=body, headers={"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"})
    assert r.status_code == 200 and r.json()["output"]["task_status"] == "PENDING"


def test_the_aiohttp_client_with_its_trailing_slashes() -> None:
    async def flow() -> tuple[Any, Any, Any]:
        task = await AioVideoSynthesis.async_call(model="wan2.1-t2v-turbo", prompt="aio", size="832*480", api_key=KEY)
        other = await AioVideoSynthesis.async_call(model="wan2.1-t2v-turbo", prompt="aio cancel", size="832*480", api_key=KEY)
        cancelled = await AioVideoSynthesis.cancel(other, api_key=KEY)  # POST .../cancel/ with a JSON body
        after = await AioVideoSynthesis.fetch(other, api_key=KEY)  # GET .../tasks/{id}/
        return cancelled, after, await AioVideoSynthesis.wait(task, api_key=KEY)

    cancelled, after, final = asyncio.run(flow())
    assert cancelled.status_code == 200
    assert after.output.task_status == "CANCELED"
    assert final.output.task_status == "SUCCEEDED" and final.usage.video_ratio == "832*480"
