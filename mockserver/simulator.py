"""The simulator: turns a validated create into a record, and a record into what a poll shows.

It is the only place that knows what the lifecycle means for a vendor's
answers, and it learns all of that from the dialect: which inputs matter,
how identities look, which template answers in which state.

The template context it builds has exactly the names of
:data:`videogen.context.OPERATION`: each name has one provider below, and the
module refuses to import if the two ever disagree.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from mockserver.lifecycle import Scenario, Snapshot, state_at
from mockserver.media import render_mp4_b64
from mockserver.record import OperationRecord
from mockserver.validation import Parsed
from videogen.context import OPERATION
from videogen.dialect import Dialect, Operation
from videogen.pointer import MISSING
from videogen.sizing import DEFAULT_SIZE, size_of
from videogen.states import TERMINAL
from videogen.template import Template

__all__ = ["Simulator"]

NO_SOURCE: dict[str, Any] = {"token": None, "id": None, "name": None}  # a create that refers to no other operation
_TOKEN_ALPHABET = string.ascii_lowercase + string.digits
_TOKEN_PAIRS = [b + a for a in _TOKEN_ALPHABET for b in _TOKEN_ALPHABET]  # pair n: digit n % 36, then n // 36
_IDENTITY_CACHE = 100_000
_BODY_CACHE = 10_000
_BODY_CACHE_MAX_BYTES = 2048
# The base URL comes from the client's Host header: only a few, short ones may key a cache,
# so a client cannot multiply the caches by sending a new (or an 8 KB) Host every time.
_CACHED_BASE_URLS = 16
_CACHED_BASE_URL_LENGTH = 256
# Context fields that change while an operation runs; a result URL that reads none
# of them is the same on every poll, so it is built once per operation.
_MOVING = frozenset({"state", "progress", "updated_s", "updated_ms", "updated_iso", "videos", "filter"})


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dt(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(sep=" ", timespec="milliseconds").removesuffix("+00:00")


class _Context(dict[str, Any]):
    """A template context whose costly fields (ISO times, result lists) are made on first read."""

    lazy: tuple[Simulator, OperationRecord, Snapshot, str]

    def __missing__(self, key: str) -> Any:
        sim, record, snap, base_url = self.lazy
        provider = _LAZY.get(key)
        if provider is None:
            raise KeyError(key)
        value = provider(sim, record, snap, base_url, self)
        self[key] = value
        return value


class _Inputs(dict[str, Any]):
    """A record's inputs, where an input the dialect declares but the request left out reads as null."""

    __slots__ = ("declared",)

    def __init__(self, values: dict[str, Any], declared: frozenset[str]) -> None:
        super().__init__(values)
        self.declared = declared

    def __missing__(self, key: str) -> Any:
        if key in self.declared:
            return None
        raise KeyError(key)


class _Video(dict[str, Any]):
    """A result's template fields; ``b64`` and ``data_uri`` (inline bytes) are rendered only when read."""

    def __missing__(self, key: str) -> Any:
        if key in ("b64", "data_uri"):
            args = self.get("_render")
            b64 = render_mp4_b64(*args) if args else None
            self["b64"] = b64
            self["data_uri"] = f"data:video/mp4;base64,{b64}" if b64 else None
            return self[key]
        raise KeyError(key)


def _finished(snap: Snapshot) -> float | None:
    return snap.since if snap.state in TERMINAL else None


def _times(stem: str, when: Callable[[Simulator, OperationRecord, Snapshot], float | None]) -> dict[str, Any]:
    def seconds(sim: Simulator, r: OperationRecord, s: Snapshot, b: str, c: dict[str, Any]) -> Any:
        t = when(sim, r, s)
        return None if t is None else int(t)

    def millis(sim: Simulator, r: OperationRecord, s: Snapshot, b: str, c: dict[str, Any]) -> Any:
        t = when(sim, r, s)
        return None if t is None else int(t * 1000)

    def iso(sim: Simulator, r: OperationRecord, s: Snapshot, b: str, c: dict[str, Any]) -> Any:
        t = when(sim, r, s)
        return None if t is None else _iso(t)

    def dt(sim: Simulator, r: OperationRecord, s: Snapshot, b: str, c: dict[str, Any]) -> Any:
        t = when(sim, r, s)
        return None if t is None else _dt(t)

    return {f"{stem}_s": seconds, f"{stem}_ms": millis, f"{stem}_iso": iso, f"{stem}_dt": dt}


