"""API-key extraction from a dialect's security schemes, and key -> owner digests.

Operations belong to the key that created them. The store only ever sees a
digest of the key, so neither records nor logs contain one.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from videogen.dialect import Operation

__all__ = ["KeyReader", "owner_of"]


@functools.lru_cache(maxsize=1024)  # every request digests its key; a client sends the same few keys
def owner_of(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class _Slot:
    location: str  # header | query
    name: str
    bearer: bool


class KeyReader:
    """Reads the API key an operation's security requirement asks for."""

    def __init__(self, operation: Operation, schemes: Mapping[str, dict[str, Any]]) -> None:
        slots = []
        for name in operation.security:
            scheme = schemes[name]
            if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
                slots.append(_Slot("header", "authorization", True))
            elif scheme.get("type") == "apiKey":
                location = scheme.get("in", "header")
                slots.append(_Slot(location, scheme["name"].lower() if location == "header" else scheme["name"], False))
        self.slots = tuple(slots)
        self.required = bool(slots)

    def read(self, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
        """The key sent, or None when no slot carries a non-empty one."""
        for slot in self.slots:
            raw = headers.get(slot.name) if slot.location == "header" else query.get(slot.name)
            if not raw:
                continue
            if slot.bearer:
                scheme, _, token = raw.partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    continue
                raw = token.strip()
            return raw.strip() or None
        return None
