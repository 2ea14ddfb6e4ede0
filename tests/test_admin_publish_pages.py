"""The publisher's web entry form (an agency without a case system), through the Flask test client."""

from __future__ import annotations

import html
import json
import re

import pytest
from flask import Flask
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.disclosures.models import Disclosure
from backend.officers.models import Officer
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision
from tests.support.admin_browser import PASSWORD, AdminBrowser

ID_NUMBER = "350502199001011234"
PERSON = {
    "subject_type": "person",
    "subject_name": "张三丰",
    "subject_id": ID_NUMBER,
    "content": "当事人张三丰（身份证号 350502199001011234，电话 13905951234）无证经营，决定罚款二千元。",
}


@pytest.fixture
def agencies(db_session):
    return {
        "MKT": AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500"),
        "ENV": AgencyFactory(code="ENV", name="泉州市生态环境局", region_code="350500"),
    }


@pytest.fixture
def sign_in(app: Flask, runner, agencies, frozen_clock):
    def open_as(username: str, role: str = "publisher", agency: str = "MKT") -> AdminBrowser:
        args = ["admin", "create", "--username", username, "--role", role, "--agency", agency]
        result = runner.invoke(args=args, input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        person = AdminBrowser(app.test_client())
        assert person.login(username).status_code == 303
        return person

    return open_as


def form_of(external_id: str, **overrides: str) -> dict[str, str]:
    body = {**decision(), **overrides}
    body.pop("phase")
    if isinstance(body.get("details"), dict):  # the form takes the type's details as JSON text
        body["details"] = json.dumps(body["details"], ensure_ascii=False)
    return {"external_id": external_id, "publish": "1", **body}


def preview(person: AdminBrowser, form: dict[str, str]):
    return person.client.post("/admin/publish/preview", data={"csrf_token": person.token("/admin/publish"), **form})


def confirm(person: AdminBrowser, page: str):
    payload = html.unescape(re.search(r'name="payload" value="([^"]*)"', page).group(1))
    token = person.token("/admin/publish")
    return person.client.post("/admin/publish/confirm", data={"csrf_token": token, "payload": payload})


def item(db_session, agency: str, external_id: str) -> Disclosure | None:
    db_session.expire_all()
    return db_session.scalar(
        select(Disclosure).where(Disclosure.external_id == external_id, Disclosure.agency.has(code=agency))
    )


def test_a_publisher_lands_on_the_publish_page(sign_in):
    wang = sign_in("wang")
    assert wang.get("/admin/").location.endswith("/admin/publish")
    assert "信息发布" in wang.page("/admin/publish")


def test_the_preview_shows_what_citizens_would_see_and_saves_nothing(sign_in, db_session, client):
    wang = sign_in("wang")
    shown = preview(wang, form_of("D-1", **PERSON))
    assert shown.status_code == 200
    page = shown.get_data(as_text=True)
    preview_part = page.split('data-section="preview"')[1].split("</section>")[0]
    assert "张某某" in preview_part and "张三丰" not in preview_part
    assert ID_NUMBER not in preview_part and "13905951234" not in preview_part
    assert item(db_session, "MKT", "D-1") is None
    published = confirm(wang, page)
    assert published.status_code == 303
    saved = item(db_session, "MKT", "D-1")
    assert saved.status == "published" and saved.subject_id == ID_NUMBER
    public = client.get(f"/api/v1/disclosures/{saved.id}").get_json()
    # The preview showed exactly the public text.
    assert html.escape(public["content"], quote=False) in preview_part
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "admin:wang"))
    assert "disclosure.publish" in set(actions)


def test_invalid_input_comes_back_with_the_field_named(sign_in, db_session):
    wang = sign_in("wang")
    refused = preview(wang, form_of("D-2", title="", details="{not json"))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'data-error="title"' in page and 'data-error="details"' in page
    assert item(db_session, "MKT", "D-2") is None


