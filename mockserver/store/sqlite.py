"""A store in one SQLite file: survives restarts and ``kill -9``, shared by local workers.

Every process opens its own connection to the file. Writes are single
statements in autocommit mode, so each is its own transaction and there is no
read-then-upgrade lock dance that could fail with ``SQLITE_BUSY``; the busy
timeout makes a writer wait while another process holds the write lock.

The file is in WAL mode with ``synchronous=FULL``: the write-ahead log is
fsynced at every commit, so a record whose ``put`` has returned is on disk and
survives not only ``kill -9`` but also a power cut, which is what the Store
contract promises. That costs about 0.2 ms per put on an SSD, well below the
cost of the HTTP request that causes it, so the calls stay synchronous on the
event loop instead of paying a thread hop each.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mockserver.record import OperationRecord
from mockserver.store.base import Delivery, StoreUnavailable
from videogen.errors import ConfigError

__all__ = ["SQLiteDeliveries", "SQLiteStore"]

_BUSY_TIMEOUT_S = 10.0  # how long a write waits for another worker's write lock

_SCHEMA = """
CREATE TABLE IF NOT EXISTS operations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    token TEXT NOT NULL UNIQUE,
    dialect TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS operations_by_dialect ON operations (dialect, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    status TEXT NOT NULL,
    due_at REAL NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, due_at);
