"""The ``x-videogen`` extension format, as a JSON Schema checked at load time.

``specs/README.md`` explains each field in prose; this module is the
machine-checked half, so that a typo in a dialect fails at start-up with the
JSON pointer of the offending field instead of misbehaving on a request.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from videogen.errors import SpecError

__all__ = ["check_extensions"]

_SOURCE = {"type": "string", "pattern": r"^(path|query|header):[^\s]+$|^body:(/.*)?$"}
_SOURCES = {"type": "object", "additionalProperties": _SOURCE}
_STATES = ["queued", "running", "succeeded", "failed", "filtered"]
_READ_STATES = ["pending", "queued", "running", "succeeded", "failed", "filtered"]

ROOT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "identity", "lifecycle", "errors", "read"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "identity": {
            "type": "object",
            "required": ["id", "file"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "pattern": r"\{token\}"},
                "name": {"type": "string", "pattern": r"\{id\}"},
                "file": {"type": "string", "pattern": r"\{token\}.*\{index\}"},
                "defaults": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "result_url": {"type": "string"},
        "lifecycle": {
            "type": "object",
            "required": ["queued_s", "running_s"],
            "additionalProperties": False,
            "properties": {
                "queued_s": {"type": "number", "minimum": 0},
                "running_s": {"type": "number", "minimum": 0},
                "models": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"queued_s": {"type": "number", "minimum": 0}, "running_s": {"type": "number", "minimum": 0}},
                    },
                },
            },
        },
        "defaults": {
            "type": "object",
            "properties": {
                "count": {"type": "integer", "minimum": 1},
                "duration_s": {"type": "number", "exclusiveMinimum": 0},
                "aspect_ratio": {"type": "string", "pattern": r"^\d+:\d+$"},
                "resolution": {"type": "string", "pattern": r"^\d+p$"},
                "fps": {"type": "integer", "minimum": 1, "maximum": 60},
            },
        },
        "outcomes": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "failed": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {}, "reason": {"type": "string"}, "message": {"type": "string"}},
                },
                "filtered": {
                    "type": "object",
                    "required": ["reasons"],
                    "properties": {
                        "reasons": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                        "code": {},
                        "message": {"type": "string"},
                    },
                },
            },
        },
        "errors": {
            "type": "object",
            "required": ["body", "kinds"],
            "additionalProperties": False,
            "properties": {
                "body": {"type": "object"},
                "details": {},
                "kinds": {
                    "type": "object",
                    "required": [
                        "invalid_request",
                        "missing_key",
                        "invalid_key",
                        "not_found",
                        "method_not_allowed",
                        "payload_too_large",
                        "rate_limited",
                        "internal",
                        "unavailable",
                    ],
                    "additionalProperties": {
                        "type": "object",
                        "required": ["code"],
                        "additionalProperties": {"type": "string"},
                        "properties": {"code": {"type": "integer", "minimum": 400, "maximum": 599}, "reason": {"type": "string"}},
                    },
                },
            },
        },
        "read": {
            "type": "object",
            "required": ["handle", "poll", "states", "results", "result", "error"],
            "additionalProperties": False,
            "properties": {
                "handle": {"type": "string"},
                "poll": {
                    "type": "object",
                    "required": ["method", "path"],
                    "additionalProperties": False,
                    "properties": {
                        "method": {"enum": ["GET", "POST", "get", "post"]},
                        "path": {"type": "string", "pattern": "^/"},
                        "query": {"type": "object", "additionalProperties": {"type": "string"}},
                        "body": {},
                    },
                },
                "echo": {"type": "string"},
                "states": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["state", "when"],
                        "additionalProperties": False,
                        "properties": {"state": {"enum": _READ_STATES}, "when": {"type": "object", "minProperties": 1}},
                    },
                },
                "results": {"type": "string"},
                "result": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": False,
                    "properties": {"url": {"type": "string"}, "base64": {"type": "string"}},
                },
                "error": {"type": "string"},
                "example": {"type": "string"},
            },
        },
    },
}

_ALIASES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["match", "why"],
        "properties": {"match": {"type": "string", "minLength": 1}, "why": {"type": "string", "minLength": 1}},
        "additionalProperties": False,
    },
}

OPERATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["role"],
    "oneOf": [
        {
            "properties": {
                "role": {"const": "create"},
                "vars": _SOURCES,
                "inputs": _SOURCES,
                "response": {},
                "status": {"type": "integer", "minimum": 200, "maximum": 299},
                "aliases": _ALIASES,
            },
            "required": ["inputs", "response"],
            "additionalProperties": False,
        },
        {
            "properties": {
                "role": {"const": "poll"},
                "id": _SOURCE,
                "vars": _SOURCES,
                "responses": {"type": "object", "required": _STATES, "additionalProperties": False, "properties": {s: {} for s in _STATES}},
                "aliases": _ALIASES,
            },
            "required": ["id", "responses"],
            "additionalProperties": False,
        },
        {
            "properties": {"role": {"const": "download"}, "file": _SOURCE, "vars": _SOURCES, "aliases": _ALIASES},
            "required": ["file"],
            "additionalProperties": False,
        },
    ],
}

_ROOT = jsonschema_rs.validator_for(ROOT_SCHEMA)
_OPERATION = jsonschema_rs.validator_for(OPERATION_SCHEMA)


def _first_error(validator: Any, instance: Any, source: str, base: str) -> None:
    for error in validator.iter_errors(instance):
        where = base + "".join(f"/{str(p).replace('/', '~1')}" for p in error.instance_path)
        raise SpecError(source, where, error.message)


def check_extensions(document: dict[str, Any], source: str) -> None:
    """Raise :class:`SpecError` naming the first malformed ``x-videogen`` field."""
    if "x-videogen" not in document:
        raise SpecError(source, "/x-videogen", "missing: every dialect document needs a root x-videogen block")
    _first_error(_ROOT, document["x-videogen"], source, "/x-videogen")
    for path, item in (document.get("paths") or {}).items():
        for method, op in (item or {}).items():
            if isinstance(op, dict) and "x-videogen" in op:
                _first_error(_OPERATION, op["x-videogen"], source, f"/paths/{path.replace('/', '~1')}/{method}/x-videogen")
