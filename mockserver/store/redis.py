"""A store in Redis: shared by every worker and replica that points at the same server.

Keys, all under ``prefix`` so several mocks (or test runs) can share a database::

    {prefix}op:{token}              the record's JSON
    {prefix}seq                     a counter that numbers records in creation order
    {prefix}ops                     sorted set: every token, scored by its seq
    {prefix}ops:{dialect}           sorted set: that dialect's tokens, scored by seq
    {prefix}own:{dialect}:{owner}   sorted set: one owner's tokens in a dialect, scored by seq
    {prefix}indexes                 set of every per-dialect and per-owner index, so clear() can find them
    {prefix}clock_offset            the virtual clock's offset, a float as text
    {prefix}secret:{name}           a deployment secret (owner salt, signing key)
    {prefix}dlv:{id}                a webhook delivery's JSON
    {prefix}dlv:due                 sorted set: pending deliveries by due time (the mock's clock)
    {prefix}dlv:lease               sorted set: claimed deliveries by lease expiry (wall clock)
    {prefix}dlv:all                 sorted set: every delivery, by the order it was scheduled

A record and its index entries are written by one script, so no reader ever sees
one without the other. How durable a record is after a write depends on the
server's persistence settings (AOF with ``appendfsync always`` for the strongest
guarantee); this store cannot choose them for the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio
from redis.asyncio.connection import parse_url

from mockserver.record import OperationRecord
from mockserver.store.base import Delivery, StoreUnavailable
from videogen.errors import ConfigError

__all__ = ["RedisDeliveries", "RedisStore", "check_durability"]


def check_durability(url: str) -> None:
    """Refuse a server that can lose an answered create: without ``appendonly yes`` and
    ``appendfsync always``, a crash of Redis drops every write since its last save."""
    import redis as sync_redis

    fix = (
        "start redis-server with --appendonly yes --appendfsync always (or CONFIG SET them), "
        "or pass --store-durability relaxed to accept losing answered operations if Redis crashes"
    )
    client = sync_redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        settings = {**client.config_get("appendonly"), **client.config_get("appendfsync")}
    except sync_redis.exceptions.ResponseError as exc:  # CONFIG renamed or forbidden (managed Redis)
        raise ConfigError(f"--store {url}: cannot read Redis's persistence settings ({exc}); {fix}") from None
    except sync_redis.exceptions.RedisError as exc:
        raise ConfigError(f"--store {url}: cannot reach Redis ({exc})") from None
    finally:
        client.close()
    got = {_text(k): _text(v) for k, v in settings.items()}
    if got.get("appendonly") != "yes" or got.get("appendfsync") != "always":
        shown = f"appendonly {got.get('appendonly', '?')}, appendfsync {got.get('appendfsync', '?')}"
        raise ConfigError(f"--store {url}: this Redis can lose answered operations on a crash ({shown}); {fix}")


_CLEAR_BATCH = 500  # tokens deleted per round trip by clear()
# Connections per process. A burst of requests waits for a free one instead of
# failing with "Too many connections"; a ?max_connections= in the URL overrides it.
_POOL_SIZE = 64
_POOL_WAIT_S = 20.0
# A frozen server (SIGSTOP, a stalled disk) must become an outage, not a request that never ends.
_SOCKET_TIMEOUT_S = 5.0

# The record and its indexes, atomically (a script runs with nothing in between).
# KEYS: record, seq, ops, ops:dialect, own:dialect:owner, indexes; ARGV: json, token, force (1: replace)
_WRITE_SCRIPT = """
local exists = redis.call('EXISTS', KEYS[1]) == 1
if exists and ARGV[3] ~= '1' then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
if not exists then
  local seq = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[3], 'NX', seq, ARGV[2])
  redis.call('ZADD', KEYS[4], 'NX', seq, ARGV[2])
  redis.call('ZADD', KEYS[5], 'NX', seq, ARGV[2])
  redis.call('SADD', KEYS[6], KEYS[4], KEYS[5])
