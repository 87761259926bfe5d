"""Signed download URLs: the only way a download is served without the creating key.

A ``download_redirect`` fault answers 302 to the same download with a
``videogen_hop`` query parameter: an HMAC-SHA256 of the file id, the flag and
an expiry, under a secret the mock draws at start-up (shared through the store
when several workers or replicas serve). A hand-computed value never verifies,
an expired one neither, and only a download accepts one.

    s1767229200.3f2a...   serves the file to anyone who holds the URL until the expiry
    k1767229200.9b1c...   serves it only with the creating key again ("redirect_needs_key")
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from videogen.coercion import is_digits

__all__ = ["HOP", "LIFETIME_S", "Signer"]

HOP = "videogen_hop"  # the query parameter of a download redirect's signed URL
LIFETIME_S = 3600.0  # a signed URL works this long on the mock's clock
Flag = Literal["k", "s"]


class Signer:
    """Signs and verifies download URLs with one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("a signing secret needs at least 16 bytes")
        self._secret = secret

    def _mac(self, file_id: str, flag: str, expires: int) -> str:
        message = f"{file_id}\x00{flag}\x00{expires}".encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def sign(self, file_id: str, *, needs_key: bool, now: float) -> str:
        flag = "k" if needs_key else "s"
        expires = int(now + LIFETIME_S)
        return f"{flag}{expires}.{self._mac(file_id, flag, expires)}"

    def verify(self, value: str, file_id: str, now: float) -> Flag | None:
        """The flag of a valid, unexpired signature for ``file_id``; None for anything else."""
        head, dot, mac = value.partition(".")
        flag, expires = head[:1], head[1:]
        if not dot or flag not in ("k", "s") or not is_digits(expires) or int(expires) < now:
            return None
        if not hmac.compare_digest(mac, self._mac(file_id, flag, int(expires))):
            return None
        return "k" if flag == "k" else "s"
