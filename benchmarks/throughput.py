"""Throughput and latency, measured side by side: the mock against references in one run.

Rounds interleave the servers (bare, mock poll, mock create, then Prism), so the
noise of a shared 2-CPU machine hits every series alike; figures are medians over
rounds, and a ratio is the median of the per-round ratios (see benchmarks/report.py).

Two latency figures per series, both with 32 connections:

- *saturated*: wrk as fast as the server answers. Little's law fixes the mean
  latency at connections / throughput, so this p99 mostly restates throughput.
- *paced*: each connection waits ``PACED_DELAY_MS`` between requests (wrk's
  ``delay()``), about 1,000 requests/s offered in all: the latency of one request
  at a load the server is not queueing behind. The p99 target is judged on this one.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from benchmarks.servers import ROOT, SERVER_CPU, Served, bare_cmd, cpu_seconds, mock_cmd, prism_cmd, redis_server, serve
from benchmarks.wrk import LOAD_CPU, Lua, WrkRun, run_wrk
from mockserver.testing import free_port
from videogen.dialect import Dialect, load_dialects
from videogen.reading import create_request, credentials, example_model, handle_of, poll_request, required_headers

__all__ = [
    "CONNECTIONS",
    "DEFAULT_DIALECT",
    "KEY",
    "Series",
    "Workload",
    "measure_main",
    "measure_redis",
    "seed_operations",
    "workload",
]

KEY = "bench-key"
DEFAULT_DIALECT = "gemini"  # the reference the recorded results and the floors were measured on
CONNECTIONS = 32
PACED_DELAY_MS = 32.0  # per connection; 32 connections then offer about 1,000 requests/s
SEEDED = 500  # operations created before the poll runs, polled round-robin


@dataclass(frozen=True)
class Workload:
    """What the benchmark sends to one dialect, built from its document: the example create,
    the key and required headers where the dialect wants them, and a poll per handle."""

    dialect: Dialect
    create_path: str  # under the dialect's mount
    create_body: str
    headers: dict[str, str]

    @property
    def mount(self) -> str:
        return f"/{self.dialect.name}"

    def poll_path(self, create_answer: bytes) -> str:
        handle = handle_of(self.dialect.read, orjson.loads(create_answer))
        if handle is None:
            raise RuntimeError(f"the create answer carries no handle: {create_answer[:300]!r}")
        request = poll_request(self.dialect.read, handle, **{k: v for k, v in self._params.items() if k == "model"})
        return f"{self.mount}{request.path}"

    @property
    def _params(self) -> dict[str, str]:
        return create_request(self.dialect).path_params

    def unknown_poll(self) -> str:
        """A poll path for a made-up handle shaped as the dialect's own (what Prism answers from its examples)."""
        model = {k: v for k, v in self._params.items() if k == "model"}
        ctx = {**self.dialect.identity_defaults, "model": example_model(self.dialect), **model, "created_s": "0", "token": "abc123def456"}
        ctx["id"] = self.dialect.id_template.render(ctx)
        return poll_request(self.dialect.read, self.dialect.name_template.render(ctx), **model).path


def workload(name: str) -> Workload:
    dialects = {d.name: d for d in load_dialects()}
    if name not in dialects:
        raise ValueError(f"--dialect {name!r} is not bundled; one of: {', '.join(sorted(dialects))}")
    dialect = dialects[name]
    request = create_request(dialect)
    poll = dialect.by_role("poll")[0]
    if request.method != "POST" or poll.method != "GET" or request.json is None:
        raise ValueError(f"--dialect {name}: the benchmark POSTs a JSON create and GETs polls; this dialect does not")
    headers, query = credentials(dialect.create, KEY)
    if query:
        raise ValueError(f"--dialect {name}: its key travels in the query, which the wrk scripts do not place")
    return Workload(dialect, request.path, orjson.dumps(request.json).decode(), {**required_headers(dialect), **headers})


@dataclass
class Series:
    """The runs of one server and request kind, one per round."""

    name: str
    runs: list[WrkRun] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)  # server CPU time per request, per round

    def median(self, pick: Callable[[WrkRun], float]) -> float:
        return statistics.median(pick(r) for r in self.runs) if self.runs else float("nan")

    @property
    def rps(self) -> float:
        return self.median(lambda r: r.rps)

    @property
    def cpu_us_per_request(self) -> float:
        return statistics.median(self.cpu_us) if self.cpu_us else float("nan")

    @property
    def failures(self) -> int:
        return sum(r.non_2xx + r.socket_errors for r in self.runs)

    def summary(self) -> dict[str, float]:
        return {
            "rps": round(self.rps, 1),
            "p50_ms": self.median(lambda r: r.p50_ms),
            "p99_ms": self.median(lambda r: r.p99_ms),
            "rps_min": min(r.rps for r in self.runs),
            "rps_max": max(r.rps for r in self.runs),
            "server_cpu_us_per_request": self.cpu_us_per_request,
            "requests": sum(r.requests for r in self.runs),
            "failures": self.failures,
            "rounds": len(self.runs),
        }


def seed_operations(base: str, n: int, work: Workload) -> list[str]:
    """Create ``n`` operations of the workload's dialect; their poll paths, relative to the server root."""
    paths = []
    with httpx.Client(base_url=base, timeout=30, headers={**work.headers, "content-type": "application/json"}) as client:
        for _ in range(n):
            r = client.post(f"{work.mount}{work.create_path}", content=work.create_body)
            if r.status_code != work.dialect.create.status:
                raise RuntimeError(f"seeding create answered {r.status_code}: {r.text[:300]}")
            paths.append(work.poll_path(r.content))
    return paths


