"""Every bad input answers a 4xx in the one error shape (pages: a Chinese page), names the field, writes nothing.

Run on SQLite and on PostgreSQL (DATABASE_URL): NUL is what PostgreSQL cannot store, so there the same
requests used to end in psycopg's DataError. README "Input rules" says what is refused and how.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import re
import socket
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from backend.extensions import db
from backend.extensions.database import Model
from backend.input_guard import MAX_JSON_DEPTH, MAX_URL_BYTES, OUT_OF_RANGE
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision, power
from tests.factories.officers import image_bytes, officer
from tests.support.live_server import LiveServer, server_env

COMPLAINT = {"category": "misconduct", "content": "执法人员未出示证件即要求检查。"}
LONE_SURROGATE = '"\\ud800"'  # JSON text: an escape Python decodes to a str that no UTF-8 can encode


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def json_with(body: dict, field: str, raw_value: str) -> str:
    """``body`` as JSON text with ``field`` set to ``raw_value``, a JSON text json.dumps could not produce."""
    return json.dumps({**body, field: "@@"}, ensure_ascii=False).replace('"@@"', raw_value)


def png_claiming(width: int, height: int) -> bytes:
    """A real, complete PNG of ``width`` x ``height`` black pixels (1 bit each), a few dozen KB compressed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor, row = zlib.compressobj(9), b"\x00" * (1 + (width + 7) // 8)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) claims ``width`` x ``height``."""
    data = bytearray(image_bytes("JPEG"))
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def photo(data: bytes, media_type: str) -> dict:
    return {"media_type": media_type, "data": base64.b64encode(data).decode()}


def officer_with_photo(image: Callable[[], bytes], media_type: str):
    """A case's request: an officer registered with ``image()`` as the photo."""

    def prepare(s: Sender):
        headers = s.publish_headers()
        body = officer(photo=photo(image(), media_type))
        return lambda: s.client.put("/api/v1/publish/officers/35050012345", json=body, headers=headers)

    return prepare


@dataclass(frozen=True)
class Refusal:
    status: int
    location: str  # where ``errors`` names the problem: json, query, form, path, url, body, photo
    field: tuple[str, ...] = ()  # the field's path under it
    page: bool = False  # a page answers (HTML), not the API


class Sender:
    """What a case needs to send its request: the client, an agency's headers, form tokens read from pages."""

    def __init__(self, client: FlaskClient, auth) -> None:
        self.client = client
        self.auth = auth

    def publish_headers(self) -> dict:
        return self.auth.headers("MKT")

    def form_token(self, path: str, name: str) -> str:
        page = self.client.get(path).get_data(as_text=True)
        return re.search(rf'name="{name}" value="([^"]+)"', page).group(1)

    def complaint_form(self, content_type: str = "application/x-www-form-urlencoded", **fields: str):
        data = {"category": "misconduct", "content": "执法人员未出示证件。", **fields}
        data["form_token"] = self.form_token("/complaints/new", "form_token")
        return self.client.post("/complaints/new", data=data, content_type=content_type)

    def admin_login(self, **fields: str):
        data = {"username": "zhang", "password": "a long password 1", **fields}
        return self.client.post(
            "/admin/login", data={**data, "csrf_token": self.form_token("/admin/login", "csrf_token")}
        )

    def post_json_text(self, path: str, text: str, headers: dict | None = None):
        return self.client.post(path, data=text.encode("utf-8"), content_type="application/json", headers=headers)

    def put_json_text(self, path: str, text: str, headers: dict | None = None):
        return self.client.put(path, data=text.encode("utf-8"), content_type="application/json", headers=headers)


Case = tuple[Callable[[Sender], Callable[[], object]], Refusal]

# Each case prepares (tokens, headers) first and returns the bad request to send, so only that one is counted.
CASES: dict[str, Case] = {
    # NUL, which PostgreSQL cannot store in text
    "nul-complaint-api": (
        lambda s: lambda: s.client.post("/api/v1/complaints", json={**COMPLAINT, "content": "未出示\x00证件即检查"}),
        Refusal(400, "json", ("content",)),
    ),
    "nul-complaint-web-form": (
        lambda s: lambda: s.complaint_form(content="未出示\x00证件即检查"),
        Refusal(400, "form", ("content",), page=True),
    ),
    "nul-complaint-web-form-multipart": (
        lambda s: lambda: s.complaint_form(content="未出示\x00证件即检查", content_type="multipart/form-data"),
        Refusal(400, "form", ("content",), page=True),
    ),
    "nul-disclosure-page-path": (lambda s: lambda: s.client.get("/d/%00"), Refusal(400, "path", page=True)),
    "nul-agency-api-path": (lambda s: lambda: s.client.get("/api/v1/agencies/%00"), Refusal(400, "path")),
    "nul-tracking-page-query": (
        lambda s: lambda: s.client.get("/complaints/track?tracking_no=TS%00"),
        Refusal(400, "query", ("tracking_no",), page=True),
    ),
    "nul-search-api-query": (
        lambda s: lambda: s.client.get("/api/v1/disclosures?q=%E5%A4%84%E7%BD%9A%00"),
        Refusal(400, "query", ("q",)),
    ),
    "nul-badge-api-query": (
        lambda s: lambda: s.client.get("/api/v1/badges/verify?token=abc%00def"),
        Refusal(400, "query", ("token",)),
    ),
    "nul-badge-page-path": (lambda s: lambda: s.client.get("/v/abc%00def"), Refusal(400, "path", page=True)),
    "nul-token": (
        lambda s: lambda: s.client.post("/api/v1/auth/token", json={"client_id": "ac_\x00", "client_secret": "x"}),
        Refusal(400, "json", ("client_id",)),
    ),
    "nul-admin-token": (
        lambda s: lambda: s.client.post("/api/v1/admin/auth/token", json={"username": "zhang\x00", "password": "x"}),
        Refusal(400, "json", ("username",)),
    ),
    "nul-admin-login-form": (
        lambda s: lambda: s.admin_login(username="zhang\x00"),
        Refusal(400, "form", ("username",), page=True),
    ),
    "nul-disclosure-publish": (
        lambda s: (
            lambda headers: (
                lambda: s.client.put(
                    "/api/v1/publish/disclosures/d1", json=decision(content="罚款\x00五千元"), headers=headers
                )
            )
        )(s.publish_headers()),
        Refusal(400, "json", ("content",)),
    ),
    "nul-in-a-field-name": (
        lambda s: lambda: s.client.post("/api/v1/complaints", json={**COMPLAINT, "con\x00tent": "x"}),
        Refusal(400, "json", ("con\\x00tent",)),
    ),
    # lone surrogates, which no UTF-8 (column, digest, response) can encode
    "surrogate-complaint": (
        lambda s: lambda: s.post_json_text("/api/v1/complaints", json_with(COMPLAINT, "content", LONE_SURROGATE)),
        Refusal(400, "json", ("content",)),
    ),
    "surrogate-disclosure": (
        lambda s: (
            lambda headers: (
                lambda: s.put_json_text(
                    "/api/v1/publish/disclosures/d1", json_with(decision(), "title", LONE_SURROGATE), headers
                )
            )
        )(s.publish_headers()),
        Refusal(400, "json", ("title",)),
    ),
    "surrogate-nested-detail": (
        lambda s: (
            lambda headers: (
                lambda: s.put_json_text(
                    "/api/v1/publish/disclosures/p1",
                    json_with(power(), "details", '{"matter": ' + LONE_SURROGATE + "}"),
                    headers,
                )
            )
        )(s.publish_headers()),
        Refusal(400, "json", ("details", "matter")),
    ),
    # JSON nesting
    "nested-1000-complaint": (
        lambda s: lambda: s.post_json_text("/api/v1/complaints", nested(1000)),
        Refusal(400, "json", ("_schema",)),
    ),
    "nested-1000-token-field": (
        lambda s: lambda: s.post_json_text("/api/v1/auth/token", json_with({}, "client_id", nested(1000))),
        Refusal(400, "json"),
    ),
    "nested-one-too-deep": (
        lambda s: (
            lambda: s.post_json_text("/api/v1/complaints", json_with(COMPLAINT, "content", nested(MAX_JSON_DEPTH)))
        ),
        Refusal(400, "json", ("content",)),
    ),
    # decompression bombs as an officer photo: refused from the header, before decoding
    "photo-png-20000-square": (
        officer_with_photo(lambda: png_claiming(20000, 20000), "image/png"),
        Refusal(422, "photo", ("data",)),
    ),
    "photo-jpeg-claiming-65000-square": (
        officer_with_photo(lambda: jpeg_claiming(65000, 65000), "image/jpeg"),
        Refusal(422, "photo", ("data",)),
    ),
    # quotes and angle brackets in the address
    "quote-in-page-path": (lambda s: lambda: s.client.get("/d/x%22onmouseover=1"), Refusal(400, "path", page=True)),
    "angle-brackets-in-api-path": (
        lambda s: lambda: s.client.get("/api/v1/agencies/%3Cscript%3E"),
        Refusal(400, "path"),
    ),
    # over-long addresses
    "long-query-api": (
        lambda s: lambda: s.client.get("/api/v1/agencies?name=" + "a" * MAX_URL_BYTES),
        Refusal(414, "url"),
    ),
    "long-query-page": (
        lambda s: lambda: s.client.get("/s?q=" + "a" * MAX_URL_BYTES),
        Refusal(414, "url", page=True),
    ),
}


def stored_rows(db_session) -> dict[str, int]:
    return {
        table.name: db_session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in Model.metadata.sorted_tables
    }


def assert_refused(response, refusal: Refusal) -> None:
    assert response.status_code == refusal.status, response.get_data(as_text=True)[:500]
    if refusal.page:
        assert response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        named = ".".join((refusal.location, *refusal.field)) if refusal.field else "地址"
        assert named in page
        return
    assert response.is_json
    body = response.get_json()
    assert body["code"] == refusal.status and body["status"] and body["message"]
    errors = body["errors"][refusal.location]
    for part in refusal.field:
        assert part in errors, body
        errors = errors[part]


@pytest.fixture
def sender(client, auth, db_session) -> Sender:
    judicial = AgencyFactory(code="SFJ", name="泉州市司法局", region_code="350500", supervises=True)
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500", parent=judicial)
    return Sender(client, auth)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_refused_in_the_error_shape_and_nothing_is_written(sender, db_session, case: Case):
    prepare, refusal = case
    send = prepare(sender)
    before = stored_rows(db_session)
    assert_refused(send(), refusal)
    assert stored_rows(db_session) == before


def test_nesting_up_to_the_limit_is_left_to_the_schema(sender, db_session):
    response = sender.post_json_text("/api/v1/complaints", json_with(COMPLAINT, "content", nested(MAX_JSON_DEPTH - 1)))
    assert response.status_code == 422
    assert "content" in response.get_json()["errors"]["json"]


def test_a_surrogate_pair_is_an_ordinary_character(sender):
    response = sender.post_json_text(
        "/api/v1/complaints", json_with(COMPLAINT, "content", '"执法人员态度恶劣\\ud83d\\ude20"')
    )
    assert response.status_code == 201, response.get_json()


def test_an_address_at_the_limit_is_served(sender):
    path = "/healthz?padding="
    response = sender.client.get(path + "a" * (MAX_URL_BYTES - len(path)))
    assert response.status_code == 200


def test_a_chunked_body_over_the_limit_is_413(sender, app, db_session, monkeypatch):
    """werkzeug cuts a chunked body at MAX_CONTENT_LENGTH; the parser then called it invalid JSON (400)."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    body = json.dumps({**COMPLAINT, "content": "执" * 1000}, ensure_ascii=False).encode()
    before = stored_rows(db_session)
    response = sender.client.post(
        "/api/v1/complaints",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_refused(response, Refusal(413, "body"))
    assert stored_rows(db_session) == before


# -- through a real gunicorn ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def live(app, tmp_path_factory):
    """One gunicorn on the session's database; everything sent to it is refused, so nothing needs emptying."""
    tmp = tmp_path_factory.mktemp("live")
    env = server_env(app, tmp, REDIS_URL="", ELASTICSEARCH_URL="", MAX_CONTENT_LENGTH="4096")
    with LiveServer(env, workers=1) as server:
        yield server


def raw_request(server: LiveServer, request_line: str, headers: str = "", body: bytes = b"") -> tuple[int, dict, bytes]:
    """Send bytes exactly as written (no client library would send a raw quote or a 9 KB request line)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(f"{request_line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n".encode() + body)
        answer = http.client.HTTPResponse(conn)
        answer.begin()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()


def assert_live_refused(answer: tuple[int, dict, bytes], status: int, location: str) -> None:
    code, headers, body = answer
    assert code == status, body[:500]
    assert headers["content-type"].startswith("application/json"), body[:500]
    payload = json.loads(body)
    assert payload["code"] == status and payload["message"] and location in payload["errors"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "request_line",
    ["GET /api/v1/disclosures?q=处罚 HTTP/1.1", "GET /healthz HTTP/9.9", "GET /s?q=a b HTTP/1.1"],
    ids=["raw-utf8-address", "unknown-version", "space-in-address"],
)
def test_live_a_request_gunicorn_cannot_parse_is_400_in_the_error_shape(live, request_line):
    assert_live_refused(raw_request(live, request_line), 400, "request")


@pytest.mark.slow
@pytest.mark.parametrize(
    "length", [MAX_URL_BYTES + 1, 6000, 9000], ids=["over-ours", "under-gunicorns", "over-gunicorns"]
)
def test_live_an_over_long_address_is_414_in_the_error_shape(live, length):
    path = "/api/v1/agencies?name="
    answer = raw_request(live, f"GET {path}{'a' * (length - len(path))} HTTP/1.1")
    assert_live_refused(answer, 414, "url")


@pytest.mark.slow
def test_live_a_header_too_long_for_gunicorn_is_431_in_the_error_shape(live):
    answer = raw_request(live, "GET /healthz HTTP/1.1", f"X-Padding: {'a' * 9000}\r\n")
    assert_live_refused(answer, 431, "headers")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "location"),
    [('/api/v1/agencies/"x"', "path"), ("/api/v1/agencies/<x>", "path"), ('/api/v1/agencies?name="x"', "query")],
    ids=["raw-quote-path", "raw-angle-path", "raw-quote-query"],
)
def test_live_raw_quotes_and_angle_brackets_are_400(live, target, location):
    assert_live_refused(raw_request(live, f"GET {target} HTTP/1.1"), 400, location)


@pytest.mark.slow
def test_live_a_chunked_body_over_the_limit_is_413(live, app):
    body = json.dumps({**COMPLAINT, "content": "执" * 3000}, ensure_ascii=False).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:4000], body[4000:])) + b"0\r\n\r\n"
    with app.app_context():
        before = stored_rows(db.session)
        answer = raw_request(
            live,
            "POST /api/v1/complaints HTTP/1.1",
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
            chunks,
        )
        assert_live_refused(answer, 413, "body")
        db.session.rollback()
        assert stored_rows(db.session) == before
        db.session.remove()


def test_an_integer_no_database_stores_is_400_naming_the_field(client, auth, db_session):
    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    headers = auth.headers("MKT")
    body = {"records": [{"step": "investigation", "time": "2026-03-02T09:00:00+08:00", "corrects": 10**30}]}
    response = client.post("/api/v1/publish/cases/C1/records", json=body, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"json": {"records": {"0": {"corrects": [OUT_OF_RANGE]}}}}
