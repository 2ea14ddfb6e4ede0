"""Officer snapshots: what a scan shows of an officer, kept where every worker reads it fast, and dropped
everywhere within a second of any change (a suspension must reach every citizen at once).

The port is :class:`OfficerSnapshots` (``get``, ``forget``). ``create_app`` picks one adapter the way it
picks the cache (``make_officer_snapshots``):

- :class:`NearCopies` with Redis: the snapshot lives in Redis, and each worker also keeps what it read
  there (a scan then costs no round trip) until any worker invalidates that officer: Redis publishes the
  invalidation and the worker's listener drops the copy.
- :class:`PolledChanges` without Redis: the snapshot lives in the cache file every worker on the host
  shares, and each worker polls the database for officers changed elsewhere (another host, or a change
  outside the app), invalidating their copies.

Both fill the cache the same way (:class:`CachedSnapshots`): cache-aside, where a change committed while
a snapshot was read cancels the fill. tests/contract/test_officer_snapshots_contract.py runs both
adapters through the same tests.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from backend.agencies.models import Agency
from backend.extensions import cache, clock, db
from backend.extensions.database import reading
from backend.metrics import SNAPSHOT_LOOKUPS

from . import tokens
from .models import Officer

if TYPE_CHECKING:
    from flask import Flask

    from backend.extensions.cache import CacheAdapter

log = logging.getLogger(__name__)

Snapshot = dict[str, Any]


class OfficerSnapshots(Protocol):
    def get(self, agency_code: str, badge_no: str) -> Snapshot | None:
        """What a scan shows of the officer now; None when there is no such officer."""

    def forget(self, agency_code: str, badge_no: str) -> None:
        """Drop every copy of the officer's snapshot, in every worker (call after the change has committed)."""

    def stop(self) -> None:
        """Stop what runs beside requests; for an app being shut down."""


def make_officer_snapshots(app: Flask) -> OfficerSnapshots:
    """Near copies kept fresh by Redis's invalidations when ``REDIS_URL`` is set, else the cache file kept
    fresh by polling the database (as ``make_cache`` picks Redis or the file)."""
    return NearCopies(cache) if app.config["REDIS_URL"] else PolledChanges(app, cache)


CACHE_PREFIX = "officer:"


def cache_key(agency_code: str, badge_no: str) -> str:
    return f"{CACHE_PREFIX}{agency_code}/{badge_no}"


def load_snapshot(agency_code: str, badge_no: str) -> Snapshot:
    """What a scan shows of the officer, as stored now ({} when there is no such officer); the columns
    alone, not an ORM object (without Redis, once a second per officer scanned while no poll succeeds)."""
    row = db.session.execute(
        select(
            Officer.name,
            Officer.badge_no,
            Agency.code,
            Agency.name.label("agency_name"),
            Agency.phone,
            Agency.complaint_phone,
            Officer.domains,
            Officer.regions,
            Officer.valid_from,
            Officer.valid_until,
            Officer.status,
            Officer.photo_sha256,
        )
        .join(Officer.agency)
        .where(Agency.code == agency_code, Officer.badge_no == badge_no)
    ).first()
    snapshot = (
        {}
        if row is None
        else {
            "name": row.name,
            "badge_no": row.badge_no,
            # The numbers every verdict shows to call. Only officers' changes invalidate a snapshot, so an
            # agency's new number reaches scans within a snapshot's lifetime (minutes), not at once.
            "agency": {
                "code": row.code,
                "name": row.agency_name,
                "phone": row.phone,
                "complaint_phone": row.complaint_phone,
            },
            "domains": row.domains,
            "regions": row.regions,
            "valid_from": row.valid_from.isoformat() if row.valid_from else None,
            "valid_until": row.valid_until.isoformat() if row.valid_until else None,
            "status": row.status,
            "photo": row.photo_sha256,
        }
    )
    db.session.rollback()
    return snapshot


@lru_cache(maxsize=tokens.MEMO_ENTRIES)
def parsed_snapshot(text: str) -> Snapshot | None:
    """A cached snapshot's JSON, parsed once: the same text (the cache hands back equal text until the
    officer changes) gives the same dict, which callers only read. As many as badges remembered."""
    return json.loads(text) or None


class CachedSnapshots:
    """Snapshots in the shared cache, read from the database on a miss (cache-aside). ``load`` reads the
    database (a test may stand in for it); ``fill_seconds`` is how long a filled snapshot lives."""

    fill_seconds: float

    def __init__(self, store: CacheAdapter, load: Callable[[str, str], Snapshot] = load_snapshot) -> None:
        self.store = store
        self.load = load

    def stored(self, key: str, agency_code: str, badge_no: str) -> tuple[Snapshot | None, bool]:
        """The officer's snapshot from the cache, else from the database into the cache, and whether it
        may be kept: False when the officer changed while it was read.

        Then the fill is cancelled (``forget`` invalidates after the change commits): a suspension that
        lands between the read and the fill would otherwise be undone for the cached copy's whole lifetime.
        The scan itself still gets what it read, as it would had it come a moment earlier.
        """
        cached = self.store.get(key)
        if cached is not None:
            SNAPSHOT_LOOKUPS.labels("hit").inc()
            return parsed_snapshot(cached), True
        SNAPSHOT_LOOKUPS.labels("miss").inc()
        token = self.store.fill_token(key)
        snapshot = self.load(agency_code, badge_no)
        current = self.store.fill(key, json.dumps(snapshot, ensure_ascii=False), self.fill_seconds, token)
        return snapshot or None, current


