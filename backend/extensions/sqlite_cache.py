"""The cache port on a SQLite file every worker on the host opens (``CACHE_PATH``): the default without Redis.

Rate limits, failure counts, job locks and WeChat tokens are then one for all workers, as with Redis,
where an in-process store would multiply each limit by the number of workers. Every operation is one
statement (an UPSERT, with RETURNING where it answers) or one ``BEGIN IMMEDIATE`` transaction, so two
workers never interleave inside one. Values expire at a wall-clock deadline (the processes share no
other clock); expired rows are skipped by reads, overwritten by writes, and deleted now and then.

Writers take turns through a ``threading.Lock`` within a process and an ``flock`` on a file beside the
database across processes: a waiting writer wakes as soon as the lock is free, where SQLite's own busy
handler sleeps a millisecond or more between tries. A write still costs tens of microseconds, so the
badge scans' limit adds its counts in batches (``batched_limit.py``).

Invalidations reach listeners in this process only (``listening`` stays False): other workers learn
of officer changes by polling the database (``backend/officers/snapshots.py``).
"""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

# How long a key's invalidation stamp outlives its last invalidation: far longer than any fill takes.
STAMP_SECONDS = 86_400.0
# How often each process deletes expired rows (on its next write). A sweep reads the whole table, which
# stays small (counters live a minute or an hour); an index on the deadline would cost every write instead.
SWEEP_SECONDS = 60.0
# A statement waits this long for another process's write to finish before failing.
BUSY_SECONDS = 2.0

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL) WITHOUT ROWID",
    # Kept apart from values: clearing values (clear_prefix) must not reset a stamp a fill in flight holds.
    "CREATE TABLE IF NOT EXISTS stamps (key TEXT PRIMARY KEY, stamp INTEGER NOT NULL, expires REAL NOT NULL)"
    " WITHOUT ROWID",
)
_LIVE = "(expires IS NULL OR expires > :now)"

_SET = """
INSERT INTO cache (key, value, expires) VALUES (:key, :value, :deadline)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires
"""
# Set unless a live value is there: the conflicting row is replaced only when it has expired.
_ADD = """
INSERT INTO cache (key, value, expires) VALUES (:key, :value, :deadline)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires WHERE expires <= :now
RETURNING 1
"""
# The window starts with the first increment: a live counter keeps its deadline.
_INCR = """
INSERT INTO cache (key, value, expires) VALUES (:key, :amount, :deadline)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN expires <= :now THEN :amount ELSE CAST(value AS INTEGER) + :amount END,
    expires = CASE WHEN expires <= :now THEN excluded.expires ELSE coalesce(expires, excluded.expires) END
RETURNING value
"""
# Compare the stamp and set in one statement (the SELECT's WHERE also tells SQLite the UPSERT is one).
_FILL = """
INSERT INTO cache (key, value, expires)
SELECT :key, :value, :deadline
WHERE coalesce((SELECT stamp FROM stamps WHERE key = :key AND expires > :now), 0) = :token
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires
RETURNING 1
"""
_BUMP = """
INSERT INTO stamps (key, stamp, expires) VALUES (:key, 1, :deadline)
ON CONFLICT (key) DO UPDATE SET
    stamp = CASE WHEN expires <= :now THEN 1 ELSE stamp + 1 END, expires = excluded.expires
"""


P = ParamSpec("P")
R = TypeVar("R")


class CacheUnavailable(Exception):
    """The cache file cannot answer (locked past BUSY_SECONDS, disk full, damaged): the app answers 503, as it
    does for Redis unreachable outside its fallback."""


