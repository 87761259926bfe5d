"""Where an operation's API key travels, read once from its OpenAPI security.

A :class:`Slot` is one place a key may be: a Bearer ``Authorization`` header, or
an ``apiKey`` in a header or the query. The mock reads keys from slots, the kit
and the test clients place keys into them, and both redact them in what they log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["CREDENTIAL_WORDS", "Slot", "looks_secret", "slots_for"]

# Names that carry a credential whatever the dialect says: the access log hides these too.
CREDENTIAL_WORDS = ("key", "token", "secret", "password", "signature", "auth", "credential")


def looks_secret(name: str) -> bool:
    """Whether a query or header name looks like it carries a credential (case-insensitive)."""
    lowered = name.lower()
    return any(word in lowered for word in CREDENTIAL_WORDS)


@dataclass(frozen=True, slots=True)
class Slot:
    """One place a key may travel; ``name`` is lower-case for headers, as sent for the query."""

    location: Literal["header", "query"]
    name: str
    bearer: bool = False

    def read(self, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
        """The key in this slot, or None when it carries no non-empty key of the right form."""
        raw = headers.get(self.name) if self.location == "header" else query.get(self.name)
        if not raw:
            return None
        if self.bearer:
            scheme, _, token = raw.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            raw = token
        return raw.strip() or None

    def place(self, key: str) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, query) that carry ``key`` in this slot."""
        if self.bearer:
            return {"Authorization": f"Bearer {key}"}, {}
        if self.location == "query":
            return {}, {self.name: key}
        return {self.name: key}, {}

    def malformed(self) -> dict[str, str] | None:
        """Headers that fill this slot the wrong way (a non-Bearer scheme, an empty key), if it is a header."""
        if self.bearer:
            return {"Authorization": "Basic Y29uZm9ybWFuY2U6a2l0"}
        if self.location == "header":
            return {self.name: ""}
        return None


def slot_of(scheme: Mapping[str, Any]) -> Slot | None:
    """The slot a security scheme describes; None for schemes no key travels in (oauth2, ...)."""
    if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
        return Slot("header", "authorization", bearer=True)
    if scheme.get("type") == "apiKey" and scheme.get("in", "header") in ("header", "query"):
        location = scheme.get("in", "header")
        name = str(scheme["name"])
        return Slot(location, name.lower() if location == "header" else name)
    return None


def slots_for(security: Iterable[str], schemes: Mapping[str, Mapping[str, Any]]) -> tuple[Slot, ...]:
    """The slots of an operation's security requirement, in the document's order."""
    out: list[Slot] = []
    for name in security:
        slot = slot_of(schemes[name])
        if slot is not None and slot not in out:
            out.append(slot)
    return tuple(out)