# A snapshot lives this long in Redis: its invalidation, published to every worker, ends it earlier.
SHARED_SECONDS = 300.0
# A worker's near copy lives NEAR_SECONDS at most while its listener is subscribed, RECENT_SECONDS while it
# is not (starting, or Redis unreachable): either way every worker sees a status change within a second.
NEAR_SECONDS = 60.0
RECENT_SECONDS = 0.5
RECENT_MAX = 16_384


class NearCopies(CachedSnapshots):
    """Snapshots in Redis, and each worker's copies of what it read there; ``generation`` counts the
    invalidations this worker heard."""

    fill_seconds = SHARED_SECONDS

    def __init__(self, store: CacheAdapter, load: Callable[[str, str], Snapshot] = load_snapshot) -> None:
        super().__init__(store, load)
        self.items: dict[str, tuple[float, Snapshot | None]] = {}
        self.generation = 0
        self._pid = 0
        self._lock = threading.Lock()

    def get(self, agency_code: str, badge_no: str) -> Snapshot | None:
        if self._pid != os.getpid():
            self._listen()
        key, now = cache_key(agency_code, badge_no), time.monotonic()
        kept = self.items.get(key)
        if kept is not None and kept[0] > now:
            SNAPSHOT_LOOKUPS.labels("hit").inc()
            return kept[1]
        generation = self.generation
        snapshot, current = self.stored(key, agency_code, badge_no)
        if current:
            self.keep(key, snapshot, now, generation)
        return snapshot

    def forget(self, agency_code: str, badge_no: str) -> None:
        key = cache_key(agency_code, badge_no)
        self.items.pop(key, None)
        self.store.invalidate(key)

    def stop(self) -> None:
        """Nothing of its own runs: the listener is the cache's."""

    def _listen(self) -> None:
        """Subscribe once per process (a forked worker starts with no listener and none of its parent's
        copies)."""
        with self._lock:
            if self._pid != os.getpid():
                self.items.clear()
                self.store.listen(self.dropped)
                self._pid = os.getpid()

    def dropped(self, key: str | None) -> None:  # the listener's thread
        self.generation += 1
        if key is None:
            self.items.clear()
        else:
            self.items.pop(key, None)

    def keep(self, key: str, snapshot: Snapshot | None, now: float, generation: int) -> None:
        """Keep what was read, unless an invalidation was heard since ``generation`` (before the read)."""
        if len(self.items) >= RECENT_MAX:
            self.items.clear()
        lifetime = NEAR_SECONDS if self.store.listening else RECENT_SECONDS
        self.items[key] = (now + lifetime, snapshot)
        if self.generation != generation:  # heard meanwhile: the copy may predate it
            self.items.pop(key, None)


POLL_SECONDS = 0.25
LOOKBACK = dt.timedelta(seconds=10)
UNHEARD_SECONDS = 1.0


class PolledChanges(CachedSnapshots):
    """Snapshots in the cache file, kept fresh by each worker polling the database for officer changes.

    Without Redis nothing tells the cache file of one host when another host (or a change outside the
    app) suspends an officer. Left at that, a copy may live only a second, and any scan of an officer not
    scanned in the last second reads the database. Each worker asks the database every quarter second
    which officers changed lately (``updated_at``, indexed, is set by every change) and invalidates their
    copies in the cache; while its polls succeed, copies live ``NEAR_SECONDS`` (``fill_seconds``).

    Commit order is not ``updated_at`` order (the time is taken before the transaction commits, and hosts'
    clocks differ a little), so each poll looks back ``LOOKBACK`` before the previous one began; an officer
    is invalidated once per ``updated_at`` it is seen with. A change is heard within a poll of its commit
    unless its transaction took longer than the look-back to commit. A failed poll (database unreachable)
    drops every copy, and copies live a second until a poll succeeds again.
    """

    def __init__(self, app: Flask, store: CacheAdapter, load: Callable[[str, str], Snapshot] = load_snapshot) -> None:
        super().__init__(store, load)
        self.app = app
        self._heard_at = float("-inf")  # when the last poll succeeded (monotonic)
        self._pid = 0
        self._lock = threading.Lock()
        self._since: dt.datetime | None = None
        self._seen: dict[str, dt.datetime] = {}  # key -> the updated_at it was last invalidated for
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def get(self, agency_code: str, badge_no: str) -> Snapshot | None:
        self.ensure_started()
        return self.stored(cache_key(agency_code, badge_no), agency_code, badge_no)[0]

    def forget(self, agency_code: str, badge_no: str) -> None:
        self.store.invalidate(cache_key(agency_code, badge_no))

    @property
    def healthy(self) -> bool:
        """Whether changes are being heard: the last poll succeeded, and not long ago."""
        return time.monotonic() - self._heard_at < UNHEARD_SECONDS

    @property
    def fill_seconds(self) -> float:
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
            key = cache_key(code, badge_no)
            if self._seen.get(key) != updated_at:
                self.store.invalidate(key)
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
                    self.store.clear_prefix(CACHE_PREFIX)
