"""Inputs generated from the document by schemathesis (hypothesis underneath).

Generation is separate from sending: cases are drawn first, deterministically
(``derandomize``), then turned into :class:`Probe` records that the input checks
filter (:mod:`conformance.wire`), rate-limit and send. Credentials are stripped
here; the kit adds its own key when it sends.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlencode, urlsplit

import schemathesis
from hypothesis import HealthCheck, Phase, configuration, given, settings
from schemathesis import GenerationMode

from conformance.client import encode_json
from conformance.routes import Routes
from videogen.dialect import Dialect, Operation

__all__ = ["Generator", "Probe"]

_HOST = "http://conformance.invalid"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
Mode = Literal["positive", "negative"]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "videogen-conformance" / "hypothesis"


@contextlib.contextmanager
def _own_storage() -> Iterator[None]:
    """Hypothesis keeps caches in ``./.hypothesis``: the kit draws with its own folder under the
    user's cache instead, and puts back whatever the caller had (a test suite's own setting)."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield  # the user chose where hypothesis writes
        return
    before = vars(configuration).get("__hypothesis_home_directory")
    configuration.set_hypothesis_home_dir(_cache_dir())
    try:
        yield
    finally:
        configuration.set_hypothesis_home_dir(before)


@dataclass(frozen=True, slots=True)
class Probe:
    """One concrete request for an operation, before credentials."""

    op: Operation
    label: str
    method: str
    target: str  # path and query, relative to the base URL, already encoded
    headers: dict[str, str]
    body: bytes | None
    path: dict[str, str]  # decoded, as the server sees them
    query: dict[str, str]

    @property
    def key(self) -> tuple[str, str, bytes | None]:
        return (self.method, self.target, self.body)

    @property
    def in_url_controls(self) -> bool:
        """Control characters in the URL: proxies and CDNs refuse these before any API sees them,
        so a verdict would judge the infrastructure, not the contract. Such probes are not sent."""
        texts = [*self.path.values(), *self.query.keys(), *self.query.values()]
        return any(_CONTROL.search(t) for t in texts)


def _query_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


class Generator:
    """Draws requests for a dialect's operations from its OpenAPI document."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.schema = schemathesis.openapi.from_dict(dialect.published)  # never the mock's own choices
        # OpenAPI cannot say that unknown query parameters are refused, and most APIs ignore them:
        # an extra parameter is not invalid input, so a negative probe never consists of one.
        self.schema.config.generation.update(allow_extra_parameters=False)
        self.routes = Routes(dialect, _HOST)
        self._secret_query = {slot.name for op in dialect.operations for slot in op.credentials if slot.location == "query"}

    def probes(self, op: Operation, mode: Mode, count: int) -> list[Probe]:
        """Up to ``count`` distinct requests; fewer when the schema leaves little to vary."""
        if count <= 0:
            return []
        cases: list[Any] = []
        strategy = self.schema[op.path][op.method].as_strategy(generation_mode=GenerationMode(mode))

        @settings(
            max_examples=count,
            derandomize=True,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            deadline=None,
        )
        @given(strategy)
        def draw(case: Any) -> None:
            cases.append(case)

        with _own_storage(), contextlib.suppress(Exception):  # Unsatisfiable and friends: nothing left to vary
            draw()
        out: dict[tuple[str, str, bytes | None], Probe] = {}
        for case in cases:
            probe = self._probe(op, mode, case)
            if not probe.in_url_controls:
                out.setdefault(probe.key, probe)
        return list(out.values())

    def _probe(self, op: Operation, mode: Mode, case: Any) -> Probe:
        kwargs = case.as_transport_kwargs(base_url=_HOST)
        path = urlsplit(kwargs["url"]).path[len(urlsplit(_HOST).path) :]
        query = {str(k): _query_value(v) for k, v in (kwargs.get("params") or {}).items() if str(k) not in self._secret_query}
        declared = {p["name"].lower() for p in op.parameters if p["in"] == "header"}
        headers = {str(k): str(v) for k, v in (kwargs.get("headers") or {}).items() if str(k).lower() in declared}
        body: bytes | None = None
        if "json" in kwargs:
            body = encode_json(kwargs["json"])
        elif isinstance(kwargs.get("data"), (bytes, str)):
            data = kwargs["data"]
            body = data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")
        if body is not None:
            headers["content-type"] = str(getattr(case, "media_type", None) or "application/json")
        matched = self.routes.match(op.method, path)
        path_params = matched[1] if matched and matched[0] is op else self._path_params(op, case)
        target = path + (f"?{urlencode(query)}" if query else "")
        return Probe(op, f"schemathesis {mode}", op.method, target, headers, body, path_params, query)

    def _path_params(self, op: Operation, case: Any) -> dict[str, str]:
        raw = getattr(case, "path_parameters", None) or {}
        return {str(k): unquote(_query_value(v)) for k, v in raw.items()}
