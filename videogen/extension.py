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
from videogen.states import READ_STATES, STATES

__all__ = ["OPERATION_SCHEMAS", "ROOT_SCHEMA", "check_extensions"]

_SOURCE = {"type": "string", "pattern": r"^(path|query|header):[^\s]+$|^body:(/.*)?$"}
_SOURCES = {"type": "object", "additionalProperties": _SOURCE}
_NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
_STATE_LIST = {"type": "array", "items": {"enum": list(STATES)}, "minItems": 1, "uniqueItems": True}
_KIND = {"type": "string", "pattern": "^[a-z][a-z_]*$"}
# An input: a source, or a source with transforms (version 2).
_TRANSFORM = {
    "type": "object",
    "required": ["from"],
    "additionalProperties": False,
    "properties": {
        "from": {"oneOf": [_SOURCE, {"type": "array", "items": _SOURCE, "minItems": 2}]},
        "join": {"type": "string"},
        "select": {"type": "object", "minProperties": 1},
        "at": {"type": "string", "pattern": "^(/.*)?$"},
        "flags": {"type": "object", "minProperties": 1, "additionalProperties": {**_NAMES, "items": {"type": "string", "pattern": "^-"}}},
        "split": {"type": "string", "minLength": 1},
        "into": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 2, "uniqueItems": True},
        "map": {"type": "object", "minProperties": 1},
        "as": {"enum": ["number", "integer", "string"]},
    },
}
_INPUT = {"oneOf": [_SOURCE, _TRANSFORM]}
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
        "version": {"enum": [1, 2]},
        "identity": {
            "type": "object",
            "required": ["id"],
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
                "result_ttl_s": {"type": "number", "exclusiveMinimum": 0},
                "expired": _KIND,
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
                "model": {"type": "string", "minLength": 1},
            },
        },
        "sizes": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {"type": "string", "pattern": r"^\d+x\d+$"},
            },
        },
        "webhooks": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "signing": {"enum": ["none", "standard-webhooks"]},
                "secret": {"type": "string", "minLength": 8},
                "attempts": {"type": "integer", "minimum": 1, "maximum": 20},
                "backoff_s": {"type": "number", "exclusiveMinimum": 0},
                "max_backoff_s": {"type": "number", "exclusiveMinimum": 0},
                "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
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
                "cancelled": {
                    "type": "object",
                    "required": ["message"],
                    "additionalProperties": False,
                    "properties": {"code": {}, "reason": {"type": "string"}, "message": {"type": "string"}},
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
            "required": ["handle", "poll", "states", "result", "error"],
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
                    "properties": {
                        "url": {"type": "string"},
                        "base64": {"type": "string"},
                        "route": {"type": "string", "pattern": "^/"},
                        "query": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
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

_EFFECT = {"type": "string", "pattern": "^(cancel|delete|keep|error:[a-z][a-z_]*)$"}
# What a delete or cancel does, by the operation's state: a state's own entry wins over its group's.
_EFFECTS = {"type": "object", "additionalProperties": False, "properties": {key: _EFFECT for key in ("pending", "finished", *STATES)}}


def _role(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": {**_COMMON, **properties}, "required": required, "additionalProperties": False}


OPERATION_SCHEMAS: dict[str, dict[str, Any]] = {
    "create": _role(
        {
            "inputs": {"type": "object", "additionalProperties": _INPUT},
            "source": _SOURCE,
            "inherit": _NAMES,
            "events": _SOURCE,
            "response": {},
            "status": {"type": "integer", "minimum": 200, "maximum": 299},
        },
        ["inputs", "response"],
    ),
    "poll": _role(
        {
            "id": _SOURCE,
            "unknown": {
                "type": "object",
                "required": ["response"],
                "additionalProperties": False,
                "properties": {"status": {"type": "integer", "minimum": 200, "maximum": 599}, "response": {}},
            },
            "responses": {
                "type": "object",
                "required": ["queued", "running", "succeeded", "failed", "filtered"],
                "additionalProperties": False,
                "properties": {state: {} for state in STATES},
            },
        },
        ["id", "responses"],
    ),
    "download": _role(
        {
            "file": _SOURCE,
            "id": _SOURCE,
            "variant": _SOURCE,
            "variants": {
                "type": "object",
                "required": ["video"],
                "additionalProperties": False,
                # the media the mock can make: an H.264 MP4, a WebP or JPEG still, a JPEG grid
                "properties": {
                    "video": {"const": "video/mp4"},
                    "thumbnail": {"enum": ["image/webp", "image/jpeg"]},
                    "spritesheet": {"const": "image/jpeg"},
                },
            },
        },
        [],
    ),
    "list": _role(
        {
            "page": {
                "type": "object",
                "required": ["style", "limit"],
                "additionalProperties": False,
                "properties": {
                    "style": {"enum": ["cursor", "offset", "page"]},
                    "limit": _SOURCE,
                    "after": _SOURCE,
                    "offset": _SOURCE,
                    "page": _SOURCE,
                    "order": _SOURCE,
                    "default_limit": {"type": "integer", "minimum": 1},
                    "max_limit": {"type": "integer", "minimum": 1},
                    "default_order": {"enum": ["asc", "desc"]},
                },
            },
            "item": {"type": "string", "minLength": 1},
            "filters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["by", "from"],
                    "additionalProperties": False,
                    "properties": {
                        "by": {"enum": ["state", "model", "id"]},
                        "from": _SOURCE,
                        "map": {"type": "object", "additionalProperties": {"type": "array", "items": {"enum": list(STATES)}}},
                    },
                },
            },
            "items": {"type": "string", "pattern": "^(/.*)?$"},
            "item_id": {"type": "string", "pattern": "^(/.*)?$"},
            "response": {},
            "status": {"type": "integer", "minimum": 200, "maximum": 299},
        },
        ["page", "item", "items", "item_id", "response"],
    ),
    "delete": _role(
        {
            "id": _SOURCE,
            "effects": _EFFECTS,
            "response": {},
            "status": {"type": "integer", "minimum": 200, "maximum": 299},
        },
        ["id"],
    ),
    "cancel": _role(
        {
            "id": _SOURCE,
            "effects": _EFFECTS,
            "response": {},
            "status": {"type": "integer", "minimum": 200, "maximum": 299},
        },
        ["id"],
    ),
    "static": _role({"response": {}, "status": {"type": "integer", "minimum": 200, "maximum": 299}}, ["response"]),
}
# An event a dialect sends: an operation of the document's root webhooks (out of band),
# or of an operation's callbacks (to a URL the client sent).
EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["states", "body"],
    "additionalProperties": False,
    "properties": {"states": _STATE_LIST, "body": {}, "name": {"type": "string", "minLength": 1}},
}
# What version 1 documents may not use: each key is version 2 format.
V2_ONLY = {
    "/x-videogen/sizes",
    "/x-videogen/webhooks",
    "/x-videogen/lifecycle/result_ttl_s",
    "/x-videogen/lifecycle/expired",
    "/x-videogen/outcomes/cancelled",
    "/x-videogen/read/result/route",
}

