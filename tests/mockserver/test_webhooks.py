"""Webhooks: planned from (record, clock), sent when the clock reaches them, retried under the same id."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mockserver.lifecycle import state_at, timeline
from mockserver.record import OperationRecord
from mockserver.testing import MockVideoAPI
from mockserver.webhooks import sign

SECRET = "whsec_" + base64.b64encode(b"webhook-test-secret-0123456789ab").decode()
URL = "http://receiver.test/hooks"
KEY = {"authorization": "Bearer sk-hooks"}


class Receiver:
    """An httpx transport that records each delivery and answers from a script (then 200)."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [])
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return httpx.Response(self.answers.pop(0) if self.answers else 200)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def mock(receiver: Receiver) -> Iterator[MockVideoAPI]:
    with MockVideoAPI(seed=4, webhook_urls=((None, URL),), webhook_secret=SECRET, webhook_transport=httpx.MockTransport(receiver)) as m:
        yield m


def create(mock: MockVideoAPI, prompt: str = "a hook") -> str:
    r = mock.client.post("/openai/v1/videos", json={"prompt": prompt}, headers=KEY)
    assert r.status_code == 200, r.text
    video_id: str = r.json()["id"]
    return video_id


def test_an_event_is_sent_when_the_clock_reaches_it_signed_and_rendered_then(mock: MockVideoAPI, receiver: Receiver) -> None:
    video = create(mock)
    assert mock.deliver_due() == 0 and receiver.seen == []  # nothing is due yet
    mock.advance(60)
    assert mock.deliver_due() == 1
    (request,) = receiver.seen
    body = request.content
    assert orjson.loads(body) == {
        "id": f"evt_{video.removeprefix('video_')}c",
        "object": "event",
        "created_at": orjson.loads(body)["created_at"],
        "type": "video.completed",
        "data": {"id": video},
    }
    stamp = int(request.headers["webhook-timestamp"])
    assert request.headers["webhook-signature"] == sign(SECRET, request.headers["webhook-id"], stamp, body)
    assert mock.deliver_due() == 0  # delivered once
    listed = mock.client.get("/_mock/webhooks").json()["deliveries"]
    assert [(d["status"], d["attempts"], d["last"]) for d in listed] == [("delivered", 1, "200")]


def test_a_failing_receiver_gets_retries_with_the_same_id_on_the_mocks_clock(mock: MockVideoAPI, receiver: Receiver) -> None:
    receiver.answers = [503, 500]
    create(mock)
    mock.advance(60)
    assert mock.deliver_due() == 1  # the first attempt: 503
    assert mock.deliver_due() == 0  # the retry waits for its backoff (1 s on the mock's clock)
    mock.advance(1)
    assert mock.deliver_due() == 1  # 500
    mock.advance(2)
    assert mock.deliver_due() == 1  # 200
    ids = {r.headers["webhook-id"] for r in receiver.seen}
    assert len(receiver.seen) == 3 and len(ids) == 1
    (delivery,) = mock.client.get("/_mock/webhooks").json()["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 3)
    assert [a["answer"] for a in delivery["history"]] == ["503", "500", "200"]


def test_a_receiver_that_never_answers_2xx_is_given_up_after_the_dialects_attempts(mock: MockVideoAPI, receiver: Receiver) -> None:
    receiver.answers = [500] * 10
    create(mock)
    mock.advance(60)
    for _ in range(10):
        mock.deliver_due()
        mock.advance(60)
    (delivery,) = mock.client.get("/_mock/webhooks").json()["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 5)
    assert len(receiver.seen) == 5
    assert 'videogen_webhook_attempts_total{dialect="openai",outcome="failed"} 1' in mock.client.get("/_mock/metrics").text


def test_a_job_forced_to_fail_sends_the_failure_not_the_success(mock: MockVideoAPI, receiver: Receiver) -> None:
    video = create(mock, "to be forced")
    (record,) = mock.records("openai")
    assert mock.client.post(f"/_mock/operations/{record.token}/state", json={"state": "failed"}).status_code == 200
    mock.advance(60)
    mock.deliver_due()
    assert [orjson.loads(r.content)["type"] for r in receiver.seen] == ["video.failed"]
    assert orjson.loads(receiver.seen[0].content)["data"]["id"] == video
    statuses = sorted(d["status"] for d in mock.client.get("/_mock/webhooks").json()["deliveries"])
    assert statuses == ["delivered", "superseded"]


def test_a_deleted_job_sends_nothing_more(mock: MockVideoAPI, receiver: Receiver) -> None:
    video = create(mock, "to be deleted")
    assert mock.client.delete(f"/openai/v1/videos/{video}", headers=KEY).status_code == 200
    mock.advance(60)
    mock.deliver_due()
    assert receiver.seen == []


def test_webhooks_go_only_where_the_mock_was_told() -> None:
    seen = Receiver()
    with MockVideoAPI(seed=4, webhook_transport=httpx.MockTransport(seen)) as m:  # no --webhook-url
        create(m)
        m.advance(60)
        assert m.deliver_due() == 0
    assert seen.seen == []


def test_a_callback_url_no_request_can_go_to_is_an_error_for_it_alone() -> None:
    """A client's callback_url that httpx cannot even parse fails that delivery, never the pass."""
    seen = Receiver()
    with MockVideoAPI(seed=4, webhook_transport=httpx.MockTransport(seen)) as m:
        for url in ("http://[::1/", "http://receiver.test/fine"):
            body = {"model": "ray-2", "prompt": "a callback", "callback_url": url}
            r = m.client.post("/luma/dream-machine/v1/generations/video", json=body, headers=KEY)
            assert r.status_code == 201, r.text
        m.advance(600)
        m.deliver_due()
        listed = m.client.get("/_mock/webhooks").json()
    assert {str(r.url) for r in seen.seen} == {"http://receiver.test/fine"} and len(seen.seen) == 2  # dreaming, completed
    bad = [d for d in listed["deliveries"] if d["url"] == "http://[::1/"]
    assert bad and all(d["last"] == "error: InvalidURL" for d in bad), bad


@given(
    queued=st.floats(0, 100),
    running=st.floats(0, 100),
    outcome=st.sampled_from(["succeeded", "failed", "filtered", "never"]),
    forced=st.one_of(st.none(), st.tuples(st.sampled_from(["failed", "cancelled"]), st.floats(0, 300))),
    at=st.floats(0, 400),
)
@example(queued=0.0, running=5e-324, outcome="never", forced=None, at=1.0)  # a vanishing run: progress once divided to inf
def test_the_timeline_agrees_with_state_at(
    queued: float, running: float, outcome: str, forced: tuple[str, float] | None, at: float
) -> None:
    """What a webhook announces is what a poll would show: the last step at or before a time is state_at's answer."""
    start = 1_767_225_600.0
    record = OperationRecord("t", "d", "o", "m", start, queued, running, outcome)
    if forced is not None:
        record.forced_state, record.forced_at = forced[0], start + forced[1]
    steps = [(s, t) for s, t in timeline(record) if t <= start + at]
    assert steps and steps[-1][0] == state_at(record, start + at).state
