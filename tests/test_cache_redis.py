"""Redis-only behaviour of the cache port: invalidations reach other processes' listeners, and a listener
that loses its connection says so, then comes back."""

from __future__ import annotations

import uuid

import pytest

from backend.extensions.cache import RedisCache
from tests.contract.test_cache_contract import _until
from tests.support.services import require


@pytest.fixture
def redis_url() -> str:
    return require("REDIS_URL", "Redis")


def test_another_process_invalidation_reaches_this_listener(redis_url):
    prefix = f"test:{uuid.uuid4().hex[:8]}:"
    here, there = RedisCache(redis_url, prefix=prefix), RedisCache(redis_url, prefix=prefix)
    elsewhere = RedisCache(redis_url, prefix=f"test:{uuid.uuid4().hex[:8]}:")  # another deployment
    heard: list[str | None] = []
    here.listen(heard.append)
    assert _until(lambda: here.listening) and heard == [None]  # subscribed: anything earlier was missed
    there.invalidate("officer:MKT/1")
    elsewhere.invalidate("officer:MKT/2")
    assert _until(lambda: "officer:MKT/1" in heard)
    assert "officer:MKT/2" not in heard
    here.clear_prefix("")
    elsewhere.clear_prefix("")


def test_a_listener_that_loses_its_connection_stops_trusting_then_resubscribes(redis_url):
    cache = RedisCache(redis_url, prefix=f"test:{uuid.uuid4().hex[:8]}:")
    heard: list[str | None] = []
    cache.listen(heard.append)
    assert _until(lambda: cache.listening)
    cache.client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")  # e.g. Redis restarting
    assert _until(lambda: not cache.listening or heard.count(None) >= 2)
    # Back, and it says that something may have been missed while it was away.
    assert _until(lambda: cache.listening and heard.count(None) >= 3), heard
    cache.invalidate("officer:x")
    assert _until(lambda: "officer:x" in heard)
