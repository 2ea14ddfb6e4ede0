"""``GET /metrics``: Prometheus's text format, for a scraper holding METRICS_TOKEN.

Protected by a bearer token rather than by client networks: behind the reverse proxy every request comes from
the proxy's address, so an allow-list would either admit the internet or need the forwarded address trusted
exactly right; a token works the same behind any number of proxies, and Prometheus sends one from a file
(``authorization: credentials_file``). Without METRICS_TOKEN the route does not exist (404, as any unknown
path); a wrong or missing token is a 401 in the one error shape.
"""

from __future__ import annotations

import hmac

from flask import Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from backend.errors import Unauthorized

from .collector import DatabaseCollector

PATH = "/metrics"


def init_app(app: Flask) -> None:
    """Add the route when a token is configured."""
    if app.config["METRICS_TOKEN"]:
        app.add_url_rule(PATH, "metrics", scrape, methods=["GET"])


def scrape() -> Response:
    """Every worker's counters summed (multiprocess mode, under gunicorn) or this process's, then the figures
    read from the database now."""
    expected = f"Bearer {current_app.config['METRICS_TOKEN']}".encode()
    if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected):
        raise Unauthorized(headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    folder = current_app.config["PROMETHEUS_MULTIPROC_DIR"]
    if folder:
        workers = CollectorRegistry()
        MultiProcessCollector(workers, path=folder)
    else:
        workers = REGISTRY
    now = CollectorRegistry()
    now.register(DatabaseCollector())
    return Response(generate_latest(workers) + generate_latest(now), content_type=CONTENT_TYPE_LATEST)
