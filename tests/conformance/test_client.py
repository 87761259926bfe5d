"""The kit's HTTP client: literal paths, rate limiting, courtesy under 429, redaction."""

from __future__ import annotations

import itertools
import shutil
import subprocess

import httpx
import pytest

from conformance.client import Client, parse_retry_after
from conformance.exchange import Exchange, Redactor, SentRequest


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def make_client(handler: httpx.MockTransport, clock: FakeClock, **options: float) -> Client:
    return Client("http://api.test/root", clock=clock, redactor=Redactor({"sk-secret": "API_KEY"}), transport=handler, **options)


def test_paths_are_sent_literally_with_their_slashes() -> None:
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path)
        return httpx.Response(200, json={})

    client = make_client(httpx.MockTransport(handler), FakeClock())
    client.send("GET", "/v1beta/models/veo-3/operations/abc123")
    assert seen == [b"/root/v1beta/models/veo-3/operations/abc123"]


def test_requests_are_spaced_by_the_rate_limit() -> None:
    clock = FakeClock()
    starts: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        starts.append(clock.t)
        return httpx.Response(200)

    client = make_client(httpx.MockTransport(handler), clock, rate_limit=4.0)
    for _ in range(5):
        client.send("GET", "/x")
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= 0.25 - 1e-9 for gap in gaps), gaps


def test_a_429_is_retried_only_after_retry_after() -> None:
    clock = FakeClock()
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={"ok": True})])
    client = make_client(httpx.MockTransport(lambda r: next(answers)), clock)
    exchange = client.send("GET", "/x")
    assert exchange.status == 200
    assert clock.slept == [7.0]
    assert [t.retry_after for t in client.throttles] == [7.0] and not client.throttles[0].gave_up


def test_a_server_that_always_429s_is_never_hammered() -> None:
    clock = FakeClock()
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(clock.t)
        return httpx.Response(429)

    client = make_client(httpx.MockTransport(handler), clock, max_retries=3)
    assert client.send("GET", "/x").status == 429
    assert len(calls) == 4  # one try and three retries
    assert clock.slept == [1.0, 2.0, 4.0]  # exponential back-off without Retry-After
    assert client.throttles[-1].gave_up


def test_a_retry_after_longer_than_the_kit_waits_is_not_waited_for() -> None:
    clock = FakeClock()
    client = make_client(httpx.MockTransport(lambda r: httpx.Response(429, headers={"Retry-After": "3600"})), clock, max_wait=60.0)
    client.send("GET", "/x")
    assert clock.slept == [] and client.throttles[0].gave_up


def test_keys_never_follow_a_redirect_to_another_origin() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.test":
            return httpx.Response(302, headers={"location": "https://cdn.test/v.mp4"})
        return httpx.Response(200, content=b"mp4")

    client = make_client(httpx.MockTransport(handler), FakeClock())
    exchange = client.send("GET", "/files/1", headers={"x-api-key": "sk-secret"}, follow_redirects=True)
    assert exchange.status == 200
    assert seen[0].headers["x-api-key"] == "sk-secret"
    assert "x-api-key" not in seen[1].headers


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), ("0", 0.0), ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0), ("soon", None), (None, None), ("-1", None), ("\u00b2", None)],
)
def test_retry_after_is_seconds_or_an_http_date(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now_epoch=1445412480.0) == expected


def test_curl_lines_redact_keys_and_reproduce_the_request() -> None:
    redactor = Redactor({"sk-secret": "API_KEY"})
    body = '{"prompt": "it\'s a cat ☃", "raw": "\\u0001"}'.encode()
    request = SentRequest("POST", "http://api.test/v1/x?key=sk-secret", (("Authorization", "Bearer sk-secret"),), body)
    line = Exchange(request, 200, redactor=redactor).curl()
    assert "sk-secret" not in line and '"$API_KEY"' in line
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash to run the curl line's words")
    words = line.split(" ", 4)[4]  # everything after "curl -sS -X POST"
    script = f"for w in {words}; do printf '%s\\n' \"$w\"; done"
    out = subprocess.run([bash, "-c", script], capture_output=True, check=True, env={"API_KEY": "sk-secret"}).stdout.decode()
    assert out.splitlines() == [
        "http://api.test/v1/x?key=sk-secret",
        "-H",
        "Authorization: Bearer sk-secret",
        "--data-binary",
        body.decode(),
    ]


def test_excerpts_are_trimmed_and_redacted() -> None:
    redactor = Redactor({"sk-secret": "API_KEY"})
    exchange = Exchange(
        SentRequest("GET", "http://x/"),
        400,
        {"content-type": "application/json"},
        b'{"key": "sk-secret", "pad": "' + b"x" * 900 + b'"}',
        redactor=redactor,
    )
    text = exchange.excerpt(200)
    assert "sk-secret" not in text and "$API_KEY" in text and len(text) < 300
    binary = Exchange(SentRequest("GET", "http://x/"), 200, {"content-type": "video/mp4"}, bytes(range(256)))
    assert "256 bytes starting 00 01 02" in binary.excerpt()


def test_an_answer_from_another_origin_is_described_never_quoted() -> None:
    page = b"INTERNAL-SECRET=hunter2\n"
    exchange = Exchange(SentRequest("GET", "http://10.0.0.5:8080/env"), 200, {"content-type": "text/plain"}, page, foreign=True)
    assert (
        exchange.excerpt()
        == f"HTTP 200 (text/plain), {len(page)} bytes from another origin (http://10.0.0.5:8080), not copied into reports"
    )
    client = make_client(httpx.MockTransport(lambda r: httpx.Response(200, content=page)), FakeClock())
    assert client.send("GET", "http://10.0.0.5:8080/env").foreign
    assert not client.send("GET", "/v1/x").foreign
