"""One contract, both ways of keeping officer snapshots (backend/officers/snapshots.py): Redis near copies with
their invalidation listener, and the shared cache file kept fresh by polling the database.

Whatever keeps them, a suspension reaches every citizen within a second: made by another app instance on
the same database (another worker, another host) or by another gunicorn worker; copies outlive the brief
lifetime they have when nobody can tell them of a change only while changes are heard; and a scan that read
the officer just before a suspension cannot store the old status for later scans.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from backend import create_app
from backend.agencies.models import Agency
from backend.extensions import db
from backend.extensions.cache import MemoryCache, RedisCache
from backend.extensions.resilient_cache import FALLBACK_FILL_SECONDS, ResilientCache
from backend.extensions.sqlite_cache import SqliteCache
from backend.officers import services, tokens
from backend.officers.models import Officer
from backend.officers.snapshots import RECENT_SECONDS, UNHEARD_SECONDS, NearCopies, PolledChanges
from tests.conftest import base_config
from tests.factories.officers import officer
from tests.support.live_server import LiveServer, http_json
from tests.support.outages import wait_until
from tests.support.services import require
from tests.support.tcp_proxy import TcpProxy
from tests.test_badges_live import live_server_env, register
from tests.test_disclosures_consistency import agency_headers

ADAPTERS = ["polled", "redis"]
BADGE = "35050012345"


@dataclass
class Keeping:
    """One adapter as a worker of ``app`` runs it, and another instance of the app on the same database."""

    app: Flask
    snapshots: NearCopies | PolledChanges
    other: Flask
    heard: Callable[[], bool]  # whether this worker hears of changes right now
    deafen: Callable[[], None]  # from now on, it cannot
    deaf_seconds: float  # how long a copy may live while changes are not heard
    kept_in_process: bool  # whether a kept copy costs no read of the shared store either
    token: str = ""

    def result(self) -> str:
        response = self.app.test_client().get("/api/v1/badges/verify", query_string={"token": self.token})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["result"]

    def suspend_elsewhere(self) -> None:
        """What the other instance's status route does: commit, then tell its snapshots to forget."""
        with self.other.app_context():
            agency = db.session.scalar(select(Agency).where(Agency.code == "MKT"))
            services.set_status(agency, BADGE, "suspended", "调查中", "test")

    def suspend_behind_its_back(self) -> None:
        """A change nobody announces (made outside the app): only the database knows."""
        with self.app.app_context():
            row = db.session.scalar(select(Officer).where(Officer.badge_no == BADGE))
            row.status, row.updated_at = "suspended", dt.datetime.now(dt.UTC)
            db.session.commit()


@pytest.fixture(params=ADAPTERS)
def keeping(request, committed, monkeypatch, tmp_path) -> Iterator[Keeping]:
    app = committed
    monkeypatch.setitem(app.config, "VERIFY_RATE_LIMIT_PER_MINUTE", 0)
    other_config = {
        **base_config(app.config["DATABASE_URL"], tmp_path / "other"),
        "BADGE_KEYS_DIR": app.config["BADGE_KEYS_DIR"],
    }
    proxy = None
    if request.param == "polled":
        # Another host: a cache file of its own, so only the database tells this one of its changes.
        store = SqliteCache(str(tmp_path / "cache.sqlite3"))
        snapshots = PolledChanges(app, store)

        def deafen() -> None:
            def unreachable() -> int:
                raise ConnectionError("the database cannot be polled")

            monkeypatch.setattr(snapshots, "poll", unreachable)

        keeping = Keeping(
            app, snapshots, create_app(other_config), lambda: snapshots.healthy, deafen, UNHEARD_SECONDS, False
        )
    else:
        # As production builds it (make_cache), with Redis behind a proxy that can be stopped.
        target, prefix = urlsplit(require("REDIS_URL", "Redis")), f"test:{uuid.uuid4().hex[:8]}:"
        proxy = TcpProxy(target.hostname, target.port)
        proxy.start()
        store = ResilientCache(RedisCache(f"redis://127.0.0.1:{proxy.port}{target.path}", prefix), MemoryCache())
        snapshots = NearCopies(store)
        other = create_app({**other_config, "REDIS_URL": target.geturl(), "CACHE_KEY_PREFIX": prefix})
        deaf_seconds = FALLBACK_FILL_SECONDS + RECENT_SECONDS  # a brief near copy of a brief fallback fill
        keeping = Keeping(app, snapshots, other, lambda: store.listening, proxy.stop, deaf_seconds, True)
    monkeypatch.setitem(app.extensions, "cache", store)
    monkeypatch.setitem(app.extensions, "officer_snapshots", snapshots)
    client = app.test_client()
    assert (
        client.put(f"/api/v1/publish/officers/{BADGE}", json=officer(), headers=agency_headers(app, "MKT")).status_code
        == 201
    )
    with app.test_request_context():
        keeping.token = tokens.issue("MKT", BADGE).token
    try:
        yield keeping
    finally:
        snapshots.stop()
        keeping.other.extensions["officer_snapshots"].stop()
        keeping.other.extensions["database"].engine.dispose()
        if proxy is not None:
            proxy.stop()
            RedisCache(require("REDIS_URL", "Redis"), prefix).clear_prefix("")


