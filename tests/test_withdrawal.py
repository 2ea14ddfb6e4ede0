"""Withdrawal (撤下), correction and expiry: open, explained, and final for citizens."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from backend.audit.models import AuditEntry
from backend.disclosures.models import DisclosureVersion
from backend.transparency.models import LogEntry
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision

URL = "/api/v1/publish/disclosures"
WITHDRAWAL = {
    "reason": "revoked",
    "explanation": "该处罚决定已被泉州市人民政府行政复议决定撤销。",
    "document_no": "泉政复决〔2025〕12号",
}


@pytest.fixture
def mkt(auth, db_session):
    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    return auth.headers("MKT")


@pytest.fixture
def published(client, mkt, frozen_clock):
    body = client.put(f"{URL}/case-1", json=decision(decision_date="2025-10-15"), headers=mkt).get_json()
    assert body["status"] == "published"
    return body


def events(db_session, item_id):
    return [
        e.event
        for e in db_session.scalars(select(LogEntry).where(LogEntry.item_id == item_id).order_by(LogEntry.index))
    ]


@pytest.mark.parametrize("search_engine", ["embedded", "elasticsearch"], indirect=True)
def test_a_withdrawn_item_leaves_search_and_its_page_at_once(client, mkt, published, indexer, db_session):
    indexer.sync()
    assert client.get("/api/v1/disclosures?q=过期食品").get_json()["total"] == 1
    response = client.post(f"{URL}/case-1/withdraw", json=WITHDRAWAL, headers=mkt)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "withdrawn" and body["withdrawal_reason"] == "revoked"
    # Even before the index catches up, the public API no longer shows it.
    assert client.get("/api/v1/disclosures?q=过期食品").get_json()["items"] == []
    indexer.sync()
    assert client.get("/api/v1/disclosures?q=过期食品").get_json()["total"] == 0

    gone = client.get(f"/api/v1/disclosures/{published['id']}")
    assert gone.status_code == 410
    notice = gone.get_json()
    assert notice["code"] == 410 and notice["reason"] == "revoked" and notice["reason_label"] == "被依法撤销"
    assert notice["explanation"] == WITHDRAWAL["explanation"] and notice["document_no"] == "泉政复决〔2025〕12号"
    assert notice["withdrawn_at"] and notice["log_index"] > notice["published_log_index"]
    page = client.get(f"/d/{published['id']}")
    assert page.status_code == 410 and "已撤下" in page.get_data(as_text=True)
    # The original stays for the agency.
    own = client.get(f"{URL}/case-1", headers=mkt).get_json()
    assert own["content"] == published["content"] and own["withdrawal_explanation"] == WITHDRAWAL["explanation"]
    assert events(db_session, published["id"]) == ["publish", "withdraw"]


def test_withdrawing_twice_changes_nothing(client, mkt, published, db_session):
    first = client.post(f"{URL}/case-1/withdraw", json=WITHDRAWAL, headers=mkt).get_json()
    second = client.post(f"{URL}/case-1/withdraw", json={**WITHDRAWAL, "reason": "other"}, headers=mkt)
    assert second.status_code == 200
    assert second.get_json()["withdrawn_at"] == first["withdrawn_at"]
    assert second.get_json()["withdrawal_reason"] == "revoked"
    assert events(db_session, published["id"]) == ["publish", "withdraw"]


def test_a_withdrawal_is_audited_with_the_client_address(client, mkt, published, db_session):
    client.post(f"{URL}/case-1/withdraw", json=WITHDRAWAL, headers=mkt, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "disclosure.withdraw"))
    assert (entry.target_id, entry.ip) == (published["id"], "203.0.113.9")


def test_another_agency_cannot_withdraw(client, auth, mkt, published, db_session):
    AgencyFactory(code="ENV")
    response = client.post(f"{URL}/case-1/withdraw", json=WITHDRAWAL, headers=auth.headers("ENV"))
    assert response.status_code == 404
    assert client.get(f"/api/v1/disclosures/{published['id']}").status_code == 200


def test_withdrawal_needs_a_reason_and_a_published_item(client, mkt, published):
    bad = client.post(f"{URL}/case-1/withdraw", json={"reason": "bored", "explanation": ""}, headers=mkt)
    assert bad.status_code == 422 and set(bad.get_json()["errors"]["json"]) == {"reason", "explanation"}
    client.put(f"{URL}/pending", json=decision(publish=False), headers=mkt)
    assert client.post(f"{URL}/pending/withdraw", json=WITHDRAWAL, headers=mkt).status_code == 409
    assert client.post(f"{URL}/nothing/withdraw", json=WITHDRAWAL, headers=mkt).status_code == 404


def test_a_withdrawn_item_cannot_be_edited_back(client, mkt, published):
    client.post(f"{URL}/case-1/withdraw", json=WITHDRAWAL, headers=mkt)
    again = client.put(f"{URL}/case-1", json=decision(title="重新作出的决定"), headers=mkt)
    assert again.status_code == 409 and "external_id" in again.get_json()["errors"]


def test_a_correction_is_a_new_version_and_says_so(client, mkt, published, db_session):
    assert client.get(f"/api/v1/disclosures/{published['id']}").get_json()["corrected_at"] is None
    corrected = client.put(
        f"{URL}/case-1", json=decision(decision_date="2025-10-15", content="更正后的事实。"), headers=mkt
    )
    assert corrected.status_code == 200 and corrected.get_json()["corrected_at"]
    public = client.get(f"/api/v1/disclosures/{published['id']}").get_json()
    assert public["content"] == "更正后的事实。" and public["corrected_at"]
    assert public["log_index"] == corrected.get_json()["log_index"] != published["log_index"]
    versions = db_session.scalars(
        select(DisclosureVersion)
        .where(DisclosureVersion.disclosure_id == published["id"])
        .order_by(DisclosureVersion.number)
    ).all()
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].public["content"] == published["public"]["content"]
    assert events(db_session, published["id"]) == ["publish", "correct"]


def test_penalties_expire_after_their_period_and_the_log_says_expired(client, mkt, runner, frozen_clock, db_session):
    person = client.put(
        f"{URL}/p",
        json=decision(subject_type="person", subject_name="张三", subject_id=None, decision_date="2025-10-15"),
        headers=mkt,
    ).get_json()
    org = client.put(
        f"{URL}/o", json=decision(document_no="泉市监罚〔2025〕7号", decision_date="2025-10-15"), headers=mkt
    ).get_json()
    license_ = client.put(
        f"{URL}/l", json=decision(category="licensing", document_no="许〔2025〕1号"), headers=mkt
    ).get_json()
    assert (person["expires_on"], org["expires_on"], license_["expires_on"]) == ("2026-10-15", "2028-10-14", None)
    frozen_clock.advance(dt.timedelta(days=366))
    assert "expired 1 items" in runner.invoke(args=["disclosures", "expire"]).output
    assert "expired 0 items" in runner.invoke(args=["disclosures", "expire"]).output
    gone = client.get(f"/api/v1/disclosures/{person['id']}")
    assert gone.status_code == 410 and gone.get_json()["reason"] == "expired"
    assert gone.get_json()["reason_label"] == "公示期满"
    assert client.get(f"/api/v1/disclosures/{org['id']}").status_code == 200
    assert events(db_session, person["id"]) == ["publish", "expire"]
    assert db_session.scalar(select(func.count()).select_from(LogEntry).where(LogEntry.event == "withdraw")) == 0


def test_supervisors_see_every_change_with_who_when_and_why(
    client, auth, runner, mkt, published, db_session, frozen_clock
):
    AgencyFactory(code="XM", name="厦门市市场监督管理局", region_code="350200")
    xm = auth.headers("XM")
    client.put(f"{URL}/x", json=decision(), headers=xm)
    client.post(f"{URL}/x/withdraw", json={**WITHDRAWAL, "reason": "remade"}, headers=xm)
    client.put(f"{URL}/case-1", json=decision(decision_date="2025-10-15", title="更正标题"), headers=mkt)
    client.post(f"{URL}/case-1/withdraw", json=WITHDRAWAL, headers=mkt)
    for name, args in (("li", ["--role", "supervisor", "--region", "350500"]), ("root", ["--role", "admin"])):
        assert (
            runner.invoke(args=["admin", "create", "--username", name, *args], input="a long password 1\n").exit_code
            == 0
        )

    def changes(username, **params):
        token = client.post(
            "/api/v1/admin/auth/token", json={"username": username, "password": "a long password 1"}
        ).get_json()["access_token"]
        response = client.get(
            "/api/v1/admin/disclosure-changes", query_string=params, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    quanzhou = changes("li")
    assert [(i["event"], i["agency"]["code"]) for i in quanzhou["items"]] == [("withdraw", "MKT"), ("correct", "MKT")]
    withdrawal = quanzhou["items"][0]
    assert withdrawal["actor"].startswith("client:") and withdrawal["reason"] == "revoked"
    assert withdrawal["explanation"] == WITHDRAWAL["explanation"] and withdrawal["title"] == "更正标题"
    assert changes("root")["total"] == 3
    assert changes("root", event="withdraw", agency="XM")["items"][0]["reason"] == "remade"
    assert client.get("/api/v1/admin/disclosure-changes").status_code == 401
    assert client.get("/api/v1/admin/disclosure-changes", headers=mkt).status_code == 401
