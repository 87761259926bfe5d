"""The official ``lumaai`` SDK, unchanged, against the mock's ``/luma`` dialect over a real socket.

Every client is strict (``_strict_response_validation=True``): a field the mock
leaves out, a wrong type or an unknown state fails the test instead of parsing
silently, as a stock client would let it. Assets are fetched as Luma's users fetch
them: plain httpx GETs of the URLs in ``assets``, without a key.
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

lumaai = pytest.importorskip("lumaai")
from lumaai.types import Generation, GenerationListResponse  # noqa: E402
from lumaai.types.generation import RequestGenerationRequest  # noqa: E402


@pytest.fixture(scope="module")
def server() -> Iterator[LiveMockServer]:
    """Real time, a hundred times faster: a generation dreams for 0.9 s (ray-flash-2: 0.4 s)."""
    with LiveMockServer(clock=VirtualClock(), time_scale=0.01, seed=31) as live:
        yield live


def base_url(server: LiveMockServer) -> str:
    return f"{server.url('luma')}/dream-machine/v1"


def client(server: LiveMockServer, key: str = "luma-key-1") -> Any:
    return lumaai.LumaAI(auth_token=key, base_url=base_url(server), max_retries=0, _strict_response_validation=True)


def wait(c: Any, generation_id: str, timeout: float = 20.0) -> tuple[Generation, list[str]]:
    """Poll with ``generations.get`` until the generation completes or fails; the states seen, in order."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        g = c.generations.get(generation_id)
        if not seen or seen[-1] != g.state:
            seen.append(g.state)
        if g.state in ("completed", "failed"):
            return g, seen
        assert time.monotonic() < deadline, f"{generation_id} still {g.state} after {timeout} s"
        time.sleep(0.01)


def fetch(url: str) -> httpx.Response:
    r = httpx.get(url, timeout=30)  # no Authorization: asset URLs are links anyone holding them may follow
    assert r.status_code == 200, r.text
    return r


def test_create_poll_and_download_the_video_and_its_still(server: LiveMockServer) -> None:
    c = client(server)
    prompt = "A teddy bear in sunglasses playing electric guitar on a beach at sunset"
    g = c.generations.create(model="ray-2", prompt=prompt, aspect_ratio="16:9", resolution="720p", duration="9s", loop=False)
    assert isinstance(g, Generation) and g.id and g.state == "queued"
    assert (g.generation_type, g.model, g.assets, g.failure_reason) == ("video", "ray-2", None, None)
    assert g.created_at is not None and g.created_at.tzinfo is not None
    assert isinstance(g.request, RequestGenerationRequest), "the echo reads as the video request"
    r = g.request
    assert (r.model, r.prompt, r.aspect_ratio, r.resolution, r.duration, r.loop) == ("ray-2", prompt, "16:9", "720p", "9s", False)
    assert r.callback_url is None and r.keyframes is None

    done, seen = wait(c, g.id)
    assert done.state == "completed" and seen[-1] == "completed"
    assert set(seen) <= {"queued", "dreaming", "completed"}
    assert done.failure_reason is None and done.assets is not None and done.assets.progress_video is None
    assert done.created_at == g.created_at and done.request == g.request
    assert isinstance(done.assets.video, str) and isinstance(done.assets.image, str)

    video = fetch(done.assets.video)
    assert video.headers["content-type"] == "video/mp4" and video.content[4:8] == b"ftyp"
    width, height, duration = decoded(video.content)
    assert (width, height) == (1280, 720) and abs(duration - 9) < 0.1
    still = fetch(done.assets.image)
    assert still.headers["content-type"] == "image/jpeg"
    assert decoded(still.content, "jpeg_pipe")[:2] == (1280, 720)


def test_defaults_and_the_4k_size_table(server: LiveMockServer) -> None:
    c = client(server)
    plain = c.generations.video.create(model="ray-flash-2", prompt="defaults only, please")  # the same route as create
    echo = plain.request
    assert (echo.aspect_ratio, echo.resolution, echo.duration, echo.loop, echo.callback_url) == ("16:9", "720p", "5s", False, None)
    wide = c.generations.create(model="ray-2", prompt="a very wide 4k shot", resolution="4k", aspect_ratio="21:9", duration="5s")
    for g, size, seconds in ((plain, (1280, 720), 5), (wide, (4096, 1756), 5)):
        done, _ = wait(c, g.id)
        assert done.state == "completed", done.failure_reason
        width, height, duration = decoded(fetch(done.assets.video).content)
        assert (width, height) == size and abs(duration - seconds) < 0.1


