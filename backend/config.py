"""Configuration read from the environment, with safe development defaults.

Every setting is documented in README.md. ``create_app(config)`` applies the
dict it is given on top of what this module reads, which is how tests override
settings without touching the process environment.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

# Penalties leave public view after a period: three years for organizations, one year for persons,
# unless DISCLOSURE_PERIODS says otherwise (credit repair can end it earlier, by withdrawal).
DEFAULT_DISCLOSURE_PERIODS = {"penalty": {"organization": 1095, "person": 365}}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _public_base_url() -> str:
    """PUBLIC_BASE_URL, else the address ``make run`` serves: HOST and PORT, bound by deploy/gunicorn.conf.py."""
    given = os.environ.get("PUBLIC_BASE_URL")
    if given:
        return given.rstrip("/")
    host = os.environ.get("HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # listening on every address: this machine reaches it on loopback
        host = "127.0.0.1"
    elif ":" in host:  # an IPv6 address goes in brackets in a URL
        host = f"[{host}]"
    return f"http://{host}:{_int('PORT', 8000)}"


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment; in development a random key kept in the instance folder.

    The file is shared by all gunicorn workers, so tokens signed by one worker verify in another.
    """
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    if os.environ.get("APP_ENV") == "production":
        raise RuntimeError("SECRET_KEY must be set when APP_ENV=production")
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


