"""Mutation test of the load-time checks: break each name, rule, source and reference of every
bundled dialect in turn, and prove the loader refuses the document, naming the right place.

A mutation that loaded would be a document that passes ``check`` and then fails on a
request (or misleads the kit), which is exactly what the checks exist to prevent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from videogen.building import escape
from videogen.dialect import YAML_LOADER, dialect_paths, load_dialect
from videogen.errors import SpecError

_NAME = re.compile(r"(?<!\{)\{([A-Za-z_][\w.]*)(\??)\}(?!\})")
_EACH = re.compile(r"^(\s*\w+\s+in\s+)([\w.]+)(\s*)$")


@dataclass(frozen=True)
class Mutation:
    what: str  # a readable label: "template name {error.message} -> {error.messagex}"
    at: tuple[Any, ...]  # the steps to the value that changes
    value: Any  # its new value
    expect: tuple[str, ...]  # the error must name one of these places (in its pointer or its message)


def pointer(steps: tuple[Any, ...]) -> str:
    return "".join(f"/{escape(str(s))}" for s in steps)


def _templates(node: Any, at: tuple[Any, ...], root: tuple[Any, ...]) -> Iterator[Mutation]:
    """Every placeholder in a template tree, each broken by one letter."""
    if isinstance(node, str):
        for m in _NAME.finditer(node):
            broken = node[: m.end(1)] + "x" + node[m.end(1) :]
            yield Mutation(f"template name {m.group(0)} at {pointer(at)}", at, broken, (pointer(root),))
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "$each" and isinstance(value, str) and (m := _EACH.match(value)):
                broken = f"{m.group(1)}{m.group(2)}x{m.group(3)}"
                yield Mutation(f"$each source {value!r} at {pointer(at)}", (*at, key), broken, (pointer(root),))
            else:
                yield from _templates(value, (*at, key), root)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _templates(value, (*at, i), root)


def _source(text: str) -> str:
    return text + "x"  # path:NAMEx, body:/a/bx


def _operation_blocks(document: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and isinstance(op.get("x-videogen"), dict):
                yield ("paths", path, method, "x-videogen"), op["x-videogen"]


def _rule_value(value: Any) -> Any:
    """A rule's expected value, changed into one that no longer means the same thing."""
    flips = {"$present": "$absent", "$absent": "$present", "$positive": "$absent", "$nonempty": "$absent"}
    if isinstance(value, str):
        return flips.get(value, value + "x")
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    return "conformance-mutated"


def mutations(document: dict[str, Any]) -> Iterator[Mutation]:
    x = document["x-videogen"]
    root: tuple[Any, ...] = ("x-videogen",)
    # template names
    for key in ("id", "name", "file"):
        if key in x["identity"]:
            at = (*root, "identity", key)
            yield from _templates(x["identity"][key], at, at)
    if "result_url" in x:
        yield from _templates(x["result_url"], (*root, "result_url"), (*root, "result_url"))
    for key in ("body", "details"):
        if key in x["errors"]:
            at = (*root, "errors", key)
            yield from _templates(x["errors"][key], at, at)
    for at, block in _operation_blocks(document):
        if "response" in block:
            yield from _templates(block["response"], (*at, "response"), (*at, "response"))
        for state, body in block.get("responses", {}).items():
            yield from _templates(body, (*at, "responses", state), (*at, "responses", state))
        # sources
        for group in ("vars", "inputs"):
            for name, src in block.get(group, {}).items():
                if isinstance(src, str):
                    yield Mutation(f"source {group}/{name} {src!r}", (*at, group, name), _source(src), (pointer((*at, group, name)),))
                elif isinstance(src, dict) and isinstance(src.get("from"), str):
                    target = (*at, group, name, "from")
                    yield Mutation(f"source {group}/{name} {src['from']!r}", target, _source(src["from"]), (pointer((*at, group, name)),))
                elif isinstance(src, dict) and isinstance(src.get("from"), list):  # joined from several places: break each
                    for i, one in enumerate(src["from"]):
                        target = (*at, group, name, "from", i)
                        yield Mutation(f"source {group}/{name} from[{i}] {one!r}", target, _source(one), (pointer((*at, group, name)),))
        for key in ("id", "file"):
            if key in block:
                yield Mutation(f"source {key} {block[key]!r}", (*at, key), _source(block[key]), (pointer((*at, key)),))
        # route references: an alias whose group names no parameter
        for i, alias in enumerate(block.get("aliases", [])):
            broken = re.sub(r"\(\?P<(\w+)>", r"(?P<\1x>", alias["match"], count=1)
            yield Mutation(f"alias group in {alias['match']!r}", (*at, "aliases", i, "match"), broken, (pointer((*at, "aliases", i)),))
    read = x["read"]
    # state rules
    for i, rule in enumerate(read["states"]):
        for key, value in rule["when"].items():
            rule_at = pointer((*root, "read", "states"))
            moved = {(k + "x" if k == key else k): v for k, v in rule["when"].items()}
            yield Mutation(f"state rule #{i} pointer {key}", (*root, "read", "states", i, "when"), moved, (rule_at,))
            changed = {**rule["when"], key: _rule_value(value)}
            yield Mutation(f"state rule #{i} {key}: {value!r}", (*root, "read", "states", i, "when"), changed, (rule_at,))
    # the route and the pointers a client reads with
    poll = read["poll"]
    yield Mutation(
        "read.poll.path", (*root, "read", "poll", "path"), poll["path"].replace("/", "/x", 1), (pointer((*root, "read", "poll")),)
    )
    for key in ("handle", "echo", "results", "error"):
        if key in read:
            yield Mutation(f"read.{key}", (*root, "read", key), read[key] + "x", (pointer((*root, "read", key)),))
    for key, value in read["result"].items():
        yield Mutation(f"read.result.{key}", (*root, "read", "result", key), value + "x", (pointer((*root, "read", "result")),))


def mutated(document: dict[str, Any], mutation: Mutation) -> dict[str, Any]:
    # Through JSON, not deepcopy: YAML anchors share nodes, and a mutation must change one place only.
    copied = json.loads(json.dumps(document))
    node = copied
    for step in mutation.at[:-1]:
        node = node[step]
    node[mutation.at[-1]] = mutation.value
    return copied


def _cases() -> list[Any]:
    cases = []
    for path in dialect_paths():
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
        for m in mutations(document):
            cases.append(pytest.param(path, m, id=f"{path.stem}: {m.what}"))
    return cases


CASES = _cases()


def test_there_are_mutations_of_every_kind_for_every_dialect() -> None:
    for path in dialect_paths():
        kinds = {m.values[1].what.split(" ")[0] for m in CASES if m.values[0] == path}
        assert {"template", "source", "state", "read.poll.path", "read.handle"} <= kinds, (path.stem, kinds)


@pytest.mark.parametrize("path,mutation", CASES)
def test_each_mutation_is_refused_at_load_time_naming_its_place(tmp_path: Path, path: Path, mutation: Mutation) -> None:
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    target = tmp_path / path.name
    target.write_text(yaml.safe_dump(mutated(document, mutation), sort_keys=False, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_dialect(target)
    error = caught.value
    assert any(error.where.startswith(place) or place in error.problem for place in mutation.expect), (
        f"{mutation.what}: the error names {error.where!r} ({error.problem}); expected one of {mutation.expect}"
    )
