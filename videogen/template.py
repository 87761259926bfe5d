"""Response templates: vendor JSON with ``{placeholders}``, compiled once.

A dialect writes each response it sends as the JSON the vendor would send, with
placeholders where the simulation fills in values:

- ``"{progress}"`` (a string that is exactly one placeholder) keeps the value's
  type: an int stays an int, a list stays a list.
- ``"videos/{file}.mp4"`` interpolates ``str(value)``; ``{{`` and ``}}`` escape.
- ``"{video.gcs_uri?}"`` as a mapping value drops the key when the value is None.
- ``[{$each: "video in videos", uri: "{video.url}"}]`` repeats the item once per
  element of ``videos``, with ``video`` bound to the element.

Compilation turns the tree into nested closures, so rendering on the request
path is a walk over pre-parsed steps with no parsing and no regexes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from videogen.errors import TemplateError

__all__ = ["Template", "compile_template"]

_WHOLE = re.compile(r"\{([A-Za-z_][\w.]*)(\?)?\}")
_PART = re.compile(r"\{\{|\}\}|\{([A-Za-z_][\w.]*)\}")
_EACH = re.compile(r"\s*([A-Za-z_]\w*)\s+in\s+([A-Za-z_][\w.]*)\s*")

_OMIT = object()
Render = Callable[[Mapping[str, Any]], Any]


_ABSENT = object()


def _walk(path: tuple[str, ...], ctx: Mapping[str, Any]) -> Any:
    """The value at ``path``, or ``_ABSENT`` when a step does not exist (or hits null)."""
    node: Any = ctx
    for step in path:
        try:
            node = node[int(step)] if isinstance(node, list) else node[step]
        except (KeyError, TypeError, IndexError, ValueError):
            return _ABSENT
    return node


def _lookup(path: tuple[str, ...], where: str, *, optional: bool = False) -> Render:
    if optional:  # "{a.b?}": null when anything on the way is missing or null
        return lambda ctx: None if (v := _walk(path, ctx)) is _ABSENT else v
    if len(path) == 1:  # the common case, without the loop
        (key,) = path

        def get_one(ctx: Mapping[str, Any]) -> Any:
            try:
                return ctx[key]
            except (KeyError, TypeError):
                raise TemplateError(f"{where}: no value for {{{key}}}") from None

        return get_one

    def get(ctx: Mapping[str, Any]) -> Any:
        value = _walk(path, ctx)
        if value is _ABSENT:
            raise TemplateError(f"{where}: no value for {{{'.'.join(path)}}}")
        return value

    return get


class Template:
    """A compiled template; ``render(ctx)`` returns a fresh JSON-ready value.

    ``paths`` holds every dotted name it reads, a loop variable replaced by the list it
    walks (``video.url`` inside ``$each: video in videos`` is ``videos.*.url``), so the
    loader can check each one against the context's shape.
    """

    __slots__ = ("_render", "names", "paths", "source")

    def __init__(self, render: Render, paths: frozenset[tuple[str, ...]], source: Any) -> None:
        self._render = render
        self.paths = paths
        self.names = frozenset(p[0] for p in paths)  # root context names it reads
        self.source = source

    def render(self, ctx: Mapping[str, Any]) -> Any:
        return self._render(ctx)


def compile_template(source: Any, where: str = "template") -> Template:
    """Compile a YAML/JSON tree into a :class:`Template`; raises TemplateError."""
    paths: set[tuple[str, ...]] = set()
    render = _compile(source, where, paths, bound={})
    return Template(render, frozenset(paths), source)


def _compile(node: Any, where: str, paths: set[tuple[str, ...]], bound: Mapping[str, tuple[str, ...]]) -> Render:
    if isinstance(node, str):
        return _compile_str(node, where, paths, bound)
    if isinstance(node, dict):
        return _compile_dict(node, where, paths, bound)
    if isinstance(node, list):
        if len(node) == 1 and isinstance(node[0], dict) and "$each" in node[0]:
            return _compile_each(node[0], where, paths, bound)
        items = [_compile(v, f"{where}/{i}", paths, bound) for i, v in enumerate(node)]
        return lambda ctx: [item(ctx) for item in items]
    if node is None or isinstance(node, (bool, int, float)):
        return lambda ctx: node
    raise TemplateError(f"{where}: cannot template a {type(node).__name__}")


def _note(path: str, paths: set[tuple[str, ...]], bound: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    steps = tuple(path.split("."))
    walked = bound.get(steps[0])
    paths.add((*walked, "*", *steps[1:]) if walked is not None else steps)
    return steps


def _constant(text: str) -> Render:
    return lambda ctx: text


def _as_text(get: Render) -> Render:
    return lambda ctx: str(get(ctx))


def _compile_str(text: str, where: str, paths: set[tuple[str, ...]], bound: Mapping[str, tuple[str, ...]]) -> Render:
    whole = _WHOLE.fullmatch(text)
    if whole:
        get = _lookup(_note(whole.group(1), paths, bound), where, optional=bool(whole.group(2)))
        if whole.group(2):
            return lambda ctx: _OMIT if (v := get(ctx)) is None else v
        return get
    if "{" not in text and "}" not in text:
        return lambda ctx: text
    pieces: list[Render] = []
    pos = 0
    for m in _PART.finditer(text):
        literal = text[pos : m.start()]
        if "{" in literal or "}" in literal:
            raise TemplateError(f"{where}: unbalanced brace in {text!r}")
        if literal:
            pieces.append(_constant(literal))
        if m.group(1) is None:
            pieces.append(_constant(m.group(0)[0]))
        else:
            pieces.append(_as_text(_lookup(_note(m.group(1), paths, bound), where)))
        pos = m.end()
    tail = text[pos:]
    if "{" in tail or "}" in tail:
        raise TemplateError(f"{where}: unbalanced brace in {text!r}")
    if tail:
        pieces.append(_constant(tail))
    return lambda ctx: "".join([p(ctx) for p in pieces])  # a list joins faster than a generator


def _compile_dict(node: dict[Any, Any], where: str, paths: set[tuple[str, ...]], bound: Mapping[str, tuple[str, ...]]) -> Render:
    if any(isinstance(k, str) and k.startswith("$") for k in node):
        raise TemplateError(f"{where}: '$each' must be the only item of a list")
    fields = [(str(k), _compile(v, f"{where}/{k}", paths, bound)) for k, v in node.items()]

    def render(ctx: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for key, value in fields:
            v = value(ctx)
            if v is not _OMIT:
                out[key] = v
        return out

    return render


def _compile_each(node: dict[str, Any], where: str, paths: set[tuple[str, ...]], bound: Mapping[str, tuple[str, ...]]) -> Render:
    spec = node["$each"]
    m = _EACH.fullmatch(spec) if isinstance(spec, str) else None
    if m is None:
        raise TemplateError(f"{where}: '$each' takes 'NAME in PATH', got {spec!r}")
    var, source = m.group(1), m.group(2)
    steps = _note(source, paths, bound)
    items = _lookup(steps, where)
    walked = bound.get(steps[0])
    body = {k: v for k, v in node.items() if k != "$each"}
    item = _compile_dict(body, f"{where}/$each", paths, {**bound, var: (*walked, "*", *steps[1:]) if walked else steps})

    def render(ctx: Mapping[str, Any]) -> list[Any]:
        return [item(_Bound(ctx, var, element)) for element in items(ctx) or ()]  # a missing list is empty

    return render


class _Bound(dict[str, Any]):
    """The context with a loop variable bound. Every other name is read from the outer
    context when asked for, so nothing is copied and a lazy context stays lazy."""

    __slots__ = ("outer",)

    def __init__(self, outer: Mapping[str, Any], name: str, value: Any) -> None:
        super().__init__()
        self[name] = value
        self.outer = outer

    def __missing__(self, key: str) -> Any:
        return self.outer[key]
