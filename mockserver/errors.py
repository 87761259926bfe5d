"""Vendor-shaped errors: raised anywhere on the request path, answered in the dialect's own shape.

Every error the mock sends inside a dialect's mount is rendered from that
dialect's ``x-videogen.errors`` block: the vendor's own status code and body.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from mockserver.responses import JSONBytes
from mockserver.validation import Violation
from videogen.dialect import Dialect
from videogen.errors import VideogenError

__all__ = ["VendorError", "error_body", "error_response"]


class VendorError(VideogenError):
    """Raised inside a handler to answer with the dialect's error of ``kind``."""

    def __init__(self, kind: str, message: str, violations: Sequence[Violation] = (), headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.violations = tuple(violations)
        self.headers = headers or {}


def error_body(dialect: Dialect, kind: str, message: str, violations: Sequence[Violation] = ()) -> tuple[int, Any]:
    spec = dialect.error_kind(kind)
    details = None
    if violations and dialect.error_details is not None:
        details = [dialect.error_details.render({"violations": [{"field": v.field, "description": v.description} for v in violations]})]
    ctx = {
        "code": spec.code,
        "reason": spec.reason,
        "message": message,
        "details": details,
        "field": violations[0].field if violations else None,
        "kind": {"name": spec.name, "code": spec.code, "reason": spec.reason, **spec.extra},
        "request_id": uuid.uuid4().hex,
    }
    return spec.code, dialect.error_body.render(ctx)


def error_response(dialect: Dialect, error: VendorError) -> JSONBytes:
    status, body = error_body(dialect, error.kind, error.message, error.violations)
    return JSONBytes.of(body, status, error.headers)
