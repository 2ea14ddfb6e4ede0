"""The database unreachable: every route answers 503 with Retry-After (JSON, or the Chinese page), none 500."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import text

from backend import create_app
from backend.extensions import db
from backend.officers import tokens
from tests.conftest import base_config
from tests.support.complainant import read_complaint, track
from tests.support.services import require
from tests.support.tcp_proxy import TcpProxy

# Nothing listens on port 1; no folder of that name exists: each driver fails to connect.
UNREACHABLE = {
    "postgresql": "postgresql+psycopg://nobody:nothing@127.0.0.1:1/none?connect_timeout=2",
    "sqlite": "sqlite:////nonexistent-folder-for-tests/none.sqlite3",
}

JSON_ROUTES = [
    ("GET", "/api/v1/agencies/MKT", None),
    ("GET", "/api/v1/disclosures/none", None),
    ("POST", "/api/v1/auth/token", {"client_id": "ac_x", "client_secret": "y"}),
    ("POST", "/api/v1/admin/auth/token", {"username": "u", "password": "p"}),
]
PAGES = ["/d/none"]


@pytest.fixture(params=sorted(UNREACHABLE))
def down(request, tmp_path):
    app = create_app(base_config(UNREACHABLE[request.param], tmp_path))
    app.config["TESTING"] = False  # errors are answered as in production, not raised into the test
    yield app
    app.extensions["officer_snapshots"].stop()


def assert_json_503(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert body["code"] == 503 and body["status"] == "Service Unavailable"
    assert body["errors"] == {"database": ["unavailable"]}


@pytest.mark.parametrize(("method", "path", "body"), JSON_ROUTES)
def test_api_routes_answer_503_with_retry_after(down, method, path, body):
    assert_json_503(down.test_client().open(path, method=method, json=body))


def test_a_complainant_reading_the_api_gets_503_with_retry_after(down):
    assert_json_503(read_complaint(down.test_client(), "T0000", "123456"))


def assert_page_503(response) -> None:
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.mimetype == "text/html"
    assert "服务暂不可用" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES)
def test_pages_answer_the_chinese_503_page(down, path):
    assert_page_503(down.test_client().get(path))


def test_the_tracking_page_posted_answers_the_chinese_503_page(down):
    assert_page_503(track(down.test_client(), "T0000", "123456"))


def test_the_badge_check_fast_path_answers_503_too(down):
    with down.test_request_context():
        token = tokens.issue("MKT", "35050012345").token
    client = down.test_client()
    assert_json_503(client.get(f"/api/v1/badges/verify?token={token}"))
    page = client.get(f"/v/{token}")
    assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
    assert "服务暂不可用" in page.get_data(as_text=True)


@pytest.mark.postgres
def test_a_pooled_connection_dropped_by_a_restart_fails_no_request(database_url, tmp_path, app):
    """The server drops every connection (a restart: the proxy in front of it stops and starts again); the
    connection the pool kept from the request before is replaced, not used to fail the next request."""
    require("DATABASE_URL", "PostgreSQL")
    parts = urlsplit(database_url)
    proxy = TcpProxy(parts.hostname, parts.port)
    proxy.start()
    userinfo = parts.netloc.rsplit("@", 1)[0]
    through_proxy = urlunsplit(parts._replace(netloc=f"{userinfo}@127.0.0.1:{proxy.port}"))
    restarted = create_app(base_config(through_proxy, tmp_path))
    restarted.config["TESTING"] = False
    client = restarted.test_client()
    try:
        assert client.get("/api/v1/agencies/NONE").status_code == 404  # read through a pooled connection
        proxy.stop()
        proxy.start()
        answers = [client.get("/api/v1/agencies/NONE").status_code for _ in range(3)]
    finally:
        proxy.stop()
        restarted.extensions["officer_snapshots"].stop()
        restarted.extensions["database"].engine.dispose()
    assert answers == [404, 404, 404]


@pytest.mark.postgres
def test_a_connection_dying_under_a_transaction_does_not_fail_its_request(database_url, tmp_path, app):
    """The server goes away between a request's read and the end of its request: the rollback at teardown
    cannot run, and must not turn the answer already made into a 500."""
    require("DATABASE_URL", "PostgreSQL")
    parts = urlsplit(database_url)
    proxy = TcpProxy(parts.hostname, parts.port)
    proxy.start()
    userinfo = parts.netloc.rsplit("@", 1)[0]
    dying = create_app(base_config(urlunsplit(parts._replace(netloc=f"{userinfo}@127.0.0.1:{proxy.port}")), tmp_path))
    try:
        with dying.app_context():
            db.session.execute(text("SELECT 1"))  # a transaction is open on a pooled connection
            proxy.stop()  # the server is gone before the request ends
        proxy.start()
        with dying.app_context():  # the pool replaced the dead connection
            assert db.session.execute(text("SELECT 1")).scalar() == 1
    finally:
        proxy.stop()
        dying.extensions["officer_snapshots"].stop()
        dying.extensions["database"].engine.dispose()


def test_readyz_turns_503_when_the_database_is_down(down):
    response = down.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["code"] == 503 and body["message"]
    assert set(body["errors"]) == {"database"}


def test_scans_wait_in_memory_while_the_database_is_down_but_not_without_bound(down, monkeypatch):
    from backend.officers import scan_log
    from backend.officers.scan_log import ScanLog

    monkeypatch.setattr(scan_log, "MAX_PENDING", 100)
    log = ScanLog(down, interval=0)
    for n in range(150):
        log.append({"badge_no": str(n)})
    assert log.flush() == 0  # the database is down: nothing written, the newest kept for later
    assert len(log._pending) == 100 and log.dropped == 50
    assert log._pending[0]["badge_no"] == "50" and log._pending[-1]["badge_no"] == "149"
