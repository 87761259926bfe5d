"""Correctness under load: N operations created and polled across two workers, none lost.

    python -m benchmarks concurrency [--operations 10000] [--concurrency 64] [--base-url URL]

Without ``--base-url`` it starts a private redis-server and ``python -m mockserver
serve --workers 2 --store redis://...``. Every dialect takes its turn. Each client
connection is one keep-alive socket, so one worker process answers everything on
it (the connection learns which from ``/_mock/health``'s pid, and a connection the
server closes is an error, never a silent reconnect). That lets the run create an
operation through one worker and poll it through the other: after all creates the
shared clock moves an hour on, and every operation is polled once through a
connection to the worker that did *not* create it. The run fails when a create is
refused, two creates get the same id, a poll does not find its operation, an
operation has not succeeded, or the store does not grow by exactly the operations
created.

The client is a few lines of asyncio HTTP/1.1 rather than httpx: it keeps each
connection on one worker by construction, and costs the shared CPUs a tenth as much.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

from benchmarks.servers import exclusive, mock_cmd, redis_server, serve
from mockserver.testing import free_port
from videogen.dialect import Dialect, load_dialects
from videogen.reading import classify, create_request, credentials, handle_of, poll_request, required_headers

__all__ = ["Outcome", "exercise", "main"]

KEY = "concurrency-key"
WORKERS_WAIT_S = 30.0  # for every worker process to start listening


class _Connection:
    """One keep-alive HTTP/1.1 connection: every request on it reaches the same worker.

    uvicorn closes a connection idle for 5 s; one idle for ``IDLE_S`` is reopened (and
    its worker learned again) before it is used, so no request ever meets a closed socket.
    """

    IDLE_S = 2.0

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.pid = 0
        self.reopened = 0
        self._used = 0.0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        await self.close()
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        status, raw = await self._send("GET", "/_mock/health", {}, None)
        self.pid = int(orjson.loads(raw)["pid"]) if status == 200 else 0

    async def fresh(self) -> None:
        """Reopen the connection if the server may be about to close it; ``pid`` is then current."""
        if time.monotonic() - self._used > self.IDLE_S:
            self.reopened += 1
            await self.open()

    async def request(self, method: str, target: str, headers: dict[str, str], body: Any = None) -> tuple[int, bytes]:
        await self.fresh()
        return await self._send(method, target, headers, body)

    async def _send(self, method: str, target: str, headers: dict[str, str], body: Any) -> tuple[int, bytes]:
        assert self._reader is not None and self._writer is not None
        data = b"" if body is None else orjson.dumps(body)
        lines = [f"{method} {target} HTTP/1.1", f"host: {self.host}:{self.port}", f"content-length: {len(data)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None:
            lines.append("content-type: application/json")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)
        status = int((await self._reader.readuntil(b"\r\n")).split(b" ", 2)[1])
        length = 0
        while (line := await self._reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        answer = await self._reader.readexactly(length)
        self._used = time.monotonic()
        return status, answer

    async def json(self, method: str, target: str, headers: dict[str, str] | None = None, body: Any = None) -> tuple[int, Any]:
        status, raw = await self.request(method, target, headers or {}, body)
        try:
            return status, orjson.loads(raw)
        except orjson.JSONDecodeError:
            return status, raw.decode("utf-8", "replace")

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._reader = self._writer = None


@dataclass
class _Job:
    dialect: Dialect
    model: str
    handle: str
    creator: int  # the pid of the worker that answered the create


@dataclass
class Outcome:
    """What a run saw; ``ok`` when nothing was lost, duplicated or refused."""

    operations: int
    workers: dict[int, Counter[str]] = field(default_factory=dict)  # pid -> requests answered, by kind
    created: int = 0
    unique: int = 0
    found: int = 0
    succeeded: int = 0
    cross_worker_polls: int = 0
    stored: int = 0
    reopened: int = 0  # idle connections reopened before use (each learns its worker again)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        counts = (self.created, self.unique, self.found, self.succeeded, self.stored)
        return not self.problems and all(n == self.operations for n in counts)

    def lines(self) -> list[str]:
        per_worker = ", ".join(f"pid {pid}: {c['create']} creates, {c['poll']} polls" for pid, c in sorted(self.workers.items()))
        requests = 2 * self.operations
        out = [
            f"{self.operations} operations across {len(self.workers)} worker(s) ({per_worker})",
            f"created {self.created}, unique ids {self.unique}, found on poll {self.found}, succeeded {self.succeeded}, "
            f"store grew by {self.stored}; {self.cross_worker_polls} polls went to the worker that did not create",
            f"{requests} requests in {self.seconds:.1f} s ({requests / self.seconds if self.seconds else 0:,.0f}/s); "
            f"idle connections reopened: {self.reopened}",
        ]
        out += [f"PROBLEM {p}" for p in self.problems[:20]]
        if len(self.problems) > 20:
            out.append(f"... and {len(self.problems) - 20} more problems")
        out.append("RESULT " + ("PASS: none lost, none duplicated" if self.ok else "FAIL"))
        return out


def _target(dialect: Dialect, path: str) -> tuple[str, dict[str, str]]:
    """The request target under the dialect's mount, with the key where the dialect wants it."""
    headers, query = credentials(dialect.create, KEY)
    headers = {**required_headers(dialect), **headers}
    target = f"/{dialect.name}{path}"
    if query:
        target += ("&" if "?" in target else "?") + urlencode(query)
    return target, headers