def test_callbacks_post_the_generation_as_get_shows_it(server: LiveMockServer, receiver: Receiver) -> None:
    c = client(server)
    silent = c.generations.create(model="ray-2", prompt="no callback for this one")
    url = receiver.url("luma-callback/abc123")
    g = c.generations.create(
        model="ray-flash-2",
        prompt="A paper boat drifting down a rainy city street",
        aspect_ratio="9:16",
        resolution="540p",
        callback_url=url,
        keyframes={"frame0": {"type": "image", "url": "https://example.com/start.jpg"}},
    )
    assert g.request.callback_url == url and g.request.keyframes.frame0.url == "https://example.com/start.jpg"
    done, _ = wait(c, g.id)
    wait(c, silent.id)
    receiver.wait_until(lambda deliveries: len(deliveries) >= 2, about=g.id)  # the deliverer runs beside the server
    deliveries = receiver.about(g.id)
    states = sorted(d.json()["state"] for d in deliveries)
    assert states == ["completed", "dreaming"], states  # never queued
    for path, headers, body in ((d.path, d.headers, d.json()) for d in deliveries):
        assert path == "/luma-callback/abc123" and headers["content-type"].startswith("application/json")
        assert not any(h.startswith("webhook-") for h in headers), "Luma's callbacks are unsigned"
        parsed = Generation.model_validate(body)  # strict pydantic, as the SDK's own model
        assert parsed.id == g.id and isinstance(parsed.request, RequestGenerationRequest)
        if parsed.state == "completed":
            assert parsed.model_dump() == done.model_dump(), "the completed callback is the Generation as get shows it"
        else:
            assert parsed.assets is None and parsed.failure_reason is None
    assert receiver.about(silent.id) == [], "nothing is sent for a generation created without callback_url"


def test_list_pages_by_offset_through_this_keys_generations_only(server: LiveMockServer) -> None:
    other = client(server, "luma-someone-else")
    theirs = other.generations.create(model="ray-2", prompt="not yours to see").id
    c = client(server, "luma-lister")
    made = [c.generations.create(model="ray-2", prompt=f"list item {i}").id for i in range(5)]
    seen: list[str] = []
    offset = 0
    while True:
        page = c.generations.list(limit=2, offset=offset)
        assert isinstance(page, GenerationListResponse)
        assert (page.limit, page.offset) == (2, offset) and len(page.generations) <= 2
        assert page.count == len(page.generations)
        seen += [g.id for g in page.generations]
        if not page.has_more:
            break
        offset += len(page.generations)
    assert seen == list(reversed(made)), "newest first, each exactly once"
    everything = c.generations.list()
    assert [g.id for g in everything.generations] == seen and everything.has_more is False
    assert (everything.limit, everything.offset) == (100, 0)
    assert theirs not in seen and [g.id for g in other.generations.list().generations] == [theirs]
    with pytest.raises(lumaai.BadRequestError) as refused:
        c.generations.list(limit=0)
    assert "detail" in refused.value.body


def test_delete_in_any_state_makes_the_generation_unknown(server: LiveMockServer) -> None:
    c = client(server)
    queued = c.generations.create(model="ray-2", prompt="deleted while queued")
    assert c.generations.delete(queued.id) is None
    with pytest.raises(lumaai.NotFoundError) as gone:
        c.generations.get(queued.id)
    assert gone.value.status_code == 404 and isinstance(gone.value.body, dict) and gone.value.body["detail"]
    finished, _ = wait(c, c.generations.create(model="ray-2", prompt="deleted when completed").id)
    asset = finished.assets.video
    c.generations.delete(finished.id)
    with pytest.raises(lumaai.NotFoundError):
        c.generations.get(finished.id)
    with pytest.raises(lumaai.NotFoundError):
        c.generations.delete(finished.id)
    assert httpx.get(asset).status_code == 404, "a deleted generation's assets go with it"
    assert finished.id not in [g.id for g in c.generations.list().generations]


