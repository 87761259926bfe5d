"""Response conformance, judged by openapi-core on every answer the kit receives:
the status is documented, the content type is documented, the body matches its schema.

An undocumented 429 is left to the courtesy checks, which report it once, with context.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.response.exceptions import HeaderValidationError
from werkzeug.datastructures import Headers, ImmutableMultiDict

from conformance.catalog import Check
from conformance.exchange import Exchange
from conformance.failures import Failure, Ledger, Severity, observed
from videogen.dialect import Dialect, Operation
from videogen.errors import SpecError

__all__ = ["ResponseConformance"]

_HOST = "http://conformance.invalid"
_JSON = ("application/json",)


class _Request:
    """What openapi-core needs to find the operation: its documented path template."""

    def __init__(self, op: Operation) -> None:
        self.host_url = _HOST
        self.path = op.path
        self.path_pattern = op.path
        self.method = op.method.lower()
        self.body: bytes | None = None
        self.content_type = ""
        self.parameters = RequestParameters(query=ImmutableMultiDict(), header=Headers(), cookie=ImmutableMultiDict())


class _Response:
    def __init__(self, exchange: Exchange) -> None:
        assert exchange.status is not None
        self.status_code = exchange.status
        self.headers = Headers(list(exchange.headers.items()))
        self.content_type = exchange.content_type.lower()
        self.data = exchange.body


def _binary_media_types(document: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for item in document.get("paths", {}).values():
        for op in item.values() if isinstance(item, dict) else ():
            for response in (op.get("responses") or {}).values() if isinstance(op, dict) else ():
                for media in (response.get("content") or {}) if isinstance(response, dict) else ():
                    if not media.startswith(_JSON) and not media.endswith("+json"):
                        found.add(media)
    return found


def _as_text(data: bytes) -> str:
    return data.decode("latin-1")  # a binary body is a string of bytes to the schema


def _not_utf8(exchange: Exchange) -> str | None:
    """Where a JSON answer's bytes stop being UTF-8 (JSON is UTF-8, RFC 8259), or None."""
    kind = exchange.content_type.split(";")[0].strip().lower()
    if not (kind.startswith(_JSON) or kind.endswith("+json")):
        return None
    try:
        exchange.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"byte 0x{exchange.body[exc.start]:02x} at offset {exc.start}"
    return None


def _text(error: BaseException | None) -> str:
    try:
        return str(error)
    except Exception:  # a library's __str__ that decodes the vendor's bytes itself
        return repr(error)


def _schema_messages(error: BaseException) -> str:
    cause = error.__cause__
    details: Iterable[Any] = getattr(cause, "schema_errors", ()) or ()
    lines = []
    for e in details:
        where = "/" + "/".join(str(p) for p in getattr(e, "absolute_path", ())) if getattr(e, "absolute_path", None) else "/"
        lines.append(f"at {where}: {getattr(e, 'message', e)}")
    return "; ".join(lines) or _text(cause or error)


class ResponseConformance:
    """Validates each exchange against the document; record with :meth:`__call__` as a client listener."""

    def __init__(self, dialect: Dialect, ledger: Ledger) -> None:
        self.ledger = ledger
        document = copy.deepcopy(dialect.published)  # judged on what the vendor published, not the mock's choices
        document["servers"] = [{"url": _HOST}]
        deserializers: dict[str, Callable[[bytes], Any]] = dict.fromkeys(_binary_media_types(document), _as_text)
        try:
            self.api = OpenAPI.from_dict(document, config=Config(extra_media_type_deserializers=deserializers))
        except Exception as exc:  # openapi-core raises several unrelated types for a bad document
            raise SpecError(str(dialect.path), "/", f"not a valid OpenAPI document: {exc}") from None

    def __call__(self, exchange: Exchange) -> None:
        op = exchange.operation
        if op is None or exchange.status is None or (exchange.status == 429 and op.response_for(429) is None):
            return  # an undocumented 429 is reported once, by the courtesy checks
        if op.choice:
            return  # an operation the vendor never published is no contract to judge
        spec = op.response_for(exchange.status)
        if (spec is None or spec.choice) and any(r.choice for r in op.responses.values()):
            return  # where the vendor left statuses unpublished, an unpublished one is not judged
        target = op.operation_id
        if (broken := _not_utf8(exchange)) is not None:
            title = f"{exchange.status} body is not UTF-8 ({broken}), so it is no JSON document"
            expected = f"a JSON body, in UTF-8, matching the documented schema for {exchange.status}"
            self.ledger.failed(observed(Check.RESPONSE_SCHEMA, exchange, severity=Severity.HIGH, title=title, expected=expected))
            return
        errors = list(self.api.iter_response_errors(_Request(op), _Response(exchange)))
        failed: set[Check] = set()
        for error in errors:
            failure = self._failure(op, exchange, error)
            failed.add(Check(failure.check))
            self.ledger.failed(failure)
        if Check.RESPONSE_STATUS in failed:
            return
        for check in (Check.RESPONSE_CONTENT_TYPE, Check.RESPONSE_SCHEMA, Check.RESPONSE_HEADERS, Check.RESPONSE_STATUS):
            if check not in failed:
                self.ledger.passed(check, target)

    def _failure(self, op: Operation, exchange: Exchange, error: BaseException) -> Failure:
        status = exchange.status
        documented = op.response_for(status or 0)
        if isinstance(error, ResponseNotFound):
            expected = f"one of the documented statuses {', '.join(sorted(op.responses))}"
            return observed(
                Check.RESPONSE_STATUS, exchange, severity=Severity.HIGH, title=f"undocumented status {status}", expected=expected
            )
        if isinstance(error.__cause__, MediaTypeNotFound) or isinstance(error, MediaTypeNotFound):
            types = ", ".join(documented.content) if documented else "none"
            title = f"undocumented content type {exchange.content_type or '(none)'!r} for {status}"
            return observed(
                Check.RESPONSE_CONTENT_TYPE, exchange, severity=Severity.MEDIUM, title=title, expected=f"Content-Type one of: {types}"
            )
        if isinstance(error, HeaderValidationError):
            title = f"response header: {_text(error.__cause__ or error)}"
            return observed(
                Check.RESPONSE_HEADERS, exchange, severity=Severity.MEDIUM, title=title[:200], expected="documented headers, well-typed"
            )
        title = f"{status} body does not match its schema: {_schema_messages(error)}"
        expected = f"a body matching the documented schema for {status} {exchange.content_type.split(';')[0]}".rstrip()
        return observed(Check.RESPONSE_SCHEMA, exchange, severity=Severity.HIGH, title=title[:300], expected=expected)
