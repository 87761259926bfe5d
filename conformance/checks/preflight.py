"""Before anything is spent: is the configuration right? Free requests only.

A key the endpoint refuses, or a base URL that is not the dialect's mount, would
otherwise produce a long "does not conform" run that blames the vendor for the
user's mistake. The first request of a run (a poll of an unknown id) tells both
apart from a real verdict; when it looks like a mistake, one or two more free
requests confirm it, and the run stops with exit 2 and a message saying what to fix.

* **Refused key**: the unknown id answered the dialect's missing- or invalid-key
  status (not its not-found answer), and a key nobody issued gets the very same status.
* **Wrong mount**: the unknown id answered 404 in no documented error shape of the
  dialect, and so did a GET on the create route (where a mounted API answers 405,
  a list, or its own error shape).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema_rs

from conformance.exchange import Exchange
from conformance.identity import UNKNOWN_KEY
from conformance.session import Session
from videogen.dialect import Dialect
from videogen.errors import VideogenError
from videogen.pointer import MISSING

__all__ = ["PreflightError", "preflight"]


class PreflightError(VideogenError):
    """The run's configuration is wrong (a refused key, the wrong mount): nothing is judged."""


def _error_schemas(dialect: Dialect) -> Iterator[Any]:
    """The JSON schemas of every error response the vendor published."""
    seen: list[Any] = []
    for op in dialect.operations:
        if op.choice:
            continue
        for status, spec in op.responses.items():
            if spec.choice or not (status[:1] in "45" or status == "default"):
                continue
            for media, schema in spec.content.items():
                if (media.startswith("application/json") or media.endswith("+json")) and schema and schema not in seen:
                    seen.append(schema)
                    yield schema


class _Shapes:
    """The vendor's published error shapes, compiled."""

    def __init__(self, dialect: Dialect) -> None:
        self.validators = [jsonschema_rs.validator_for(schema) for schema in _error_schemas(dialect)]

    def fit(self, exchange: Exchange) -> bool:
        body = exchange.json()
        return body is not MISSING and any(v.is_valid(body) for v in self.validators)


def preflight(session: Session, first: Exchange, handle: str, path_params: Mapping[str, str], create_path: str) -> None:
    """Raise :class:`PreflightError` when ``first`` (the poll of the unknown ``handle``, with the key)
    says the setup is wrong rather than the vendor."""
    dialect, config = session.dialect, session.config
    refused = {session.kind_code("missing_key"), session.kind_code("invalid_key")} - set(session.unknown_codes())
    if first.status in refused and first.operation is not None and first.operation.security:
        nobody = session.poll(handle, path_params, key=UNKNOWN_KEY)
        if nobody.status == first.status:
            raise PreflightError(
                f"every authenticated request was refused: with --api-key the first poll got {first.excerpt(200)}; "
                f"a key nobody issued gets the same {first.status}. Is the key right, and is it a key for {config.base_url}?"
            )
    if first.status == 404:
        shapes = _Shapes(dialect)
        if shapes.validators and not shapes.fit(first):
            route = session.send("GET", create_path, key=config.api_key)
            if route.status == 404 and not shapes.fit(route):
                raise PreflightError(
                    f"the create route (GET {create_path}) and the poll both answered 404 outside {dialect.name}'s "
                    f"documented error shape, e.g. {route.excerpt(120)}: is --base-url the dialect's mount "
                    f"(for the mock, http://HOST:PORT/{dialect.name})? It is {config.base_url}"
                )
