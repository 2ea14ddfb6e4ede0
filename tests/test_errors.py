"""Every error leaves in one shape: {code, status, message, errors?}."""

import pytest
from flask import Flask

from backend import create_app
from tests.conftest import base_config


def shape(response, code):
    assert response.status_code == code, response.data
    assert response.is_json
    body = response.get_json()
    assert body["code"] == code
    assert body["status"] and body["message"]
    return body


def test_unknown_path_is_404_in_shape(client):
    shape(client.get("/api/v1/nothing-here"), 404)
    shape(client.get("/no/such/page"), 404)


def test_wrong_method_is_405_in_shape_with_allow(client):
    response = client.delete("/api/v1/auth/token")
    shape(response, 405)
    assert "POST" in response.headers["Allow"]


def test_bad_json_is_400_naming_the_body(client):
    response = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    body = shape(response, 400)
    assert "json" in body["errors"]


def test_missing_fields_are_422_naming_each(client):
    body = shape(client.post("/api/v1/auth/token", json={}), 422)
    assert set(body["errors"]["json"]) == {"client_id", "client_secret"}


def test_unknown_fields_are_422_naming_the_field(client):
    body = shape(client.post("/api/v1/auth/token", json={"client_id": "a", "client_secret": "b", "scope": "all"}), 422)
    assert "scope" in body["errors"]["json"]


def test_wrong_types_and_bad_query_values_are_422(client):
    body = shape(client.post("/api/v1/auth/token", json={"client_id": 5, "client_secret": ["x"]}), 422)
    assert set(body["errors"]["json"]) == {"client_id", "client_secret"}
    body = shape(client.get("/api/v1/agencies?region=12&page_size=1000"), 422)
    assert set(body["errors"]["query"]) == {"region", "page_size"}


def test_oversized_body_is_413(client, app):
    response = client.post(
        "/api/v1/auth/token", data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1), content_type="application/json"
    )
    shape(response, 413)


@pytest.fixture
def fragile_app(database_url, tmp_path) -> Flask:
    """An app with a route that fails outside any view logic we wrote, as a bug would."""
    app = create_app({**base_config(database_url, tmp_path), "TESTING": False, "PROPAGATE_EXCEPTIONS": False})

    @app.get("/boom")
    def boom():
        raise RuntimeError("an unexpected bug")

    @app.before_request
    def fail_early():
        from flask import request

        if request.path == "/early":
            raise KeyError("raised before any view")

    return app


def test_unexpected_exceptions_are_500_in_shape_without_internals(fragile_app):
    client = fragile_app.test_client()
    for path in ("/boom", "/early"):
        body = shape(client.get(path), 500)
        assert "bug" not in str(body) and "KeyError" not in str(body)


def test_redis_unreachable_where_no_fallback_exists_is_503_in_shape(app):
    """WeChat's shared access token is kept in Redis itself, not through the cache port: with Redis down,
    what needs it answers 503 with Retry-After rather than 500."""
    import redis

    with app.test_request_context("/miniapp/v1/login", method="POST"):
        response = app.make_response(app.handle_user_exception(redis.exceptions.ConnectionError("refused")))
    body = shape(response, 503)
    assert body["errors"] == {"cache": ["unavailable"]}
    assert int(response.headers["Retry-After"]) > 0


def test_a_damaged_cache_file_is_503_in_shape(tmp_path, database_url):
    """Without Redis the cache is a file every worker opens; one that cannot be read (here: not SQLite at all)
    leaves the requests that count failures or limits with a 503 and Retry-After, not a 500."""
    cache_file = tmp_path / "cache.sqlite3"
    cache_file.write_bytes(b"not a database " * 512)
    app = create_app({**base_config(database_url, tmp_path), "CACHE_PATH": str(cache_file)})
    app.config["TESTING"] = False
    try:
        response = app.test_client().post("/api/v1/auth/token", json={"client_id": "ac_x", "client_secret": "y"})
    finally:
        app.extensions["officer_snapshots"].stop()
    body = shape(response, 503)
    assert body["errors"] == {"cache": ["unavailable"]}
    assert int(response.headers["Retry-After"]) > 0
