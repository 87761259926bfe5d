"""Store backends, chosen by URL: ``memory``, ``sqlite:///path.db``, ``redis://host:port/db``."""

from __future__ import annotations

from mockserver.store.base import Store, StoreFull, StoreUnavailable
from mockserver.store.memory import MemoryStore
from videogen.errors import ConfigError

__all__ = ["MemoryStore", "Store", "StoreFull", "StoreUnavailable", "open_store"]


def open_store(url: str, *, max_operations: int = 1_000_000) -> Store:
    """Build the store a ``--store`` URL names; raises ConfigError with the accepted forms."""
    if url in ("", "memory", "memory://"):
        return MemoryStore(max_operations)
    if url.startswith("sqlite://"):
        from mockserver.store.sqlite import SQLiteStore

        path = url.removeprefix("sqlite://")
        path = path[1:] if path.startswith("/") and not path.startswith("//") else path[1:] if path.startswith("//") else path
        if not path:
            raise ConfigError(f"--store {url!r}: expected 'sqlite:///relative.db' or 'sqlite:////absolute/path.db'")
        return SQLiteStore(path)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from mockserver.store.redis import RedisStore

        return RedisStore(url)
    raise ConfigError(f"--store {url!r}: expected 'memory', 'sqlite:///path.db' or 'redis://host:port/db'")
