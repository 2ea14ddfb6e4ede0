"""Periodic jobs in a background thread of each web worker (``make run``), or in a process of their own
(``flask scheduler run``, with SCHEDULER_THREAD=0 in the web workers, as deploy/docker-compose.yml runs them);
cron can run the same jobs through their CLI commands instead. A lock in the shared cache (Redis, or the
SQLite file every worker opens) lets one worker run each job once per period: taken with ``add`` while the job runs (for
a crashed worker, it expires), then left for the rest of the period, or dropped when the run took longer.
Every job is idempotent all the same."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from flask import Flask, current_app
from flask.cli import AppGroup

from backend.complaints.notify import deliver_pending
from backend.complaints.services import erase_expired_contacts, escalate_overdue
from backend.disclosures.lifecycle import expire_due
from backend.exchange.push import deliver_due
from backend.extensions import cache
from backend.extensions.foreground import run_in_foreground
from backend.metrics import JOB_FAILURES, JOB_RUNS
from backend.supervision.annual import publish_due
from backend.supervision.counts import compact
from backend.supervision.negative_list import Thresholds, refresh
from backend.transparency.audit_digest import anchor_due

log = logging.getLogger(__name__)

# How long a run may hold its job's lock before another worker may start the job: far longer than a job
# takes, short enough that a worker dying mid-run stops the job only for a while.
RUNNING_SECONDS = 900.0


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[], object]


class Scheduler:
    def __init__(self, app: Flask, jobs: list[Job]) -> None:
        self.app = app
        self.jobs = jobs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop after the job under way, waiting for it up to ``timeout`` seconds (its lock expires otherwise)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_due(self, last_run: dict[str, float]) -> None:
        now = time.monotonic()
        for job in self.jobs:
            if now - last_run.get(job.name, float("-inf")) < job.every_seconds:
                continue
            last_run[job.name] = now
            with self.app.app_context():
                self._run_once(job)

    def _run_once(self, job: Job) -> None:
        lock = f"lock:job:{job.name}"
        try:
            if not cache.add(lock, "running", ttl=max(job.every_seconds, RUNNING_SECONDS)):
                return  # another worker runs it now, or ran it within the period
        except Exception:  # the cache unreachable: no worker can tell who runs it, so none does now
            log.exception("job %s: its lock cannot be taken; it runs again next time", job.name)
            return
        started = time.monotonic()
        JOB_RUNS.labels(job.name).inc()
        try:
            outcome = job.run()
            log.info("job %s: %s", job.name, outcome)
        except Exception:
            JOB_FAILURES.labels(job.name).inc()
            log.exception("job %s failed; it runs again next time", job.name)
        rest = job.every_seconds - (time.monotonic() - started)
        try:
            if rest > 0:
                cache.set(lock, "ran", ttl=rest)
            else:
                cache.delete(lock)
        except Exception:  # the running lock then expires by itself
            log.exception("job %s: its lock cannot be updated", job.name)

    def _loop(self) -> None:
        last_run: dict[str, float] = {}
        while not self._stop.wait(5.0 if last_run else 0):
            self.run_due(last_run)


def default_jobs(app: Flask) -> list[Job]:
    negative_thresholds = Thresholds.from_config(app.config)
    return [
        Job("expire-disclosures", app.config["EXPIRY_JOB_SECONDS"], expire_due),
        Job("escalate-complaints", app.config["ESCALATION_JOB_SECONDS"], escalate_overdue),
        Job("erase-complaint-contacts", app.config["RETENTION_JOB_SECONDS"], erase_expired_contacts),
        Job("notify-citizens", app.config["NOTIFY_JOB_SECONDS"], deliver_pending),
        Job("push-exchange", app.config["PUSH_INTERVAL_SECONDS"], deliver_due),
        Job("annual-statistics", 6 * 3600, publish_due),
        # Folds the 公示率 counters' deltas; the figures are exact without it, only slower to read.
        Job("fold-disclosure-counts", app.config["COUNTS_JOB_SECONDS"], compact),
        Job("negative-list", app.config["NEGATIVE_LIST_JOB_SECONDS"], partial(refresh, negative_thresholds)),
        # Each finished day's audit digest into the transparency log; hourly, so a day waits at most an hour.
        Job("anchor-audit-trail", 3600, anchor_due),
    ]


scheduler_cli = AppGroup("scheduler", help="Periodic jobs in a process of their own.")


@scheduler_cli.command("run")
def run() -> None:
    """Run the periodic jobs until SIGTERM or Ctrl-C (the job under way finishes first). Several may run, on
    several hosts: each job's lock lets one run it per period."""
    app = current_app._get_current_object()
    scheduler = Scheduler(app, default_jobs(app))
    run_in_foreground(scheduler.start, scheduler.stop)
