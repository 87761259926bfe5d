"""Hostile and broken input, over a real socket: every case gets a clear 4xx in the
vendor's own documented error shape, the server stays up, and no accepted
operation is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jsonschema_rs
import orjson
import pytest

from mockserver.config import MockConfig
from mockserver.testing import LiveMockServer, MockVideoAPI, SyncASGITransport
from tests import flow
from tests.conftest import DIALECTS
from videogen.dialect import Dialect
from videogen.reading import create_request

pytestmark = pytest.mark.slow

MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def live() -> Iterator[LiveMockServer]:
    with LiveMockServer(seed=4, max_body_bytes=MAX_BODY) as server:
        yield server


@pytest.fixture(scope="module")
def http(live: LiveMockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base_url, timeout=10) as client:
        yield client


def raw_create(
    http: httpx.Client,
    dialect: Dialect,
    content: bytes | Iterator[bytes],
    content_type: str = "application/json",
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    req = create_request(dialect)
    headers = {**flow.auth(dialect, "hardening-key"), "content-type": content_type, **(extra or {})}
    return http.request(req.method, f"/{dialect.name}{req.path}", content=content, headers=headers)


def poll_raw(http: httpx.Client, dialect: Dialect, handle: str) -> httpx.Response:
    """A poll for ``handle`` exactly as given: the hostile part goes in where an id goes."""
    from videogen.reading import poll_request

    req = poll_request(dialect.read, handle, model="veo-3.0-generate-001")
    return http.request(req.method, f"/{dialect.name}{req.path}", json=req.json, headers=flow.auth(dialect, "hardening-key"))


def in_pieces(data: bytes, size: int = 1024) -> Iterator[bytes]:
    """A body sent with chunked transfer encoding (no Content-Length), ``size`` bytes at a time."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def nested(depth: int) -> bytes:
    return b'{"prompt": "x", "model": "m", "deep": ' + b"[" * depth + b"]" * depth + b"}"


CASES: dict[str, Callable[[httpx.Client, Dialect], httpx.Response]] = {
    "body over the size limit": lambda h, d: raw_create(h, d, b'{"prompt": "' + b"x" * (MAX_BODY + 10) + b'"}'),
    "streamed body over the size limit, no Content-Length": lambda h, d: raw_create(
        h, d, in_pieces(b'{"prompt": "' + b"x" * (MAX_BODY + 10) + b'"}')
    ),
    "JSON nested 100 deep": lambda h, d: raw_create(h, d, nested(100)),
    "JSON nested 5000 deep": lambda h, d: raw_create(h, d, nested(5000)),
    "malformed JSON": lambda h, d: raw_create(h, d, b'{"prompt": "x"'),
    "empty body": lambda h, d: raw_create(h, d, b""),
    "body not UTF-8": lambda h, d: raw_create(h, d, b'{"prompt": "\xff\xfe"}'),
    "a JSON array, not an object": lambda h, d: raw_create(h, d, b"[1, 2, 3]"),
    "wrong Content-Type": lambda h, d: raw_create(h, d, b'{"prompt": "x"}', "text/plain"),
    "headers over 16 KiB": lambda h, d: raw_create(h, d, b"{}", extra={"x-padding": "a" * 20_000}),
    "id of 5000 characters": lambda h, d: poll_raw(h, d, "a" * 5000),
    "id with path traversal": lambda h, d: poll_raw(h, d, "..%2F..%2F..%2Fetc%2Fpasswd"),
    "id with invalid UTF-8": lambda h, d: poll_raw(h, d, "%ff%fe%fd"),
    "id with a NUL byte": lambda h, d: poll_raw(h, d, "ab%00cd"),
    "id with a newline": lambda h, d: poll_raw(h, d, "ab%0Acd"),
    "unknown path": lambda h, d: h.get(f"/{d.name}/v9/nothing/here", headers=flow.auth(d, "k")),
}


def documented_error(dialect: Dialect, r: httpx.Response) -> None:
    """The answer is a 4xx the dialect documents somewhere, in that status's documented shape."""
    assert 400 <= r.status_code < 500, f"{r.status_code}: {r.text[:300]}"
    assert r.headers["content-type"].startswith("application/json")
    schemas = [spec.content.get("application/json") for op in dialect.operations if (spec := op.response_for(r.status_code)) is not None]
    schemas = [s for s in schemas if s]
    assert schemas, f"{dialect.name} documents no {r.status_code} anywhere"
    body = r.json()
    assert any(jsonschema_rs.validator_for(s).is_valid(body) for s in schemas), (
        f"{r.status_code} body does not match the documented error schema: {r.text[:300]}"
    )


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_bad_input_gets_the_vendors_documented_4xx(http: httpx.Client, name: str, case: str) -> None:
    dialect = DIALECTS[name]
    documented_error(dialect, CASES[case](http, dialect))


def test_the_server_stays_up_and_loses_nothing_under_a_barrage(http: httpx.Client, live: LiveMockServer) -> None:
    accepted = {name: flow.start(http, d, "survivor") for name, d in DIALECTS.items()}
    for dialect in DIALECTS.values():
        for case in CASES.values():
            assert case(http, dialect).status_code < 500
    assert http.get("/_mock/health").status_code == 200
    for f in accepted.values():
        assert flow.poll(http, f, "survivor").status_code == 200, f"{f.dialect.name} lost {f.handle}"


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_a_body_streamed_in_pieces_is_assembled(http: httpx.Client, name: str) -> None:
    dialect = DIALECTS[name]
    req = create_request(dialect, prompt_suffix=" " + "y" * 3000)  # several pieces of 1 KiB
    body = orjson.dumps(req.json)
    headers = {**flow.auth(dialect, "pieces-key"), "content-type": "application/json"}
    r = http.request(req.method, f"/{dialect.name}{req.path}", content=in_pieces(body), headers=headers)
    assert r.status_code == dialect.create.status, r.text
    assert r.request.headers.get("transfer-encoding") == "chunked"


