"""Where a request's values come from, and how a create's inputs are read: once, for both sides.

A :class:`Source` names one place in a request: ``path:NAME``, ``query:NAME``,
``header:NAME`` or ``body:/json/pointer`` (a multipart body reads as the object
of its fields). An :class:`InputReader` turns a create request into the inputs
the simulation needs (model, prompt, size, duration...), applying the transforms
the document declares. The mock plans an operation from them and the kit expects
a video from them, so the two read a request the same way by construction.

Transforms, applied in this order (all optional)::

    {from: body:/content, select: {type: text}, at: /text}   # the first list item that matches, then a pointer
    {from: body:/prompt, flags: {duration_s: [--duration, --dur]}}   # "--duration 5" in a text
    {from: body:/size, split: "x", into: [width, height]}     # "1280x720"
    {from: body:/duration, map: {"5s": 5, "9s": 9}}           # an enum to a value
    {from: body:/seconds, as: number}                         # "4" -> 4.0
    {from: [path:owner, path:name], join: /}                  # several places joined: "google/veo-3"
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from videogen.coercion import coerce
from videogen.errors import SpecError
from videogen.pointer import MISSING, Pointer

__all__ = ["DERIVED", "SIMULATED", "InputReader", "Request", "RequestView", "Source"]

# Inputs with a meaning to the simulation; any other input is kept and echoed as input.NAME.
SIMULATED = ("model", "prompt", "count", "duration_s", "width", "height", "aspect_ratio", "resolution", "fps", "seed", "storage_uri")
# Inputs every operation has after planning, whatever the request said.
DERIVED = ("count", "duration_s", "width", "height", "fps", "seed")
_TYPES = {"number": {"type": "number"}, "integer": {"type": "integer"}, "string": {"type": "string"}}


class Request(Protocol):
    """What a source reads: typed path and query parameters, lower-case headers, the decoded body."""

    @property
    def path(self) -> Mapping[str, Any]: ...

    @property
    def query(self) -> Mapping[str, Any]: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def body(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class RequestView:
    """A :class:`Request` built by hand: a client's own request, or a document's example."""

    path: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True, slots=True)
class Source:
    """One place in a request."""

    kind: Literal["path", "query", "header", "body"]
    key: str
    pointer: Pointer | None = None

    @classmethod
    def parse(cls, text: str, source: str, where: str) -> Source:
        kind, sep, key = text.partition(":")
        if not sep or kind not in ("path", "query", "header", "body") or not key:
            raise SpecError(source, where, f"expected 'path:NAME', 'query:NAME', 'header:NAME' or 'body:/pointer', got {text!r}")
        if kind == "body":
            try:
                return cls("body", key, Pointer.parse(key))
            except ValueError as exc:
                raise SpecError(source, where, str(exc)) from None
        return cls(kind, key.lower() if kind == "header" else key)  # type: ignore[arg-type]

    def read(self, request: Request) -> Any:
        """The value at this place, or ``MISSING``."""
        if self.kind == "body":
            assert self.pointer is not None
            return self.pointer.get(request.body)
        where = request.path if self.kind == "path" else request.query if self.kind == "query" else request.headers
        return where.get(self.key, MISSING)

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


@dataclass(frozen=True, slots=True)
class Flag:
    name: str  # the input it fills
    spellings: tuple[str, ...]  # --duration, --dur


@dataclass(frozen=True, slots=True)
class Input:
    """One declared input: a source and the transforms that turn what it holds into named values."""

    name: str
    source: Source
    where: str
    joined: tuple[Source, ...] = ()  # more sources whose values follow the first, joined by ``join``
    join: str | None = None
    select: tuple[tuple[str, Any], ...] = ()
    at: Pointer | None = None
    flags: tuple[Flag, ...] = ()
    split: str | None = None
    into: tuple[str, ...] = ()
    mapping: Mapping[str, Any] | None = None
    as_type: str | None = None
    plain: bool = field(init=False)  # no transform: the value is what the source holds

    def __post_init__(self) -> None:
        plain = not (self.select or self.at or self.flags or self.split or self.mapping is not None or self.as_type or self.joined)
        object.__setattr__(self, "plain", plain)

    @property
    def produces(self) -> tuple[str, ...]:
        if self.flags:
            return tuple(f.name for f in self.flags)
        return self.into or (self.name,)

    def read(self, request: Request, out: dict[str, Any]) -> None:
        value = self.source.read(request)
        if self.join is not None:
            parts = [value, *(s.read(request) for s in self.joined)]
            value = MISSING if any(p is MISSING or p is None for p in parts) else self.join.join(str(p) for p in parts)
        if self.select:
            value = (
                next((item for item in value if isinstance(item, dict) and _selects(item, self.select)), MISSING)
                if isinstance(value, list)
                else MISSING
            )
        if self.at is not None and value is not MISSING:
            value = self.at.get(value)
        if value is MISSING or value is None:
            return
        if self.flags:
            if isinstance(value, str):
                for flag, text in _flags(value, self.flags).items():
                    out[flag] = self._typed(text)
            return
        if self.split is not None:
            parts = value.split(self.split) if isinstance(value, str) else []
            if len(parts) == len(self.into) and all(parts):
                for name, part in zip(self.into, parts, strict=True):
                    out[name] = self._typed(part.strip())
            return
        out[self.name] = self._typed(value)

    def _typed(self, value: Any) -> Any:
        if self.mapping is not None and isinstance(value, (str, int, float)) and str(value) in self.mapping:
            value = self.mapping[str(value)]
        if self.as_type is not None and isinstance(value, str):
            value = coerce(value, _TYPES[self.as_type])
        return value


def _selects(item: dict[str, Any], wanted: tuple[tuple[str, Any], ...]) -> bool:
    return all(item.get(k) == v for k, v in wanted)


def _flags(text: str, flags: tuple[Flag, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    words = text.split()
    by_spelling = {s: f.name for f in flags for s in f.spellings}
    for word, value in itertools.pairwise(words):
        name = by_spelling.get(word)
        if name is not None and name not in found and not value.startswith("--"):
            found[name] = value
    return found


@dataclass(frozen=True, slots=True)
class InputReader:
    """A create's inputs, compiled: ``read(request)`` gives the values its request carries."""

    inputs: tuple[Input, ...]
    names: frozenset[str] = field(default=frozenset())

    def read(self, request: Request) -> dict[str, Any]:
        """Every declared input the request carries (null counts as absent), transformed."""
        out: dict[str, Any] = {}
        body = request.body
        for inp in self.inputs:
            if inp.plain:  # most inputs: one place, no transform (read here, on every create)
                pointer = inp.source.pointer
                value = pointer.get(body) if pointer is not None else inp.source.read(request)
                if value is not MISSING and value is not None:
                    out[inp.name] = value
            else:
                inp.read(request, out)
        return out

    def sources(self) -> list[tuple[Input, Source]]:
        """Every (input, place) pair: an input joined from several places has one pair each."""
        return [(inp, src) for inp in self.inputs for src in (inp.source, *inp.joined)]

    def source_of(self, name: str) -> Source | None:
        """Where an input's value comes from, for a client that wants to set it."""
        for inp in self.inputs:
            if name in inp.produces:
                return inp.source
        return None