def counted_loads(keeping: Keeping, monkeypatch) -> list[str]:
    """The badges this worker reads from the database from now on."""
    loads: list[str] = []
    real = keeping.snapshots.load
    monkeypatch.setattr(keeping.snapshots, "load", lambda agency, badge: loads.append(badge) or real(agency, badge))
    return loads


def test_a_copy_outlives_its_brief_lifetime_while_changes_are_heard_and_only_then(keeping, monkeypatch):
    """A scan after the first reads no database for longer than a copy may live unheard; once changes
    cannot be heard, a change nobody announces still reaches scans within that brief lifetime."""
    assert keeping.result() == "valid"  # starts this worker's listener or poller
    assert wait_until(keeping.heard, 5.0) is not None
    time.sleep(keeping.deaf_seconds + 0.1)  # what was read before it heard (or its first poll dropped) is gone
    assert keeping.result() == "valid"  # read again, now kept long
    loads = counted_loads(keeping, monkeypatch)
    reads: list[str] = []
    real_get = keeping.snapshots.store.get
    monkeypatch.setattr(keeping.snapshots.store, "get", lambda key: reads.append(key) or real_get(key))
    time.sleep(keeping.deaf_seconds + 0.1)
    assert keeping.result() == "valid" and loads == []
    assert reads == [] or not keeping.kept_in_process  # a near copy: not even a Redis round trip

    keeping.deafen()
    assert wait_until(lambda: not keeping.heard(), 5.0) is not None
    assert keeping.result() == "valid"  # a copy made while deaf
    keeping.suspend_behind_its_back()
    assert wait_until(lambda: keeping.result() == "suspended", keeping.deaf_seconds + 0.25) is not None


def test_a_suspension_by_another_instance_is_seen_within_a_second(keeping, monkeypatch):
    assert keeping.result() == "valid"
    assert wait_until(keeping.heard, 5.0) is not None
    time.sleep(keeping.deaf_seconds + 0.1)
    assert keeping.result() == "valid"  # a copy kept long, while changes are heard
    keeping.suspend_elsewhere()
    assert wait_until(lambda: keeping.result() == "suspended", 1.0) is not None


def test_a_suspension_while_a_scan_reads_the_officer_is_not_undone_by_that_scan(keeping, monkeypatch):
    """Cache-aside race: a scan misses the cache and reads the officer; a suspension commits and clears
    the cache; then the scan stores what it read. Without care, every scan after it is told 有效 for as
    long as that copy lives (300 s in Redis, a minute in the file)."""
    snapshots = keeping.snapshots
    real = snapshots.load

    def read_then_suspend(agency_code, badge_no):
        snapshot = real(agency_code, badge_no)  # read while the officer is still active
        monkeypatch.setattr(snapshots, "load", real)
        db.session.scalar(select(Officer).where(Officer.badge_no == badge_no)).status = "suspended"
        db.session.commit()
        snapshots.forget(agency_code, badge_no)  # what set_status does once it has committed
        return snapshot

    monkeypatch.setattr(snapshots, "load", read_then_suspend)
    assert keeping.result() == "valid"  # this scan read before the change
    assert keeping.result() == "suspended"  # the next one does not get its copy


@pytest.mark.slow
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_revocation_is_seen_by_every_gunicorn_worker_within_a_second(committed, tmp_path, adapter):
    app, env, credentials = live_server_env(committed, tmp_path)
    env["REDIS_URL"] = require("REDIS_URL", "Redis") if adapter == "redis" else ""
    with app.test_request_context():
        token = tokens.issue("MKT", BADGE).token
    with LiveServer(env, workers=2) as server:
        headers = register(server, credentials)
        verify_url = f"{server.url}/api/v1/badges/verify?token={token}"
        # Fresh connections spread over both workers, and warm both workers' caches.
        assert {http_json("GET", verify_url)["result"] for _ in range(20)} == {"valid"}
        http_json(
            "POST",
            f"{server.url}/api/v1/publish/officers/{BADGE}/status",
            {"status": "revoked", "reason": "离职"},
            headers,
        )
        revoked_at = time.monotonic()
        # "Within a second": the other worker's near copy (its half-second copy of what it read from Redis)
        # may still be valid before then, never after.
        time.sleep(max(0.0, 1.0 - (time.monotonic() - revoked_at)))
        results = [http_json("GET", verify_url)["result"] for _ in range(20)]
        assert time.monotonic() - revoked_at < 5
        assert set(results) == {"revoked"}
