"""Path templates and the one matcher both sides route with.

``/v1beta/models/{model}:predictLongRunning`` compiles once into a regex; a
parameter never spans ``/`` (as in OpenAPI), and any parameter name works,
``{task-id}`` included, because groups are numbered, not named after it.

:class:`Router` answers as Starlette's router does: a full match, a partial
match (the path exists under other methods: 405 with ``Allow``), or none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Generic, NamedTuple, TypeVar
from urllib.parse import quote

__all__ = ["Match", "PathTemplate", "Route", "Router", "fill"]

_PARAM = re.compile(r"\{([^{}/]+)\}")
T = TypeVar("T")


def fill(template: str, values: Mapping[str, object], *, encode: Callable[[str], str] | None = None) -> str:
    """``template`` with each ``{name}`` replaced by ``values[name]`` (unknown names stay as written).

    Values go in literally unless ``encode`` is given: a handle with slashes is sent
    as it is, while a redirect built from parsed parameters percent-encodes them.
    """

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            return m.group(0)
        text = str(values[name])
        return encode(text) if encode is not None else text

    return _PARAM.sub(one, template)


def quote_segment(text: str) -> str:
    return quote(text, safe="")


class PathTemplate:
    """One OpenAPI path template, compiled."""

    __slots__ = ("named", "names", "regex", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.names = tuple(m.group(1) for m in _PARAM.finditer(text))
        # Groups carry the parameter names when Python allows them as group names (the common
        # case: groupdict() is the answer); otherwise they are numbered and mapped back.
        self.named = all(name.isidentifier() for name in self.names) and len(set(self.names)) == len(self.names)
        pattern, pos = "", 0
        for i, m in enumerate(_PARAM.finditer(text)):
            group = m.group(1) if self.named else f"p{i}"
            pattern += re.escape(text[pos : m.start()]) + f"(?P<{group}>[^/]+)"
            pos = m.end()
        # DOTALL: an id holding a newline must still reach the dialect, to get the vendor's own 404.
        self.regex = re.compile(pattern + re.escape(text[pos:]), re.DOTALL)

    def params(self, m: re.Match[str]) -> dict[str, str]:
        return m.groupdict() if self.named else dict(zip(self.names, m.groups(), strict=True))

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters when ``path`` matches the whole template, else None."""
        m = self.regex.fullmatch(path)
        return None if m is None else self.params(m)

    def expand(self, values: Mapping[str, object], *, encode: bool = False) -> str:
        return fill(self.text, values, encode=quote_segment if encode else None)

    def __repr__(self) -> str:
        return f"PathTemplate({self.text!r})"


class Match(IntEnum):
    NONE = 0
    PARTIAL = 1  # the path exists, under other methods
    FULL = 2


@dataclass(frozen=True, slots=True)
class Route(Generic[T]):
    method: str
    template: PathTemplate
    target: T


class Routed(NamedTuple, Generic[T]):
    """What a request routes to (a tuple: one is made per request)."""

    match: Match
    target: T | None = None
    params: dict[str, str] | None = None
    allow: tuple[str, ...] = ()


class Router(Generic[T]):
    """Routes ``(method, path)`` to a target; paths are tried in the order they were added."""

    def __init__(self) -> None:
        self._paths: dict[str, tuple[PathTemplate, dict[str, T]]] = {}

    def add(self, method: str, template: str, target: T) -> None:
        _, methods = self._paths.setdefault(template, (PathTemplate(template), {}))
        methods[method.upper()] = target

    def routes(self) -> list[Route[T]]:
        return [Route(m, compiled, t) for compiled, methods in self._paths.values() for m, t in methods.items()]

    def match(self, method: str, path: str) -> Routed[T]:
        allow: list[str] = []
        for compiled, methods in self._paths.values():
            m = compiled.regex.fullmatch(path)
            if m is None:
                continue
            target = methods.get(method) or (methods.get("GET") if method == "HEAD" else None)
            if target is not None:
                return Routed(Match.FULL, target, compiled.params(m))
            allow.extend(methods)
        if allow:
            return Routed(Match.PARTIAL, allow=tuple(sorted({*allow, *(["HEAD"] if "GET" in allow else [])})))
        return Routed(Match.NONE)