def _answers_or_unavailable(method: Callable[P, R]) -> Callable[P, R]:
    """A port method whose SQLite errors leave as CacheUnavailable, so nothing else's sqlite3 errors are taken
    for the cache's."""

    @functools.wraps(method)
    def answer(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as error:
            raise CacheUnavailable(f"cache file: {error}") from error

    return answer


class SqliteCache:
    name = "sqlite"

    def __init__(self, path: str, prefix: str = "", clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._prefix = prefix
        self._clock = clock
        self._local = threading.local()
        self._writer = threading.Lock()
        self._lock_file: tuple[int, int] | None = None  # (pid, fd)
        self._swept = clock()
        self._callbacks: list[Callable[[str | None], None]] = []

    # -- connections -------------------------------------------------------------------
    @contextmanager
    def _turn(self) -> Iterator[None]:
        """While no other writer of any process holds the turn."""
        with self._writer:
            if self._lock_file is None or self._lock_file[0] != os.getpid():
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._lock_file = (os.getpid(), os.open(f"{self.path}.writer", os.O_RDWR | os.O_CREAT, 0o600))
            fd = self._lock_file[1]
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection (a forked child opens its own: SQLite connections do not survive fork)."""
        local = self._local
        if getattr(local, "pid", None) == os.getpid():
            return local.conn
        # In turn: switching a new file to WAL fails at once, without waiting, while another process opens it.
        with self._turn():
            conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            # A cache: a power cut may lose the last writes, never the file (WAL keeps it consistent).
            conn.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                conn.execute(statement)
        local.conn, local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, while no other writer of any process holds the turn."""
        conn = self._connect()
        with self._turn():
            yield conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._writing() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _write(self, sql: str, **params: object) -> list[tuple]:
        """Run one writing statement; every fetched row, which also ends the statement and its lock."""
        now = self._clock()
        with self._writing() as conn:
            rows = conn.execute(sql, {"now": now, **params}).fetchall()
        if now - self._swept >= SWEEP_SECONDS:
            self._sweep(now)
        return rows

    def _read(self, sql: str, key: str, now: float) -> tuple | None:
        return self._connect().execute(sql, {"key": self._k(key), "now": now}).fetchone()

    def _sweep(self, now: float) -> None:
        self._swept = now
        with self._tx() as conn:
            conn.execute("DELETE FROM cache WHERE expires <= ?", (now,))
            conn.execute("DELETE FROM stamps WHERE expires <= ?", (now,))

    def _k(self, key: str) -> str:
        return self._prefix + key

    def _deadline(self, ttl: float | None) -> float | None:
        return None if ttl is None else self._clock() + ttl

    # -- the port ----------------------------------------------------------------------
    @_answers_or_unavailable
    def get(self, key: str) -> str | None:
        row = self._read(f"SELECT value FROM cache WHERE key = :key AND {_LIVE}", key, self._clock())
        return None if row is None else row[0]

    @_answers_or_unavailable
    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._write(_SET, key=self._k(key), value=value, deadline=self._deadline(ttl))

    @_answers_or_unavailable
    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        return bool(self._write(_ADD, key=self._k(key), value=value, deadline=self._deadline(ttl)))

    @_answers_or_unavailable
    def delete(self, key: str) -> None:
        self._write("DELETE FROM cache WHERE key = :key", key=self._k(key))

    @_answers_or_unavailable
    def incr(self, key: str, ttl: float) -> int:
        return int(self._write(_INCR, key=self._k(key), amount=1, deadline=self._deadline(ttl))[0][0])

    @_answers_or_unavailable
    def incr_many(self, counts: Mapping[str, int], ttl: float) -> dict[str, int]:
        now = self._clock()
        with self._tx() as conn:
            return {
                key: int(
                    conn.execute(
                        _INCR, {"key": self._k(key), "amount": amount, "now": now, "deadline": now + ttl}
                    ).fetchall()[0][0]
                )
                for key, amount in counts.items()
            }

    @_answers_or_unavailable
    def ttl(self, key: str) -> float | None:
        now = self._clock()
        row = self._read(f"SELECT expires FROM cache WHERE key = :key AND {_LIVE}", key, now)
        return None if row is None or row[0] is None else max(0.0, row[0] - now)

    @_answers_or_unavailable
    def ping(self) -> None:
        self._connect().execute("SELECT 1 FROM cache LIMIT 1").fetchall()

    @_answers_or_unavailable
    def clear_prefix(self, prefix: str) -> None:
        # Keys starting with the prefix sort between it and it followed by the highest code point.
        low = self._k(prefix)
        self._write("DELETE FROM cache WHERE key >= :low AND key < :high", low=low, high=low + "\U0010ffff")

    @_answers_or_unavailable
    def fill_token(self, key: str) -> str:
        row = self._read("SELECT stamp FROM stamps WHERE key = :key AND expires > :now", key, self._clock())
        return "0" if row is None else str(row[0])

    @_answers_or_unavailable
    def fill(self, key: str, value: str, ttl: float | None, token: str) -> bool:
        return bool(self._write(_FILL, key=self._k(key), value=value, deadline=self._deadline(ttl), token=int(token)))

    @_answers_or_unavailable
    def invalidate(self, key: str) -> None:
        now = self._clock()
        with self._tx() as conn:
            conn.execute(_BUMP, {"key": self._k(key), "now": now, "deadline": now + STAMP_SECONDS})
            conn.execute("DELETE FROM cache WHERE key = ?", (self._k(key),))
        for callback in list(self._callbacks):
            callback(key)

    def listen(self, callback: Callable[[str | None], None]) -> None:
        self._callbacks.append(callback)

    # Shared values, but no channel between processes: what other processes invalidate is not heard here.
    listening = False
