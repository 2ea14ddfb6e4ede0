"""The platform's metrics, in Prometheus's text format at ``/metrics`` (through prometheus-client).

Counters and histograms are kept where the thing happens (a request answered, a job run, a snapshot read, a
badge checked). Under gunicorn each worker writes its own to files in PROMETHEUS_MULTIPROC_DIR (prometheus-
client's multiprocess mode) and a scrape, answered by any worker, sums them (``health/routes.py``). Figures that live
in the database (the search outbox, complaint deadlines) are read when scraped (``health/collector.py``).

The officer snapshot cache's hit ratio is ``rate(sanxiang_officer_snapshot_lookups_total{result="hit"}[5m])``
over the same without the label: counters, not a ratio gauge, so that workers' figures add up.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

# The label of a request no route rule matched (a 404, or refused by the input guard before routing).
UNMATCHED = "(unmatched)"
# Methods are counted by name only when HTTP defines them: anything a client makes up is "OTHER", so that
# nobody can grow the series without bound.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# One histogram for both: its ``_count`` series are the requests, by the same labels as the latency.
REQUESTS = Histogram(
    "sanxiang_http_request_duration_seconds",
    "Requests answered (_count) and the time from arrival to the answer's last byte, by route rule, method, status",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
JOB_RUNS = Counter("sanxiang_scheduler_job_runs", "Runs of each periodic job by this platform's scheduler", ["job"])
JOB_FAILURES = Counter("sanxiang_scheduler_job_failures", "Runs of each periodic job that raised", ["job"])
SNAPSHOT_LOOKUPS = Counter(
    "sanxiang_officer_snapshot_lookups",
    "Officer snapshot reads for badge checks: hit (a worker's copy or the shared cache) or miss (the database)",
    ["result"],
)
VERIFICATIONS = Counter("sanxiang_badge_verifications", "Badge checks answered, by verdict", ["result"])


def observe_request(route: str | None, method: str, status: int, seconds: float) -> None:
    """Count one answered request and its latency."""
    labels = (route or UNMATCHED, method if method in METHODS else "OTHER", status)
    series = _series.get(labels)
    if series is None:  # labels() checks and builds; the few series there are are kept (a request's hot path)
        series = _series.setdefault(labels, REQUESTS.labels(labels[0], labels[1], str(status)))
    series.observe(seconds)


_series: dict[tuple[str, str, int], Any] = {}
