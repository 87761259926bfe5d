"""A store in Redis: shared by every worker and replica that points at the same server.

Keys, all under ``prefix`` so several mocks (or test runs) can share a database::

    {prefix}op:{token}        the record's JSON
    {prefix}seq               a counter that numbers records in creation order
    {prefix}ops               sorted set: every token, scored by its seq
    {prefix}ops:{dialect}     sorted set: that dialect's tokens, scored by seq
    {prefix}dialects          set of the dialects that have an index, so clear() can find them
    {prefix}clock_offset      the virtual clock's offset, a float as text

A record and its index entries are written in one MULTI/EXEC, so no reader ever
sees one without the other. How durable a record is after ``put`` depends on
the server's persistence settings (AOF with ``appendfsync always`` for the
strongest guarantee); this store cannot choose them for the server.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio
from redis.asyncio.connection import parse_url

from mockserver.record import OperationRecord
from videogen.errors import ConfigError

__all__ = ["RedisStore"]

_CLEAR_BATCH = 500  # tokens deleted per round trip by clear()
# Connections per process. A burst of requests waits for a free one instead of
# failing with "Too many connections"; a ?max_connections= in the URL overrides it.
_POOL_SIZE = 64
_POOL_WAIT_S = 20.0


# SET NX, then the indexes, atomically (a script runs with nothing in between).
_INSERT_SCRIPT = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  local seq = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[3], 'NX', seq, ARGV[2])
  redis.call('ZADD', KEYS[4], 'NX', seq, ARGV[2])
  redis.call('SADD', KEYS[5], ARGV[3])
  return 1
end
return 0
"""


def _text(value: object) -> str:
    # Replies are bytes: decode_responses stays off so record JSON is never decoded and re-encoded.
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisStore:
    """Operation records in the Redis server at ``url``, under keys that start with ``prefix``.

    The constructor only checks the URL; the connection pool is created on
    first use, inside the event loop that uses it, because the CLI builds a
    store just to validate ``--store`` and a pool is bound to one loop.
    """

    shared = True  # every worker and replica on the same server and prefix

    def __init__(self, url: str, *, prefix: str = "videogen:") -> None:
        try:
            parse_url(url)
        except ValueError as exc:
            raise ConfigError(f"--store {url!r}: {exc}; expected 'redis://host:port/db', 'rediss://...' or 'unix:///path.sock'") from exc
        self._url = url
        self._prefix = prefix
        self._client: redis.asyncio.Redis | None = None

    @property
    def prefix(self) -> str:
        """The prefix every key of this store starts with."""
        return self._prefix

    def _redis(self) -> redis.asyncio.Redis:
        if self._client is None:
            pool = redis.asyncio.BlockingConnectionPool.from_url(self._url, max_connections=_POOL_SIZE, timeout=_POOL_WAIT_S)
            self._client = redis.asyncio.Redis(connection_pool=pool)
        return self._client

    def _op(self, token: str) -> str:
        return f"{self._prefix}op:{token}"

    def _index(self, dialect: str | None = None) -> str:
        return f"{self._prefix}ops" if dialect is None else f"{self._prefix}ops:{dialect}"

    async def put(self, record: OperationRecord) -> None:
        """Insert or replace ``record``; a replaced record keeps its place in creation order."""
        r = self._redis()
        # The seq is taken before the transaction because MULTI cannot feed one
        # command's result to the next; a replace wastes one number, harmlessly.
        seq = await r.incr(f"{self._prefix}seq")
        async with r.pipeline(transaction=True) as pipe:
            pipe.set(self._op(record.token), record.to_json())
            # NX: an existing token keeps its original score, hence its position.
            pipe.zadd(self._index(), {record.token: seq}, nx=True)
            pipe.zadd(self._index(record.dialect), {record.token: seq}, nx=True)
            pipe.sadd(f"{self._prefix}dialects", record.dialect)
            await pipe.execute()

    async def insert(self, record: OperationRecord) -> bool:
        """Insert ``record`` unless its token exists: one Lua script, so of two replicas exactly one wins
        and no reader sees the record without its index entries."""
        keys = [self._op(record.token), f"{self._prefix}seq", self._index(), self._index(record.dialect), f"{self._prefix}dialects"]
        inserted = await self._redis().eval(_INSERT_SCRIPT, len(keys), *keys, record.to_json(), record.token, record.dialect)
        return bool(inserted)

    async def get(self, token: str) -> OperationRecord | None:
        """The record for ``token``, or None."""
        data = await self._redis().get(self._op(token))
        return None if data is None else OperationRecord.from_json(data)

    async def list(self, dialect: str | None = None, limit: int = 1000) -> list[OperationRecord]:
        """Up to ``limit`` records in creation order, oldest first, optionally for one dialect."""
        if limit <= 0:
            return []  # ZRANGE 0 -1 would mean "everything"
        r = self._redis()
        tokens = [_text(t) for t in await r.zrange(self._index(dialect), 0, limit - 1)]
        if not tokens:
            return []
        blobs = await r.mget([self._op(t) for t in tokens])
        # A token whose record is gone was cleared between the two reads.
        return [OperationRecord.from_json(b) for b in blobs if b is not None]

    async def count(self) -> int:
        """How many records are stored under this prefix."""
        return int(await self._redis().zcard(self._index()))

    async def clear(self) -> None:
        """Delete every record under this prefix, and nothing else; the clock offset is kept."""
        r = self._redis()
        # Walk the global index rather than SCAN a pattern: a pattern such as
        # "videogen:op*" would also match another store's "videogen:opx:" keys.
        while tokens := [_text(t) for t in await r.zrange(self._index(), 0, _CLEAR_BATCH - 1)]:
            async with r.pipeline(transaction=True) as pipe:
                pipe.delete(*[self._op(t) for t in tokens])
                pipe.zrem(self._index(), *tokens)
                await pipe.execute()
        dialects = await r.smembers(f"{self._prefix}dialects")
        await r.delete(f"{self._prefix}dialects", *[self._index(_text(d)) for d in dialects])

    async def get_clock_offset(self) -> float:
        """The virtual clock's offset shared by every process on this prefix; 0.0 until one is set."""
        value: Any = await self._redis().get(f"{self._prefix}clock_offset")
        return 0.0 if value is None else float(value)

    async def set_clock_offset(self, offset: float) -> None:
        """Share ``offset`` with every process on this prefix."""
        await self._redis().set(f"{self._prefix}clock_offset", repr(float(offset)))

    async def advance_clock_offset(self, seconds: float) -> float:
        """Add ``seconds`` to the shared offset with INCRBYFLOAT, atomic across processes."""
        return float(await self._redis().incrbyfloat(f"{self._prefix}clock_offset", seconds))

    async def shared_secret(self, name: str, fresh: bytes) -> bytes:
        """The secret under ``name``, set to ``fresh`` by the first process that asks (SET NX)."""
        key = f"{self._prefix}secret:{name}"
        r = self._redis()
        await r.set(key, fresh, nx=True)
        value = await r.get(key)
        return value if isinstance(value, bytes) else fresh

    async def close(self) -> None:
        """Close the connection pool; the store opens a new one if used again."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose(close_connection_pool=True)
