"""The HTTP layer's bounds on a real socket: heads that never end, clients that say nothing, bodies that stall."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from mockserver.testing import LiveMockServer

pytestmark = pytest.mark.slow

TIMEOUT = 1.0


@pytest.fixture(scope="module")
def live() -> Iterator[LiveMockServer]:
    with LiveMockServer(seed=6, header_timeout_s=TIMEOUT, body_timeout_s=TIMEOUT) as server:
        yield server


def connect(live: LiveMockServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", live.port), timeout=10)


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes, float]:
    """Whether the server closed the connection within ``seconds``; what it sent first; when."""
    started, received = time.monotonic(), b""
    sock.settimeout(seconds)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True, received, time.monotonic() - started
            received += chunk
    except TimeoutError:
        return False, received, time.monotonic() - started
    except ConnectionResetError:
        return True, received, time.monotonic() - started


def test_a_head_that_never_ends_is_refused_before_the_server_holds_it(live: LiveMockServer) -> None:
    with connect(live) as sock:
        sock.sendall(b"GET /gemini/v1beta/models HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        sent = 0
        try:
            for _ in range(200):  # 200 KiB of one header value, never finished
                sock.sendall(b"a" * 1024)
                sent += 1024
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed, answer, _ = closed_within(sock, 5)
    assert closed and answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert sent < 200 * 1024 or answer, "the server stopped reading"


def test_an_oversized_but_finished_head_is_still_answered_in_the_vendors_shape(live: LiveMockServer) -> None:
    r = httpx.get(f"{live.url('gemini')}/v1beta/models/x/operations/y", headers={"x-goog-api-key": "k", "x-big": "b" * 20_000})
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT" and "limit is 16384 bytes" in r.text


@pytest.mark.parametrize("drip", [False, True], ids=["silent", "dripping"])
def test_a_client_that_sends_no_head_in_time_is_closed(live: LiveMockServer, drip: bool) -> None:
    started = time.monotonic()
    with connect(live) as sock:
        if drip:  # one byte every 0.2 s: each arrives in time, the head never does
            try:
                for byte in b"GET /gemini/v1beta/models HTTP/1.1\r\nHost: x\r\n":
                    sock.sendall(bytes([byte]))
                    time.sleep(0.2)
            except (BrokenPipeError, ConnectionResetError):
                pass
        closed, answer, _ = closed_within(sock, TIMEOUT + 3)
    assert closed and answer == b""
    assert time.monotonic() - started < TIMEOUT + 3


def test_a_stalled_body_is_closed(live: LiveMockServer) -> None:
    with connect(live) as sock:
        head = b"POST /gemini/v1beta/models/veo-3.0-generate-001:predictLongRunning HTTP/1.1\r\nHost: x\r\nx-goog-api-key: k\r\n"
        sock.sendall(head + b'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"instances": [')
        closed, _, waited = closed_within(sock, TIMEOUT + 3)
    assert closed and waited < TIMEOUT + 3
    assert live.records() == [], "nothing was created from half a body"


def test_three_hundred_silent_connections_are_all_closed(live: LiveMockServer) -> None:
    socks = [connect(live) for _ in range(300)]
    try:
        time.sleep(TIMEOUT + 1.5)
        still_open = 0
        for sock in socks:
            closed, _, _ = closed_within(sock, 0.05)
            still_open += not closed
    finally:
        for sock in socks:
            sock.close()
    assert still_open == 0, f"{still_open} of 300 silent connections are still open"
    assert httpx.get(f"{live.base_url}/_mock/health").status_code == 200


def test_keep_alive_requests_each_get_a_fresh_head_budget(live: LiveMockServer) -> None:
    with httpx.Client(base_url=live.url("gemini"), headers={"x-goog-api-key": "k"}) as client:
        for _ in range(5):  # one connection, several requests, each head well under the bound
            r = client.get("/v1beta/models/x/operations/abc", headers={"x-pad": "p" * 10_000})
            assert r.status_code == 404
            time.sleep(TIMEOUT / 3)
