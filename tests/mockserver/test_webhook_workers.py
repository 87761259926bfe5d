"""1,000 webhooks from two uvicorn workers sharing one Redis, one worker killed midway.

Each delivery is claimed through the store under a lease, so the two workers never
send one at once, and the deliveries the killed worker held are retried by the
other (or its replacement) once their lease lapses: none is lost, and a repeat
is only ever a retry carrying the same ``webhook-id``.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import threading
import time
from collections import defaultdict
from typing import Any

import httpx
import pytest

from benchmarks.servers import mock_cmd, serve
from mockserver.testing import free_port

pytestmark = pytest.mark.slow  # real processes and a real Redis

OPERATIONS = 1_000
KEY = {"authorization": "Bearer sk-webhooks"}


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.ids_by_video: dict[str, set[str]] = defaultdict(set)
        self.count = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                time.sleep(0.05)  # a receiver that takes its time: deliveries are in flight when the worker dies
                with outer.lock:
                    outer.ids_by_video[body["data"]["id"]].add(self.headers["webhook-id"])
                    outer.count += 1
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 1024  # two workers send up to 64 at once each: the default backlog of 5 refuses most

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def worker_pids(base: str) -> set[int]:
    seen: set[int] = set()
    for _ in range(200):  # new connections land on either worker
        with httpx.Client() as client:
            seen.add(client.get(f"{base}/_mock/health").json()["pid"])
        if len(seen) == 2:
            break
    return seen


def test_two_workers_deliver_a_thousand_webhooks_through_a_kill(redis_url: str) -> None:
    receiver = Receiver()
    store = redis_url.rsplit("/", 1)[0] + "/8"
    port = free_port()
    args = [
        "--store",
        store,
        "--workers",
        "2",
        "--time-scale",
        "0",
        "--webhook-url",
        f"http://127.0.0.1:{receiver.port}/",
        "--webhook-lease",
        "2",
    ]
    try:
        with serve(mock_cmd(port, *args), "/_mock/health", port=port, cpus=None) as served:
            pids = worker_pids(served.url)
            assert len(pids) == 2, pids
            videos: list[str] = []
            client = httpx.Client(base_url=served.url, timeout=30)
            for i in range(OPERATIONS):
                for _ in range(5):
                    try:
                        r = client.post("/openai/v1/videos", json={"prompt": f"hook {i}"}, headers=KEY)
                        break
                    except httpx.TransportError:  # a kept-alive connection to the killed worker: unanswered, so retried
                        client.close()
                        client = httpx.Client(base_url=served.url, timeout=30)
                assert r.status_code == 200, r.text
                videos.append(r.json()["id"])
                if i == OPERATIONS // 3:
                    os.kill(sorted(pids)[0], signal.SIGKILL)  # mid-send: its leased deliveries must not be lost
            client.close()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(receiver.ids_by_video) < OPERATIONS:
                time.sleep(0.1)
            missing = [v for v in videos if v not in receiver.ids_by_video]
            listed = httpx.get(f"{served.url}/_mock/webhooks?limit=10000").json()["deliveries"]
            why = [(d["status"], d["attempts"], d["last"]) for d in listed if any(v.removeprefix("video_") in d["token"] for v in missing)]
        lost = [v for v in videos if v not in receiver.ids_by_video]
        assert not lost, f"{len(lost)} of {OPERATIONS} webhooks never arrived, e.g. {lost[:3]}; their deliveries: {why[:5]}"
        mixed = {v: ids for v, ids in receiver.ids_by_video.items() if len(ids) != 1}
        assert not mixed, f"deliveries of one event under several ids: {list(mixed.items())[:3]}"
        retries = receiver.count - len(receiver.ids_by_video)
        print(f"[webhooks] {OPERATIONS} events, {receiver.count} POSTs ({retries} retries under the same id), 0 lost")
    finally:
        receiver.close()
