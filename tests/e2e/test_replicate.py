"""The official ``replicate`` SDK, unchanged, against the mock's ``/replicate`` dialect over a real socket.

The client is built as a user builds it, with the mock's root as ``base_url`` (the SDK
adds ``/v1/...``). Its pydantic models refuse a missing ``model`` or ``version``, an
unknown status, a non-string ``error`` or ``urls`` value: every answer is parsed by them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.clock import VirtualClock
from mockserver.testing import LiveMockServer
from tests.e2e.media import decoded
from tests.e2e.receiver import Delivery, Receiver

pytestmark = pytest.mark.slow

replicate = pytest.importorskip("replicate")

from replicate.exceptions import ModelError, ReplicateError  # noqa: E402
from replicate.helpers import FileOutput  # noqa: E402
from replicate.webhook import InvalidSignatureError, WebhookSigningSecret  # noqa: E402

MODEL = "google/veo-3"
TERMINAL = ("succeeded", "failed", "canceled")


@pytest.fixture(scope="module")
def server() -> Iterator[LiveMockServer]:
    """Real time, a hundred times faster: the SDK's own polling loop sees predictions finish."""
    with LiveMockServer(clock=VirtualClock(), time_scale=0.01, seed=21) as live:
        yield live


def client(server: LiveMockServer, token: str = "r8_test_token_1") -> Any:
    c = replicate.Client(api_token=token, base_url=server.url("replicate"))
    c.poll_interval = 0.05  # wait() sleeps this long before each GET
    return c


def delivered(receiver: Receiver, prediction_id: str, status: str) -> list[Delivery]:
    """Every delivery about the prediction, once one announcing ``status`` arrived (the deliverer runs beside the server)."""
    return receiver.wait_until(lambda deliveries: any(d.json()["status"] == status for d in deliveries), about=prediction_id)


def test_create_get_wait_then_a_signed_completed_webhook(server: LiveMockServer, receiver: Receiver) -> None:
    c = client(server)
    secret = c.webhooks.default.secret()  # GET /v1/webhooks/default/secret
    assert isinstance(secret, WebhookSigningSecret) and secret.key.startswith("whsec_")
    asked = {
        "prompt": "A slow dolly shot of a lighthouse at dusk, waves crashing",
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "duration": 4,
    }
    prediction = c.predictions.create(
        model=MODEL, input=asked, webhook=receiver.url("replicate-webhook"), webhook_events_filter=["completed"]
    )
    assert prediction.status == "starting"
    assert (prediction.model, prediction.version, prediction.input) == (MODEL, "hidden", asked)
    assert prediction.output is None and prediction.error is None and prediction.completed_at is None
    assert prediction.urls is not None and set(prediction.urls) == {"get", "cancel", "stream", "web"}
    assert prediction.urls["get"].endswith(f"/replicate/v1/predictions/{prediction.id}")

    again = c.predictions.get(prediction.id)
    assert again.id == prediction.id and again.status in ("starting", "processing", "succeeded")
    assert again.input == asked

    prediction.wait()  # polls GET /v1/predictions/{id} until a terminal status
    assert prediction.status == "succeeded" and prediction.error is None
    assert prediction.started_at and prediction.completed_at and prediction.created_at <= prediction.completed_at
    assert isinstance(prediction.output, str) and prediction.output.startswith("data:video/mp4;base64,")
    assert decoded(FileOutput(prediction.output, c).read())[:2] == (1280, 720)
    assert prediction.progress is not None and prediction.progress.percentage == 1.0

    deliveries = delivered(receiver, prediction.id, "succeeded")
    assert [d.json()["status"] for d in deliveries] == ["succeeded"], "the filter asked for 'completed' only: no 'start'"
    body, headers = deliveries[0].body, deliveries[0].headers
    assert json.loads(body)["output"] == prediction.output  # the body is the prediction itself
    text = body.decode()  # the validator wants the exact text of the body
    assert c.webhooks.validate(headers=headers, body=text, secret=secret, tolerance=300) is None  # raises when wrong
    with pytest.raises(InvalidSignatureError):
        c.webhooks.validate(headers=headers, body=text + " ", secret=secret)
    with pytest.raises(InvalidSignatureError):
        c.webhooks.validate(headers=headers, body=text, secret=WebhookSigningSecret(key="whsec_" + "A" * 44))


