"""Redis that degrades instead of failing: while it cannot be reached, this process's own memory answers.

A badge check, a complaint or a token request must not fail because a cache is down. :class:`ResilientCache`
wraps the Redis adapter; the first ``ConnectionError``/``TimeoutError`` opens a circuit: from then on every
call goes straight to an in-process :class:`~backend.extensions.cache.MemoryCache` (no request waits on a
socket timeout), and one background thread pings Redis every ``PROBE_SECONDS`` until it answers. The outage
is logged once when it starts and once when it ends, never per request.

While the circuit is open:

- rate limits, failure counts, dedupe and job locks are counted per process (what the default without Redis
  does for good);
- values of record cached through ``fill`` live at most ``FALLBACK_FILL_SECONDS``, because other processes'
  invalidations cannot reach this one (``listening`` is False, so near copies live briefly too): a status
  change made by another worker is seen within that time, the database being read instead;
- keys invalidated here are remembered, and replayed to Redis when it returns, before this process reads
  from it again: the copies Redis kept from before the outage (officer snapshots live 300 s there) are
  deleted, fills begun before the outage are cancelled, and every worker's listener hears of them. The
  database stays the truth; a worker that changed nothing has nothing to replay.

Fill tokens say which store they came from: a fill started on one store is never stored in the other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import redis

if TYPE_CHECKING:
    from .cache import CacheAdapter

log = logging.getLogger(__name__)

# How often Redis is tried again while it is unreachable (the circuit's half-open probe).
PROBE_SECONDS = 0.5
# How long a value of record filled while Redis is unreachable is kept in this process.
FALLBACK_FILL_SECONDS = 1.0
# Fill tokens of the fallback store start with this (Redis's are integers).
_FALLBACK_TOKEN = "m:"

# ReadOnlyError: a replica being promoted during a failover answers writes with it.
UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ReadOnlyError)


class ResilientCache:
    """The cache port over ``primary`` (Redis), answering from ``fallback`` (memory) while Redis is down."""

    name = "redis"

    def __init__(self, primary: CacheAdapter, fallback: CacheAdapter, probe_seconds: float = PROBE_SECONDS) -> None:
        self.primary = primary
        self.fallback = fallback
        self.probe_seconds = probe_seconds
        self._lock = threading.Lock()
        self._down_since: float | None = None  # monotonic; None while Redis answers
        self._replay: set[str] = set()  # keys invalidated while Redis was unreachable
        self._prober: threading.Thread | None = None

    @property
    def degraded(self) -> bool:
        """True while Redis is considered unreachable and this process's memory answers."""
        return self._down_since is not None

    def _unreachable(self, error: Exception) -> None:
        with self._lock:
            if self._down_since is None:
                self._down_since = time.monotonic()
                log.warning(
                    "Redis unreachable (%s): the cache answers from this process's memory, rate limits are "
                    "per process; trying Redis every %ss",
                    error,
                    self.probe_seconds,
                )
            if self._prober is None or not self._prober.is_alive():
                self._prober = threading.Thread(target=self._probe, name="redis-probe", daemon=True)
                self._prober.start()

    def _probe(self) -> None:
        while self._down_since is not None:
            time.sleep(self.probe_seconds)
            try:
                self.primary.ping()
                with self._lock:
                    replay, self._replay = self._replay, set()
                try:
                    for key in replay:
                        self.primary.invalidate(key)
                except redis.exceptions.RedisError:
                    with self._lock:
                        self._replay |= replay
                    continue
            # Any Redis error, not only the unreachable kinds: something that is not Redis yet may answer on its
            # port (a protocol error), and a probe that died there would leave this process degraded for good.
            except redis.exceptions.RedisError:
                continue
            with self._lock:
                if self._replay:  # invalidated meanwhile: replay those on the next round
                    continue
                down_for = time.monotonic() - (self._down_since or time.monotonic())
                self._down_since = None
                self.fallback.clear_prefix("")  # counts kept meanwhile must not come back at the next outage
            log.warning("Redis reachable again after %.1fs; %d invalidations replayed", down_for, len(replay))

    def _call(self, method: str, *args: Any) -> Any:
        if self._down_since is None:
            try:
                return getattr(self.primary, method)(*args)
            except UNREACHABLE as error:
                self._unreachable(error)
        return getattr(self.fallback, method)(*args)

    def get(self, key: str) -> str | None:
        return self._call("get", key)

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._call("set", key, value, ttl)

    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        return self._call("add", key, value, ttl)

    def delete(self, key: str) -> None:
        self._call("delete", key)

    def incr(self, key: str, ttl: float) -> int:
        return self._call("incr", key, ttl)

    def incr_many(self, counts: Mapping[str, int], ttl: float) -> dict[str, int]:
        return self._call("incr_many", counts, ttl)

    def ttl(self, key: str) -> float | None:
        return self._call("ttl", key)

    def ping(self) -> None:
        """Redis itself: readiness reports the outage even though requests are answered."""
        self.primary.ping()

    def clear_prefix(self, prefix: str) -> None:
        self._call("clear_prefix", prefix)
        self.fallback.clear_prefix(prefix)

    def fill_token(self, key: str) -> str:
        if self._down_since is None:
            try:
                return self.primary.fill_token(key)
            except UNREACHABLE as error:
                self._unreachable(error)
        return _FALLBACK_TOKEN + self.fallback.fill_token(key)

    def fill(self, key: str, value: str, ttl: float | None, token: str) -> bool:
        from_fallback = token.startswith(_FALLBACK_TOKEN)
        if self._down_since is None and not from_fallback:
            try:
                return self.primary.fill(key, value, ttl, token)
            except UNREACHABLE as error:
                self._unreachable(error)
                return False
        if self._down_since is None or not from_fallback:
            return False  # started on the other store: its invalidations were not checked
        lifetime = FALLBACK_FILL_SECONDS if ttl is None else min(ttl, FALLBACK_FILL_SECONDS)
        return self.fallback.fill(key, value, lifetime, token.removeprefix(_FALLBACK_TOKEN))

    def invalidate(self, key: str) -> None:
        if self._down_since is None:
            try:
                self.primary.invalidate(key)
                return
            except UNREACHABLE as error:
                self._unreachable(error)
        with self._lock:  # the probe may have found Redis back meanwhile: then it is told directly
            down = self._down_since is not None
            if down:
                self._replay.add(key)
        if down:
            self.fallback.invalidate(key)
        else:
            self.invalidate(key)

    def listen(self, callback: Callable[[str | None], None]) -> None:
        self.primary.listen(callback)
        self.fallback.listen(callback)

    @property
    def listening(self) -> bool:
        return self._down_since is None and self.primary.listening
