"""A rate limit for the hottest request, badge scans: shared by every worker, counted in batches.

Counting each scan in the shared cache costs a write per scan; on the SQLite file that took a third of the
verify throughput (``bench/verify.py --rate-limit``). Here each worker counts scans in memory and adds what
it counted to the shared counters at most every ``fold_seconds``, every address in one call
(``incr_many``: one transaction on the file, one pipeline on Redis). A scan is refused when the shared
count, as of this worker's last fold, plus what the worker counted since is over the limit. The limit is
thus shared but approximate: on top of it an address may get what the other workers allowed it since
their last folds (a tenth of a second of its scans on each). Exact limits (failed secrets, complaints)
count through ``cache.hit`` instead.

When the cache cannot be reached, the counts stay in the worker and are folded in once it answers:
scans go on, limited by what this worker saw.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .cache import CacheAdapter

log = logging.getLogger(__name__)

FOLD_SECONDS = 0.1


class BatchedLimiter:
    def __init__(
        self,
        bucket: str,
        window: float,
        fold_seconds: float = FOLD_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bucket = bucket
        self.window = window
        self.fold_seconds = fold_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, int] = {}  # counter -> hits not yet added to the shared counter
        self._known: dict[str, tuple[int, float]] = {}  # counter -> (shared count at the last fold, window end)
        self._folded_at = float("-inf")
        self._failing = False

    def hit(self, adapter: CacheAdapter, key: str, limit: int) -> float | None:
        """Count one event; return the seconds to wait if the limit is now exceeded, else None."""
        counter = f"rate:{self.bucket}:{key}"
        now = self._clock()
        with self._lock:
            shared, ends = self._known.get(counter, (0, now))
            if ends <= now:  # a new window (in this worker's reckoning)
                shared, ends = 0, now + self.window
                self._known[counter] = (shared, ends)
            pending = self._pending[counter] = self._pending.get(counter, 0) + 1
            batch = None
            if now - self._folded_at >= self.fold_seconds:
                batch, self._pending, self._folded_at = self._pending, {}, now
        if batch:
            shared = self._fold(adapter, batch, now).get(counter, shared + pending) - pending
        if shared + pending <= limit:
            return None
        try:  # the shared counter's window, which the first fold of any worker started
            return adapter.ttl(counter) or ends - now
        except Exception:
            return ends - now

    def _fold(self, adapter: CacheAdapter, batch: dict[str, int], now: float) -> dict[str, int]:
        """Add ``batch`` to the shared counters; the totals (empty when the cache cannot be reached)."""
        try:
            totals = adapter.incr_many(batch, self.window)
        except Exception:
            if not self._failing:
                log.warning("rate counts cannot reach the cache; counting in this worker until it answers")
            self._failing = True
            with self._lock:
                for counter, count in batch.items():
                    self._pending[counter] = self._pending.get(counter, 0) + count
            return {}
        self._failing = False
        with self._lock:
            self._known = {counter: known for counter, known in self._known.items() if known[1] > now}
            for counter, total in totals.items():
                self._known[counter] = (total, self._known.get(counter, (0, now + self.window))[1])
        return totals