@dataclass
class _Target:
    """One series: what to run against which server."""

    series: Series
    url: str
    script: Path
    group: int  # the server's process group, for its CPU time

    def run(self, seconds: int) -> None:
        before = cpu_seconds(self.group)
        result = run_wrk(self.url, self.script, seconds, CONNECTIONS)
        self.series.runs.append(result)
        self.series.cpu_us.append((cpu_seconds(self.group) - before) / max(1, result.requests) * 1e6)


def _rounds(targets: list[_Target], rounds: int, seconds: int, *, progress: bool = True) -> None:
    for target in targets:  # warm-up: caches, allocator, JIT (Prism), connection setup; not recorded
        run_wrk(target.url, target.script, 1, CONNECTIONS)
    for i in range(rounds):
        for target in targets:
            target.run(seconds)
        if progress:
            line = "  ".join(f"{t.series.name} {t.series.runs[-1].rps:,.0f}/s" for t in targets)
            print(f"  round {i + 1}/{rounds}: {line}", flush=True)


@contextmanager
def _main_servers(prism: bool, work: Workload) -> Iterator[dict[str, Served]]:
    with ExitStack() as stack:
        servers = {}
        port = free_port()
        servers["bare"] = stack.enter_context(serve(bare_cmd(port), "/", port=port))
        port = free_port()
        servers["mock"] = stack.enter_context(serve(mock_cmd(port), "/_mock/health", port=port))
        if prism:
            port = free_port()
            spec = ROOT / "specs" / f"{work.dialect.name}.yaml"
            servers["prism"] = stack.enter_context(serve(prism_cmd(port, spec), work.unknown_poll(), port=port, headers=work.headers))
        yield servers


def measure_main(rounds: int, seconds: int, *, prism: bool, paced: bool, work: Workload | None = None) -> dict[str, Series]:
    """Bare vs mock poll vs mock create (vs Prism), one memory-store worker each, interleaved."""
    work = work or workload(DEFAULT_DIALECT)
    with tempfile.TemporaryDirectory(prefix="bench-lua-") as tmp, _main_servers(prism, work) as servers:
        lua = Lua(Path(tmp))
        bare, mock = servers["bare"], servers["mock"]
        polls = seed_operations(mock.url, SEEDED, work)
        poll = lua.get_round_robin("poll", polls, work.headers)
        create = lua.post("create", work.create_body, work.headers)
        targets = [
            _Target(Series("bare"), bare.url, poll, bare.pid),  # the bare app answers any path: the same script, the same client cost
            _Target(Series("mock poll"), mock.url, poll, mock.pid),
            _Target(Series("mock create"), f"{mock.url}{work.mount}{work.create_path}", create, mock.pid),
        ]
        if "prism" in servers:
            node = servers["prism"]
            prism_poll = lua.get_round_robin("prism-poll", [work.unknown_poll()], work.headers)
            targets += [
                _Target(Series("prism poll"), node.url, prism_poll, node.pid),
                _Target(Series("prism create"), f"{node.url}{work.create_path}", create, node.pid),
            ]
        if paced:
            paced_poll = lua.get_round_robin("paced-poll", polls, work.headers, delay_ms=PACED_DELAY_MS)
            targets += [
                _Target(Series("bare, paced"), bare.url, paced_poll, bare.pid),
                _Target(Series("mock poll, paced"), mock.url, paced_poll, mock.pid),
            ]
        print(
            f"throughput ({work.dialect.name}): {rounds} rounds x {seconds} s, {CONNECTIONS} connections, "
            f"wrk on CPU {LOAD_CPU}, servers on CPU {SERVER_CPU}"
        )
        _rounds(targets, rounds, seconds)
        return {t.series.name: t.series for t in targets}


def measure_redis(rounds: int, seconds: int) -> dict[str, Series]:
    """Poll throughput on ``--store redis://``: one worker on CPU 1 against two workers on CPUs 0-1.

    redis-server and wrk share CPU 0, so two workers compete with the client for it:
    on this 2-CPU machine the figure shows what a second worker costs or buys, not
    how it scales on a machine with CPUs to spare.
    """
    work = workload(DEFAULT_DIALECT)
    with tempfile.TemporaryDirectory(prefix="bench-lua-") as tmp, redis_server(LOAD_CPU) as redis_url, ExitStack() as stack:
        lua = Lua(Path(tmp))
        one_port, two_port = free_port(), free_port()
        one = stack.enter_context(
            serve(mock_cmd(one_port, "--store", f"{redis_url}/1", "--store-durability", "relaxed"), "/_mock/health", port=one_port)
        )
        two = stack.enter_context(
            serve(
                mock_cmd(two_port, "--store", f"{redis_url}/2", "--workers", "2", "--store-durability", "relaxed"),
                "/_mock/health",
                port=two_port,
                cpus="0,1",
            )
        )
        targets = [
            _Target(
                Series("redis poll, 1 worker"),
                one.url,
                lua.get_round_robin("one", seed_operations(one.url, SEEDED, work), work.headers),
                one.pid,
            ),
            _Target(
                Series("redis poll, 2 workers"),
                two.url,
                lua.get_round_robin("two", seed_operations(two.url, SEEDED, work), work.headers),
                two.pid,
            ),
        ]
        print(f"redis: {rounds} rounds x {seconds} s; redis-server and wrk on CPU {LOAD_CPU}")
        _rounds(targets, rounds, seconds)
        return {t.series.name: t.series for t in targets}
