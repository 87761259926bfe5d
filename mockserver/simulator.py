"""The simulator: turns a validated create into a record, and a record into what a poll shows.

It is the only place that knows what the lifecycle means for a vendor's
answers, and it learns all of that from the dialect: which inputs matter,
how identities look, which template answers in which state.
"""

from __future__ import annotations

import functools
import random
import string
from datetime import UTC, datetime
from typing import Any

import orjson

from mockserver.lifecycle import Scenario, Snapshot, state_at
from mockserver.media import render_mp4_b64
from mockserver.record import OperationRecord
from mockserver.validation import Parsed
from videogen.dialect import Dialect, Operation, Source
from videogen.pointer import MISSING

__all__ = ["Simulator", "video_size"]

_TOKEN_ALPHABET = string.ascii_lowercase + string.digits
_TOKEN_PAIRS = [b + a for a in _TOKEN_ALPHABET for b in _TOKEN_ALPHABET]  # pair n: digit n % 36, then n // 36
MAX_SIDE = 1920
_IDENTITY_CACHE = 100_000
_BODY_CACHE = 10_000
_BODY_CACHE_MAX_BYTES = 2048
# Context fields that change while an operation runs; a result URL that reads none
# of them is the same on every poll, so it is built once per operation.
_MOVING = frozenset({"state", "progress", "updated_s", "updated_ms", "updated_iso", "videos", "filter"})