def compile_inputs(raw: Mapping[str, Any], source: str, where: str) -> InputReader:
    """Compile an ``inputs`` block: each value a source string or a transform object."""
    inputs = []
    for name, spec in raw.items():
        at = f"{where}/{name}"
        if isinstance(spec, str):
            inputs.append(Input(name, Source.parse(spec, source, at), at))
            continue
        select = tuple(spec.get("select", {}).items())
        pointer = None
        if "at" in spec:
            try:
                pointer = Pointer.parse(spec["at"])
            except ValueError as exc:
                raise SpecError(source, f"{at}/at", str(exc)) from None
        flags = tuple(Flag(flag, tuple(spellings)) for flag, spellings in spec.get("flags", {}).items())
        into = tuple(spec.get("into", ()))
        if ("split" in spec) != bool(into):
            raise SpecError(source, at, "'split' and 'into' go together: split: 'x', into: [width, height]")
        sources = spec["from"] if isinstance(spec["from"], list) else [spec["from"]]
        parsed = [Source.parse(text, source, f"{at}/from") for text in sources]
        if len(parsed) > 1 and "join" not in spec:
            raise SpecError(source, at, "several sources need 'join': the text between their values")
        inputs.append(
            Input(
                name,
                parsed[0],
                at,
                joined=tuple(parsed[1:]),
                join=spec.get("join"),
                select=select,
                at=pointer,
                flags=flags,
                split=spec.get("split"),
                into=into,
                mapping={str(k): v for k, v in spec["map"].items()} if "map" in spec else None,
                as_type=spec.get("as"),
            )
        )
    names = frozenset(n for inp in inputs for n in inp.produces)
    return InputReader(tuple(inputs), names)