def _started(record: OperationRecord, snap: Snapshot) -> float | None:
    """When the operation began running; None while queued, or when it ended before it ran."""
    started = record.created_at + record.queued_s
    if snap.state == "queued" or (record.forced_at is not None and record.forced_at < started):
        return None
    return started


Provider = Callable[["Simulator", OperationRecord, Snapshot, str, dict[str, Any]], Any]
# Names that cost something to compute: made only when a template reads them.
_LAZY: dict[str, Provider] = {
    **_times("created", lambda sim, r, s: r.created_at),
    **_times("updated", lambda sim, r, s: s.since),
    **_times("started", lambda sim, r, s: _started(r, s)),
    **_times("finished", lambda sim, r, s: _finished(s)),
    **_times("expires", lambda sim, r, s: sim.expires_at(r, s)),
    "progress_fraction": lambda sim, r, s, b, c: s.progress / 100,
    "request_id": lambda sim, r, s, b, c: uuid.uuid4().hex,
    "input": lambda sim, r, s, b, c: _Inputs(r.inputs, sim.declared_inputs),
    "source": lambda sim, r, s, b, c: r.source or NO_SOURCE,
    "videos": lambda sim, r, s, b, c: sim.videos(r, c, b) if s.state == "succeeded" else [],
    "filter": lambda sim, r, s, b, c: sim.filter_fields(r),
}
# Names every context gets at once (see Simulator.context).
_EAGER = frozenset({"id", "name", "token", "model", "vars", "state", "progress", "base_url", "error"})
if _EAGER | set(_LAZY) != set(OPERATION.fields) or _EAGER & set(_LAZY):  # pragma: no cover - a broken checkout
    raise ImportError(
        f"the simulator's context providers disagree with videogen.context.OPERATION: {sorted(_EAGER ^ set(OPERATION.fields) ^ set(_LAZY))}"
    )


