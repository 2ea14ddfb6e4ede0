"""Periodic jobs run once per period among all workers: the job lock lives in the cache they share."""

import threading
import time

from flask import Flask

from backend.extensions.sqlite_cache import SqliteCache
from backend.scheduler import Job, Scheduler


def worker_app(path: str) -> Flask:
    """What the scheduler uses of a worker's app: its own adapter on the shared cache file."""
    app = Flask(__name__)
    app.extensions["cache"] = SqliteCache(path)
    return app


def test_two_workers_run_a_job_once_per_period(tmp_path):
    path = str(tmp_path / "cache.sqlite3")
    runs: list[str] = []
    period = 0.5
    start = threading.Barrier(2)

    def job() -> None:
        runs.append(threading.current_thread().name)
        time.sleep(0.1)  # the other worker tries while this one runs

    def worker() -> None:
        scheduler = Scheduler(worker_app(path), [Job("count", period, job)])
        start.wait()
        scheduler.run_due({})

    threads = [threading.Thread(target=worker, name=f"worker-{n}") for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(runs) == 1
    # Within the period the lock stays: neither worker runs it again...
    again = Scheduler(worker_app(path), [Job("count", period, job)])
    again.run_due({})
    assert len(runs) == 1
    # ...and after it, the next one to look runs it.
    time.sleep(period)
    again.run_due({})
    assert len(runs) == 2


def test_a_run_longer_than_its_period_is_not_started_twice_and_frees_the_job_when_done(tmp_path):
    path = str(tmp_path / "cache.sqlite3")
    running, release = threading.Event(), threading.Event()
    runs: list[int] = []

    def slow() -> None:
        runs.append(1)
        running.set()
        release.wait(5)

    first = Scheduler(worker_app(path), [Job("slow", 0.05, slow)])
    second = Scheduler(worker_app(path), [Job("slow", 0.05, slow)])
    thread = threading.Thread(target=first.run_due, args=({},))
    thread.start()
    assert running.wait(5)
    time.sleep(0.1)  # past the period, while the first run goes on
    second.run_due({})
    assert len(runs) == 1
    release.set()
    thread.join()
    second.run_due({})  # the run outlasted its period: the job is free at once
    assert len(runs) == 2


def test_a_failing_job_keeps_its_period(tmp_path):
    path = str(tmp_path / "cache.sqlite3")
    tries: list[int] = []

    def failing() -> None:
        tries.append(1)
        raise RuntimeError("database away")

    scheduler = Scheduler(worker_app(path), [Job("failing", 60, failing)])
    scheduler.run_due({})
    Scheduler(worker_app(path), [Job("failing", 60, failing)]).run_due({})
    assert len(tries) == 1


def test_a_cache_out_of_reach_skips_the_run_and_keeps_the_scheduler_going(tmp_path):
    class Away(SqliteCache):
        def add(self, key, value, ttl=None):
            raise OSError("cache unreachable")

    runs: list[int] = []
    app = Flask(__name__)
    app.extensions["cache"] = Away(str(tmp_path / "cache.sqlite3"))
    scheduler = Scheduler(app, [Job("count", 0.01, lambda: runs.append(1))])
    scheduler.run_due({})
    assert runs == []
    app.extensions["cache"] = SqliteCache(str(tmp_path / "cache.sqlite3"))
    scheduler.run_due({})
    assert runs == [1]