def test_correct_then_withdraw(sign_in, db_session, client):
    wang = sign_in("wang")
    confirm(wang, preview(wang, form_of("D-3")).get_data(as_text=True))
    edit = wang.page("/admin/publish/items/D-3")
    assert "泉市监罚〔2025〕101号" in edit  # the form is prefilled
    corrected = preview(wang, form_of("D-3", title="泉州市某食品店销售过期食品行政处罚决定书（更正）"))
    assert confirm(wang, corrected.get_data(as_text=True)).status_code == 303
    saved = item(db_session, "MKT", "D-3")
    assert saved.public["title"].endswith("（更正）") and saved.version == 2
    token = wang.token("/admin/publish/items/D-3")
    form = {"csrf_token": token, "reason": "revoked", "explanation": "该决定已被依法撤销。"}
    assert wang.client.post("/admin/publish/items/D-3/withdraw", data=form).status_code == 303
    assert item(db_session, "MKT", "D-3").status == "withdrawn"
    assert client.get(f"/api/v1/disclosures/{saved.id}").status_code == 410


def test_another_agencys_item_is_not_found(sign_in, db_session, auth, client):
    put = client.put("/api/v1/publish/disclosures/ENV-1", json=decision(), headers=auth.headers("ENV"))
    assert put.status_code == 201, put.get_json()
    wang = sign_in("wang")
    assert wang.get("/admin/publish/items/ENV-1").status_code == 404
    token = wang.token("/admin/publish")
    form = {"csrf_token": token, "reason": "revoked", "explanation": "试图撤下别人的。"}
    assert wang.client.post("/admin/publish/items/ENV-1/withdraw", data=form).status_code == 404
    assert "ENV-1" not in wang.page("/admin/publish")
    # The same external id from the form is the publisher's own item, never the other agency's.
    confirm(wang, preview(wang, form_of("ENV-1", title="本机关的决定")).get_data(as_text=True))
    assert item(db_session, "ENV", "ENV-1").title == decision()["title"]
    assert item(db_session, "MKT", "ENV-1").title == "本机关的决定"


def test_a_post_without_the_token_is_refused(sign_in, db_session):
    wang = sign_in("wang")
    page = preview(wang, form_of("D-4")).get_data(as_text=True)
    payload = html.unescape(re.search(r'name="payload" value="([^"]*)"', page).group(1))
    assert json.loads(payload)["external_id"] == "D-4"
    for form in ({"payload": payload}, {"payload": payload, "csrf_token": "forged"}):
        assert wang.client.post("/admin/publish/confirm", data=form).status_code == 403
    assert item(db_session, "MKT", "D-4") is None


def test_other_roles_are_refused_and_a_publisher_opens_nothing_else(sign_in):
    zhang = sign_in("zhang", role="handler")
    assert zhang.get("/admin/publish").status_code == 403
    assert zhang.get("/admin/officers").status_code == 403
    wang = sign_in("wang")
    for path in ("/admin/complaints", "/admin/dashboard", "/admin/approvals", "/admin/reviews"):
        assert wang.get(path).status_code == 403, path


def test_officer_register_status_and_badge_card(sign_in, db_session):
    wang = sign_in("wang")
    token = wang.token("/admin/officers")
    form = {
        "csrf_token": token,
        "badge_no": "35050012345",
        "name": "李执法",
        "domains": "食品安全\n市场监管",
        "valid_from": "2025-01-01",
        "valid_until": "2030-12-31",
    }
    assert wang.client.post("/admin/officers", data=form).status_code == 303
    db_session.expire_all()
    officer = db_session.scalar(select(Officer).where(Officer.badge_no == "35050012345"))
    assert officer.name == "李执法" and officer.domains == ["食品安全", "市场监管"]
    assert "李执法" in wang.page("/admin/officers")
    card = wang.page("/admin/officers/35050012345/card")
    assert "/admin/officers/35050012345/card.svg" in card
    svg = wang.get("/admin/officers/35050012345/card.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    status = {"csrf_token": token, "status": "suspended", "reason": "调离执法岗位"}
    assert wang.client.post("/admin/officers/35050012345/status", data=status).status_code == 303
    db_session.expire_all()
    assert db_session.get(Officer, officer.id).status == "suspended"
    zhao = sign_in("zhao", agency="ENV")
    assert zhao.get("/admin/officers/35050012345/card").status_code == 404


def test_a_publisher_belongs_to_an_agency(runner, agencies):
    args = ["admin", "create", "--username", "nobody", "--role", "publisher"]
    result = runner.invoke(args=args, input=PASSWORD + "\n")
    assert result.exit_code != 0 and "信息发布员须属于一个执法主体" in result.output
