"""The application factory."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from sqlalchemy import exc
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.middleware.proxy_fix import ProxyFix

from backend import config as app_config
from backend.accounts.services import require_admin_token, require_agency_token
from backend.admin_pages.auth import CookieSessionInterface
from backend.audit.services import record_read
from backend.cli import register_commands
from backend.complaints import notify
from backend.errors import DomainError, ServiceUnavailable, database_unavailable, error_body, error_payload
from backend.exchange import hotline
from backend.extensions import api, cache, clock, db, search
from backend.extensions.batched_limit import BatchedLimiter
from backend.extensions.database import database_identity, unreachable
from backend.extensions.resilient_cache import UNREACHABLE as REDIS_UNREACHABLE
from backend.extensions.smorest import ADMIN_SCHEME, BEARER_SCHEME
from backend.extensions.sqlite_cache import CacheUnavailable
from backend.health.routes import init_metrics
from backend.input_guard import InputGuard, raise_refusal
from backend.keys import BADGE, TRANSPARENCY, KeyRing, WrongKey, suite
from backend.officers.scan_log import ScanLog
from backend.officers.snapshots import make_officer_snapshots
from backend.pages.fast_path import VerifyFastPath
from backend.request_log import RequestLog, configure_logging, note_request
from backend.resources import register_blueprints, register_pages
from backend.search.indexing import outbox_sequence
from backend.security_headers import SecurityHeaders
from backend.timezone import beijing, chinese_date
from miniapp_api.wechat import wechat
from search_index.interfaces import IndexStale, SearchUnavailable, SourceState

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        "backend",
        instance_path=app_config.read("INSTANCE_PATH"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    _configure(app, config or {})
    db.init_app(app)
    cache.init_app(app)
    clock.init_app(app)
    search.init_app(app, read_source=_search_source)
    api.init_app(app)
    app.extensions["token_checks"] = {BEARER_SCHEME: require_agency_token, ADMIN_SCHEME: require_admin_token}
    app.extensions["read_audit"] = record_read
    _init_keys(app)
    wechat.init_app(app)
    notify.init_app(app)
    hotline.init_app(app)
    app.before_request(raise_refusal)
    register_blueprints(api)
    register_pages(app)
    init_metrics(app)
    app.teardown_request(note_request)
    _wrap_wsgi(app)
    _register_error_handlers(app)
    register_commands(app)
    return app


def _configure(app: Flask, config: dict[str, Any]) -> None:
    """Settings (the environment's, then ``config``'s), the admin page's session cookie, JSON, logging."""
    app.config.update(app_config.load(app.instance_path))
    app.config.update(config)
    app_config.check_production(app.config)
    # Admin page (backend/admin_pages): Flask's signed cookie session, sent to /admin only, never to
    # scripts (HttpOnly) nor on cross-site posts (Lax); see ADMIN_COOKIE_SECURE in config.py.
    app.config.update(
        SESSION_COOKIE_NAME="admin_session",
        SESSION_COOKIE_PATH="/admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["ADMIN_COOKIE_SECURE"],
        PERMANENT_SESSION_LIFETIME=dt.timedelta(seconds=app.config["ADMIN_SESSION_SECONDS"]),
    )
    app.session_interface = CookieSessionInterface()
    # Chinese stays readable (and a third the size) on the wire; fields keep their declared order.
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    # Every date or time a page shows is Beijing's: {{ moment | beijing }}, {{ moment | beijing("date") }}.
    app.add_template_filter(beijing)
    app.add_template_filter(chinese_date)
    # Swagger UI's assets are served by the app itself, not from a CDN.
    app.config["OPENAPI_SWAGGER_UI_URL"] = "/api/docs/static/"
    configure_logging(app.config["LOG_FORMAT"])
    for noisy in ("alembic", "elastic_transport", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _wrap_wsgi(app: Flask) -> None:
    """After the routes: the badge check's fast path reads the paths it shadows from them. Inside ProxyFix: it
    sees the real client address. In front of it the input guard, which sends what it refuses to Flask
    itself, whose error handlers answer it. Then the security headers, so that every answer of every layer
    carries them; outermost the request log, which times, counts and logs each answer and stamps its id."""
    flask_wsgi_app = app.wsgi_app
    app.wsgi_app = InputGuard(app, VerifyFastPath(app, flask_wsgi_app), refused=flask_wsgi_app)  # type: ignore[method-assign]
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]
    docs_path = app.config["OPENAPI_URL_PREFIX"] + app.config["OPENAPI_SWAGGER_UI_PATH"]
    app.wsgi_app = SecurityHeaders(app.wsgi_app, docs_path)  # type: ignore[method-assign]
    app.wsgi_app = RequestLog(app.wsgi_app)  # type: ignore[method-assign]


def _register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(SearchUnavailable, _search_unavailable)
    app.register_error_handler(StaleDataError, _changed_meanwhile)
    for error in (exc.DBAPIError, exc.TimeoutError):
        app.register_error_handler(error, _database_error)
    for error in (*REDIS_UNREACHABLE, CacheUnavailable):
        app.register_error_handler(error, _cache_unreachable)


