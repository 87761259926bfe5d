"""Who owns an operation: a digest of the API key that created it, salted per deployment.

Operations belong to the key that created it. The store, the logs and the
control API only ever see a digest: an HMAC of the key under a salt drawn at
start-up and shared through the store, so every worker and replica (and a
restart on a durable store) computes the same owner, while a digest listed by
the control API cannot be matched against ``sha256(key)`` of a guessed key.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["Owners"]

_CACHE = 1024  # a client sends the same few keys; every request digests its key


class Owners:
    """Key -> owner digests under one salt."""

    def __init__(self, salt: bytes) -> None:
        self._salt = salt
        self._cache: dict[str, str] = {}

    def of(self, key: str) -> str:
        owner = self._cache.get(key)
        if owner is None:
            owner = hmac.new(self._salt, key.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:24]
            if len(self._cache) >= _CACHE:
                self._cache.clear()
            self._cache[key] = owner
        return owner
