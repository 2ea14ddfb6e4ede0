"""The application factory."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from flask import Blueprint, Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from backend import config as app_config
from backend.complaints import notify
from backend.errors import DomainError, error_body, error_payload
from backend.extensions import api, cache, clock, db, search
from miniapp_api.wechat import wechat
from search_index.interfaces import SearchUnavailable

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        "backend",
        instance_path=os.environ.get("INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
    )
    app.config.update(app_config.load(app.instance_path))
    app.config.update(config or {})
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
    from backend.admin_pages.auth import CookieSessionInterface

    app.session_interface = CookieSessionInterface()
    # Chinese stays readable (and a third the size) on the wire; fields keep their declared order.
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    # Swagger UI's assets are served by the app itself, not from a CDN.
    app.config["OPENAPI_SWAGGER_UI_URL"] = "/api/docs/static/"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "elastic_transport", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    db.init_app(app)
    cache.init_app(app)
    clock.init_app(app)
    search.init_app(app)
    api.init_app(app)
    _init_keys(app)
    wechat.init_app(app)
    notify.init_app(app)
    # Inside ProxyFix: the badge check's fast path sees the real client address.
    from backend.officers.fast_path import VerifyFastPath

    app.wsgi_app = VerifyFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]

    from backend.admin_pages.routes import blp as admin_pages_blp
    from backend.health.routes import blp as health_blp
    from backend.pages.routes import blp as pages_blp
    from backend.resources import register_blueprints
    from miniapp_api.official import blp as wechat_official_blp

    register_blueprints(api)
    app.register_blueprint(health_blp)
    app.register_blueprint(pages_blp)
    app.register_blueprint(wechat_official_blp)
    app.register_blueprint(admin_pages_blp)
    app.register_blueprint(
        Blueprint(
            "swagger_ui", __name__, static_folder=swagger_ui_bundle.swagger_ui_path, static_url_path="/api/docs/static"
        )
    )
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(SearchUnavailable, _search_unavailable)

    from backend.cli import register_commands

    register_commands(app)
    return app


def _init_keys(app: Flask) -> None:
    """Two Ed25519 key rings, one per purpose (badge tokens, log checkpoints); the scan log and its limit;
    officer changes."""
    from backend.extensions.batched_limit import BatchedLimiter
    from backend.officers.changes import OfficerChanges
    from backend.officers.keys import KeyRing
    from backend.officers.scan_log import ScanLog

    for name, prefix in (("badge_keys", "BADGE"), ("transparency_keys", "TRANSPARENCY")):
        keys = KeyRing(app.config[f"{prefix}_KEYS_DIR"], app.config[f"{prefix}_SIGNING_KEYS"])
        if app.config["APP_ENV"] != "production":
            keys.ensure_key()
        app.extensions[name] = keys
    app.extensions["scan_log"] = ScanLog(app, interval=app.config["SCAN_LOG_INTERVAL_SECONDS"])
    app.extensions["scan_limiter"] = BatchedLimiter("verify", window=60)
    app.extensions["officer_changes"] = OfficerChanges(app)


def _domain_error(error: DomainError):
    return error_body(error), error.status, error.headers


def _search_unavailable(error: SearchUnavailable):
    logging.getLogger("backend.search").warning("search unavailable: %s", error)
    return error_payload(503, "检索服务暂不可用，请稍后再试", {"search": ["unavailable"]}), 503, {"Retry-After": "5"}