"""
# Added after the first release: files written before it gain the column on open.
_OWNER = """
ALTER TABLE operations ADD COLUMN owner TEXT NOT NULL DEFAULT '';
UPDATE operations SET owner = json_extract(data, '$.owner');
"""
_OWNER_INDEX = "CREATE INDEX IF NOT EXISTS operations_by_owner ON operations (dialect, owner, seq)"

# An upsert, not INSERT OR REPLACE: replacing would delete the row and give the
# token a new seq, moving a re-put operation to the end of the creation order.
_PUT = """
INSERT INTO operations (token, dialect, owner, data) VALUES (?, ?, ?, ?)
ON CONFLICT (token) DO UPDATE SET dialect = excluded.dialect, owner = excluded.owner, data = excluded.data
"""

_INSERT = "INSERT INTO operations (token, dialect, owner, data) VALUES (?, ?, ?, ?) ON CONFLICT (token) DO NOTHING"

_SET_META = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"


class SQLiteStore:
    """Operation records in the SQLite file at ``path`` (created with its parent directory if missing).

    The constructor checks that the file can be opened and holds our schema,
    so a bad ``--store`` fails at start-up; the connection used for requests is
    opened on first use, in the process that uses it (uvicorn workers fork or
    spawn after the app factory's caller has built its own store).
    """

    shared = True  # every process that opens the file sees the same records
    failures: tuple[type[BaseException], ...] = (sqlite3.Error, OSError, StoreUnavailable)

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._file: tuple[int, int] | None = None  # (device, inode) of the file opened
        # The loop thread is the only caller in the server, but the lock keeps
        # the connection correct if a test or tool calls in from another thread.
        self._lock = threading.Lock()
        self.deliveries = SQLiteDeliveries(self._connection, self._lock)
        if path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"--store sqlite: cannot create the directory for {path!r}: {exc}") from exc
        try:
            conn = self._open()
            try:
                conn.execute(_SET_META, ("opened", str(time.time())))  # a store that cannot be written fails now, not per create
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise ConfigError(
                f"--store sqlite: {path!r} is not a usable SQLite database this user can write ({exc}); "
                "pass a new file, or one this user can write, in a writable folder"
            ) from exc
        self._file = self._identity()

    @property
    def path(self) -> str:
        """The database file this store reads and writes."""
        return self._path

    def _open(self) -> sqlite3.Connection:
        # Workers starting together open a new file at once. Switching it to WAL takes a lock
        # for which SQLite does not always wait out its busy timeout ("database is locked"
        # at once), so the switch is retried for as long as that timeout.
        deadline = time.monotonic() + _BUSY_TIMEOUT_S
        while True:
            try:
                return self._connect()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: autocommit, so every statement commits on its own.
        conn = sqlite3.connect(self._path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, nor the writer them
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(operations)")}
            if "owner" not in columns:
                try:
                    conn.executescript(f"BEGIN IMMEDIATE; {_OWNER} COMMIT;")
                except sqlite3.OperationalError as exc:  # another worker added it first
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    if "duplicate column" not in str(exc):
                        raise
            conn.execute(_OWNER_INDEX)
        except BaseException:
            conn.close()
            raise
        return conn

    def _identity(self) -> tuple[int, int] | None:
        if self._path == ":memory:":
            return None
        st = os.stat(self._path)
        return (st.st_dev, st.st_ino)

    def _connection(self) -> sqlite3.Connection:
        # The file must still be the one opened: a removed or replaced file would take writes
        # into a file nobody will read again, and answer 200 for operations already lost.
        if self._file is not None:
            try:
                same = self._identity() == self._file
            except OSError:
                same = False
            if not same:
                raise StoreUnavailable(f"the SQLite file {self._path} was removed or replaced under the running mock")
        # A connection must not cross a fork: a child that inherited one opens its own.
        if self._conn is None or self._pid != os.getpid():
            self._conn = self._open()
            self._pid = os.getpid()
        return self._conn

    async def put(self, record: OperationRecord) -> None:
        """Insert or replace ``record``; it is fsynced to disk when this returns."""
        with self._lock:
            self._connection().execute(_PUT, (record.token, record.dialect, record.owner, record.to_json()))

    async def insert(self, record: OperationRecord) -> bool:
        """Insert ``record`` unless its token exists; one statement, so two processes never both win."""
        with self._lock:
            cursor = self._connection().execute(_INSERT, (record.token, record.dialect, record.owner, record.to_json()))
        return cursor.rowcount == 1

    async def get(self, token: str) -> OperationRecord | None:
        """The record for ``token``, or None."""
        with self._lock:
            row = self._connection().execute("SELECT data FROM operations WHERE token = ?", (token,)).fetchone()
        return None if row is None else OperationRecord.from_json(row[0])

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
        """A page in creation order (or newest first), by an index on (dialect, owner, seq)."""
        where, args = self._filter(dialect, owner)
        if after is not None:
            where.append(f"seq {'<' if newest_first else '>'} (SELECT seq FROM operations WHERE token = ?)")
            args.append(after)
        sql = "SELECT data FROM operations" + (" WHERE " + " AND ".join(where) if where else "")
        sql += f" ORDER BY seq {'DESC' if newest_first else 'ASC'} LIMIT ? OFFSET ?"
        args += [max(limit, 0), max(offset, 0)]  # SQLite reads a negative LIMIT as "no limit"
        with self._lock:
            rows = self._connection().execute(sql, args).fetchall()
        return [OperationRecord.from_json(data) for (data,) in rows]

    @staticmethod
    def _filter(dialect: str | None, owner: str | None) -> tuple[list[str], list[object]]:
        where: list[str] = []
        args: list[object] = []
        if dialect is not None:
            where.append("dialect = ?")
            args.append(dialect)
        if owner is not None:
            where.append("owner = ?")
            args.append(owner)
        return where, args

    async def count(self, dialect: str | None = None, owner: str | None = None) -> int:
        """How many records the file holds, optionally of one dialect and one owner."""
        where, args = self._filter(dialect, owner)
        sql = "SELECT count(*) FROM operations" + (" WHERE " + " AND ".join(where) if where else "")
        with self._lock:
            (n,) = self._connection().execute(sql, args).fetchone()
        return int(n)

    async def clear(self) -> None:
        """Delete every record and delivery; the clock offset and the secrets are kept."""
        with self._lock:
            conn = self._connection()
            conn.execute("DELETE FROM operations")
            conn.execute("DELETE FROM deliveries")

    async def get_clock_offset(self) -> float:
        """The virtual clock's offset shared through this file; 0.0 until one is set."""
        with self._lock:
            row = self._connection().execute("SELECT value FROM meta WHERE key = 'clock_offset'").fetchone()
        return 0.0 if row is None else float(row[0])

    async def set_clock_offset(self, offset: float) -> None:
        """Share ``offset`` with every process using this file."""
        with self._lock:
            self._connection().execute(_SET_META, ("clock_offset", repr(float(offset))))

    async def advance_clock_offset(self, seconds: float) -> float:
        """Add ``seconds`` to the shared offset in one transaction; returns the new offset."""
        with self._lock:
            conn = self._connection()
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                row = conn.execute("SELECT value FROM meta WHERE key = 'clock_offset'").fetchone()
                offset = (0.0 if row is None else float(row[0])) + seconds
                conn.execute(_SET_META, ("clock_offset", repr(offset)))
        return offset

    async def shared_secret(self, name: str, fresh: bytes) -> bytes:
        """The secret under ``name`` in this file, set to ``fresh`` (hex) by the first process that asks."""
        with self._lock:
            conn = self._connection()
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (f"secret:{name}", fresh.hex()))
            (value,) = conn.execute("SELECT value FROM meta WHERE key = ?", (f"secret:{name}",)).fetchone()
        return bytes.fromhex(value)

    async def close(self) -> None:
        """Close this process's connection; the store reopens it if used again."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None


class SQLiteDeliveries:
    """Webhook deliveries in the same file: a claim is one UPDATE ... RETURNING, atomic across processes."""

    def __init__(self, connection: Callable[[], sqlite3.Connection], lock: threading.Lock) -> None:
        self._connection = connection
        self._lock = lock

    async def schedule(self, deliveries: Sequence[Delivery]) -> None:
        with self._lock:
            conn = self._connection()
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                for d in deliveries:
                    known = conn.execute("SELECT data FROM deliveries WHERE id = ?", (d.id,)).fetchone()
                    if known is None:
                        seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM deliveries").fetchone()[0]
                        conn.execute(
                            "INSERT INTO deliveries (id, token, status, due_at, seq, data) VALUES (?, ?, ?, ?, ?, ?)",
                            (d.id, d.token, d.status, d.due_at, seq, d.to_json()),
                        )
                        continue
                    old = Delivery.from_json(known[0])
                    if old.status == "pending":
                        old.due_at, old.happened_at, old.url = d.due_at, d.happened_at, d.url
                        conn.execute("UPDATE deliveries SET due_at = ?, data = ? WHERE id = ?", (old.due_at, old.to_json(), d.id))

    async def claim(self, *, now: float, wall: float, lease_s: float, limit: int) -> list[Delivery]:
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "UPDATE deliveries SET lease_until = ? WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending'"
                    " AND due_at <= ? AND lease_until <= ? ORDER BY due_at LIMIT ?) RETURNING data",
                    (wall + lease_s, now, wall, limit),
                )
                .fetchall()
            )
        return [Delivery.from_json(data) for (data,) in rows]

    async def settle(self, delivery: Delivery) -> None:
        delivery.lease_until = 0.0
        with self._lock:
            self._connection().execute(
                "UPDATE deliveries SET status = ?, due_at = ?, lease_until = 0, data = ? WHERE id = ?",
                (delivery.status, delivery.due_at, delivery.to_json(), delivery.id),
            )

    async def recent(self, *, token: str | None = None, limit: int = 100) -> list[Delivery]:
        sql = "SELECT data FROM deliveries" + (" WHERE token = ?" if token is not None else "") + " ORDER BY seq DESC LIMIT ?"
        args: list[object] = [token, limit] if token is not None else [limit]
        with self._lock:
            rows = self._connection().execute(sql, args).fetchall()
        return [Delivery.from_json(data) for (data,) in rows]

    async def clear(self) -> None:
        with self._lock:
            self._connection().execute("DELETE FROM deliveries")
