"""Reading YAML someone else wrote: bounded, and every failure a message, never a traceback.

Dialect documents and fault profiles come from users. This loader reads them with
libyaml (fast even for megabytes), composes the node graph first and refuses, before
building a single Python object:

* an alias bomb: aliases that expand past :data:`MAX_NODES` nodes once every alias
  is counted where it is used (the "billion laughs");
* an alias that contains itself;
* nesting deeper than :data:`MAX_DEPTH`.

It then builds the document and refuses any value JSON has no type for (``!!binary``,
an unquoted date, a set), so what comes back is plain JSON data. Bytes that are not
UTF-8, an integer too long to read, and malformed YAML are errors with the place.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import yaml

from videogen.errors import VideogenError

__all__ = ["MAX_DEPTH", "MAX_NODES", "UnsafeYamlError", "load_yaml", "load_yaml_file"]

MAX_NODES = 1_000_000  # nodes once every alias is expanded; the bundled documents need under 30,000
MAX_DEPTH = 128  # nested mappings and sequences; the bundled documents reach 20

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_JSON = (str, int, float, bool, type(None))


class UnsafeYamlError(VideogenError):
    """A YAML document that cannot be read safely; the message says why, and where when it can."""


def load_yaml_file(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnsafeYamlError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnsafeYamlError(f"{path}: not UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8") from None
    return load_yaml(text, str(path))


def load_yaml(text: str, source: str = "<yaml>") -> Any:
    """The JSON data in ``text``, or :class:`UnsafeYamlError` naming ``source``."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise UnsafeYamlError(f"{source}: not valid YAML: {exc}") from None
    if node is None:
        return None
    _measure(node, source)
    loader = _LOADER("")
    try:
        document = loader.construct_document(node)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: an int past Python's digit limit
        raise UnsafeYamlError(f"{source}: cannot build the document: {exc}") from None
    finally:
        loader.dispose()
    _json_only(document, source)
    return document


def _measure(root: yaml.Node, source: str) -> None:
    """Count nodes with every alias expanded where it is used; refuse cycles and depth."""
    sizes: dict[int, int] = {}  # id(node) -> its expanded size, once known
    open_: set[int] = set()  # nodes being counted: meeting one again is a cycle

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if depth > MAX_DEPTH:
            raise UnsafeYamlError(f"{source}: nested deeper than {MAX_DEPTH} levels (line {node.start_mark.line + 1})")
        if key in open_:
            raise UnsafeYamlError(f"{source}: an alias refers to a node that contains it (line {node.start_mark.line + 1})")
        open_.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k, depth + 1) + size(v, depth + 1)
                if total > MAX_NODES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item, depth + 1)
                if total > MAX_NODES:
                    break
        open_.discard(key)
        if total > MAX_NODES:
            raise UnsafeYamlError(
                f"{source}: expands to more than {MAX_NODES:,} nodes once its aliases are counted (an alias bomb?); "
                f"line {node.start_mark.line + 1}"
            )
        sizes[key] = total
        return total

    size(root, 0)


def _json_only(document: Any, source: str) -> None:
    stack: list[tuple[Any, str]] = [(document, "")]
    seen: set[int] = set()
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            if id(value) in seen:
                continue
            seen.add(id(value))
            stack.extend((v, f"{where}/{k}") for k, v in value.items())
        elif isinstance(value, list):
            if id(value) in seen:
                continue
            seen.add(id(value))
            stack.extend((v, f"{where}/{i}") for i, v in enumerate(value))
        elif not isinstance(value, _JSON):
            hint = " (quote it to keep it a string)" if isinstance(value, datetime.date) else ""
            raise UnsafeYamlError(f"{source}: {where or '/'} holds a {type(value).__name__}, which JSON has no type for{hint}")
