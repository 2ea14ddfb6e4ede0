"""One contract, every cache adapter: in-process memory, the shared SQLite file, Redis, and Redis behind
its fallback."""

from __future__ import annotations

import time
import uuid

import pytest

from backend.extensions.cache import MemoryCache, RedisCache
from backend.extensions.resilient_cache import ResilientCache
from backend.extensions.sqlite_cache import SqliteCache


@pytest.fixture(params=["memory", "sqlite", "redis", "resilient"])
def cache(request, tmp_path):
    if request.param == "memory":
        yield MemoryCache()
        return
    if request.param == "sqlite":
        yield SqliteCache(str(tmp_path / "cache.sqlite3"))
        return
    from tests.support.services import require

    prefix = f"test:{uuid.uuid4().hex[:8]}:"
    adapter = RedisCache(require("REDIS_URL", "Redis"), prefix=prefix)
    adapter.ping()
    if request.param == "resilient":
        adapter = ResilientCache(adapter, MemoryCache())
    yield adapter
    adapter.clear_prefix("")


def test_set_get_delete(cache):
    assert cache.get("k") is None
    cache.set("k", "值")
    assert cache.get("k") == "值"
    cache.delete("k")
    assert cache.get("k") is None


def test_values_expire(cache):
    cache.set("short", "v", ttl=0.2)
    assert cache.get("short") == "v"
    assert 0 < cache.ttl("short") <= 0.2
    time.sleep(0.3)
    assert cache.get("short") is None
    assert cache.ttl("short") is None


def test_add_sets_only_when_absent(cache):
    assert cache.add("lock", "a", ttl=5) is True
    assert cache.add("lock", "b", ttl=5) is False
    assert cache.get("lock") == "a"


def test_incr_counts_within_a_window_that_starts_at_the_first_hit(cache):
    assert [cache.incr("c", ttl=0.3) for _ in range(3)] == [1, 2, 3]
    time.sleep(0.15)
    cache.incr("c", ttl=0.3)  # does not extend the window
    time.sleep(0.2)
    assert cache.incr("c", ttl=0.3) == 1


def test_incr_many_adds_each_count_in_the_same_windows_as_incr(cache):
    cache.incr("a", ttl=0.3)
    assert cache.incr_many({"a": 4, "b": 2}, ttl=0.3) == {"a": 5, "b": 2}
    assert cache.incr("b", ttl=0.3) == 3
    assert 0 < cache.ttl("a") <= 0.3 and 0 < cache.ttl("b") <= 0.3
    time.sleep(0.35)
    assert cache.incr_many({"a": 2}, ttl=0.3) == {"a": 2}


def test_clear_prefix_removes_only_matching_keys(cache):
    cache.set("rate:a", "1")
    cache.set("rate:b", "1")
    cache.set("other", "1")
    cache.clear_prefix("rate:")
    assert (cache.get("rate:a"), cache.get("rate:b"), cache.get("other")) == (None, None, "1")


def test_ping(cache):
    cache.ping()


def test_a_fill_stores_what_was_loaded_when_nothing_changed_meanwhile(cache):
    token = cache.fill_token("officer")
    assert cache.fill("officer", "有效", ttl=5, token=token) is True
    assert cache.get("officer") == "有效"
    assert 0 < cache.ttl("officer") <= 5


def test_an_invalidation_while_a_value_is_loaded_cancels_its_fill(cache):
    cache.set("officer", "active")
    cache.delete("officer")  # expired: a reader loads it from the database...
    token = cache.fill_token("officer")
    cache.invalidate("officer")  # ...while a suspension commits
    assert cache.fill("officer", "active", ttl=5, token=token) is False
    assert cache.get("officer") is None
    # The next reader loads what is stored now, and its fill counts.
    fresh = cache.fill_token("officer")
    assert fresh != token
    assert cache.fill("officer", "suspended", ttl=5, token=fresh) is True
    assert cache.get("officer") == "suspended"


def test_invalidate_deletes_the_value_and_touches_no_other_key(cache):
    cache.set("officer:a", "1")
    cache.set("officer:b", "2")
    other = cache.fill_token("officer:b")
    cache.invalidate("officer:a")
    assert cache.get("officer:a") is None
    assert cache.get("officer:b") == "2"
    assert cache.fill("officer:b", "3", ttl=None, token=other) is True
    assert cache.get("officer:b") == "3" and cache.ttl("officer:b") is None


def _until(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_listener_hears_each_invalidation_made_through_the_store(cache):
    heard: list[str | None] = []
    cache.listen(heard.append)
    # Redis: once subscribed (announced by None). Stores without a channel hear only this process, at once.
    assert _until(lambda: cache.listening or cache.name in ("memory", "sqlite"))
    cache.invalidate("officer:a")
    cache.invalidate("officer:b")
    assert _until(lambda: [key for key in heard if key] == ["officer:a", "officer:b"]), heard
    cache.set("officer:c", "1")
    cache.delete("officer:c")  # a plain delete is no invalidation
    time.sleep(0.1)
    assert [key for key in heard if key] == ["officer:a", "officer:b"]
