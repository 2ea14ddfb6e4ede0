"""New connections shared out among gunicorn's workers (backend/web_worker.py)."""

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from backend.web_worker import ConnectionBoard, fair_limit
from tests.support.live_server import LiveServer, established_inodes, held


def test_a_worker_may_hold_an_even_share_and_one_more():
    assert fair_limit(0, 2) == 1
    assert fair_limit(2, 2) == 2
    assert fair_limit(31, 2) == 17
    assert fair_limit(32, 2) == 17
    assert fair_limit(5, 0) == 6  # no live worker known: as if this one were alone


def test_the_board_counts_only_workers_that_still_beat():
    board = ConnectionBoard(slots=4, stale=3.0)
    first, second = board.claim(now=100.0), board.claim(now=100.0)
    assert (first, second) == (0, 1)
    assert board.limit(first, 10, now=100.5) == 6  # 10 held by 2 live workers (the second holds none yet)
    assert board.limit(second, 0, now=101.0) == 6
    # The second stops beating (hung or killed): after 3 s the first counts alone, and may take them all.
    assert board.limit(first, 10, now=104.5) == 11
    # Its slot is free again for the worker that replaces it.
    assert board.claim(now=104.5) == 1


def test_a_released_slot_is_free_at_once_and_a_full_board_says_so():
    board = ConnectionBoard(slots=2, stale=3.0)
    first = board.claim(now=1.0)
    assert board.claim(now=1.0) == 1
    assert board.claim(now=1.5) is None
    board.release(first)
    assert board.claim(now=1.5) == first


# -- a real gunicorn, as make run starts it ---------------------------------------------------------
def _distribution(server: LiveServer, workers: list[int]) -> list[int]:
    inodes = established_inodes(server.port)
    return [held(pid, inodes) for pid in workers]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc to see which worker holds what")
def test_a_burst_of_clients_is_shared_out_even_while_one_worker_is_off_the_cpu(tmp_path):
    """The failure this prevents: clients connect while one worker is not running, the other accepts them
    all and keeps them (keep-alive), and for the rest of their lives half the server's CPU is idle."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}", "INSTANCE_PATH": str(tmp_path / "instance")}
    with LiveServer(env, workers=2) as server:
        workers = server.workers(2)
        time.sleep(1.5)  # both workers have beaten on the board
        stopped = workers[1]
        clients: list[socket.socket] = []
        os.kill(stopped, signal.SIGSTOP)
        try:
            for _ in range(8):
                clients.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
            time.sleep(0.5)  # the running worker takes what it may, the rest waits in the listen queue
            running_alone = _distribution(server, workers)
        finally:
            os.kill(stopped, signal.SIGCONT)
        try:
            deadline = time.monotonic() + 5
            while sum(shared := _distribution(server, workers)) < 8 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert running_alone[0] <= 3, running_alone  # plain gthread: all 8
            # 4 and 4, or 3 and 5 when the running worker looked again in the middle of the other's catching up.
            assert sum(shared) == 8 and max(shared) - min(shared) <= 2, shared
            # Every connection is served, whichever worker holds it.
            for client in clients:
                client.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                assert client.recv(4096).startswith(b"HTTP/1.1 200")
        finally:
            for client in clients:
                client.close()
