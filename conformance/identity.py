"""Handles that name nothing: an existing handle with its token changed, or one built
from the dialect's identity templates. Used to ask for an operation that does not exist.
"""

from __future__ import annotations

import re

from videogen.dialect import Dialect
from videogen.errors import VideogenError

__all__ = ["UNKNOWN_KEY", "unknown_handle"]

# A key no vendor issued: what an unknown key gets, and what a refused key is compared with.
UNKNOWN_KEY = "conformance-kit-unknown-key-0000"

_RUN = re.compile(r"[A-Za-z0-9]{4,}")


def _shift(token: str) -> str:
    """The same length and alphabet, every character different."""
    out = []
    for ch in token:
        if "0" <= ch <= "9":
            out.append(str((int(ch) + 1) % 10))
        elif "a" <= ch <= "z":
            out.append(chr((ord(ch) - 97 + 1) % 26 + 97))
        elif "A" <= ch <= "Z":
            out.append(chr((ord(ch) - 65 + 1) % 26 + 65))
        else:
            out.append(ch)
    return "".join(out)


def unknown_handle(dialect: Dialect, handle: str | None, *, model: str, now_s: int) -> str:
    """A well-formed handle of this dialect that no operation has."""
    if handle:
        name = dialect.name_template.parse(handle)
        fields = name if name is not None and "id" in name else {"id": handle}
        parts = dialect.id_template.parse(fields["id"])
        if parts is not None and "token" in parts:
            try:
                fields["id"] = dialect.id_template.render({**parts, "token": _shift(parts["token"])})
                return dialect.name_template.render(fields) if name is not None else fields["id"]
            except (VideogenError, KeyError, TypeError):
                pass
        runs = list(_RUN.finditer(handle))
        if runs:
            last = runs[-1]
            return handle[: last.start()] + _shift(last.group(0)) + handle[last.end() :]
        return handle + "0"
    ctx = {**dialect.identity_defaults, "model": model, "created_s": str(now_s), "token": "conformance0unknown"}
    try:
        ctx["id"] = dialect.id_template.render(ctx)
        return dialect.name_template.render(ctx)
    except (VideogenError, KeyError, TypeError):
        return "conformance-unknown-id"