def load(instance_path: str) -> dict[str, Any]:
    instance = Path(instance_path)
    env = os.environ.get
    return {
        "APP_ENV": env("APP_ENV", "development"),
        "SECRET_KEY": _secret_key(instance),
        "DATABASE_URL": env("DATABASE_URL") or f"sqlite:///{instance / 'sanxiang.sqlite3'}",
        "REDIS_URL": env("REDIS_URL") or None,
        # Every Redis key and channel starts with this, so several deployments (or test servers) can share one.
        "CACHE_KEY_PREFIX": env("CACHE_KEY_PREFIX", ""),
        # The cache every worker on this host shares when REDIS_URL is unset (rate limits, dedupe, job locks).
        "CACHE_PATH": env("CACHE_PATH") or str(instance / "cache.sqlite3"),
        "ELASTICSEARCH_URL": env("ELASTICSEARCH_URL") or None,
        # Embedded search engine file, used when ELASTICSEARCH_URL is unset.
        "SEARCH_EMBEDDED_PATH": env("SEARCH_EMBEDDED_PATH") or str(instance / "search.sqlite3"),
        # Every index name and alias starts with this, so several deployments (or test
        # sessions) can share one Elasticsearch cluster.
        "SEARCH_INDEX_PREFIX": env("SEARCH_INDEX_PREFIX", "sanxiang"),
        # Analyzer for Chinese text on Elasticsearch. "standard" ships with every
        # distribution (one token per Han character, matched as phrases); production
        # clusters with the plugin can use "smartcn" or "ik_max_word".
        "ELASTICSEARCH_TEXT_ANALYZER": env("ELASTICSEARCH_TEXT_ANALYZER", "standard"),
        # Run the search indexer in a background thread of each web worker.
        "SEARCH_INDEXER_THREAD": env("SEARCH_INDEXER_THREAD", "1") == "1",
        # Seconds between checks that each index still projects this database (not another one, nor a
        # later state of it before a restore); search answers 503 while one does not.
        "SEARCH_INDEX_CHECK_SECONDS": float(env("SEARCH_INDEX_CHECK_SECONDS") or 10),
        # The indexer rebuilds such an index itself; 0 leaves it to `flask --app backend search reindex`.
        "SEARCH_AUTO_REINDEX": env("SEARCH_AUTO_REINDEX", "1") == "1",
        "PUBLIC_BASE_URL": _public_base_url(),
        "TOKEN_TTL_SECONDS": _int("TOKEN_TTL_SECONDS", 900),
        "TOKEN_FAILURES_ALLOWED": _int("TOKEN_FAILURES_ALLOWED", 5),
        "TOKEN_FAILURE_WINDOW_SECONDS": _int("TOKEN_FAILURE_WINDOW_SECONDS", 300),
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 8 * 1024 * 1024),
        "DEMO_DATA": env("DEMO_DATA", "1") == "1",
        # Badge signing keys: a JSON object {kid: PEM} (production secret), else PEM files in a folder.
        "BADGE_SIGNING_KEYS": env("BADGE_SIGNING_KEYS") or None,
        "BADGE_KEYS_DIR": env("BADGE_KEYS_DIR") or str(instance / "badge_keys"),
        "DYNAMIC_BADGE_SECONDS": _int("DYNAMIC_BADGE_SECONDS", 60),
        # Transparency log checkpoint keys, like the badge keys but their own.
        "TRANSPARENCY_SIGNING_KEYS": env("TRANSPARENCY_SIGNING_KEYS") or None,
        "TRANSPARENCY_KEYS_DIR": env("TRANSPARENCY_KEYS_DIR") or str(instance / "transparency_keys"),
        # Days a decision stays public, by category and subject type, counted from the decision date.
        "DISCLOSURE_PERIODS": json.loads(env("DISCLOSURE_PERIODS") or json.dumps(DEFAULT_DISCLOSURE_PERIODS)),
        "EXPIRY_JOB_SECONDS": _int("EXPIRY_JOB_SECONDS", 3600),
        "COUNTS_JOB_SECONDS": _int("COUNTS_JOB_SECONDS", 60),
        "SCHEDULER_THREAD": env("SCHEDULER_THREAD", "1") == "1",
        # Complaints: accept within 3 working days, reply within 15 of acceptance (adjustable by local rules).
        "COMPLAINT_ACCEPT_DAYS": _int("COMPLAINT_ACCEPT_DAYS", 3),
        "COMPLAINT_REPLY_DAYS": _int("COMPLAINT_REPLY_DAYS", 15),
        "COMPLAINT_RATE_LIMIT_PER_HOUR": _int("COMPLAINT_RATE_LIMIT_PER_HOUR", 10),
        # Where a complaint about no particular agency goes (its 司法局), as a division code.
        "DEFAULT_REGION": env("DEFAULT_REGION", "350500"),
        "ESCALATION_JOB_SECONDS": _int("ESCALATION_JOB_SECONDS", 600),
        "NOTIFY_JOB_SECONDS": _int("NOTIFY_JOB_SECONDS", 30),
        "OFFICER_PHOTO_MAX_BYTES": _int("OFFICER_PHOTO_MAX_BYTES", 2 * 1024 * 1024),
        "VERIFY_RATE_LIMIT_PER_MINUTE": _int("VERIFY_RATE_LIMIT_PER_MINUTE", 60),
        "SCAN_LOG_INTERVAL_SECONDS": _int("SCAN_LOG_INTERVAL_SECONDS", 1),
        # How many reverse proxies in front set X-Forwarded-For (rate limits key on the client address).
        "TRUSTED_PROXY_COUNT": _int("TRUSTED_PROXY_COUNT", 0),
        # -- admin page sessions (backend/admin_pages) --
        # The session cookie's Secure flag. It must stay on in production, where the page is served over
        # HTTPS: the cookie then never travels in clear. Chromium and Firefox keep Secure cookies for
        # http://127.0.0.1 and localhost, but Safari drops them and every browser drops them on a LAN
        # address over http, so a login there would silently never stick; hence the default is on only
        # when APP_ENV=production and off for `make run` and tests (Werkzeug's test client sends Secure
        # cookies over http anyway). ADMIN_COOKIE_SECURE=1/0 overrides either way.
        "ADMIN_COOKIE_SECURE": env("ADMIN_COOKIE_SECURE", "1" if env("APP_ENV") == "production" else "0") == "1",
        # A login lasts at most 8 hours, and ends after 30 minutes without a request.
        "ADMIN_SESSION_SECONDS": _int("ADMIN_SESSION_SECONDS", 8 * 3600),
        "ADMIN_IDLE_SECONDS": _int("ADMIN_IDLE_SECONDS", 30 * 60),
        # -- WeChat (miniapp_api): each part is off (503) until its settings are given --
        # Where wechatpy sends API calls; tests and benches point it at a local WeChat protocol server.
        "WECHAT_API_BASE_URL": (env("WECHAT_API_BASE_URL") or "https://api.weixin.qq.com").rstrip("/"),
        "WECHAT_MINIAPP_APPID": env("WECHAT_MINIAPP_APPID") or None,
        "WECHAT_MINIAPP_SECRET": env("WECHAT_MINIAPP_SECRET") or None,
        "WECHAT_OFFICIAL_APPID": env("WECHAT_OFFICIAL_APPID") or None,
        "WECHAT_OFFICIAL_SECRET": env("WECHAT_OFFICIAL_SECRET") or None,
        "WECHAT_OFFICIAL_TOKEN": env("WECHAT_OFFICIAL_TOKEN") or None,
        "WECHAT_OFFICIAL_AES_KEY": env("WECHAT_OFFICIAL_AES_KEY") or None,
        # Subscribe-message template for complaint updates (keywords in README), and the pages codes open.
        "WECHAT_SUBSCRIBE_TEMPLATE_ID": env("WECHAT_SUBSCRIBE_TEMPLATE_ID") or None,
        "WECHAT_MINIAPP_BADGE_PAGE": env("WECHAT_MINIAPP_BADGE_PAGE", "pages/verify/index"),
        "WECHAT_MINIAPP_COMPLAINT_PAGE": env("WECHAT_MINIAPP_COMPLAINT_PAGE", "pages/complaint/detail"),
        "WECHAT_MINIAPP_ENV_VERSION": env("WECHAT_MINIAPP_ENV_VERSION", "release"),
        "WECHAT_TIMEOUT_SECONDS": float(env("WECHAT_TIMEOUT_SECONDS") or 3),
        # WeChat drops a chat reply after 5 s: a search slower than this gets a short reply with a link.
        "WECHAT_REPLY_SECONDS": float(env("WECHAT_REPLY_SECONDS") or 4),
        # flask-smorest / OpenAPI
        "API_TITLE": "行政执法三项制度 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
    }