async def _create(conn: _Connection, dialect: Dialect, i: int, out: Outcome) -> _Job | None:
    req = create_request(dialect, prompt_suffix=f" #{i}")
    target, headers = _target(dialect, req.path)
    status, body = await conn.json(req.method, target, headers, req.json)
    handle = handle_of(dialect.read, body) if status == dialect.create.status else None
    if handle is None:
        out.problems.append(f"create #{i} on {dialect.name} answered {status}: {str(body)[:200]}")
        return None
    return _Job(dialect, req.path_params.get("model", ""), handle, conn.pid)


async def _poll(conn: _Connection, job: _Job, out: Outcome) -> None:
    req = poll_request(job.dialect.read, job.handle, model=job.model)
    target, headers = _target(job.dialect, req.path)
    status, body = await conn.json(req.method, target, headers, req.json)
    if status != 200:
        out.problems.append(f"poll of {job.dialect.name} {job.handle} answered {status}: {str(body)[:200]}")
        return
    if handle_of(job.dialect.read, body) not in (None, job.handle):
        out.problems.append(f"poll of {job.handle} answered another operation: {str(body)[:200]}")
        return
    out.found += 1
    state = classify(job.dialect.read, body)
    if state == "succeeded":
        out.succeeded += 1
    else:
        out.problems.append(f"{job.dialect.name} {job.handle} is {state} an hour after its create: {str(body)[:200]}")


async def exercise(base_url: str, operations: int = 10_000, concurrency: int = 64, *, workers: int = 2) -> Outcome:
    """Create ``operations`` operations through ``concurrency`` connections, then poll each
    through a connection to another worker; expects ``workers`` distinct worker processes."""
    url = urlsplit(base_url)
    dialects = load_dialects()
    out = Outcome(operations)
    conns = [_Connection(url.hostname or "127.0.0.1", url.port or 80) for _ in range(concurrency)]
    try:
        await asyncio.gather(*(c.open() for c in conns))
        # The server answers as soon as one worker is up; the others may still be starting,
        # and until they listen every connection lands on the first. Reconnect until all answer.
        deadline = time.monotonic() + WORKERS_WAIT_S
        while len({c.pid for c in conns}) < workers and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            await asyncio.gather(*(c.open() for c in conns))
        stored_before = int((await conns[0].json("GET", "/_mock/health"))[1]["operations"])
        pids = {c.pid for c in conns}
        if len(pids) < workers:
            out.problems.append(f"{concurrency} connections reached {len(pids)} worker(s), expected {workers}: {sorted(pids)}")
        started = time.perf_counter()

        jobs: list[_Job | None] = [None] * operations

        async def create_slice(k: int) -> None:
            for i in range(k, operations, concurrency):
                jobs[i] = await _create(conns[k], dialects[i % len(dialects)], i, out)

        await asyncio.gather(*(create_slice(k) for k in range(concurrency)))
        done = [j for j in jobs if j is not None]
        out.created = len(done)
        out.unique = len({(j.dialect.name, j.handle) for j in done})
        for job in done:
            out.workers.setdefault(job.creator, Counter())["create"] += 1

        status, body = await conns[0].json("POST", "/_mock/clock/advance", body={"seconds": 3600})
        if status != 200:
            out.problems.append(f"/_mock/clock/advance answered {status}: {str(body)[:200]}")

        # Each operation is polled through a connection to a worker that did not create it:
        # connections take work from the queues of the other workers' creates. (A
        # reopened connection may have changed worker, so this is decided per poll.)
        queues: dict[int, deque[_Job]] = defaultdict(deque)
        for job in done:
            queues[job.creator].append(job)

        async def poll_others(conn: _Connection) -> None:
            while True:
                await conn.fresh()  # before choosing: a reopened connection may reach the other worker
                source = next((q for pid, q in queues.items() if pid != conn.pid and q), None)
                if source is None:
                    return
                job = source.popleft()
                await _poll(conn, job, out)
                out.workers.setdefault(conn.pid, Counter())["poll"] += 1
                out.cross_worker_polls += conn.pid != job.creator

        await asyncio.gather(*(poll_others(c) for c in conns))
        for queue in queues.values():  # left only when every connection reached one worker
            while queue:
                job = queue.popleft()
                await _poll(conns[0], job, out)
                out.workers.setdefault(conns[0].pid, Counter())["poll"] += 1
        out.seconds = time.perf_counter() - started
        out.stored = int((await conns[0].json("GET", "/_mock/health"))[1]["operations"]) - stored_before
        out.reopened = sum(c.reopened for c in conns)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        out.problems.append(f"a connection failed: {exc!r} (the server closed it, or answered something that is not HTTP/1.1)")
    finally:
        await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks concurrency", description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64, help="connections, each served by one worker")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers to start (or expected behind --base-url)")
    parser.add_argument("--base-url", default=None, help="an already running mock (any store shared by its workers)")
    args = parser.parse_args(argv)
    if args.base_url:
        outcome = asyncio.run(exercise(args.base_url.rstrip("/"), args.operations, args.concurrency, workers=args.workers))
    else:
        port = free_port()
        with exclusive(), redis_server("0,1") as redis_url:
            cmd = mock_cmd(port, "--store", f"{redis_url}/0", "--workers", str(args.workers), "--store-durability", "relaxed")
            with serve(cmd, "/_mock/health", port=port, cpus=None) as served:
                print(f"python -m mockserver serve --workers {args.workers} --store {redis_url}/0 (pid {served.pid})", flush=True)
                outcome = asyncio.run(exercise(served.url, args.operations, args.concurrency, workers=args.workers))
    print("\n".join(outcome.lines()))
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
