"""One request the kit sent and what came back, with the key redacted wherever it is shown.

Every exchange can print itself as a ``curl`` line that reproduces it; the API keys
appear there as ``$API_KEY`` / ``$OTHER_API_KEY`` so reports can be shared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from videogen.dialect import Operation
from videogen.pointer import MISSING

__all__ = ["Exchange", "Redactor", "SentRequest"]

_PRINTABLE = re.compile(r"[\x20-\x7e]*")


class Redactor:
    """Replaces secret values by shell variables: ``{"sk-123": "API_KEY"}`` -> ``$API_KEY``."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        self.secrets = {value: name for value, name in secrets.items() if value}
        ordered = sorted(self.secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None

    def text(self, value: str) -> str:
        """``value`` with each secret shown as ``$NAME`` (for messages, not for shells)."""
        if self._pattern is None:
            return value
        return self._pattern.sub(lambda m: f"${self.secrets[m.group(0)]}", value)

    def shell(self, value: str) -> str:
        """One shell word: literal parts quoted, secrets left as ``"$NAME"`` for the shell to expand."""
        if self._pattern is None:
            return _quote(value)
        out, pos = [], 0
        for m in self._pattern.finditer(value):
            if m.start() > pos:
                out.append(_quote(value[pos : m.start()]))
            out.append(f'"${self.secrets[m.group(0)]}"')
            pos = m.end()
        if pos < len(value) or not out:
            out.append(_quote(value[pos:]))
        return "".join(out)


def _quote(text: str) -> str:
    if _PRINTABLE.fullmatch(text):
        return "'" + text.replace("'", "'\\''") + "'"
    escaped = []
    for ch in text:  # ANSI-C quoting ($'...') for control and non-ASCII characters
        code = ord(ch)
        if ch in "\\'":
            escaped.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            escaped.append(ch)
        else:  # the UTF-8 bytes; undecodable input bytes come back through surrogateescape
            escaped.append("".join(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogateescape")))
    return "$'" + "".join(escaped) + "'"


@dataclass(frozen=True, slots=True)
class SentRequest:
    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()  # only the headers the kit chose, not the client's defaults
    body: bytes | None = None


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


@dataclass(frozen=True, slots=True)
class Exchange:
    """A request and its answer; ``status`` is None when no answer came (``error`` says why)."""

    request: SentRequest
    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    error: str = ""
    operation: Operation | None = None  # the documented operation this request targets
    redactor: Redactor = field(default_factory=lambda: Redactor({}))
    at: float = 0.0  # the kit's clock when the request started

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def target(self) -> str:
        """The operation id, or the URL's path when the request targets no documented operation."""
        if self.operation is not None:
            return self.operation.operation_id
        return "(undocumented URL)"

    def json(self) -> Any:
        """The decoded JSON body, or ``MISSING`` when the body is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return MISSING

    def request_line(self) -> str:
        return f"{self.request.method} {self.redactor.text(self.request.url)}"

    def excerpt(self, limit: int = 400) -> str:
        """What came back, trimmed, for a report."""
        if self.status is None:
            return f"no answer: {self.error}"
        kind = self.content_type or "no content type"
        if not self.body:
            return f"HTTP {self.status} ({kind}), empty body"
        if kind.startswith("application/json") or self.body[:1] in (b"{", b"["):
            text = self.body.decode("utf-8", "replace")
        elif _PRINTABLE.fullmatch(self.body[:64].decode("latin-1")):
            text = self.body[:limit].decode("latin-1")
        else:
            text = f"{len(self.body)} bytes starting {self.body[:16].hex(' ')}"
        return f"HTTP {self.status} ({kind}): {_trim(self.redactor.text(text), limit)}"

    def curl(self) -> str:
        """A shell line that sends the same request (secrets as ``$API_KEY``)."""
        r = self.redactor
        parts = ["curl", "-sS", "-X", self.request.method, r.shell(self.request.url)]
        for name, value in self.request.headers:
            parts += ["-H", r.shell(f"{name}: {value}")]
        if self.request.body is not None:
            text = self.request.body.decode("utf-8", "surrogateescape")
            parts += ["--data-binary", r.shell(text)]
        return " ".join(parts)