def test_cancel_a_fresh_prediction(server: LiveMockServer, receiver: Receiver) -> None:
    c = client(server)
    fresh = c.predictions.create(model=MODEL, input={"prompt": "to be canceled [mock:slow]"}, webhook=receiver.url("replicate-webhook"))
    assert fresh.status == "starting"
    canceled = c.predictions.cancel(fresh.id)  # a bodyless POST; the answer is the prediction
    assert canceled.id == fresh.id and canceled.status == "canceled" and canceled.output is None
    fresh.wait()
    assert fresh.status == "canceled" and fresh.completed_at is not None
    assert c.predictions.get(fresh.id).status == "canceled"
    deliveries = delivered(receiver, fresh.id, "canceled")
    assert deliveries[-1].json()["status"] == "canceled"


def test_run_returns_a_file_output_holding_the_asked_video(server: LiveMockServer) -> None:
    c = client(server)
    output = c.run(
        MODEL, input={"prompt": "A paper boat drifting down a rainy street", "aspect_ratio": "9:16", "resolution": "1080p", "duration": 6}
    )
    assert isinstance(output, FileOutput)  # the SDK wraps only https: and data: outputs
    data = output.read()
    assert data[4:8] == b"ftyp"
    width, height, duration = decoded(data)
    assert (width, height) == (1080, 1920) and abs(duration - 6) < 0.1


def test_a_failed_prediction_ends_failed_with_an_error(server: LiveMockServer, receiver: Receiver) -> None:
    c = client(server)
    prediction = c.predictions.create(model=MODEL, input={"prompt": "a storm [mock:fail]"}, webhook=receiver.url("replicate-webhook"))
    prediction.wait()  # never raises on a failure
    assert prediction.status == "failed" and prediction.output is None
    assert isinstance(prediction.error, str) and prediction.error
    statuses = [d.json()["status"] for d in delivered(receiver, prediction.id, "failed")]
    assert statuses[-1] == "failed" and "processing" in statuses, "without a filter, 'start' is sent too"
    with pytest.raises(ModelError) as raised:
        c.run(MODEL, input={"prompt": "another storm [mock:fail]"})
    assert raised.value.prediction.status == "failed" and str(raised.value) == raised.value.prediction.error


def test_a_version_create_echoes_its_version(server: LiveMockServer) -> None:
    c = client(server)
    version = "5ef0a3b2d8c94e1f7a6b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f"
    prediction = c.predictions.create(version=version, input={"prompt": "by version", "duration": 4})
    assert (prediction.status, prediction.version, prediction.model) == ("starting", version, MODEL)
    prediction.wait()
    assert prediction.status == "succeeded" and prediction.version == version


def test_errors_are_replicate_errors(server: LiveMockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    c = client(server)
    with pytest.raises(ReplicateError) as unknown:
        c.predictions.get("flow-does-not-exist-000")
    assert unknown.value.status == 404 and unknown.value.title == "Not found"
    with pytest.raises(ReplicateError) as invalid:
        c.predictions.create(model=MODEL, input={"aspect_ratio": "1:1"})
    assert invalid.value.status == 422 and invalid.value.title == "Input validation failed"
    assert invalid.value.detail is not None and "prompt" in invalid.value.detail and "aspect_ratio" in invalid.value.detail
    with pytest.raises(ReplicateError) as theirs:  # another token's prediction is as unknown as any
        client(server, "r8_someone_else").predictions.get(c.predictions.create(model=MODEL, input={"prompt": "mine"}).id)
    assert theirs.value.status == 404
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    with pytest.raises(ReplicateError) as anonymous:  # no token: the SDK sends no Authorization header
        replicate.Client(base_url=server.url("replicate")).predictions.get("anything")
    assert anonymous.value.status == 401 and anonymous.value.title == "Unauthenticated"
