"""One request the kit sent and what came back, with the key redacted wherever it is shown.

Every exchange can print itself as a ``curl`` line that reproduces it; the API keys
appear there as ``$API_KEY`` / ``$OTHER_API_KEY`` so reports can be shared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from videogen.credentials import Slot
from videogen.dialect import Operation
from videogen.pointer import MISSING

__all__ = ["MIN_FREE_TEXT", "Exchange", "Redactor", "SentRequest"]

_PRINTABLE = re.compile(r"[\x20-\x7e]*")


# A key shorter than this is only hidden in the slots it travels in: elsewhere its text is too
# common ("a", "ab") to replace without mangling bodies and curl lines.
MIN_FREE_TEXT = 8

Segment = tuple[str, bool]  # (text, whether text names a shell variable holding a secret)


class Redactor:
    """Shows secrets as shell variables: ``{"sk-123": "API_KEY"}`` -> ``$API_KEY``.

    A key is hidden wherever it travels: the value of a credential slot (the
    ``Authorization`` Bearer token, an ``apiKey`` header or query parameter), whatever
    its length. Elsewhere (a URL path, a body, an error message echoing it) only
    exact occurrences of keys of at least :data:`MIN_FREE_TEXT` characters are
    replaced, so a one-letter key never rewrites ``Authorization`` into
    ``Authoriz$API_KEYtion``.
    """

    def __init__(self, secrets: Mapping[str, str], slots: Iterable[Slot] = ()) -> None:
        self.secrets = {value: name for value, name in secrets.items() if value}
        slots = tuple(slots)
        self._headers = {s.name.lower() for s in slots if s.location == "header"}
        self._query = {s.name for s in slots if s.location == "query"}
        self._bearer = {s.name.lower() for s in slots if s.bearer}
        ordered = sorted((v for v in self.secrets if len(v) >= MIN_FREE_TEXT), key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None

    # -- where a key may be -------------------------------------------------------

    def carries_secret(self, name: str, value: str) -> bool:
        """Whether a header carries a key: a credential slot, or a long key's exact text."""
        return name.lower() in self._headers or self._slot_value(name, value) is not None or self._free(value) != [(value, False)]

    def _slot_value(self, name: str, value: str) -> tuple[str, str] | None:
        """(the literal prefix, the secret's variable) when this header's value is exactly a known key."""
        lowered = name.lower()
        if lowered in self._bearer:
            scheme, sep, token = value.partition(" ")
            if sep and scheme.lower() == "bearer" and token in self.secrets:
                return f"{scheme} ", self.secrets[token]
        if lowered in self._headers and value in self.secrets:
            return "", self.secrets[value]
        return None

    def _free(self, value: str) -> list[Segment]:
        if self._pattern is None:
            return [(value, False)]
        out: list[Segment] = []
        pos = 0
        for m in self._pattern.finditer(value):
            if m.start() > pos:
                out.append((value[pos : m.start()], False))
            out.append((self.secrets[m.group(0)], True))
            pos = m.end()
        if pos < len(value) or not out:
            out.append((value[pos:], False))
        return out

    def _url(self, url: str) -> list[Segment]:
        head, sep, query = url.partition("?")
        out = self._free(head)
        if not sep:
            return out
        out.append(("?", False))
        for i, pair in enumerate(query.split("&")):
            if i:
                out.append(("&", False))
            raw_name, eq, raw_value = pair.partition("=")
            value = unquote_plus(raw_value)
            if eq and unquote_plus(raw_name) in self._query and value in self.secrets:
                out += [(f"{raw_name}=", False), (self.secrets[value], True)]
            else:
                out += self._free(pair)
        return out

    def _header(self, name: str, value: str) -> list[Segment]:
        slot = self._slot_value(name, value)
        if slot is not None:
            prefix, variable = slot
            return [(f"{name}: {prefix}", False), (variable, True)]
        return self._free(f"{name}: {value}")

    # -- how it is shown ----------------------------------------------------------

    def text(self, value: str) -> str:
        """Free text (a body, a message) with each long key shown as ``$NAME``."""
        return _as_text(self._free(value))

    def url(self, value: str) -> str:
        """A URL with the key in a query slot (and long keys anywhere) shown as ``$NAME``."""
        return _as_text(self._url(value))

    def shell(self, value: str) -> str:
        """One shell word for free text: literal parts quoted, keys left as ``"$NAME"`` for the shell."""
        return _as_shell(self._free(value))

    def shell_url(self, value: str) -> str:
        return _as_shell(self._url(value))

    def shell_header(self, name: str, value: str) -> str:
        return _as_shell(self._header(name, value))


def _as_text(segments: list[Segment]) -> str:
    return "".join(f"${text}" if secret else text for text, secret in segments)


def _as_shell(segments: list[Segment]) -> str:
    return "".join(f'"${text}"' if secret else _quote(text) for text, secret in segments if text or not secret) or "''"


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
    elapsed_ms: float = 0.0  # wall time from sending the request to reading the whole answer
    foreign: bool = False  # answered by another origin than the base URL's: its body is never copied into a report
    size: int = -1  # bytes received (-1: as long as ``body``); past the cap, the cap plus one
    file: Path | None = None  # the whole answer, when it was too large to keep in memory (``body`` then holds its start)
    cut_at: int | None = None  # the cap the answer overran: the kit stopped reading there
    unreachable: bool = False  # no connection could be made at all (not a slow or broken answer)

    @property
    def length(self) -> int:
        return self.size if self.size >= 0 else len(self.body)

    @property
    def complete(self) -> bool:
        """Whether ``body`` is the whole answer (not its start, not cut off)."""
        return self.file is None and self.cut_at is None

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
        """The decoded JSON body, or ``MISSING`` when the body is not JSON (or too large to be kept whole)."""
        if not self.complete:
            return MISSING
        try:
            return json.loads(self.body)
        except ValueError:
            return MISSING

    def request_line(self) -> str:
        return f"{self.request.method} {self.redactor.url(self.request.url)}"

    def excerpt(self, limit: int = 400) -> str:
        """What came back, trimmed, for a report."""
        if self.status is None:
            return f"no answer: {self.error}"
        kind = self.content_type or "no content type"
        if self.cut_at is not None:
            return f"HTTP {self.status} ({kind}), more than {self.cut_at:,} bytes: cut off at the kit's cap (--max-download-bytes)"
        if not self.body:
            return f"HTTP {self.status} ({kind}), empty body"
        if self.foreign:
            origin = "://".join(urlsplit(self.request.url)[:2])
            return f"HTTP {self.status} ({kind}), {self.length} bytes from another origin ({origin}), not copied into reports"
        if kind.startswith("application/json") or self.body[:1] in (b"{", b"["):
            text = self.body.decode("utf-8", "replace")
        elif _PRINTABLE.fullmatch(self.body[:64].decode("latin-1")):
            text = self.body[:limit].decode("latin-1")
        else:
            text = f"{self.length} bytes starting {self.body[:16].hex(' ')}"
        return f"HTTP {self.status} ({kind}): {_trim(self.redactor.text(text), limit)}"

    def curl(self) -> str:
        """A shell line that sends the same request (secrets as ``$API_KEY``)."""
        r = self.redactor
        parts = ["curl", "-sS", "-X", self.request.method, r.shell_url(self.request.url)]
        for name, value in self.request.headers:
            parts += ["-H", r.shell_header(name, value)]
        if self.request.body is not None:
            text = self.request.body.decode("utf-8", "surrogateescape")
            parts += ["--data-binary", r.shell(text)]
        return " ".join(parts)
