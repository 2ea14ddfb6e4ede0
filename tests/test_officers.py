"""Officers and credentials: agencies manage their own; the roster is public (no photo)."""

import base64
import io
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.officers import services, tokens
from tests.factories import AgencyFactory
from tests.factories.officers import image_bytes, officer

URL = "/api/v1/publish/officers"


@pytest.fixture
def agencies(db_session):
    return (AgencyFactory(code="MKT", name="泉州市市场监督管理局"), AgencyFactory(code="ENV", name="泉州市生态环境局"))


@pytest.fixture
def mkt(auth, agencies):
    return auth.headers("MKT")


@pytest.fixture
def env(auth, agencies):
    return auth.headers("ENV")


def test_create_read_repeat_update(client, mkt):
    created = client.put(f"{URL}/35050012345", json=officer(), headers=mkt)
    assert created.status_code == 201
    body = created.get_json()
    assert body["agency"] == {"code": "MKT", "name": "泉州市市场监督管理局"}
    assert body["status"] == "active" and len(body["photo_sha256"]) == 64
    assert client.get(f"{URL}/35050012345", headers=mkt).get_json()["name"] == "李明"
    again = client.put(f"{URL}/35050012345", json=officer(), headers=mkt)
    assert again.status_code == 200 and again.get_json()["version"] == body["version"]
    moved = client.put(f"{URL}/35050012345", json=officer(domains=["生态环境"]), headers=mkt).get_json()
    assert moved["domains"] == ["生态环境"] and moved["version"] == body["version"] + 1
    assert moved["photo_sha256"] == body["photo_sha256"]


def open_verify_url(client, app, url: str) -> str:
    """The page an officer response's ``verify_url`` opens, which must be this platform's ``/v/`` page."""
    base = app.config["PUBLIC_BASE_URL"] + "/v/"
    assert url.startswith(base), url
    page = client.get(urlsplit(url).path)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_every_officer_response_opens_its_badge_page_through_verify_url(client, app, mkt):
    created = client.put(f"{URL}/35050012345", json=officer(), headers=mkt).get_json()
    read = client.get(f"{URL}/35050012345", headers=mkt).get_json()
    listed = client.get(URL, headers=mkt).get_json()["items"]
    suspended = client.post(
        f"{URL}/35050012345/status", json={"status": "suspended", "reason": "调离执法岗位"}, headers=mkt
    ).get_json()
    for response in (created, read, *listed):
        page = open_verify_url(client, app, response["verify_url"])
        assert 'data-result="suspended"' in page and "李明" in page  # the page is live: the status as it is now
    assert 'data-result="suspended"' in open_verify_url(client, app, suspended["verify_url"])


def test_verify_url_is_built_as_the_badge_cards_qr(client, app, mkt):
    from PIL import Image

    from tests.support.qr import decode_qr

    read = client.put(f"{URL}/35050012345", json=officer(), headers=mkt).get_json()
    png = client.get(f"{URL}/35050012345/badge.png", headers=mkt)
    (printed,) = decode_qr(Image.open(io.BytesIO(png.data)))
    base = app.config["PUBLIC_BASE_URL"] + "/v/"
    claims = [tokens.decode(url.removeprefix(base)) for url in (printed, read["verify_url"]) if url.startswith(base)]
    # Both are static tokens of this badge, each signed at its own second.
    assert [(c.badge_no, c.agency_code, c.kind) for c in claims] == [("35050012345", "MKT", "static")] * 2


def test_the_officer_list_is_the_agencys_own_by_badge_number(client, mkt, env):
    for badge in ("35050099999", "35050011111"):
        assert client.put(f"{URL}/{badge}", json=officer(), headers=mkt).status_code == 201
    client.put(f"{URL}/35050055555", json=officer(), headers=env)
    first = client.get(URL, query_string={"page_size": 1}, headers=mkt).get_json()
    assert first["total"] == 2 and [o["badge_no"] for o in first["items"]] == ["35050011111"]
    second = client.get(URL, query_string={"page_size": 1, "page": 2}, headers=mkt).get_json()
    assert [o["badge_no"] for o in second["items"]] == ["35050099999"]
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize(
    ("photo", "field"),
    [
        ({"media_type": "image/jpeg", "data": "not base64!"}, "data"),
        ({"media_type": "image/jpeg", "data": base64.b64encode(b"GIF89a not really").decode()}, "data"),
        ({"media_type": "image/jpeg", "data": base64.b64encode(image_bytes("PNG")).decode()}, "media_type"),
        ({"media_type": "image/gif", "data": base64.b64encode(image_bytes()).decode()}, "media_type"),
    ],
)
def test_photos_must_be_real_jpeg_or_png(client, mkt, photo, field):
    response = client.put(f"{URL}/35050012345", json=officer(photo=photo), headers=mkt)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    photo_errors = errors.get("photo") or errors["json"]["photo"]
    assert field in photo_errors