def asgi_create(mock: MockVideoAPI, messages: list[dict[str, Any]], extra: tuple[tuple[bytes, bytes], ...] = ()) -> list[dict[str, Any]]:
    """A gemini create sent as raw ASGI messages, for what no HTTP client would send; the messages sent back."""
    req = create_request(DIALECTS["gemini"])
    sent: list[dict[str, Any]] = []
    queue = iter(messages)

    async def receive() -> dict[str, Any]:
        return next(queue)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": req.method,
        "scheme": "http",
        "path": f"/gemini{req.path}",
        "raw_path": f"/gemini{req.path}".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"mock"), (b"x-goog-api-key", b"raw-key"), (b"content-type", b"application/json"), *extra],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(mock.app(scope, receive, send))
    return sent


def test_a_client_gone_before_its_body_ends_gets_no_answer_and_creates_nothing(mock: MockVideoAPI) -> None:
    sent = asgi_create(mock, [{"type": "http.request", "body": b'{"instances": [', "more_body": True}, {"type": "http.disconnect"}])
    assert sent == []
    assert mock.client.get("/_mock/operations").json()["operations"] == []


def test_a_content_length_of_non_ascii_digits_is_not_a_crash(mock: MockVideoAPI) -> None:
    body = orjson.dumps(create_request(DIALECTS["gemini"]).json)
    # b"\xb2" is latin-1 for a superscript two: str.isdigit() says yes, int() says no.
    sent = asgi_create(mock, [{"type": "http.request", "body": body, "more_body": False}], ((b"content-length", b"\xb2"),))
    assert sent[0]["status"] == 200, sent


# -- the control API --------------------------------------------------------------------------


def client_from(mock: MockVideoAPI, host: str) -> httpx.Client:
    transport = SyncASGITransport(mock.app)
    transport._inner = httpx.ASGITransport(app=mock.app, client=(host, 40000))
    return httpx.Client(transport=transport, base_url="http://mock")


def test_control_is_loopback_only_without_a_token() -> None:
    with MockVideoAPI() as mock:
        remote = client_from(mock, "203.0.113.7")
        r = remote.get("/_mock/operations")
        assert r.status_code == 403 and "--control-token" in r.json()["error"]["message"]
        assert client_from(mock, "127.0.0.1").get("/_mock/operations").status_code == 200


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("::1234:5678", False),  # began with "::1" as a string
        ("1270.0.0.1", False),
        ("127.example.com", False),
        ("203.0.113.7", False),
        ("::ffff:203.0.113.7", False),
        ("", False),
    ],
)
def test_loopback_is_an_address_not_a_prefix(host: str, allowed: bool) -> None:
    with MockVideoAPI() as mock:
        status = client_from(mock, host).get("/_mock/operations").status_code
    assert status == (200 if allowed else 403), host


def test_with_a_token_control_needs_it_from_everywhere() -> None:
    with MockVideoAPI(config=MockConfig(control_token="s3cret", control_loopback_only=False)) as mock:
        remote = client_from(mock, "203.0.113.7")
        assert remote.get("/_mock/operations").status_code == 401
        assert remote.get("/_mock/operations", headers={"x-mock-token": "wrong"}).status_code == 401
        assert remote.get("/_mock/operations", headers={"x-mock-token": "s3cret"}).status_code == 200


def test_control_lists_owners_as_digests_and_filters_by_key(mock: MockVideoAPI) -> None:
    dialect = DIALECTS["gemini"]
    flow.start(mock.client, dialect, "alice-key")
    flow.start(mock.client, dialect, "bob-key")
    listed: list[dict[str, Any]] = mock.client.get("/_mock/operations").json()["operations"]
    assert len(listed) == 2 and "alice-key" not in str(listed)
    mine = mock.client.get("/_mock/operations", params={"api_key": "alice-key"}).json()["operations"]
    assert len(mine) == 1 and mine[0]["owner"] != "alice-key"


def test_hostile_host_headers_do_not_grow_the_answer_caches() -> None:
    """Poll answers are cached per base URL, which comes from Host: a thousand 8 KB Hosts stay uncached."""
    with MockVideoAPI(seed=5) as mock:
        dialect = DIALECTS["xiexus"]
        f = flow.start(mock.client, dialect, "host-key")
        mock.advance(600)
        for i in range(1000):
            host = f"h{i:04d}-" + "x" * 8000 + ".test"
            r = mock.client.get(f"/xiexus/v1/video/generations/{f.handle}", headers={**flow.auth(dialect, "host-key"), "host": host})
            assert r.status_code == 200 and host in r.json()["url"]  # still answered, with its own links
        sim = mock.runtime.simulators["xiexus"]
        kept = [key for key in sim._bodies if "x" * 8000 in key[3]] + [key for key in sim._results if "x" * 8000 in key[1]]
        assert kept == [], f"{len(kept)} answers cached under hostile Host headers"
        assert len(sim._bases) <= 16
