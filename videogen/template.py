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


def _lookup(path: tuple[str, ...], where: str) -> Render:
    if len(path) == 1:  # the common case, without the loop
        (key,) = path

        def get_one(ctx: Mapping[str, Any]) -> Any:
            try:
                return ctx[key]
            except (KeyError, TypeError):
                raise TemplateError(f"{where}: no value for {{{key}}}") from None

        return get_one

    def get(ctx: Mapping[str, Any]) -> Any:
        node: Any = ctx
        for step in path:
            try:
                node = node[int(step)] if isinstance(node, list) else node[step]
            except (KeyError, TypeError, IndexError, ValueError):
                raise TemplateError(f"{where}: no value for {{{'.'.join(path)}}}") from None
        return node

    return get


class Template:
    """A compiled template; ``render(ctx)`` returns a fresh JSON-ready value."""

    __slots__ = ("_render", "names", "source")

    def __init__(self, render: Render, names: frozenset[str], source: Any) -> None:
        self._render = render
        self.names = names  # root context names it reads, for load-time checks
        self.source = source

    def render(self, ctx: Mapping[str, Any]) -> Any:
        return self._render(ctx)


def compile_template(source: Any, where: str = "template") -> Template:
    """Compile a YAML/JSON tree into a :class:`Template`; raises TemplateError."""
    names: set[str] = set()
    render = _compile(source, where, names, bound=frozenset())
    return Template(render, frozenset(names), source)


def _compile(node: Any, where: str, names: set[str], bound: frozenset[str]) -> Render:
    if isinstance(node, str):
        return _compile_str(node, where, names, bound)
    if isinstance(node, dict):
        return _compile_dict(node, where, names, bound)
    if isinstance(node, list):
        if len(node) == 1 and isinstance(node[0], dict) and "$each" in node[0]:
            return _compile_each(node[0], where, names, bound)
        items = [_compile(v, f"{where}/{i}", names, bound) for i, v in enumerate(node)]
        return lambda ctx: [item(ctx) for item in items]
    if node is None or isinstance(node, (bool, int, float)):
        return lambda ctx: node
    raise TemplateError(f"{where}: cannot template a {type(node).__name__}")


def _note(path: str, names: set[str], bound: frozenset[str]) -> tuple[str, ...]:
    steps = tuple(path.split("."))
    if steps[0] not in bound:
        names.add(steps[0])
    return steps


def _constant(text: str) -> Render:
    return lambda ctx: text


def _as_text(get: Render) -> Render:
    return lambda ctx: str(get(ctx))


def _compile_str(text: str, where: str, names: set[str], bound: frozenset[str]) -> Render:
    whole = _WHOLE.fullmatch(text)
    if whole:
        get = _lookup(_note(whole.group(1), names, bound), where)
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
            pieces.append(_as_text(_lookup(_note(m.group(1), names, bound), where)))
        pos = m.end()
    tail = text[pos:]
    if "{" in tail or "}" in tail:
        raise TemplateError(f"{where}: unbalanced brace in {text!r}")
    if tail:
        pieces.append(_constant(tail))
    return lambda ctx: "".join([p(ctx) for p in pieces])  # a list joins faster than a generator


def _compile_dict(node: dict[Any, Any], where: str, names: set[str], bound: frozenset[str]) -> Render:
    if any(isinstance(k, str) and k.startswith("$") for k in node):
        raise TemplateError(f"{where}: '$each' must be the only item of a list")
    fields = [(str(k), _compile(v, f"{where}/{k}", names, bound)) for k, v in node.items()]

    def render(ctx: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for key, value in fields:
            v = value(ctx)
            if v is not _OMIT:
                out[key] = v
        return out

    return render


def _compile_each(node: dict[str, Any], where: str, names: set[str], bound: frozenset[str]) -> Render:
    spec = node["$each"]
    m = _EACH.fullmatch(spec) if isinstance(spec, str) else None
    if m is None:
        raise TemplateError(f"{where}: '$each' takes 'NAME in PATH', got {spec!r}")
    var, source = m.group(1), m.group(2)
    items = _lookup(_note(source, names, bound), where)
    body = {k: v for k, v in node.items() if k != "$each"}
    item = _compile_dict(body, f"{where}/$each", names, bound | {var})

    def render(ctx: Mapping[str, Any]) -> list[Any]:
        return [item(_Bound(ctx, var, element)) for element in items(ctx)]

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
