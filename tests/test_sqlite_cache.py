"""The cache file opened by many workers at once (behaviour beyond the contract, which one adapter shows)."""

import threading

import pytest

from backend.extensions.sqlite_cache import SqliteCache


@pytest.mark.parametrize("attempt", range(10))  # the race it guards against is narrow: try it often
def test_workers_opening_a_new_file_at_once_all_get_an_answer(tmp_path, attempt):
    path = str(tmp_path / "new" / "cache.sqlite3")
    workers = 16
    start = threading.Barrier(workers)
    answers: list[bool] = []
    failures: list[BaseException] = []

    def worker() -> None:
        adapter = SqliteCache(path)  # each its own adapter, as each gunicorn worker has
        start.wait()
        try:
            answers.append(adapter.add("lock:job:x", "1", ttl=60))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(answers) == [False] * (workers - 1) + [True]
