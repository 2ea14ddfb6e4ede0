"""The cache port: key/value with expiry, atomic counters, set-if-absent, cache-aside fills that an
invalidation made meanwhile cancels, and invalidations heard by every process (for near copies).

Redis when ``REDIS_URL`` is set, else a SQLite file every worker on the host opens (``CACHE_PATH``,
``sqlite_cache.py``): either way shared by every worker. The in-process store serves tests. Every adapter
answers the contract suite in ``tests/contract/test_cache_contract.py``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import redis
from flask import Flask, current_app

from backend.errors import RateLimited

from .resilient_cache import ResilientCache
from .sqlite_cache import SqliteCache


class CacheAdapter(Protocol):
    name: str

    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str, ttl: float | None = None) -> None: ...
    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Set only if absent; True when this call set it."""

    def delete(self, key: str) -> None: ...
    def incr(self, key: str, ttl: float) -> int:
        """Add one; the expiry starts with the first increment of a window."""

    def incr_many(self, counts: Mapping[str, int], ttl: float) -> dict[str, int]:
        """Add each count to its key at once, as ``incr`` adds one; the totals."""

    def ttl(self, key: str) -> float | None: ...
    def ping(self) -> None:
        """Raise when the store cannot be reached."""

    def clear_prefix(self, prefix: str) -> None: ...

    def fill_token(self, key: str) -> str:
        """Read before loading a value from the system of record, to hand to ``fill``."""

    def fill(self, key: str, value: str, ttl: float | None, token: str) -> bool:
        """Store a value loaded after ``fill_token``, unless ``invalidate(key)`` ran since: then the value
        may predate the change that invalidated it, and storing it would bring that change back for the
        value's whole lifetime. True when stored."""

    def invalidate(self, key: str) -> None:
        """Delete the value and cancel every fill of it in flight (call after the change has committed)."""

    def listen(self, callback: Callable[[str | None], None]) -> None:
        """Call ``callback(key)`` for every key invalidated through this store, from this process and (where
        the store is shared) from every other, and ``callback(None)`` whenever some may have been missed."""

    @property
    def listening(self) -> bool:
        """Whether invalidations made by other processes reach this one right now (near copies may then
        live long; otherwise only briefly)."""


# How long a key's invalidation stamp outlives its last invalidation: far longer than any fill takes.
STAMP_TTL = 86_400.0


# The channel invalidated keys are published on (under the adapter's prefix).
INVALIDATIONS = "cache-invalidations"


def _stamp_key(key: str) -> str:
    return f"{key}#stamp"


class MemoryCache:
    name = "memory"

    def __init__(self, clock=time.monotonic) -> None:
        self._items: dict[str, tuple[str, float | None]] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._callbacks: list[Callable[[str | None], None]] = []

    def _live(self, key: str) -> tuple[str, float | None] | None:
        item = self._items.get(key)
        if item is not None and item[1] is not None and item[1] <= self._clock():
            del self._items[key]
            return None
        return item

    def _expiry(self, ttl: float | None) -> float | None:
        return None if ttl is None else self._clock() + ttl

    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._live(key)
            return None if item is None else item[0]

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        with self._lock:
            self._items[key] = (value, self._expiry(ttl))

    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._items[key] = (value, self._expiry(ttl))
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def incr(self, key: str, ttl: float) -> int:
        with self._lock:
            item = self._live(key)
            if item is None:
                self._items[key] = ("1", self._expiry(ttl))
                return 1
            count = int(item[0]) + 1
            self._items[key] = (str(count), item[1])
            return count

    def incr_many(self, counts: Mapping[str, int], ttl: float) -> dict[str, int]:
        totals = {}
        with self._lock:
            for key, amount in counts.items():
                item = self._live(key)
                total, expiry = (amount, self._expiry(ttl)) if item is None else (int(item[0]) + amount, item[1])
                self._items[key] = (str(total), expiry)
                totals[key] = total
        return totals

    def ttl(self, key: str) -> float | None:
        with self._lock:
            item = self._live(key)
            if item is None or item[1] is None:
                return None
            return max(0.0, item[1] - self._clock())

    def ping(self) -> None:
        return None

    def clear_prefix(self, prefix: str) -> None:
        with self._lock:
            for key in [k for k in self._items if k.startswith(prefix)]:
                del self._items[key]

    def _stamp(self, key: str) -> str:
        """The key's invalidation stamp ("0" before the first); call with the lock held."""
        stamp = self._live(_stamp_key(key))
        return "0" if stamp is None else stamp[0]

    def fill_token(self, key: str) -> str:
        with self._lock:
            return self._stamp(key)

    def fill(self, key: str, value: str, ttl: float | None, token: str) -> bool:
        with self._lock:
            if self._stamp(key) != token:
                return False
            self._items[key] = (value, self._expiry(ttl))
            return True

    def invalidate(self, key: str) -> None:
        with self._lock:
            self._items[_stamp_key(key)] = (str(int(self._stamp(key)) + 1), self._expiry(STAMP_TTL))
            self._items.pop(key, None)
        for callback in list(self._callbacks):
            callback(key)

    def listen(self, callback: Callable[[str | None], None]) -> None:
        self._callbacks.append(callback)

    # The store is this process's own: what other processes invalidate never reaches it.
    listening = False