end
return 1
"""

# Claim due deliveries no live lease holds. KEYS: due, lease; ARGV: now, wall, lease_until, limit
_CLAIM_SCRIPT = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 200)
local out = {}
for _, id in ipairs(ids) do
  local lease = redis.call('ZSCORE', KEYS[2], id)
  if not lease or tonumber(lease) <= tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[2], ARGV[3], id)
    table.insert(out, id)
    if #out >= tonumber(ARGV[4]) then break end
  end
end
return out
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
    # Down, frozen past the socket timeout, loading, or refusing writes: all an outage.
    failures: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError, StoreUnavailable)

    def __init__(self, url: str, *, prefix: str = "videogen:") -> None:
        try:
            parse_url(url)
        except ValueError as exc:
            raise ConfigError(f"--store {url!r}: {exc}; expected 'redis://host:port/db', 'rediss://...' or 'unix:///path.sock'") from exc
        self._url = url
        self._prefix = prefix
        self._client: redis.asyncio.Redis | None = None
        self.deliveries = RedisDeliveries(self._redis, prefix)

    @property
    def prefix(self) -> str:
        """The prefix every key of this store starts with."""
        return self._prefix

    def _redis(self) -> redis.asyncio.Redis:
        if self._client is None:
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                self._url,
                max_connections=_POOL_SIZE,
                timeout=_POOL_WAIT_S,
                socket_timeout=_SOCKET_TIMEOUT_S,
                socket_connect_timeout=_SOCKET_TIMEOUT_S,
            )
            self._client = redis.asyncio.Redis(connection_pool=pool)
        return self._client

    def _op(self, token: str) -> str:
        return f"{self._prefix}op:{token}"

    def _index(self, dialect: str | None = None, owner: str | None = None) -> str:
        if owner is not None and dialect is not None:
            return f"{self._prefix}own:{dialect}:{owner}"
        return f"{self._prefix}ops" if dialect is None else f"{self._prefix}ops:{dialect}"

    async def _write(self, record: OperationRecord, *, replace: bool) -> bool:
        keys = [
            self._op(record.token),
            f"{self._prefix}seq",
            self._index(),
            self._index(record.dialect),
            self._index(record.dialect, record.owner),
            f"{self._prefix}indexes",
        ]
        written = await self._redis().eval(_WRITE_SCRIPT, len(keys), *keys, record.to_json(), record.token, "1" if replace else "0")
        return bool(written)

    async def insert(self, record: OperationRecord) -> bool:
        """Insert ``record`` unless its token exists: of two replicas, exactly one wins."""
        return await self._write(record, replace=False)

    async def put(self, record: OperationRecord) -> None:
        """Insert or replace ``record``; a replaced record keeps its place in creation order."""
        await self._write(record, replace=True)

    async def get(self, token: str) -> OperationRecord | None:
        """The record for ``token``, or None."""
        data = await self._redis().get(self._op(token))
        return None if data is None else OperationRecord.from_json(data)

    async def page(
        self,
        *,
        dialect: str | None = None,
        owner: str | None = None,
        after: str | None = None,
        offset: int = 0,
        limit: int = 1000,
        newest_first: bool = False,
    ) -> list[OperationRecord]:
        """A page of one index (all, a dialect's, or an owner's in a dialect), by seq."""
        if limit <= 0:
            return []  # ZRANGE 0 -1 would mean "everything"
        r = self._redis()
        index = self._index(dialect, owner)
        if owner is not None and dialect is None:  # no index across dialects by owner: filter (the control API)
            matched = [rec for rec in await self.page(after=after, limit=1_000_000, newest_first=newest_first) if rec.owner == owner]
            return matched[offset : offset + limit]
        if after is not None:
            score = await r.zscore(index, after)
            if score is None:
                return []
            if newest_first:
                raw = await r.zrevrangebyscore(index, f"({score}", "-inf", start=offset, num=limit)
            else:
                raw = await r.zrangebyscore(index, f"({score}", "+inf", start=offset, num=limit)
        else:
            ranged = r.zrevrange if newest_first else r.zrange
            raw = await ranged(index, offset, offset + limit - 1)
        tokens = [_text(t) for t in raw]
        if not tokens:
            return []
        blobs = await r.mget([self._op(t) for t in tokens])
        # A token whose record is gone was cleared between the two reads.
        return [OperationRecord.from_json(b) for b in blobs if b is not None]

    async def count(self, dialect: str | None = None, owner: str | None = None) -> int:
        """How many records are stored under this prefix, optionally of one dialect and one owner."""
        if owner is not None and dialect is None:
            return len(await self.page(owner=owner, limit=1_000_000))
        return int(await self._redis().zcard(self._index(dialect, owner)))

    async def clear(self) -> None:
        """Delete every record and delivery under this prefix, and nothing else; the clock offset is kept."""
        r = self._redis()
        # Walk the global index rather than SCAN a pattern: a pattern such as
        # "videogen:op*" would also match another store's "videogen:opx:" keys.
        while tokens := [_text(t) for t in await r.zrange(self._index(), 0, _CLEAR_BATCH - 1)]:
            async with r.pipeline(transaction=True) as pipe:
                pipe.delete(*[self._op(t) for t in tokens])
                pipe.zrem(self._index(), *tokens)
                await pipe.execute()
        indexes = await r.smembers(f"{self._prefix}indexes")
        await r.delete(f"{self._prefix}indexes", *[_text(i) for i in indexes])
        await self.deliveries.clear()

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


class RedisDeliveries:
    """Webhook deliveries in Redis; a claim is one script, so two workers never hold one delivery."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._key = f"{prefix}dlv:"

    async def schedule(self, deliveries: Sequence[Delivery]) -> None:
        r = self._client()
        for fresh in deliveries:
            d = fresh
            known = await r.get(self._key + d.id)
            if known is not None:
                d = Delivery.from_json(known)
                if d.status != "pending":
                    continue
                d.due_at, d.happened_at, d.url = fresh.due_at, fresh.happened_at, fresh.url
            seq = await r.incr(self._key + "seq")
            async with r.pipeline(transaction=True) as pipe:
                pipe.set(self._key + d.id, d.to_json())
                pipe.zadd(self._key + "due", {d.id: d.due_at})
                pipe.zadd(self._key + "all", {d.id: seq}, nx=True)
                await pipe.execute()

    async def claim(self, *, now: float, wall: float, lease_s: float, limit: int) -> list[Delivery]:
        r = self._client()
        ids = await r.eval(_CLAIM_SCRIPT, 2, self._key + "due", self._key + "lease", now, wall, wall + lease_s, limit)
        if not ids:
            return []
        blobs = await r.mget([self._key + _text(i) for i in ids])
        return [Delivery.from_json(b) for b in blobs if b is not None]

    async def settle(self, delivery: Delivery) -> None:
        delivery.lease_until = 0.0
        r = self._client()
        async with r.pipeline(transaction=True) as pipe:
            pipe.set(self._key + delivery.id, delivery.to_json())
            pipe.zrem(self._key + "lease", delivery.id)
            if delivery.status == "pending":
                pipe.zadd(self._key + "due", {delivery.id: delivery.due_at})
            else:
                pipe.zrem(self._key + "due", delivery.id)
            await pipe.execute()

    async def recent(self, *, token: str | None = None, limit: int = 100) -> list[Delivery]:
        r = self._client()
        ids = [_text(i) for i in await r.zrevrange(self._key + "all", 0, (limit if token is None else 100_000) - 1)]
        if not ids:
            return []
        found = [Delivery.from_json(b) for b in await r.mget([self._key + i for i in ids]) if b is not None]
        return [d for d in found if token is None or d.token == token][:limit]

    async def clear(self) -> None:
        r = self._client()
        while ids := [_text(i) for i in await r.zrange(self._key + "all", 0, _CLEAR_BATCH - 1)]:
            async with r.pipeline(transaction=True) as pipe:
                pipe.delete(*[self._key + i for i in ids])
                pipe.zrem(self._key + "all", *ids)
                await pipe.execute()
        await r.delete(self._key + "due", self._key + "lease", self._key + "seq")