def test_a_failed_and_a_moderated_generation_carry_a_failure_reason(server: LiveMockServer) -> None:
    c = client(server)
    failed, _ = wait(c, c.generations.create(model="ray-2", prompt="a storm at sea [mock:fail]").id)
    assert failed.state == "failed" and failed.failure_reason == "Prompt processing failed" and failed.assets is None
    blocked, _ = wait(c, c.generations.create(model="ray-2", prompt="something forbidden [mock:filtered]").id)
    assert blocked.state == "failed" and blocked.failure_reason == "Advanced prompt moderation failed"


def test_errors_are_luma_shaped(server: LiveMockServer) -> None:
    c = client(server)
    with pytest.raises(lumaai.NotFoundError) as unknown:
        c.generations.get("6c3a0a4a-0cee-4a2b-84ed-f35aff860389")
    assert set(unknown.value.body) == {"detail"}
    with pytest.raises(lumaai.BadRequestError) as bad_model:
        c.generations.create(model="ray-1-6", prompt="a retired model")  # type: ignore[arg-type]
    assert "model" in bad_model.value.body["detail"]
    with pytest.raises(lumaai.BadRequestError):
        c.generations.create(model="ray-2", resolution="8k", prompt="not a resolution")
    with pytest.raises(lumaai.BadRequestError):
        c.generations.create(model="ray-2")  # neither a prompt nor keyframes
    anonymous = httpx.get(f"{base_url(server)}/generations")
    assert anonymous.status_code == 401 and set(anonymous.json()) == {"detail"}
    assert c.ping.check().message == "pong"


def test_the_legacy_create_path_of_older_sdks(server: LiveMockServer) -> None:
    headers = {"authorization": "Bearer luma-key-1"}
    body = {"model": "ray-flash-2", "prompt": "an old client's request", "aspect_ratio": "21:9", "resolution": "1080p", "duration": "9s"}
    r = httpx.post(f"{base_url(server)}/generations", json=body, headers=headers)
    assert r.status_code == 201, r.text
    g = Generation.model_validate(r.json())
    assert g.state == "queued" and g.model == "ray-flash-2" and isinstance(g.request, RequestGenerationRequest)
    done, _ = wait(client(server), g.id)
    width, height, duration = decoded(fetch(done.assets.video).content)
    assert (width, height) == (2520, 1080) and abs(duration - 9) < 0.1
    no_model = httpx.post(f"{base_url(server)}/generations", json={"prompt": "SDKs before 1.10 sent no model"}, headers=headers)
    assert no_model.status_code == 201 and no_model.json()["model"] == "ray-2"
    refused = httpx.post(f"{base_url(server)}/generations", json={"prompt": "x"}, headers=headers)
    assert refused.status_code == 400 and set(refused.json()) == {"detail"}


def test_each_create_sends_its_callbacks_once(server: LiveMockServer, receiver: Receiver) -> None:
    """Both creates declare the same callbacks: a generation gets those of the create that made it, once."""
    headers = {"authorization": "Bearer luma-key-1"}
    body = {"model": "ray-flash-2", "prompt": "an old client asks for callbacks", "callback_url": receiver.url("luma-callback/legacy")}
    legacy = httpx.post(f"{base_url(server)}/generations", json=body, headers=headers).json()["id"]
    current = (
        client(server)
        .generations.create(model="ray-2", prompt="a new client asks too", callback_url=receiver.url("luma-callback/current"))
        .id
    )
    for generation in (legacy, current):
        wait(client(server), generation)
        receiver.wait_until(lambda deliveries: len(deliveries) >= 2, about=generation)
    time.sleep(0.3)  # a duplicate would arrive in this time
    for generation, tail in ((legacy, "legacy"), (current, "current")):
        deliveries = receiver.about(generation)
        assert sorted(d.json()["state"] for d in deliveries) == ["completed", "dreaming"], deliveries
        assert {d.path for d in deliveries} == {f"/luma-callback/{tail}"}
