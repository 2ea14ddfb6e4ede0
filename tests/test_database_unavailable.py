"""The database unreachable: every route answers 503 with Retry-After (JSON, or the Chinese page), none 500."""

from __future__ import annotations

import pytest

from backend import create_app
from backend.officers import tokens
from tests.conftest import base_config

# Nothing listens on port 1; no folder of that name exists: each driver fails to connect.
UNREACHABLE = {
    "postgresql": "postgresql+psycopg://nobody:nothing@127.0.0.1:1/none?connect_timeout=2",
    "sqlite": "sqlite:////nonexistent-folder-for-tests/none.sqlite3",
}

JSON_ROUTES = [
    ("GET", "/api/v1/agencies/MKT", None),
    ("GET", "/api/v1/disclosures/none", None),
    ("POST", "/api/v1/auth/token", {"client_id": "ac_x", "client_secret": "y"}),
    ("GET", "/api/v1/complaints/T0000?code=123456", None),
    ("POST", "/api/v1/admin/auth/token", {"username": "u", "password": "p"}),
]
PAGES = ["/d/none", "/complaints/track?tracking_no=T0000&code=123456"]


@pytest.fixture(params=sorted(UNREACHABLE))
def down(request, tmp_path):
    app = create_app(base_config(UNREACHABLE[request.param], tmp_path))
    app.config["TESTING"] = False  # errors are answered as in production, not raised into the test
    yield app
    app.extensions["officer_changes"].stop()


def assert_json_503(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert body["code"] == 503 and body["status"] == "Service Unavailable"
    assert body["errors"] == {"database": ["unavailable"]}


@pytest.mark.parametrize(("method", "path", "body"), JSON_ROUTES)
def test_api_routes_answer_503_with_retry_after(down, method, path, body):
    assert_json_503(down.test_client().open(path, method=method, json=body))


@pytest.mark.parametrize("path", PAGES)
def test_pages_answer_the_chinese_503_page(down, path):
    response = down.test_client().get(path)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.mimetype == "text/html"
    assert "服务暂不可用" in response.get_data(as_text=True)


def test_the_badge_check_fast_path_answers_503_too(down):
    with down.test_request_context():
        token = tokens.issue("MKT", "35050012345").token
    client = down.test_client()
    assert_json_503(client.get(f"/api/v1/badges/verify?token={token}"))
    page = client.get(f"/v/{token}")
    assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
    assert "服务暂不可用" in page.get_data(as_text=True)
