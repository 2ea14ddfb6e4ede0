from http import HTTPStatus

from flask import Blueprint
from sqlalchemy import text

from backend.extensions import cache, db, search
from backend.extensions.smorest import MESSAGES_ZH

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


def _cache() -> dict:
    cache.ping()
    return {"adapter": cache.adapter.name}


@blp.get("/readyz")
def readyz():
    """Database, search engine and cache, each reported; 503 if any is down."""
    checks = {"database": _check(_database), "search": _check(search.engine.health), "cache": _check(_cache)}
    down = {name: [check["error"]] for name, check in checks.items() if not check["ok"]}
    if not down:
        return {"status": "ok", "checks": checks}
    code = HTTPStatus.SERVICE_UNAVAILABLE
    return {
        "code": code.value,
        "status": code.phrase,
        "message": MESSAGES_ZH[503],
        "errors": down,
        "checks": checks,
    }, code
