"""Redis taken off the network (a TcpProxy stopped): the cache answers from memory, and recovers cleanly."""

from __future__ import annotations

import logging
import time
import uuid
from urllib.parse import urlsplit

import pytest
import redis

from backend.extensions.cache import MemoryCache, RedisCache
from backend.extensions.resilient_cache import FALLBACK_FILL_SECONDS, ResilientCache
from tests.support.services import require
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.redis


def until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def proxied():
    """A resilient cache whose Redis is behind a proxy, and a direct Redis client with the same prefix."""
    target = urlsplit(require("REDIS_URL", "Redis"))
    proxy = TcpProxy(target.hostname, target.port)
    proxy.start()
    prefix = f"test:{uuid.uuid4().hex[:8]}:"
    direct = RedisCache(target.geturl(), prefix=prefix)
    cache = ResilientCache(RedisCache(f"redis://127.0.0.1:{proxy.port}{target.path}", prefix=prefix), MemoryCache())
    try:
        yield proxy, cache, direct
    finally:
        proxy.stop()
        direct.clear_prefix("")


def test_every_call_is_answered_while_redis_is_down_and_the_outage_is_logged_once(proxied, caplog):
    proxy, cache, _direct = proxied
    cache.set("k", "v")
    proxy.stop()
    with caplog.at_level(logging.WARNING, logger="backend.extensions.resilient_cache"):
        assert cache.get("k") is None  # this process's memory, which never held it
        assert [cache.incr("rate:x", ttl=60) for _ in range(3)] == [1, 2, 3]
        assert cache.add("lock", "1", ttl=5) is True
        assert cache.add("lock", "1", ttl=5) is False
        cache.set("dedupe", "T1", ttl=60)
        assert cache.get("dedupe") == "T1"
        assert cache.degraded and not cache.listening
        for _ in range(50):
            cache.get("k")
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1
    with pytest.raises(redis.exceptions.ConnectionError):
        cache.ping()  # readiness still reports Redis itself
    proxy.start()
    assert until(lambda: not cache.degraded)
    assert cache.get("k") == "v"


def test_a_value_filled_while_redis_is_down_lives_briefly(proxied):
    proxy, cache, _direct = proxied
    proxy.stop()
    cache.get("wake")  # notices the outage
    token = cache.fill_token("officer:a")
    assert cache.fill("officer:a", "active", ttl=300, token=token) is True
    assert 0 < cache.ttl("officer:a") <= FALLBACK_FILL_SECONDS


def test_a_fill_begun_on_one_store_is_not_stored_in_the_other(proxied):
    proxy, cache, direct = proxied
    before = cache.fill_token("officer:a")  # from Redis
    proxy.stop()
    cache.get("wake")
    assert cache.fill("officer:a", "active", ttl=300, token=before) is False
    during = cache.fill_token("officer:a")  # from memory
    proxy.start()
    assert until(lambda: not cache.degraded)
    assert cache.fill("officer:a", "active", ttl=300, token=during) is False
    assert direct.get("officer:a") is None


def test_an_invalidation_made_while_redis_is_down_reaches_redis_when_it_returns(proxied):
    """The DB is the truth: a snapshot Redis kept from before the outage must not outlive a change made
    during it (it would resurrect a suspended officer as valid for up to the snapshot's lifetime)."""
    proxy, cache, direct = proxied
    direct.set("officer:a", '{"status": "active"}', ttl=300)
    heard: list[str | None] = []
    direct.listen(heard.append)
    assert until(lambda: direct.listening)
    proxy.stop()
    cache.invalidate("officer:a")  # a suspension committed while Redis was unreachable
    assert cache.get("officer:a") is None
    assert direct.get("officer:a") is not None  # Redis has not heard yet
    proxy.start()
    assert until(lambda: not cache.degraded)
    assert direct.get("officer:a") is None
    assert until(lambda: "officer:a" in heard)  # other workers' near copies are dropped too


def test_a_suspension_made_while_redis_is_down_is_not_undone_when_it_returns(
    proxied, app, client, auth, db_session, monkeypatch
):
    """Through the app: the scan before the outage leaves a 'valid' snapshot in Redis (300 s); the suspension
    during the outage must hold during it and after Redis returns."""
    from backend.officers import tokens
    from backend.officers.snapshots import NearCopies
    from tests.factories import AgencyFactory
    from tests.factories.officers import officer

    proxy, cache, _direct = proxied
    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    headers = auth.headers("MKT")
    assert client.put("/api/v1/publish/officers/35050012345", json=officer(), headers=headers).status_code == 201
    app.extensions["cache"] = cache
    monkeypatch.setitem(app.extensions, "officer_snapshots", NearCopies(cache))  # as create_app picks with Redis
    with app.test_request_context():
        token = tokens.issue("MKT", "35050012345").token

    def result() -> str:
        response = client.get("/api/v1/badges/verify", query_string={"token": token})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["result"]

    assert result() == "valid"
    proxy.stop()
    assert result() == "valid"  # answered from the database
    suspended = client.post(
        "/api/v1/publish/officers/35050012345/status", json={"status": "suspended", "reason": "调查中"}, headers=headers
    )
    assert suspended.status_code == 200, suspended.get_json()
    assert result() == "suspended"
    proxy.start()
    assert until(lambda: not cache.degraded)
    assert [result() for _ in range(5)] == ["suspended"] * 5


class NotRedisYet(MemoryCache):
    """A primary that is down, then answers its port with something that is not Redis, then is Redis again."""

    def __init__(self) -> None:
        super().__init__()
        self.answers = ["down", "protocol error", "up"]

    def _state(self) -> str:
        return self.answers[0]

    def get(self, key: str) -> str | None:
        if self._state() != "up":
            raise redis.exceptions.ConnectionError("connection refused")
        return super().get(key)

    def ping(self) -> None:
        state = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if state == "down":
            raise redis.exceptions.ConnectionError("connection refused")
        if state == "protocol error":
            raise redis.exceptions.InvalidResponse("Protocol Error: b'HTTP/1.0 400 Bad Request'")


def test_the_probe_outlives_an_answer_that_is_not_redis():
    """Seen in CI: something else answered on Redis's port for a moment; the probe thread died on the protocol
    error and the process would have stayed on its memory for good."""
    cache = ResilientCache(NotRedisYet(), MemoryCache(), probe_seconds=0.01)
    assert cache.get("k") is None and cache.degraded
    assert until(lambda: not cache.degraded, seconds=5)
