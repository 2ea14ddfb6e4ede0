"""gunicorn settings for ``make run`` and production; every value can be overridden by environment.

The variables (HOST, PORT, WEB_*, ACCESS_LOG) are read and checked by backend/config.py like every other:
gunicorn starts in the project folder, so the module imports before any worker does.
"""

from backend.config import export_metrics_folder, read

# Before any worker imports the app (and prometheus-client with it): each worker then keeps its metrics in files
# there, which /metrics sums (backend/metrics).
metrics_folder = export_metrics_folder()

bind = f"{read('HOST')}:{read('PORT')}"
# One worker per core, threads for the waits on the database and search: measured on 2 cores with wrk at 32
# connections (bench/verify.py), 2 workers x 4 threads answered more requests than 4 x 4 (healthz 3,181 vs
# 2,744 req/s) with half the p99 (25 vs 41 ms): more processes than cores only add scheduling queues.
workers = read("WEB_WORKERS")
# gunicorn's gthread worker, sharing new connections out by count (backend/web_worker.py says why).
worker_class = "backend.web_worker.BalancedThreadWorker"
threads = read("WEB_THREADS")
timeout = 30
graceful_timeout = 20
keepalive = 5
# Bounded request sizes; bodies are bounded by MAX_CONTENT_LENGTH in the app. The request line may be as long
# as gunicorn allows (8190, its maximum; its default is 4094) so that the app, not gunicorn, refuses addresses
# over its own limit (backend/input_guard.py MAX_URL_BYTES, 414 in the error shape); a line beyond 8190 gets
# the same shape from the worker (backend/web_worker.py).
limit_request_line = 8190
limit_request_fields = 100
accesslog = read("ACCESS_LOG")
errorlog = "-"
wsgi_app = "backend:create_app()"


def post_worker_init(worker):
    """Each worker drains the search outbox in a background thread (SEARCH_INDEXER_THREAD=0 to leave
    it to ``flask --app backend search worker``; leases keep two workers off the same rows) and runs
    the periodic jobs (SCHEDULER_THREAD=0 to leave them to cron). What the worker loaded at start is
    frozen out of the garbage collector's passes (WEB_GC_FREEZE=0 to keep them), so a full collection
    does not walk the whole application while requests wait."""
    import gc

    app = worker.wsgi
    if app.config["WEB_GC_FREEZE"]:
        gc.collect()
        gc.freeze()
    if app.config.get("SEARCH_INDEXER_THREAD"):
        from backend.search.indexing import Indexer

        Indexer(app).start()
    if app.config.get("SCHEDULER_THREAD"):
        from backend.scheduler import Scheduler, default_jobs

        Scheduler(app, default_jobs(app)).start()


def on_starting(server):
    """Before any worker forks: a production configuration that create_app would refuse (backend.app.preflight)
    stops gunicorn with one line naming the variable, instead of a traceback per worker and a restart loop.
    The metrics files of a previous run are removed: their workers' counts would otherwise add to this run's."""
    import sys
    from pathlib import Path

    for stale in Path(metrics_folder).glob("*.db"):
        stale.unlink()

    from backend.app import preflight
    from backend.config import ConfigError

    try:
        preflight()
    except (ConfigError, ValueError) as error:
        server.log.error("configuration: %s", error)
        sys.exit(1)


def child_exit(server, worker):
    """A worker gone: its live gauges no longer count (its counters stay in the sums, as Prometheus expects)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, metrics_folder)


def on_exit(server):
    """Gunicorn stopping: its workers' metrics files go with it (a new temporary folder is made at each start)."""
    import contextlib
    from pathlib import Path

    for written in Path(metrics_folder).glob("*.db"):
        written.unlink()
    with contextlib.suppress(OSError):  # a folder the operator keeps other things in stays
        Path(metrics_folder).rmdir()