def test_photo_size_is_limited(client, mkt, app, monkeypatch):
    monkeypatch.setitem(app.config, "OFFICER_PHOTO_MAX_BYTES", 100)
    response = client.put(f"{URL}/35050012345", json=officer(), headers=mkt)
    assert response.status_code == 422
    assert "at most 100 bytes" in str(response.get_json()["errors"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"valid_until": "2020-01-01"}, "valid_until"),
        ({"domains": []}, "domains"),
        ({"regions": ["12"]}, "regions"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_officers_name_the_field(client, mkt, change, field):
    response = client.put(f"{URL}/35050012345", json=officer(**change), headers=mkt)
    assert response.status_code == 422 and field in response.get_json()["errors"]["json"]


def test_bad_badge_numbers_are_refused(client, mkt):
    assert client.put(f"{URL}/a%20b", json=officer(), headers=mkt).status_code == 422


def test_an_agency_cannot_touch_another_agencys_officers(client, mkt, env):
    client.put(f"{URL}/35050012345", json=officer(), headers=mkt)
    assert client.get(f"{URL}/35050012345", headers=env).status_code == 404
    assert (
        client.post(f"{URL}/35050012345/status", json={"status": "revoked", "reason": "离职"}, headers=env).status_code
        == 404
    )
    assert client.get(f"{URL}/35050012345/badge.svg", headers=env).status_code == 404
    assert client.post(f"{URL}/35050012345/dynamic-badge", headers=env).status_code == 404
    # ENV's PUT of the same badge number is ENV's own officer; MKT's is untouched.
    assert client.put(f"{URL}/35050012345", json=officer(name="王芳"), headers=env).status_code == 201
    assert client.get(f"{URL}/35050012345", headers=mkt).get_json()["name"] == "李明"
    assert client.get(f"{URL}/35050012345/status", headers=mkt).status_code == 405


def test_status_changes_are_audited(client, mkt, db_session):
    client.put(f"{URL}/35050012345", json=officer(), headers=mkt)
    changed = client.post(
        f"{URL}/35050012345/status",
        json={"status": "suspended", "reason": "调离执法岗位"},
        headers=mkt,
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    ).get_json()
    assert (changed["status"], changed["status_reason"]) == ("suspended", "调离执法岗位")
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "officer.status"))
    assert entry.target_id == "MKT/35050012345" and entry.actor.startswith("client:")
    assert entry.ip == "203.0.113.7"  # the client's address, given by the view
    assert entry.detail == {"before": "active", "after": "suspended", "reason": "调离执法岗位"}
    bad = client.post(f"{URL}/35050012345/status", json={"status": "gone", "reason": "x"}, headers=mkt)
    assert bad.status_code == 422 and set(bad.get_json()["errors"]["json"]) == {"status", "reason"}


@pytest.mark.parametrize("search_engine", ["embedded", "elasticsearch"], indirect=True)
def test_the_public_roster_is_searchable_and_has_no_photo(client, mkt, env, indexer):
    client.put(f"{URL}/35050012345", json=officer(), headers=mkt)
    client.put(f"{URL}/35050099999", json=officer(name="王芳", domains=["生态环境"]), headers=env)
    client.post(f"{URL}/35050099999/status", json={"status": "revoked", "reason": "退休"}, headers=env)
    indexer.sync()
    found = client.get("/api/v1/officers?q=李明").get_json()
    assert [o["badge_no"] for o in found["items"]] == ["35050012345"]
    entry = found["items"][0]
    assert entry["agency"]["name"] == "泉州市市场监督管理局" and entry["domains"] == ["食品安全", "市场监管"]
    assert "photo" not in str(entry) and "exam_date" not in entry
    assert client.get("/api/v1/officers?q=35050099999").get_json()["items"][0]["status"] == "revoked"
    assert client.get("/api/v1/officers?agency=ENV").get_json()["total"] == 1
    assert client.get("/api/v1/officers?status=active").get_json()["total"] == 1
    assert client.get("/api/v1/officers?domain=生态环境").get_json()["items"][0]["name"] == "王芳"


def test_the_badge_card_is_drawn_in_the_configured_font(app, client, mkt, agencies, monkeypatch, tmp_path):
    client.put(f"{URL}/35050012345", json=officer(), headers=mkt)
    with app.app_context():
        assert services.badge_card(agencies[0], "35050012345").font is None  # the bundled font
        monkeypatch.setitem(app.config, "BADGE_FONT_PATH", str(tmp_path / "agency-font.otf"))
        assert services.badge_card(agencies[0], "35050012345").font == str(tmp_path / "agency-font.otf")
