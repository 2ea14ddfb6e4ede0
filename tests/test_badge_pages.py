"""The badge pages a citizen reads: every verdict gives the agency's numbers, 12345 and its page; a forged or
unknown badge is answered calmly; a badge number typed in (a damaged QR) gets the verdict a scan would."""

import re

import pytest
from sqlalchemy import select

from backend.officers.models import BadgeScan
from tests.factories import AgencyFactory
from tests.factories.officers import officer
from tests.test_badges import BADGE, URL, forge, static_token

LOOKUP_API = "/api/v1/badges/lookup"


@pytest.fixture
def registered(client, auth, db_session):
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", phone="0595-22180002", complaint_phone="0595-12315")
    headers = auth.headers("MKT")
    assert client.put(f"{URL}/{BADGE}", json=officer(), headers=headers).status_code == 201
    return headers


def set_status(client, headers, status):
    response = client.post(f"{URL}/{BADGE}/status", json={"status": status, "reason": "调离执法岗位"}, headers=headers)
    assert response.status_code == 200


def expire(client, headers):
    body = officer(valid_from="2020-01-01", valid_until="2021-01-01")
    assert client.put(f"{URL}/{BADGE}", json=body, headers=headers).status_code == 200


def assert_contacts(html: str) -> None:
    """What every verdict of a known agency gives: its page, its numbers and 12345."""
    assert 'href="/a/MKT"' in html
    assert 'href="tel:0595-22180002"' in html and 'href="tel:0595-12315"' in html and 'href="tel:12345"' in html


def assert_calm(html: str) -> None:
    """无法确认 is said as a fact to check, never as an instruction not to cooperate."""
    assert "无法确认该证件，请要求执法人员出示证件并核对，或拨打 12345" in html
    assert "请勿配合" not in html and "伪造" not in html


@pytest.mark.parametrize("state", ["valid", "suspended", "revoked", "expired"])
def test_every_verdict_gives_the_agencys_numbers_12345_and_page(client, registered, app, state):
    token = static_token(app)
    if state in ("suspended", "revoked"):
        set_status(client, registered, state)
    elif state == "expired":
        expire(client, registered)
    html = client.get(f"/v/{token}").get_data(as_text=True)
    assert f'data-result="{state}"' in html
    assert_contacts(html)
    assert 'href="/v"' in html  # the lookup, for the next badge whose QR will not scan


def test_a_forged_or_unknown_badge_is_answered_calmly_with_12345(client, registered, app):
    token = static_token(app)
    for bad in (forge(token, b="35050099999"), "garbage"):
        html = client.get(f"/v/{bad}").get_data(as_text=True)
        assert 'data-result="invalid"' in html and "李明" not in html and "/a/MKT" not in html
        assert_calm(html)
        assert 'href="tel:12345"' in html


def test_the_lookup_form(client, registered):
    page = client.get("/v")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<form method="get" action="/v"' in html and 'name="badge_no"' in html


@pytest.mark.parametrize("state", ["valid", "suspended", "revoked", "expired"])
def test_a_typed_badge_number_gets_the_verdict_a_scan_gets(client, registered, app, state):
    if state in ("suspended", "revoked"):
        set_status(client, registered, state)
    elif state == "expired":
        expire(client, registered)
    scanned = client.get("/api/v1/badges/verify", query_string={"token": static_token(app)}).get_json()
    typed = client.get(LOOKUP_API, query_string={"badge_no": BADGE}).get_json()
    assert typed["result"] == scanned["result"] == state and typed["label"] == scanned["label"]
    assert typed["officer"] == scanned["officer"] and typed["token_kind"] == "manual"
    page = client.get("/v", query_string={"badge_no": f" {BADGE} "})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert f'data-result="{state}"' in html and "李明" in html and "此结果依据您输入的执法证号查询" in html
    assert_contacts(html)
    # No more than a scan shows, and less: no photo (only a scanned token fetches it), and no scan receipt.
    assert "/photo" not in html and "receipt=" not in html and f"badge={BADGE}" in html


