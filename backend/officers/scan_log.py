"""The scan log for supervision, written off the request path.

Verification is the hottest endpoint (every citizen scan), so scans are buffered in memory and
written in batches by a background thread every second; ``flush()`` writes at once (tests, exit).
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any

from flask import Flask

from backend.extensions import db
from backend.extensions.database import insert_rows

from .models import BadgeScan

log = logging.getLogger(__name__)

# While the database is down scans wait in memory; past this many a worker drops the oldest (counted and
# logged) instead of growing without bound: about 200 bytes a scan, some 40 MB at most.
MAX_PENDING = 200_000


class ScanLog:
    def __init__(self, app: Flask, interval: float) -> None:
        """``interval`` seconds between background writes; 0 means only ``flush()`` writes."""
        self.app = app
        self.interval = interval
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self._failing = False

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(entry)
            if len(self._pending) > MAX_PENDING + MAX_PENDING // 10:  # trimmed in bulk, not once a scan
                self._trim()
            if self._thread is None and self.interval > 0:
                self._thread = threading.Thread(target=self._run, name="scan-log", daemon=True)
                self._thread.start()
                atexit.register(self.flush)

    def flush(self) -> int:
        # One writer at a time, for the whole write: the flush at exit waits for the background
        # thread's write in progress instead of finding the list empty while that write is cut off.
        with self._writing:
            return self._write()

    def _write(self) -> int:
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        try:
            with self.app.app_context():
                insert_rows(db.session.connection(), BadgeScan.__table__, batch)
                db.session.commit()
        except Exception:
            if not self._failing:  # once an outage, not once a second
                log.exception("could not write %d badge scans; keeping them for the next try", len(batch))
            self._failing = True
            with self._lock:
                self._pending[:0] = batch
                self._trim()
            return 0
        if self._failing:
            log.warning("badge scans written again (%d dropped meanwhile)", self.dropped)
        self._failing = False
        return len(batch)

    def _trim(self) -> None:
        """Drop the oldest scans past MAX_PENDING; call with the lock held."""
        excess = len(self._pending) - MAX_PENDING
        if excess > 0:
            del self._pending[:excess]
            self.dropped += excess
            log.warning("%d badge scans waiting: dropped the oldest %d (%d in all)", MAX_PENDING, excess, self.dropped)

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(self.interval):
            self.flush()