_ROOT = jsonschema_rs.validator_for(ROOT_SCHEMA)
_OPERATIONS = {role: jsonschema_rs.validator_for(schema) for role, schema in OPERATION_SCHEMAS.items()}
_EVENT = jsonschema_rs.validator_for(EVENT_SCHEMA)
_V1_ROLES = ("create", "poll", "download")


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
    root = document["x-videogen"]
    _first_error(_ROOT, root, source, "/x-videogen")
    version = root["version"]
    if version == 1:
        for where in sorted(V2_ONLY):
            node: Any = document
            for step in where.strip("/").split("/"):
                node = node.get(step) if isinstance(node, dict) else None
            if node is not None:
                raise SpecError(source, where, "is version 2 format: declare x-videogen version: 2")
    for path, item in (document.get("paths") or {}).items():
        for method, op in (item or {}).items() if isinstance(item, dict) else ():
            if not isinstance(op, dict):
                continue
            where = f"/paths/{_escape(path)}/{method}"
            if "x-videogen" in op:
                check_operation(op["x-videogen"], source, f"{where}/x-videogen", version)
            for name, callback in (op.get("callbacks") or {}).items():
                for expression, target in (callback or {}).items():
                    for verb, event in (target or {}).items():
                        if isinstance(event, dict) and "x-videogen" in event:
                            at = f"{where}/callbacks/{_escape(name)}/{_escape(expression)}/{verb}/x-videogen"
                            _version_two(version, source, at)
                            _first_error(_EVENT, event["x-videogen"], source, at)
    for name, item in (document.get("webhooks") or {}).items():
        for verb, event in (item or {}).items() if isinstance(item, dict) else ():
            if isinstance(event, dict) and "x-videogen" in event:
                at = f"/webhooks/{_escape(name)}/{verb}/x-videogen"
                _version_two(version, source, at)
                _first_error(_EVENT, event["x-videogen"], source, at)


def _version_two(version: int, source: str, where: str) -> None:
    if version == 1:
        raise SpecError(source, where, "is version 2 format: declare x-videogen version: 2")


def check_operation(block: Any, source: str, where: str, version: int = 2) -> None:
    """Check one operation block against the schema its ``role`` chooses."""
    if not isinstance(block, dict):
        raise SpecError(source, where, f"expected an object with a 'role', got {type(block).__name__}")
    role = block.get("role")
    if role not in _OPERATIONS:
        raise SpecError(source, f"{where}/role", f"expected a role, one of: {', '.join(_OPERATIONS)}; got {role!r}")
    if version == 1 and role not in _V1_ROLES:
        raise SpecError(source, f"{where}/role", f"role {role!r} is version 2 format: declare x-videogen version: 2")
    _first_error(_OPERATIONS[role], block, source, where)
    if version == 1:
        for key in ("source", "inherit", "events", "id", "variant", "variants", "unknown"):
            if key in block and not (key == "id" and role == "poll"):
                raise SpecError(source, f"{where}/{key}", "is version 2 format: declare x-videogen version: 2")
        for name, value in (block.get("inputs") or {}).items():
            if not isinstance(value, str):
                raise SpecError(source, f"{where}/inputs/{name}", "an input with transforms is version 2 format: declare version: 2")
        if "cancelled" in (block.get("responses") or {}):
            raise SpecError(source, f"{where}/responses/cancelled", "is version 2 format: declare x-videogen version: 2")
