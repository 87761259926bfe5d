"""The relays with no public SDK, driven with plain httpx over a real socket, as each
vendor's documentation describes the flow; then every dialect through every scenario.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import av
import httpx
import pytest

from mockserver.testing import LiveMockServer
from tests import flow
from tests.conftest import DIALECTS
from videogen.dialect import Dialect
from videogen.states import TERMINAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[LiveMockServer]:
    with LiveMockServer(seed=9) as live:
        yield live


@pytest.fixture
def http(server: LiveMockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def decoded_size(data: bytes) -> tuple[int, int, float]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        return frames[0].width, frames[0].height, len(frames) / float(stream.average_rate or 24)


def test_tokenops_published_flow(server: LiveMockServer, http: httpx.Client) -> None:
    auth = {"Authorization": "Bearer sk-tokenops"}
    body = {
        "instances": [{"prompt": "一只可爱的小猫在花园里玩耍"}],
        "parameters": {"aspectRatio": "9:16", "durationSeconds": 4, "sampleCount": 2},
    }
    created = http.post("/tokenops/v1beta/models/veo-3.1-generate-preview:predictLongRunning", json=body, headers=auth)
    assert created.status_code == 200, created.text
    name = created.json()["name"]
    assert name.startswith("projects/mock-project/locations/us-central1/publishers/google/models/veo-3.1-generate-preview/operations/")

    server.advance(2)
    running = http.get(f"/tokenops/v1beta/{name}", headers=auth).json()
    assert running["name"] == name and running.get("done") is not True

    server.advance(120)
    done = http.get(f"/tokenops/v1beta/{name}", headers=auth).json()
    assert done["done"] is True and "error" not in done
    videos = done["response"]["generatedVideos"]
    assert len(videos) == 2 and all(v["mimeType"] == "video/mp4" for v in videos)
    for video in videos:
        data = httpx.get(video["uri"], timeout=10).content  # the uri is fetched as given
        assert decoded_size(data) == (720, 1280, 4.0)

    unknown = http.get(f"/tokenops/v1beta/{name[:-4]}zzzz", headers=auth)
    assert unknown.status_code == 400 and "error" in unknown.json()


def test_xiexus_published_flow(server: LiveMockServer, http: httpx.Client) -> None:
    auth = {"Authorization": "Bearer sk-xiexus"}
    body = {
        "model": "veo-3.0-generate-001",
        "prompt": "waves at dusk",
        "duration": 3,
        "width": 640,
        "height": 360,
        "fps": 24,
        "seed": 7,
        "metadata": {"job": "42"},
    }
    created = http.post("/xiexus/v1/video/generations", json=body, headers=auth)
    assert created.status_code == 200, created.text
    task = created.json()
    assert task["status"] == "queued" and task["task_id"]
    assert task["metadata"]["width"] == 640 and task["metadata"]["seed"] == 7

    server.advance(2)
    assert http.get(f"/xiexus/v1/video/generations/{task['task_id']}", headers=auth).json()["status"] in ("queued", "in_progress")
    server.advance(120)
    done = http.get(f"/xiexus/v1/video/generations/{task['task_id']}", headers=auth).json()
    assert done["status"] == "completed" and done["format"] == "mp4"
    video = httpx.get(done["url"], timeout=10)
    assert video.headers["content-type"] == "video/mp4"
    assert decoded_size(video.content) == (640, 360, 3.0)

    missing = http.get("/xiexus/v1/video/generations/video_doesnotexist", headers=auth)
    assert missing.status_code == 404
    assert set(missing.json()["error"]) >= {"message", "type"}


def test_veo_relay_published_flow(server: LiveMockServer, http: httpx.Client) -> None:
    auth = {"Authorization": "Bearer sk-relay"}
    body = {
        "model": "veo3.1-fast",
        "prompt": "make animate",
        "images": [],
        "aspect_ratio": "16:9",
        "enhance_prompt": True,
        "enable_upsample": False,
    }
    created = http.post("/veo-relay/v1/video/create", json=body, headers=auth)
    assert created.status_code == 200, created.text
    task_id = created.json()["id"]
    model, _, rest = task_id.partition(":")
    assert model == "veo3.1-fast" and rest.split("-", 1)[0].isdigit()

    server.advance(120)
    done = http.get("/veo-relay/v1/video/query", params={"id": task_id}, headers=auth).json()
    assert done["id"] == task_id and done["status"] == "completed"
    assert isinstance(done["status_update_time"], int) and done["status_update_time"] > 1_700_000_000_000
    assert done["detail"]["video_generation_status"] == "MEDIA_GENERATION_STATUS_SUCCESSFUL"
    width, height, _ = decoded_size(httpx.get(done["video_url"], timeout=10).content)
    assert (width, height) == (1280, 720)

    assert http.get("/veo-relay/v1/video/query", params={"id": task_id}).status_code == 401


SCENARIOS = {"": "succeeded", " [mock:fail]": "failed", " [mock:filtered]": "filtered", " [mock:never]": "running"}


@pytest.mark.parametrize("suffix", list(SCENARIOS), ids=["success", "fail", "filtered", "never"])
@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_every_dialect_and_scenario_over_a_socket(server: LiveMockServer, http: httpx.Client, name: str, suffix: str) -> None:
    dialect: Dialect = DIALECTS[name]
    f = flow.start(http, dialect, "socket-key", prompt_suffix=suffix)
    for _ in range(20):
        server.advance(5)
        r = flow.poll(http, f, "socket-key")
        assert r.status_code == 200, r.text
        if f.states[-1] in TERMINAL:
            break
    want = SCENARIOS[suffix]
    final = f.states[-1]
    if want == "running":
        assert final not in TERMINAL, f"a never-finishing operation ended as {final}"
        return
    assert final == want or (want == "filtered" and final == "failed"), f.states
    if want == "succeeded":
        videos = flow.download(http, f, f.bodies[-1], "socket-key")
        assert videos and all(decoded_size(v)[2] > 0 for v in videos)