class Simulator:
    """One dialect's simulation; stateless apart from its random generator and its caches."""

    def __init__(self, dialect: Dialect, *, rng: random.Random, time_scale: float = 1.0) -> None:
        self.dialect = dialect
        self.rng = rng
        self.time_scale = time_scale
        self.fps = int(dialect.defaults.get("fps", 24))
        input_shape = dialect.context.fields["input"]
        self.declared_inputs: frozenset[str] = frozenset(getattr(input_shape, "fields", ()))
        self._identities: dict[str, dict[str, Any]] = {}
        self._results: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (token, base_url) -> result fields
        self._bodies: dict[tuple[str, str, Snapshot, str], bytes] = {}  # (operation, token, snapshot, base_url) -> poll answer
        self._results_stay = dialect.result_url is None or not dialect.result_url.names & _MOVING
        self._bases: set[str] = set()  # the base URLs that may key the caches, first come first served
        # Templates that read a fresh value per request cannot have their answers cached.
        self._cacheable = {
            op.operation_id: not any("request_id" in t.names for t in op.state_responses.values()) for op in dialect.by_role("poll")
        }

    # -- create ---------------------------------------------------------------

    def new_token(self) -> str:
        """Twelve characters of [a-z0-9] (about 62 random bits), from one draw of the seeded generator."""
        n = self.rng.getrandbits(62)
        out = []
        for _ in range(6):  # two characters per step
            n, pair = divmod(n, 1296)
            out.append(_TOKEN_PAIRS[pair])
        return "".join(out)

    def plan(self, op: Operation, parsed: Parsed, inputs: dict[str, Any], *, owner: str, scenario: Scenario, now: float) -> OperationRecord:
        """The record of a new operation, from the create's inputs and the dialect's defaults."""
        inputs = {**self.dialect.defaults, **inputs}
        inputs["count"] = int(inputs.get("count", 1))
        inputs["duration_s"] = float(inputs.get("duration_s", 8))
        inputs["width"], inputs["height"] = size_of(inputs, self.dialect.sizes) or DEFAULT_SIZE
        inputs.setdefault("fps", self.fps)
        inputs.setdefault("seed", self.rng.randrange(2**31))  # "the seed used", as vendors report it
        model = str(inputs.pop("model"))
        vars_ = dict(self.dialect.identity_defaults)
        vars_.update({name: str(v) for name, src in op.vars.items() if (v := src.read(parsed)) is not MISSING})
        vars_.pop("model", None)
        queued, running = self.dialect.lifecycle.durations(model)
        pace = scenario.pace * self.time_scale
        return OperationRecord(
            token=self.new_token(),
            dialect=self.dialect.name,
            owner=owner,
            model=model,
            created_at=now,
            queued_s=queued * pace,
            running_s=running * pace,
            outcome=scenario.outcome or "succeeded",
            vars=vars_,
            inputs=inputs,
        )

    # -- identity -------------------------------------------------------------

    def identity(self, record: OperationRecord) -> dict[str, Any]:
        """The record's identity fields (``id``, ``name`` and what they are built from).

        They never change after create, so they are rendered once per operation and
        kept in a bounded cache; callers get a copy they may extend.
        """
        return dict(self._identity(record))

    def _identity(self, record: OperationRecord) -> dict[str, Any]:
        """The cached identity itself, for readers that neither keep nor change it."""
        cached = self._identities.get(record.token)
        if cached is None:
            cached = {**record.vars, "model": record.model, "token": record.token, "created_s": int(record.created_at)}
            cached["id"] = self.dialect.id_template.render(cached)
            cached["name"] = self.dialect.name_template.render(cached)
            if len(self._identities) >= _IDENTITY_CACHE:
                self._identities.clear()
            self._identities[record.token] = cached
        return cached

    def locate(self, value: str) -> tuple[str, dict[str, str]] | None:
        """Parse a public id or resource name into (token, the other identity fields)."""
        fields = self.dialect.name_template.parse(value)
        if fields is None or "id" not in fields:
            fields = {"id": value}
        parts = self.dialect.id_template.parse(fields.pop("id"))
        if parts is None or "token" not in parts:
            return None
        token = parts.pop("token")
        return token, {**fields, **parts}

    def matches(self, record: OperationRecord, fields: dict[str, Any]) -> bool:
        """Whether every identity field named in the request agrees with the record."""
        ident = self._identity(record)
        return all(str(ident.get(k)) == str(v) for k, v in fields.items() if k in ident)

    def locate_file(self, value: str) -> tuple[str, int] | None:
        parts = self.dialect.file_template.parse(value)
        if not parts or "token" not in parts or not str(parts.get("index", "")).isdigit():
            return None
        return parts["token"], int(parts["index"])

    # -- poll -----------------------------------------------------------------

    def expires_at(self, record: OperationRecord, snap: Snapshot) -> float | None:
        """When a finished operation's results stop being served (None: they never do, or it is not finished)."""
        ttl = self.dialect.lifecycle.result_ttl_s
        return snap.since + ttl if ttl is not None and snap.state in TERMINAL else None

    def filter_fields(self, record: OperationRecord) -> dict[str, Any]:
        return {**self.dialect.filter, "count": record.inputs.get("count", 1)}

    def snapshot(self, record: OperationRecord, now: float) -> Snapshot:
        return state_at(record, now)

    def context(self, record: OperationRecord, snap: Snapshot, base_url: str) -> dict[str, Any]:
        """The template context; fields that cost something are computed only if a template reads them."""
        ident = self._identity(record)
        ctx = _Context(
            id=ident["id"],
            name=ident["name"],
            token=record.token,
            model=record.model,
            vars=record.vars,
            state=snap.state,
            progress=snap.progress,
            base_url=base_url,
            error=self.dialect.failure,
        )
        ctx.lazy = (self, record, snap, base_url)
        return ctx

    def videos(self, record: OperationRecord, ctx: dict[str, Any], base_url: str) -> list[dict[str, Any]]:
        """The results' template fields. They are fixed once an operation exists, so they are
        built on its first poll and kept in a bounded cache; each call gets fresh dicts."""
        key = (record.token, base_url)
        stay = self._results_stay and self._caches(base_url)
        fields = self._results.get(key) if stay else None
        if fields is None:
            fields = self._videos(record, base_url)
            if stay:
                if len(self._results) >= _IDENTITY_CACHE:
                    self._results.clear()
                self._results[key] = fields
        return [_Video(f) for f in fields]

    def _videos(self, record: OperationRecord, base_url: str) -> list[dict[str, Any]]:
        ident = self._identity(record)
        inputs = record.inputs
        w, h, dur, fps = int(inputs["width"]), int(inputs["height"]), float(inputs["duration_s"]), int(inputs["fps"])
        storage = inputs.get("storage_uri")
        out: list[dict[str, Any]] = []
        for index in range(int(inputs["count"])):
            file = self.dialect.file_template.render({"token": record.token, "index": index})
            url = (
                self.dialect.result_url.render({**ident, "vars": record.vars, "base_url": base_url, "file": file, "index": index})
                if self.dialect.result_url
                else None
            )
            video = {
                "index": index,
                "file": file,
                "url": url,
                "width": w,
                "height": h,
                "duration_s": dur,
                "duration": int(dur) if dur == int(dur) else dur,
                "fps": fps,
                "mime": "video/mp4",
                "gcs_uri": f"{str(storage).rstrip('/')}/{file}.mp4" if storage else None,
                "variants": {"thumbnail": None, "spritesheet": None},
                "_render": None if storage else (w, h, dur, fps),
            }
            out.append(video)
        return out

    def poll_body(self, op: Operation, record: OperationRecord, snap: Snapshot, base_url: str) -> bytes:
        """A poll's JSON answer. Everything in its context is fixed for an operation except
        the snapshot and the base URL, so while an operation stays in one snapshot (a state,
        its start, a progress percentage) every poll through the same host gets the same
        bytes, which are kept in a bounded cache (answers up to 2 KB, so at most about
        20 MB: inline videos in base64 are left out; only the first few short base URLs seen
        may key it, so hostile Host headers cannot grow it)."""
        key = (op.operation_id, record.token, snap, base_url)
        body = self._bodies.get(key)
        if body is None:
            body = orjson.dumps(self.render(op, self.context(record, snap, base_url)))
            if len(body) <= _BODY_CACHE_MAX_BYTES and self._cacheable.get(op.operation_id, True) and self._caches(base_url):
                if len(self._bodies) >= _BODY_CACHE:
                    self._bodies.clear()
                self._bodies[key] = body
        return body

    def _caches(self, base_url: str) -> bool:
        """Whether answers for ``base_url`` may be cached: one of the first few short ones seen."""
        if base_url in self._bases:
            return True
        if len(self._bases) < _CACHED_BASE_URLS and len(base_url) <= _CACHED_BASE_URL_LENGTH:
            self._bases.add(base_url)
            return True
        return False

    def render(self, op: Operation, ctx: dict[str, Any]) -> Any:
        template = op.state_responses[ctx["state"]] if op.role == "poll" else op.response
        assert template is not None
        return template.render(ctx)

    def render_with(self, template: Template, record: OperationRecord, snap: Snapshot, base_url: str) -> Any:
        """``template`` over the operation's context (a delete's or a cancel's answer)."""
        return template.render(self.context(record, snap, base_url))
