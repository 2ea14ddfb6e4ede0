"""The badge-scan limit: counted by each worker, folded into the shared cache in batches."""

import pytest

from backend.extensions.batched_limit import BatchedLimiter
from backend.extensions.sqlite_cache import SqliteCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def workers(tmp_path):
    """Two workers, each with its own limiter and its own adapter on the one cache file, and their clock."""
    clock = Clock()
    path = str(tmp_path / "cache.sqlite3")
    return [
        (BatchedLimiter("verify", 60, fold_seconds=1, clock=clock), SqliteCache(path, clock=clock)) for _ in range(2)
    ], clock


def hits(worker, count: int, key: str = "1.2.3.4", limit: int = 5) -> list[bool]:
    """Which of ``count`` hits were allowed."""
    limiter, adapter = worker
    return [limiter.hit(adapter, key, limit) is None for _ in range(count)]


def test_one_worker_refuses_past_the_limit_and_says_when_to_come_back(workers):
    (first, _), clock = workers
    assert hits(first, 6) == [True] * 5 + [False]
    clock.now += 59
    assert first[0].hit(first[1], "1.2.3.4", 5) == pytest.approx(1)
    assert hits(first, 1, key="5.6.7.8") == [True]  # another address counts on its own
    clock.now += 1
    assert hits(first, 1) == [True]  # a new window


def test_what_one_worker_counted_reaches_the_other_at_its_next_fold(workers):
    (first, second), clock = workers
    assert hits(first, 5) == [True] * 5  # the first hit folded; four wait in the worker
    clock.now += 1
    assert hits(first, 1) == [False]  # folds all six
    assert hits(second, 1) == [False]  # sees them in the shared count
    assert int(second[1].get("rate:verify:1.2.3.4")) == 7


def test_between_folds_an_address_gets_at_most_the_limit_from_each_worker(workers):
    (first, second), _ = workers
    assert hits(first, 1) + hits(second, 1) == [True, True]  # both folded their first hit
    # Each knows the shared count as of its own fold (1 and 2), and adds what it allows itself since.
    assert hits(first, 5) == [True] * 4 + [False]
    assert hits(second, 5) == [True] * 3 + [False] * 2


def test_with_the_cache_away_the_worker_keeps_counting_and_folds_later(workers):
    (first, _), clock = workers

    class Away(SqliteCache):
        def incr_many(self, counts, ttl):
            raise OSError("cache unreachable")

    limiter, adapter = first
    away = Away(adapter.path, clock=clock)
    assert [limiter.hit(away, "1.2.3.4", 5) is None for _ in range(6)] == [True] * 5 + [False]
    clock.now += 1
    assert limiter.hit(adapter, "1.2.3.4", 5) is not None
    assert int(adapter.get("rate:verify:1.2.3.4")) == 7
