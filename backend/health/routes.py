import hmac
import logging
import os
from dataclasses import asdict
from http import HTTPStatus

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from backend.errors import Unauthorized
from backend.extensions import cache, db, search
from backend.extensions.smorest import MESSAGES_ZH
from search_index.projection import REINDEX_COMMAND

from .collector import DatabaseCollector

log = logging.getLogger(__name__)

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """The process answers; touches nothing else, so it is safe to call at any rate."""
    return {"status": "ok"}


def _check(probe) -> dict:
    try:
        return {"ok": True, **(probe() or {})}
    except Exception as exc:  # any failure of a dependency means "not ready", reported by name
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _database() -> dict:
    db.session.execute(text("SELECT 1"))
    db.session.rollback()
    return {"dialect": db.engine.dialect.name}


def _search() -> dict:
    """The engine, and whether each index projects this database (memoized: SEARCH_INDEX_CHECK_SECONDS)."""
    health = search.engine.health()
    try:
        states = search.states()
    except SQLAlchemyError as exc:  # the database's own check reports it; the engine itself answers
        return {**health, "index": {"state": "unknown", "error": f"{type(exc).__name__}"}}
    found = {state.state for state in states.values()}
    overall = "stale" if "stale" in found else "rebuilding" if "rebuilding" in found else "matching"
    index: dict = {"state": overall, "indices": {name: asdict(state) for name, state in states.items()}}
    if overall == "stale" and not current_app.config["SEARCH_AUTO_REINDEX"]:
        index["action"] = f"run `{REINDEX_COMMAND}`"
    return {**health, "index": index}


def _cache() -> dict:
    cache.ping()
    return {"adapter": cache.adapter.name}


# What this instance cannot answer without. Search and the cache are shared by every instance and the app
# answers without them (search 503 only, the cache from memory): were they to fail readiness, a load balancer
# would take every instance out at once and nobody would get even those answers.
ESSENTIAL = frozenset({"database"})


def _signing_keys() -> dict:
    """The kid each ring signs with now (badge cards, checkpoints); a ring without one fails the check, which
    names the ring's variable."""
    found = {}
    for name in ("badge_keys", "transparency_keys"):
        ring = current_app.extensions[name]
        keys = ring.keys()
        if not keys:
            raise LookupError(f"no {ring.purpose.name} signing key: set {ring.purpose.variable}")
        found[ring.purpose.name] = max(keys)
    return found


@blp.get("/readyz")
def readyz():
    """Database, search engine, cache and signing keys, each reported: 503 when the database is down;
    "degraded" (200) when search or the cache is down, an index does not project this database (stale, or
    rebuilding), or a key ring has no key (badge verification still answers; cards and checkpoints wait)."""
    return readiness()


def readiness() -> tuple[dict, HTTPStatus]:
    """/readyz's answer and status, also asked in-process by ``flask health ready`` (backend/health/cli.py)."""
    checks = {
        "database": _check(_database),
        "search": _check(_search),
        "cache": _check(_cache),
        "signing_keys": _check(_signing_keys),
    }
    down = {name: [check["error"]] for name, check in checks.items() if not check["ok"]}
    if not ESSENTIAL & down.keys():
        degraded = bool(down) or checks["search"]["index"]["state"] != "matching"
        body = {"status": "degraded" if degraded else "ok", "checks": checks}
        return ({**body, "errors": down} if down else body), HTTPStatus.OK
    code = HTTPStatus.SERVICE_UNAVAILABLE
    return {
        "code": code.value,
        "status": code.phrase,
        "message": MESSAGES_ZH[503],
        "errors": down,
        "checks": checks,
    }, code


# -- /metrics --------------------------------------------------------------------------------------
# Protected by a bearer token rather than by client networks: behind the reverse proxy every request comes from
# the proxy's address, so an allow-list would either admit the internet or need the forwarded address trusted
# exactly right; a token works the same behind any number of proxies, and Prometheus sends one from a file
# (``authorization: credentials_file``). Without METRICS_TOKEN the route does not exist (404, as any unknown
# path); a wrong or missing token is a 401 in the one error shape.
METRICS_PATH = "/metrics"


def init_metrics(app: Flask) -> None:
    """Add ``GET /metrics`` when a token is configured."""
    if app.config["METRICS_TOKEN"]:
        app.add_url_rule(METRICS_PATH, "metrics", metrics, methods=["GET"])


def metrics() -> Response:
    """Prometheus's text format: every worker's counters summed (multiprocess mode, under gunicorn) or this
    process's, then the figures read from the database now (``collector.py``)."""
    expected = f"Bearer {current_app.config['METRICS_TOKEN']}".encode()
    if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected):
        raise Unauthorized(headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    folder = current_app.config["PROMETHEUS_MULTIPROC_DIR"]
    if folder and not os.path.isdir(folder):
        # Removed under the running server: this process's own figures rather than a 500 to the scraper.
        log.warning("metrics: PROMETHEUS_MULTIPROC_DIR %s is not a folder; answering this process's metrics", folder)
        folder = None
    if folder:
        workers = CollectorRegistry()
        MultiProcessCollector(workers, path=folder)
    else:
        workers = REGISTRY
    now = CollectorRegistry()
    now.register(DatabaseCollector())
    return Response(generate_latest(workers) + generate_latest(now), content_type=CONTENT_TYPE_LATEST)