def key_rings(config: Mapping[str, Any]) -> dict[str, KeyRing]:
    """Two key rings of the SIGNATURE_SUITE, one per purpose (badge tokens and receipts, log checkpoints), by
    extension name. Under APP_ENV=production each must hold a key from the start (ConfigError naming its variable):
    otherwise badge cards and checkpoints would fail while /readyz said ready. In development the first key is made.
    A key of another suite is a ConfigError naming where it came from, at start rather than at the first scan."""
    rings = {}
    suite_ = suite(config["SIGNATURE_SUITE"])
    for name, purpose in (("badge_keys", BADGE), ("transparency_keys", TRANSPARENCY)):
        ring = KeyRing(config[f"{purpose.prefix}_KEYS_DIR"], config[f"{purpose.prefix}_SIGNING_KEYS"], purpose, suite_)
        if config["APP_ENV"] != "production":
            ring.ensure_key()
        try:
            loaded = ring.keys()
        except WrongKey as error:
            raise app_config.ConfigError(str(error)) from None
        if config["APP_ENV"] == "production" and not loaded:
            raise app_config.ConfigError(
                f"{purpose.variable} must be set when APP_ENV=production "
                f"(or PEM files <kid>.pem in {purpose.prefix}_KEYS_DIR={config[f'{purpose.prefix}_KEYS_DIR']})"
            )
        rings[name] = ring
    return rings


def preflight() -> None:
    """What ``create_app`` would refuse at start, checked without opening any connection: gunicorn's master runs
    it (deploy/gunicorn.conf.py) so that a misconfigured production stops with one line naming the variable."""
    values = app_config.load(app_config.read("INSTANCE_PATH"))
    app_config.check_production(values)
    key_rings(values)


def _init_keys(app: Flask) -> None:
    """The key rings; the scan log and its limit; the officer snapshots scans read."""
    app.extensions.update(key_rings(app.config))
    app.extensions["scan_log"] = ScanLog(app, interval=app.config["SCAN_LOG_INTERVAL_SECONDS"])
    app.extensions["scan_limiter"] = BatchedLimiter("verify", window=60)
    app.extensions["officer_snapshots"] = make_officer_snapshots(app)


def _search_source() -> SourceState | None:
    """What the search indices must project: this database (its identity) up to its latest change."""
    identity = database_identity(db.session)
    return SourceState(identity, outbox_sequence(db.session)) if identity else None


def _domain_error(error: DomainError):
    return error_body(error), error.status, error.headers


def _changed_meanwhile(error: StaleDataError):
    """Two writes to the same versioned row at once (an agency, an officer, a complaint): the later one lost
    the race and changed nothing; it is told so (409) and may try again, rather than getting a 500."""
    db.session.rollback()
    return error_payload(409, "该记录刚被他人修改，请重新读取后再试", {"version": ["changed meanwhile"]}), 409


class _OutageLog:
    """A warning at most every ``seconds`` per process: during an outage every request is answered 503, and
    a line per request would bury everything else in the log."""

    def __init__(self, name: str, seconds: float = 10.0) -> None:
        self.log = logging.getLogger(name)
        self.seconds = seconds
        self._next_at = 0.0
        self._unlogged = 0
        self._lock = threading.Lock()

    def warning(self, message: str, error: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._next_at:
                self._unlogged += 1
                return
            self._next_at, unlogged, self._unlogged = now + self.seconds, self._unlogged, 0
        detail = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
        self.log.warning("%s: %s (%d more answered so since the last line)", message, detail, unlogged)


_search_log = _OutageLog("backend.search")
_database_log = _OutageLog("backend.database")
_cache_log = _OutageLog("backend.cache")


def _search_unavailable(error: SearchUnavailable):
    _search_log.warning("search unavailable", error)
    if isinstance(error, IndexStale):
        # An index of another database (or of a later state of this one) would count items that do not exist.
        rebuilding = error.state == "rebuilding"
        message = "检索索引正在重建，请稍后再试" if rebuilding else "检索索引与数据库不一致，待重建后恢复"
        return error_payload(503, message, {"search": [error.state]}), 503, {"Retry-After": "30"}
    return error_payload(503, "检索服务暂不可用，请稍后再试", {"search": ["unavailable"]}), 503, {"Retry-After": "5"}


# Blueprints whose answers are pages for people, not JSON.
HTML_BLUEPRINTS = frozenset({"pages", "admin_pages"})


def _database_error(error: exc.SQLAlchemyError):
    """The database down or restarting: 503 with Retry-After (a page on the HTML pages); other database
    errors stay what they are."""
    if not unreachable(error):
        raise error
    _database_log.warning("database unavailable", error)
    unavailable = database_unavailable()
    if request.blueprint in HTML_BLUEPRINTS:
        return render_template("unavailable.html"), unavailable.status, unavailable.headers
    return _domain_error(unavailable)


def _cache_unreachable(error: Exception):
    """The cache cannot answer where no fallback covers it (Redis outside the resilient wrapper, or the shared
    cache file locked, full or damaged): 503 with Retry-After rather than a 500."""
    _cache_log.warning("cache unreachable", error)
    return _domain_error(
        ServiceUnavailable("缓存服务暂不可用，请稍后再试", retry_after=5, errors={"cache": ["unavailable"]})
    )