class RedisCache:
    name = "redis"

    # KEYS: value, stamp; ARGV: value, token, milliseconds to live (0: none). Compare and set in one step.
    _FILL = """
    if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then return 0 end
    if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
    else redis.call('SET', KEYS[1], ARGV[1]) end
    return 1
    """

    def __init__(self, url: str, prefix: str = "") -> None:
        self._redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)
        # The listener's own connection: no read timeout (it waits for messages), pinged to notice a dead peer.
        self._listen_pool = redis.ConnectionPool.from_url(
            url, decode_responses=True, socket_connect_timeout=2, health_check_interval=5
        )
        self._prefix = prefix
        self._fill = self._redis.register_script(self._FILL)
        self._listener: threading.Thread | None = None
        self._listener_pid = 0
        self._listening = False
        self._callbacks: list[Callable[[str | None], None]] = []

    @property
    def client(self) -> redis.Redis:
        return self._redis

    def _k(self, key: str) -> str:
        return self._prefix + key

    def get(self, key: str) -> str | None:
        return self._redis.get(self._k(key))

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._redis.set(self._k(key), value, px=None if ttl is None else int(ttl * 1000))

    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        return bool(self._redis.set(self._k(key), value, nx=True, px=None if ttl is None else int(ttl * 1000)))

    def delete(self, key: str) -> None:
        self._redis.delete(self._k(key))

    def incr(self, key: str, ttl: float) -> int:
        pipe = self._redis.pipeline()
        pipe.incr(self._k(key))
        # NX: only the first increment of a window sets the expiry.
        pipe.pexpire(self._k(key), int(ttl * 1000), nx=True)
        count, _ = pipe.execute()
        return int(count)

    def incr_many(self, counts: Mapping[str, int], ttl: float) -> dict[str, int]:
        pipe = self._redis.pipeline()
        for key, amount in counts.items():
            pipe.incrby(self._k(key), amount)
            pipe.pexpire(self._k(key), int(ttl * 1000), nx=True)
        results = pipe.execute()
        return {key: int(results[2 * n]) for n, key in enumerate(counts)}

    def ttl(self, key: str) -> float | None:
        millis = self._redis.pttl(self._k(key))
        return None if millis < 0 else millis / 1000

    def ping(self) -> None:
        self._redis.ping()

    def clear_prefix(self, prefix: str) -> None:
        for key in self._redis.scan_iter(match=self._k(prefix) + "*", count=500):
            self._redis.delete(key)

    def fill_token(self, key: str) -> str:
        return self._redis.get(self._k(_stamp_key(key))) or "0"

    def fill(self, key: str, value: str, ttl: float | None, token: str) -> bool:
        millis = 0 if ttl is None else max(1, int(ttl * 1000))
        return bool(self._fill(keys=[self._k(key), self._k(_stamp_key(key))], args=[value, token, millis]))

    def invalidate(self, key: str) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.incr(self._k(_stamp_key(key)))
        pipe.pexpire(self._k(_stamp_key(key)), int(STAMP_TTL * 1000))
        pipe.delete(self._k(key))
        pipe.publish(self._k(INVALIDATIONS), key)
        pipe.execute()

    def listen(self, callback: Callable[[str | None], None]) -> None:
        """Invalidations are published on a channel; a thread of this process subscribes to it and calls
        ``callback`` (``None`` on subscribing and after a lost connection: some may have been missed)."""
        if self._listener is not None and self._listener.is_alive() and self._listener_pid == os.getpid():
            self._callbacks.append(callback)
            return
        self._callbacks = [callback]
        self._listening = False
        self._listener_pid = os.getpid()
        self._listener = threading.Thread(target=self._listen, name="cache-invalidations", daemon=True)
        self._listener.start()

    @property
    def listening(self) -> bool:
        return self._listening and self._listener_pid == os.getpid()

    def _tell(self, key: str | None) -> None:
        for callback in list(self._callbacks):
            callback(key)

    def _listen(self) -> None:
        channel, backoff = self._k(INVALIDATIONS), 0.1
        while True:
            pubsub = None
            try:
                pubsub = redis.Redis(connection_pool=self._listen_pool).pubsub()
                pubsub.subscribe(channel)
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._listening, backoff = True, 0.1
                        self._tell(None)  # whatever was published before now was not heard
                    elif message["type"] == "message":
                        self._tell(message["data"])
            except Exception:  # Redis gone or restarting: stop trusting copies, and retry
                self._listening = False
                self._tell(None)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        pubsub.close()


def make_cache(url: str | None, path: str, prefix: str = "") -> CacheAdapter:
    """Redis when ``url`` is given, degrading to this process's memory while it cannot be reached
    (resilient_cache.py); else the SQLite file at ``path`` that every worker on this host opens."""
    return ResilientCache(RedisCache(url, prefix), MemoryCache()) if url else SqliteCache(path, prefix)


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` events per ``window`` seconds for one key."""

    limit: int
    window: float


class Cache:
    def init_app(self, app: Flask) -> None:
        config = app.config
        app.extensions["cache"] = make_cache(
            config["REDIS_URL"], config["CACHE_PATH"], config.get("CACHE_KEY_PREFIX", "")
        )

    @property
    def adapter(self) -> CacheAdapter:
        return current_app.extensions["cache"]

    def __getattr__(self, name: str):
        return getattr(self.adapter, name)

    def hit(self, bucket: str, key: str, rule: RateLimit) -> float | None:
        """Count one event; return the seconds to wait if the limit is now exceeded, else None."""
        counter = f"rate:{bucket}:{key}"
        if self.adapter.incr(counter, rule.window) <= rule.limit:
            return None
        return self.adapter.ttl(counter) or rule.window

    def enforce(self, bucket: str, key: str, limit: int, window: float) -> None:
        """Count one event and refuse it (429, with Retry-After) past ``limit`` per ``window``; 0: no limit."""
        if limit:
            wait = self.hit(bucket, key, RateLimit(limit, window))
            if wait is not None:
                raise RateLimited(wait)


cache = Cache()