def test_an_unknown_number_is_answered_calmly_and_logged_without_it(client, registered, app, db_session):
    typed = client.get(LOOKUP_API, query_string={"badge_no": "35059999999"}).get_json()
    assert (typed["result"], typed["reason"], typed["officer"], typed["label"]) == (
        "invalid",
        "unknown_officer",
        None,
        "无法验证",
    )
    html = client.get("/v", query_string={"badge_no": "35059999999"}).get_data(as_text=True)
    assert 'data-result="invalid"' in html and "李明" not in html
    assert_calm(html)
    client.get(LOOKUP_API, query_string={"badge_no": BADGE})
    assert app.extensions["scan_log"].flush() == 3
    scans = db_session.scalars(select(BadgeScan).order_by(BadgeScan.id)).all()
    assert [(s.token_kind, s.result, s.badge_no) for s in scans] == [
        ("manual", "invalid", None),
        ("manual", "invalid", None),
        ("manual", "valid", BADGE),
    ]


def test_a_malformed_number_is_refused_in_shape(client, registered):
    response = client.get(LOOKUP_API, query_string={"badge_no": "<script>"})
    assert response.status_code == 422 and set(response.get_json()["errors"]["query"]) == {"badge_no"}
    assert client.get(LOOKUP_API, query_string={"badge_no": "x" * 33}).status_code == 422
    for typed in ("x" * 300, "3505 0012345", "<b>"):
        page = client.get("/v", query_string={"badge_no": typed})
        assert page.status_code == 422 and "请核对后重新输入" in page.get_data(as_text=True)


def test_a_number_two_agencies_share_asks_which_agency(client, registered, auth):
    AgencyFactory(code="XM", name="厦门市市场监督管理局")
    other = auth.headers("XM")
    assert client.put(f"{URL}/{BADGE}", json=officer(name="陈强"), headers=other).status_code == 201
    set_status(client, other, "revoked")
    ambiguous = client.get(LOOKUP_API, query_string={"badge_no": BADGE})
    assert ambiguous.status_code == 422 and ambiguous.get_json()["errors"] == {"agency": ["one of MKT, XM"]}
    page = client.get("/v", query_string={"badge_no": BADGE})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "厦门市市场监督管理局" in html and "李明" not in html
    choice = re.search(r'href="(/v\?badge_no=[^"]+agency=XM)"', html).group(1).replace("&amp;", "&")
    chosen = client.get(choice).get_data(as_text=True)
    assert 'data-result="revoked"' in chosen and "陈强" in chosen
    mine = client.get(LOOKUP_API, query_string={"badge_no": BADGE, "agency": "MKT"}).get_json()
    assert (mine["result"], mine["officer"]["name"]) == ("valid", "李明")


def test_the_lookup_is_rate_limited_with_verify(client, registered, app, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_RATE_LIMIT_PER_MINUTE", 3)
    token = static_token(app)
    assert client.get("/api/v1/badges/verify", query_string={"token": token}).status_code == 200
    assert client.get(LOOKUP_API, query_string={"badge_no": BADGE}).status_code == 200
    assert client.get("/v", query_string={"badge_no": BADGE}).status_code == 200
    limited = client.get(LOOKUP_API, query_string={"badge_no": BADGE})
    assert limited.status_code == 429 and limited.get_json()["code"] == 429 and limited.headers["Retry-After"]
    page = client.get("/v", query_string={"badge_no": BADGE})
    assert page.status_code == 429 and "核验请求过于频繁" in page.get_data(as_text=True)
    assert 'href="tel:12345"' in page.get_data(as_text=True)
    assert client.get(f"/v/{token}").status_code == 429
    # The empty form costs nothing; another address is not limited.
    assert client.get("/v").status_code == 200
    other = client.get(LOOKUP_API, query_string={"badge_no": BADGE}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_a_number_typed_in_lower_case_finds_the_printed_one(client, registered):
    assert client.put(f"{URL}/QZSJ-2024A", json=officer(name="张华"), headers=registered).status_code == 201
    typed = client.get(LOOKUP_API, query_string={"badge_no": "qzsj-2024a"}).get_json()
    assert (typed["result"], typed["officer"]["badge_no"], typed["officer"]["name"]) == ("valid", "QZSJ-2024A", "张华")
