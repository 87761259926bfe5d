"""Reading a dialect's answers as a client does: the ``x-videogen.read`` half of the model.

The conformance kit uses this to judge any endpoint, the loader uses it to prove
that the mock's own answers read back as the states they render, and the mock's
tests use it to drive every dialect through one generic flow. Nothing here
knows a vendor.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from videogen.dialect import Dialect, Operation, ReadModel, StateRule
from videogen.inputs import RequestView
from videogen.paths import fill
from videogen.pointer import MISSING, Pointer

__all__ = [
    "CreateRequest",
    "PollRequest",
    "ResultRef",
    "classify",
    "create_request",
    "credentials",
    "data_url_bytes",
    "example_model",
    "handle_of",
    "matching_rule",
    "poll_request",
    "required_headers",
    "result_route",
    "results_of",
    "well_formed_error",
]


def _holds(value: Any, expected: Any) -> bool:
    if expected == "$present":
        return value is not MISSING
    if expected == "$absent":
        return value is MISSING
    if expected == "$positive":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    if expected == "$nonempty":
        return isinstance(value, (list, dict, str)) and len(value) > 0
    if isinstance(expected, bool) or isinstance(value, bool):
        return value is expected
    return bool(value == expected)


def matching_rule(read: ReadModel, body: Any) -> StateRule | None:
    """The first ``read.states`` rule that matches ``body``."""
    for rule in read.states:
        if all(_holds(pointer.get(body), expected) for pointer, expected in rule.when):
            return rule
    return None


def classify(read: ReadModel, body: Any) -> str | None:
    """The state the first matching rule names, or None when no rule matches."""
    rule = matching_rule(read, body)
    return rule.state if rule is not None else None


def handle_of(read: ReadModel, body: Any) -> str | None:
    value = read.handle.get(body)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class PollRequest:
    method: str
    path: str  # relative to the dialect's base URL; the handle is inserted literally
    json: Any


def _fill_tree(node: Any, ctx: dict[str, str]) -> Any:
    if isinstance(node, str):
        return fill(node, ctx)
    if isinstance(node, dict):
        return {k: _fill_tree(v, ctx) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill_tree(v, ctx) for v in node]
    return node


def poll_request(read: ReadModel, handle: str, **extra: str) -> PollRequest:
    """How to poll ``handle``: names with slashes go into the path literally, never percent-encoded."""
    ctx = {"handle": handle, **extra}
    path = fill(read.poll_path, ctx)
    if read.poll_query:
        path += "?" + urlencode({k: fill(v, ctx) for k, v in read.poll_query.items()})
    body = _fill_tree(read.poll_body, ctx) if read.poll_body is not None else None
    return PollRequest(read.poll_method, path, body)


@dataclass(frozen=True, slots=True)
class ResultRef:
    """One result: a URL to fetch, or inline base64 bytes (or neither, which is a defect)."""

    index: int
    url: str | None
    base64: str | None
    raw: Any


def _pick(pointer: Pointer | None, item: Any) -> str | None:
    if pointer is None:
        return None
    value = pointer.get(item)
    return value if isinstance(value, str) and value else None


def result_route(read: ReadModel, handle: str, base_url: str = "") -> str | None:
    """Where a result addressed by the operation is fetched (``read.result.route``), or None."""
    if read.result_route is None:
        return None
    url = base_url.rstrip("/") + fill(read.result_route, {"handle": handle})
    return url + ("?" + urlencode(read.result_query) if read.result_query else "")


def results_of(read: ReadModel, body: Any, *, handle: str = "", base_url: str = "") -> list[ResultRef] | None:
    """The results a finished operation carries; None when the location holds nothing.

    Where results are addressed by the operation (``read.result.route``), there is one,
    fetched from the route with the handle in it, under ``base_url``."""
    if read.results is None:
        url = result_route(read, handle, base_url)
        return [ResultRef(0, url, None, body)]
    node = read.results.get(body)
    if node is MISSING or node is None:
        return None
    items = node if isinstance(node, list) else [node]
    return [ResultRef(i, _pick(read.result_url, item), _pick(read.result_base64, item), item) for i, item in enumerate(items)]


def well_formed_error(error: Any) -> bool:
    """A non-empty message, alone or as a string field of an error object."""
    if isinstance(error, str):
        return bool(error.strip())
    if isinstance(error, dict):
        return any(isinstance(v, str) and v.strip() for v in error.values())
    return False


def credentials(op: Operation, key: str) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, query) that carry ``key`` the way the operation's first credential slot asks."""
    return op.credentials[0].place(key) if op.credentials else ({}, {})


def required_headers(dialect: Dialect) -> dict[str, str]:
    """Every required header parameter of the dialect with the value its clients send (a version
    header, an async switch): what a generic client adds to every request it makes."""
    return {name: value for op in dialect.operations for name, value in op.headers}


@dataclass(frozen=True, slots=True)
class CreateRequest:
    method: str
    path: str
    json: Any
    path_params: dict[str, str]


def _example_of(param: dict[str, Any]) -> str | None:
    schema = param.get("schema") or {}
    for value in (param.get("example"), schema.get("example"), *(schema.get("examples") or [None])[:1], schema.get("default")):
        if value is not None:
            return str(value)
    return None


def create_request(dialect: Dialect, *, prompt_suffix: str = "", body: Any = None, operation: Operation | None = None) -> CreateRequest:
    """A valid create request built from the document: its example body, path-parameter
    examples, and ``prompt_suffix`` appended to the prompt (e.g. ``" [mock:fail]"``)."""
    op = operation or dialect.create
    params = {p["name"]: _example_of(p) or "x" for p in op.parameters if p["in"] == "path"}
    document = copy.deepcopy(body if body is not None else dialect.read.example)
    prompt = op.inputs.source_of("prompt") if op.inputs is not None else None
    if prompt_suffix and prompt is not None and prompt.pointer is not None:
        current = prompt.pointer.get(document)
        document = prompt.pointer.set(document, f"{current if isinstance(current, str) else ''}{prompt_suffix}")
    return CreateRequest(op.method, op.route.expand(params), document, params)


def example_model(dialect: Dialect) -> str:
    """The model the document's example create names (in its path or its body); "" when it names none."""
    request = create_request(dialect)
    inputs = dialect.create.inputs
    model = inputs.read(RequestView(path=request.path_params, body=request.json)).get("model") if inputs is not None else None
    return model if isinstance(model, str) else ""


def data_url_bytes(url: str) -> bytes | None:
    """The bytes a ``data:`` URL carries (RFC 2397; base64 or plain), or None for any other URL:
    a result an answer hands over inline instead of at an address to download."""
    head, sep, payload = url.partition(",")
    if not url.startswith("data:") or not sep:
        return None
    return base64.b64decode(payload) if head.endswith(";base64") else payload.encode()