def video_size(inputs: dict[str, Any]) -> tuple[int, int]:
    """Width and height of the rendered video: explicit sizes win, else aspect ratio and resolution."""
    width, height = inputs.get("width"), inputs.get("height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return _even(min(width, MAX_SIDE)), _even(min(height, MAX_SIDE))
    return _sized(str(inputs.get("resolution", "720p")), str(inputs.get("aspect_ratio", "16:9")))


@functools.lru_cache(maxsize=256)  # a handful of resolutions and aspect ratios, asked for on every create
def _sized(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    digits = resolution.rstrip("pP")
    short = int(digits) if digits.isascii() and digits.isdigit() else 720
    a, _, b = aspect_ratio.partition(":")
    whole = a.isascii() and a.isdigit() and b.isascii() and b.isdigit()
    ratio_w, ratio_h = (int(a), int(b)) if whole and int(a) and int(b) else (16, 9)
    w: float
    h: float
    if ratio_w >= ratio_h:
        w, h = short * ratio_w / ratio_h, short
    else:
        w, h = short, short * ratio_h / ratio_w
    return _even(min(round(w), MAX_SIDE)), _even(min(round(h), MAX_SIDE))


def _even(n: int) -> int:
    return max(2, n - (n % 2))


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def read_source(source: Source, parsed: Parsed) -> Any:
    if source.kind == "path":
        return parsed.path.get(source.key, MISSING)
    if source.kind == "query":
        return parsed.query.get(source.key, MISSING)
    if source.kind == "header":
        return parsed.headers.get(source.key, MISSING)
    assert source.pointer is not None
    return source.pointer.get(parsed.body)


class Simulator:
    """One dialect's simulation; stateless apart from its random generator."""

    def __init__(self, dialect: Dialect, *, rng: random.Random, time_scale: float = 1.0) -> None:
        self.dialect = dialect
        self.rng = rng
        self.time_scale = time_scale
        self.fps = int(dialect.defaults.get("fps", 24))
        self._identities: dict[str, dict[str, Any]] = {}
        self._results: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (token, base_url) -> result fields
        self._bodies: dict[tuple[str, str, Snapshot, str], bytes] = {}  # (operation, token, snapshot, base_url) -> poll answer
        self._results_stay = dialect.result_url is None or not dialect.result_url.names & _MOVING
        failed = dialect.outcomes.get("failed", {})
        self._error = {
            "code": failed.get("code", 500),
            "reason": failed.get("reason", ""),
            "message": failed.get("message", "generation failed"),
        }
        filtered = dialect.outcomes.get("filtered", {})
        self._filter_reasons = list(filtered.get("reasons", ["The request was blocked by the safety filter."]))
        self._filter_code = filtered.get("code", 400)

    # -- create ---------------------------------------------------------------

    def new_token(self) -> str:
        """Twelve characters of [a-z0-9] (about 62 random bits), from one draw of the seeded generator."""
        n = self.rng.getrandbits(62)
        out = []
        for _ in range(6):  # two characters per step
            n, pair = divmod(n, 1296)
            out.append(_TOKEN_PAIRS[pair])
        return "".join(out)

    def read_inputs(self, op: Operation, parsed: Parsed) -> dict[str, Any]:
        """The create's ``x-videogen`` inputs that the request carries (null counts as absent)."""
        inputs: dict[str, Any] = {}
        for inp in op.inputs:
            value = read_source(inp.source, parsed)
            if value is not MISSING and value is not None:
                inputs[inp.name] = value
        return inputs

    def plan(self, op: Operation, parsed: Parsed, inputs: dict[str, Any], *, owner: str, scenario: Scenario, now: float) -> OperationRecord:
        """The record of a new operation, from ``inputs`` (see :meth:`read_inputs`) and the dialect's defaults."""
        inputs = {**self.dialect.defaults, **inputs}
        inputs["count"] = int(inputs.get("count", 1))
        inputs["duration_s"] = float(inputs.get("duration_s", 8))
        inputs["width"], inputs["height"] = video_size(inputs)
        inputs.setdefault("fps", self.fps)
        inputs.setdefault("seed", self.rng.randrange(2**31))  # "the seed used", as vendors report it
        model = str(inputs.pop("model"))
        vars_ = dict(self.dialect.identity_defaults)
        vars_.update({name: str(v) for name, src in op.vars.items() if (v := read_source(src, parsed)) is not MISSING})
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

    # -- poll -----------------------------------------------------------------

    def snapshot(self, record: OperationRecord, now: float) -> Snapshot:
        return state_at(record, now)

    def context(self, record: OperationRecord, snap: Snapshot, base_url: str) -> dict[str, Any]:
        """The template context; fields that cost something are computed only if a template reads them."""
        ctx = _Context(self._identity(record))  # a copy: the context is extended below
        ctx.update(
            vars=record.vars,
            input=record.inputs,
            state=snap.state,
            progress=snap.progress,
            base_url=base_url,
            created_ms=int(record.created_at * 1000),
            updated_s=int(snap.since),
            updated_ms=int(snap.since * 1000),
            error=self._error,
        )
        ctx.lazy = (self, record, snap, base_url)
        return ctx

    def _lazy(self, key: str, record: OperationRecord, snap: Snapshot, base_url: str, ctx: dict[str, Any]) -> Any:
        if key == "created_iso":
            return _iso(record.created_at)
        if key == "updated_iso":
            return _iso(snap.since)
        if key == "videos":
            return self.videos(record, ctx, base_url) if snap.state == "succeeded" else []
        if key == "filter":
            reasons = self._filter_reasons
            return {"count": record.inputs.get("count", 1), "reasons": list(reasons), "reason": reasons[0], "code": self._filter_code}
        raise KeyError(key)

    def videos(self, record: OperationRecord, ident: dict[str, Any], base_url: str) -> list[dict[str, Any]]:
        """The results' template fields. They are fixed once an operation exists, so they are
        built on its first poll and kept in a bounded cache; each call gets fresh dicts."""
        key = (record.token, base_url)
        fields = self._results.get(key) if self._results_stay else None
        if fields is None:
            fields = self._videos(record, ident, base_url)
            if self._results_stay:
                if len(self._results) >= _IDENTITY_CACHE:
                    self._results.clear()
                self._results[key] = fields
        return [_Video(f) for f in fields]

    def _videos(self, record: OperationRecord, ident: dict[str, Any], base_url: str) -> list[dict[str, Any]]:
        inputs = record.inputs
        w, h, dur, fps = int(inputs["width"]), int(inputs["height"]), float(inputs["duration_s"]), int(inputs["fps"])
        storage = inputs.get("storage_uri")
        out: list[dict[str, Any]] = []
        for index in range(int(inputs["count"])):
            file = self.dialect.file_template.render({"token": record.token, "index": index})
            url = (
                self.dialect.result_url.render({**ident, "base_url": base_url, "file": file, "index": index})
                if self.dialect.result_url
                else None
            )
            out.append(
                dict(
                    index=index,
                    file=file,
                    url=url,
                    width=w,
                    height=h,
                    duration_s=dur,
                    duration=int(dur) if dur == int(dur) else dur,
                    fps=fps,
                    mime="video/mp4",
                    gcs_uri=f"{str(storage).rstrip('/')}/{file}.mp4" if storage else None,
                    _render=None if storage else (w, h, dur, fps),
                )
            )
        return out

    def poll_body(self, op: Operation, record: OperationRecord, snap: Snapshot, base_url: str) -> bytes:
        """A poll's JSON answer. Everything in its context is fixed for an operation except
        the snapshot and the base URL, so while an operation stays in one snapshot (a state,
        its start, a progress percentage) every poll through the same host gets the same
        bytes, which are kept in a bounded cache (answers up to 2 KB, so at most about
        20 MB: inline videos in base64 are left out)."""
        key = (op.operation_id, record.token, snap, base_url)
        body = self._bodies.get(key)
        if body is None:
            body = orjson.dumps(self.render(op, self.context(record, snap, base_url)))
            if len(body) <= _BODY_CACHE_MAX_BYTES:
                if len(self._bodies) >= _BODY_CACHE:
                    self._bodies.clear()
                self._bodies[key] = body
        return body

    def render(self, op: Operation, ctx: dict[str, Any]) -> Any:
        template = op.state_responses[ctx["state"]] if op.role == "poll" else op.create_response
        assert template is not None
        return template.render(ctx)

    def locate_file(self, value: str) -> tuple[str, int] | None:
        parts = self.dialect.file_template.parse(value)
        if not parts or "token" not in parts or not str(parts.get("index", "")).isdigit():
            return None
        return parts["token"], int(parts["index"])


class _Context(dict[str, Any]):
    """A template context whose costly fields (ISO times, result lists) are made on first read."""

    lazy: tuple[Simulator, OperationRecord, Snapshot, str]

    def __missing__(self, key: str) -> Any:
        sim, record, snap, base_url = self.lazy
        value = sim._lazy(key, record, snap, base_url, self)
        self[key] = value
        return value


class _Video(dict[str, Any]):
    """A result's template fields; ``b64`` (inline bytes) is rendered only when a template reads it."""

    def __missing__(self, key: str) -> Any:
        if key == "b64":
            args = self.get("_render")
            value = render_mp4_b64(*args) if args else None
            self["b64"] = value
            return value
        raise KeyError(key)
