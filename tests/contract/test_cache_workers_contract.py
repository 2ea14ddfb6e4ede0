"""The cache contract across processes: two real gunicorn workers agree on what the cache keeps for them,
with Redis and without it (the SQLite file both open), whichever of them answers each request."""

from __future__ import annotations

import http.client
import json
import random
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer, agency_client, server_env
from tests.support.services import require

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc to pick each worker"),
]


def call(connection: http.client.HTTPConnection, method: str, path: str, body: dict) -> tuple[int, dict]:
    port = connection.sock.getsockname()[1]
    connection.request(method, path, json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = json.loads(response.read())
    assert connection.sock.getsockname()[1] == port, "the connection was reopened: another worker may hold it"
    return response.status, answer


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def workers(request, committed, tmp_path):
    """A connection held by each of two workers, from a loopback address of this test alone (so counters kept
    per address in a shared Redis start at zero); and the agency client's credentials."""
    credentials = agency_client(committed)
    env = server_env(committed, tmp_path, REDIS_URL=require("REDIS_URL", "Redis") if request.param == "redis" else "")
    source = f"127.{random.randrange(1, 255)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    with LiveServer(env, workers=2) as server:
        held = server.connection_to_each_worker(2, source=source)
        try:
            yield list(held.values()), credentials
        finally:
            for connection in held.values():
                connection.close()


def test_identical_complaints_get_one_tracking_number_whichever_worker_files_them(workers):
    connections, _ = workers
    complaint = {"category": "misconduct", "content": "执法人员未出示证件即要求检查。", "agency": "MKT"}
    answers = [call(connections[n % 2], "POST", "/api/v1/complaints", complaint) for n in range(6)]
    assert [status for status, _ in answers] == [201] + [200] * 5
    assert len({(body["tracking_no"], body["query_code"]) for _, body in answers}) == 1


def test_token_failures_are_counted_once_for_all_workers(workers, committed):
    connections, credentials = workers
    allowed = committed.config["TOKEN_FAILURES_ALLOWED"]
    wrong = {**credentials, "client_secret": "guess"}
    statuses = [call(connections[n % 2], "POST", "/api/v1/auth/token", wrong)[0] for n in range(allowed)]
    assert statuses == [401] * allowed
    # Past the limit on both workers, even with the right secret.
    assert [call(connection, "POST", "/api/v1/auth/token", credentials)[0] for connection in connections] == [429, 429]
