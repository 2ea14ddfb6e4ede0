"""Officer changes heard by every worker without Redis: each worker polls the database for them.

Without Redis the copies of officer snapshots are kept in the cache file of one host, and nothing tells
it when another host (or a change outside the app) suspends an officer. Left at that, a copy may live
only a second, and any scan of an officer not scanned in the last second reads the database.
:class:`OfficerChanges` asks the database every quarter second which officers changed lately
(``updated_at``, indexed, is set by every change) and invalidates their copies in the cache; while its
polls succeed, copies live ``NEAR_SECONDS`` (``OfficerChanges.copy_seconds``).

Commit order is not ``updated_at`` order (the time is taken before the transaction commits, and hosts'
clocks differ a little), so each poll looks back ``LOOKBACK`` before the previous one began; an officer
is invalidated once per ``updated_at`` it is seen with. A change is heard within a poll of its commit
unless its transaction took longer than the look-back to commit. A failed poll (database unreachable)
drops every copy, and copies live a second until a poll succeeds again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from sqlalchemy import select

from backend.agencies.models import Agency
from backend.extensions import cache, clock
from backend.extensions.database import reading

from .models import Officer
from .services import CACHE_PREFIX, NEAR_SECONDS, _cache_key

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
LOOKBACK = dt.timedelta(seconds=10)
UNHEARD_SECONDS = 1.0


class OfficerChanges:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._heard_at = float("-inf")  # when the last poll succeeded (monotonic)
        self._pid = 0
        self._lock = threading.Lock()
        self._since: dt.datetime | None = None
        self._seen: dict[str, dt.datetime] = {}  # key -> the updated_at it was last invalidated for
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def healthy(self) -> bool:
        """Whether changes are being heard: the last poll succeeded, and not long ago."""
        return time.monotonic() - self._heard_at < UNHEARD_SECONDS

    @property
    def copy_seconds(self) -> float:
        """How long a copy may live now: long while changes are heard, a second otherwise."""
        return NEAR_SECONDS if self.healthy else UNHEARD_SECONDS

    def ensure_started(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._heard_at, self._since, self._seen = float("-inf"), None, {}
                self._thread = threading.Thread(target=self._run, name="officer-changes", daemon=True)
                self._thread.start()
                self._pid = os.getpid()

    def stop(self) -> None:
        """Stop polling (copies then live a second); for an app being shut down."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._heard_at = float("-inf")

    def poll(self) -> int:
        """One poll (call inside an app context): invalidate what changed; how many were invalidated."""
        started = clock.now()
        since = (self._since or started) - LOOKBACK
        # A connection of its own, not the app context's session: this runs beside requests, in a thread.
        with reading(), self.app.extensions["database"].engine.connect() as connection:
            rows = connection.execute(
                select(Agency.code, Officer.badge_no, Officer.updated_at)
                .join(Officer.agency)
                .where(Officer.updated_at >= since)
            ).all()
        invalidated = 0
        for code, badge_no, updated_at in rows:
            key = _cache_key(code, badge_no)
            if self._seen.get(key) != updated_at:
                cache.invalidate(key)
                self._seen[key] = updated_at
                invalidated += 1
        self._seen = {key: at for key, at in self._seen.items() if at >= since}
        self._since = started
        return invalidated

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                with self.app.app_context():
                    self.poll()
                self._heard_at = time.monotonic()
            except Exception:
                if self._heard_at == float("-inf"):
                    continue  # already dropped: what is cached since lives a second
                log.exception("officer changes cannot be read; cached officers now live %ss", UNHEARD_SECONDS)
                self._heard_at = float("-inf")
                with self.app.app_context():
                    cache.clear_prefix(CACHE_PREFIX)
