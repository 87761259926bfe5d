"""The official ``openai`` SDK, unchanged, against the mock's ``/openai`` dialect over a real socket.

Every client is strict (``_strict_response_validation=True``): a field the mock
leaves out, a wrong type or an unknown status fails the test instead of parsing
silently, as a stock client would let it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.clock import VirtualClock
from mockserver.testing import LiveMockServer
from tests.e2e.media import decoded
from tests.e2e.receiver import Receiver

pytestmark = pytest.mark.slow

openai = pytest.importorskip("openai")

SECRET = "whsec_" + base64.b64encode(b"a-secret-for-the-webhook-test-01").decode()
PNG = base64.b64decode(  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def server(receiver: Receiver) -> Iterator[LiveMockServer]:
    """Real time, a hundred times faster: the SDK's own polling loop sees jobs finish."""
    with LiveMockServer(
        clock=VirtualClock(), time_scale=0.01, seed=11, webhook_urls=((None, receiver.url("hooks")),), webhook_secret=SECRET
    ) as live:
        yield live


def client(server: LiveMockServer, key: str = "sk-test-1") -> Any:
    return openai.OpenAI(api_key=key, base_url=f"{server.url('openai')}/v1", max_retries=0, _strict_response_validation=True)


def test_create_and_poll_then_download_every_variant(server: LiveMockServer) -> None:
    c = client(server)
    video = c.videos.create_and_poll(prompt="a calico cat at a piano", model="sora-2", seconds="8", size="1280x720", poll_interval_ms=50)
    assert video.status == "completed" and video.progress == 100
    assert (video.seconds, video.size, video.model) == ("8", "1280x720", "sora-2")
    assert video.completed_at is not None and video.expires_at == video.completed_at + 3600
    again = c.videos.retrieve(video.id)
    assert again.id == video.id and again.status == "completed"
    mp4 = c.videos.download_content(video.id, variant="video").content
    width, height, duration = decoded(mp4)
    assert (width, height) == (1280, 720) and abs(duration - 8) < 0.1
    thumbnail = c.videos.download_content(video.id, variant="thumbnail")
    assert thumbnail.response.headers["content-type"] == "image/webp"
    assert decoded(thumbnail.content, "webp_pipe")[:2] == (1280, 720)
    sprites = c.videos.download_content(video.id, variant="spritesheet")
    assert sprites.response.headers["content-type"] == "image/jpeg"
    assert decoded(sprites.content, "jpeg_pipe")[:2] == (3 * 320, 3 * 180)


def test_the_default_body_is_multipart_and_the_defaults_apply(server: LiveMockServer) -> None:
    c = client(server)
    video = c.videos.create(prompt="defaults only")
    assert (video.model, video.seconds, video.size, video.status) == ("sora-2", "4", "720x1280", "queued")
    done = c.videos.poll(video.id, poll_interval_ms=50)
    width, height, duration = decoded(c.videos.download_content(done.id).content)
    assert (width, height) == (720, 1280) and abs(duration - 4) < 0.1


def test_an_input_reference_must_be_an_image(server: LiveMockServer) -> None:
    c = client(server)
    video = c.videos.create(prompt="from a picture", input_reference=("ref.png", PNG, "image/png"))
    assert video.status == "queued"
    raw = c.videos.create(prompt="raw bytes are sniffed", input_reference=PNG)  # sent as 'upload', application/octet-stream
    assert raw.status == "queued"
    with pytest.raises(openai.BadRequestError) as refused:
        c.videos.create(prompt="not an image", input_reference=("notes.png", b"just text", "image/png"))
    assert refused.value.status_code == 400 and "input_reference" in str(refused.value.body)


def test_list_pages_through_every_video_newest_first(server: LiveMockServer) -> None:
    c = client(server, "sk-lister")
    made = [c.videos.create(prompt=f"list {i}").id for i in range(5)]
    listed = [v.id for v in c.videos.list(limit=2)]  # the SDK follows last_id -> after across pages
    assert listed == list(reversed(made))
    oldest_first = [v.id for v in c.videos.list(limit=3, order="asc")]
    assert oldest_first == made
    assert [v.id for v in client(server, "sk-someone-else").videos.list()] == []  # only the caller's


def test_remix_inherits_and_delete_makes_it_unknown(server: LiveMockServer) -> None:
    c = client(server)
    source = c.videos.create_and_poll(prompt="a red kite", seconds="8", size="1792x1024", poll_interval_ms=50)
    remix = c.videos.remix(source.id, prompt="a red kite at night")
    assert remix.remixed_from_video_id == source.id
    assert (remix.seconds, remix.size) == ("8", "1792x1024")
    assert c.videos.poll(remix.id, poll_interval_ms=50).status == "completed"
    with pytest.raises(openai.NotFoundError):
        c.videos.remix("video_doesnotexist0", prompt="x")
    deleted = c.videos.delete(remix.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (remix.id, "video.deleted", True)
    with pytest.raises(openai.NotFoundError):
        c.videos.retrieve(remix.id)
    with pytest.raises(openai.NotFoundError):
        c.videos.download_content(remix.id)


def test_a_failed_job_carries_an_error(server: LiveMockServer) -> None:
    c = client(server)
    video = c.videos.create_and_poll(prompt="a storm [mock:fail]", poll_interval_ms=50)
    assert video.status == "failed"
    assert video.error is not None and video.error.code == "generation_failed" and video.error.message


def test_results_expire_after_an_hour_on_the_mocks_clock() -> None:
    with LiveMockServer(seed=12) as live:  # a fake clock: the test moves it
        c = client(live)
        video = c.videos.create(prompt="short-lived")
        live.advance(30)
        assert c.videos.retrieve(video.id).status == "completed"
        assert c.videos.download_content(video.id).content[4:8] == b"ftyp"
        live.advance(3601)
        with pytest.raises(openai.NotFoundError) as expired:
            c.videos.download_content(video.id)
        assert expired.value.code == "video_expired"


def test_a_webhook_arrives_and_the_sdk_verifies_its_signature(server: LiveMockServer, receiver: Receiver) -> None:
    c = client(server)
    video = c.videos.create_and_poll(prompt="a webhook", poll_interval_ms=50)
    # the deliverer runs beside the server: wait for its POST, at most 10 s
    arrived = receiver.wait_until(lambda deliveries: any(video.id in d.body.decode() for d in deliveries))
    delivery = next(d for d in arrived if video.id in d.body.decode())
    body, headers = delivery.body, delivery.headers
    c.webhooks.verify_signature(body, headers, secret=SECRET)  # raises on a bad signature
    event = c.webhooks.unwrap(body, headers, secret=SECRET)
    assert event.type == "video.completed" and event.data.id == video.id
    with pytest.raises(openai.InvalidWebhookSignatureError):
        c.webhooks.verify_signature(body + b" ", headers, secret=SECRET)
