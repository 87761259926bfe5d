"""The ``x-videogen`` extension format, as JSON Schemas checked at load time.

``specs/README.md`` explains each field in prose; this module is the
machine-checked half. An operation block is checked against the schema of its
``role``, so a typo names the block's JSON pointer and the key, never a dump of
every role's schema.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from videogen.errors import SpecError
from videogen.states import READ_STATES

__all__ = ["OPERATION_SCHEMAS", "ROOT_SCHEMA", "check_extensions"]

_SOURCE = {"type": "string", "pattern": r"^(path|query|header):[^\s]+$|^body:(/.*)?$"}
_SOURCES = {"type": "object", "additionalProperties": _SOURCE}
_NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
_REQUIRED_KINDS = [
    "invalid_request",
    "missing_key",
    "invalid_key",
    "not_found",
    "method_not_allowed",
    "payload_too_large",
    "rate_limited",
    "internal",
    "unavailable",
]

ROOT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "identity", "lifecycle", "errors", "read"],
    "additionalProperties": False,
    "properties": {
        "version": {"enum": [1]},
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
                "resolution": {"type": "string", "pattern": r"^\d+[pP]$"},
                "fps": {"type": "integer", "minimum": 1, "maximum": 60},
                "width": {"type": "integer", "minimum": 2, "maximum": 4096},
                "height": {"type": "integer", "minimum": 2, "maximum": 4096},
            },
        },
        "outcomes": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "failed": {
                    "type": "object",
                    "required": ["code", "message"],
                    "additionalProperties": False,
                    "properties": {"code": {}, "reason": {"type": "string"}, "message": {"type": "string"}},
                },
                "filtered": {
                    "type": "object",
                    "required": ["reasons"],
                    "additionalProperties": False,
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
                    "required": _REQUIRED_KINDS,
                    "propertyNames": {"pattern": "^[a-z][a-z_]*$"},
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
                        "properties": {"state": {"enum": list(READ_STATES)}, "when": {"type": "object", "minProperties": 1}},
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
_COMMON = {"role": {"type": "string"}, "vars": _SOURCES, "aliases": _ALIASES}

OPERATION_SCHEMAS: dict[str, dict[str, Any]] = {
    "create": {
        "type": "object",
        "properties": {
            **_COMMON,
            "inputs": {"type": "object", "required": ["model"], "additionalProperties": _SOURCE},
            "response": {},
            "status": {"type": "integer", "minimum": 200, "maximum": 299},
        },
        "required": ["inputs", "response"],
        "additionalProperties": False,
    },
    "poll": {
        "type": "object",
        "properties": {
            **_COMMON,
            "id": _SOURCE,
            "responses": {
                "type": "object",
                "required": ["queued", "running", "succeeded", "failed", "filtered"],
                "additionalProperties": False,
                "properties": {state: {} for state in ("queued", "running", "succeeded", "failed", "filtered")},
            },
        },
        "required": ["id", "responses"],
        "additionalProperties": False,
    },
    "download": {
        "type": "object",
        "properties": {**_COMMON, "file": _SOURCE},
        "required": ["file"],
        "additionalProperties": False,
    },
}

_ROOT = jsonschema_rs.validator_for(ROOT_SCHEMA)
_OPERATIONS = {role: jsonschema_rs.validator_for(schema) for role, schema in OPERATION_SCHEMAS.items()}


def _escape(step: object) -> str:
    return str(step).replace("~", "~0").replace("/", "~1")


def _first_error(validator: Any, instance: Any, source: str, base: str) -> None:
    for error in validator.iter_errors(instance):
        where = base + "".join(f"/{_escape(p)}" for p in error.instance_path)
        raise SpecError(source, where, error.message)


def check_extensions(document: dict[str, Any], source: str) -> None:
    """Raise :class:`SpecError` naming the first malformed ``x-videogen`` field."""
    if "x-videogen" not in document:
        raise SpecError(source, "/x-videogen", "missing: every dialect document needs a root x-videogen block")
    _first_error(_ROOT, document["x-videogen"], source, "/x-videogen")
    for path, item in (document.get("paths") or {}).items():
        for method, op in (item or {}).items() if isinstance(item, dict) else ():
            if isinstance(op, dict) and "x-videogen" in op:
                check_operation(op["x-videogen"], source, f"/paths/{_escape(path)}/{method}/x-videogen")


def check_operation(block: Any, source: str, where: str) -> None:
    """Check one operation block against the schema its ``role`` chooses."""
    if not isinstance(block, dict):
        raise SpecError(source, where, f"expected an object with a 'role', got {type(block).__name__}")
    role = block.get("role")
    if role not in _OPERATIONS:
        raise SpecError(source, f"{where}/role", f"expected a role, one of: {', '.join(_OPERATIONS)}; got {role!r}")
    _first_error(_OPERATIONS[role], block, source, where)
