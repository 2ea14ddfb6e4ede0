"""实时调阅: a supervisor opens any case of their region and the divisions below (another region's: 404), in the
admin page and through the API; every read is audited and the agency lists who read its cases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.complaints import services as complaints
from backend.extensions import db
from tests import test_admin_review_pages as review_pages
from tests.factories import reviews
from tests.factories.disclosures import decision
from tests.support.admin_browser import PASSWORD

# The review pages' fixtures: 泉州 (SFJ, MKT, ENV in 350500) and 厦门 (XM, 350200), each city's C1 with records
# and a submitted review; ``person`` signs someone in to the admin page.
region, person = review_pages.region, review_pages.person

URL = "/api/v1/publish"
API = "/api/v1/supervision/cases"


def reads() -> list[tuple[str, str, str]]:
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "supervision.case_read"))
    return [(e.actor, e.target_id, e.detail["via"]) for e in entries]


def admin_headers(client, runner, username: str, role: str, region_code: str | None = None, agency=None) -> dict:
    args = ["admin", "create", "--username", username, "--role", role]
    args += ["--region", region_code] if region_code else []
    args += ["--agency", agency] if agency else []
    created = runner.invoke(args=args, input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    token = client.post("/api/v1/admin/auth/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.get_json()['access_token']}"}


@pytest.fixture
def decided_c1(client, region) -> dict:
    """MKT's C1 decided and its decision published (naming C1), with a complaint about that decision."""
    steps = [{"step": "decision", "time": "2025-10-20T09:00:00+08:00", "officers": ["35050012345"], "text": "决定"}]
    assert client.post(f"{URL}/cases/C1/records", json={"records": steps}, headers=region["MKT"]).status_code == 201
    body = decision(decision_date="2025-10-20", case_no="C1", document_no="泉市监罚〔2025〕7号")
    published = client.put(f"{URL}/disclosures/d-c1", json=body, headers=region["MKT"])
    assert published.status_code == 201, published.get_json()
    filed = complaints.submit(
        {
            "category": "wrong_disclosure",
            "content": "处罚决定书中的当事人名称有误。",
            "disclosure_id": published.get_json()["id"],
        },
        channel="web",
    )
    return {"disclosure": published.get_json(), "tracking_no": filed.complaint.tracking_no}


def test_a_supervisor_opens_a_case_of_their_region_in_the_admin_page_and_the_read_is_audited(person, decided_c1):
    li = person("li", "supervisor", region="350500")
    listing = li.page("/admin/cases")
    assert 'data-case="MKT/C1"' in listing and 'data-case="XM/C1"' not in listing
    assert reads() == []  # a search is not a read of any case
    page = li.page("/admin/cases/MKT/C1")
    assert 'data-chain="valid"' in page and page.count("<li data-step=") == 3
    assert 'data-review="1"' in page and 'data-disclosure="d-c1"' in page
    assert f'data-tracking-no="{decided_c1["tracking_no"]}"' in page
    assert 'href="/admin/cases"' in page  # the menu and the way back
    assert reads() == [("admin:li", "MKT/C1", "page")]


def test_another_regions_case_is_not_found_and_its_read_not_recorded(person, region):
    li = person("li", "supervisor", region="350500")
    assert li.get("/admin/cases/XM/C1").status_code == 404
    assert li.get("/admin/cases/MKT/NOPE").status_code == 404
    assert reads() == []
    province = person("fujian", "supervisor", region="350000")  # the divisions below: both cities
    assert province.get("/admin/cases/XM/C1").status_code == 200
    assert province.get("/admin/cases/MKT/C1").status_code == 200
    xiamen = person("xm", "supervisor", region="350200")
    assert xiamen.get("/admin/cases/MKT/C1").status_code == 404


def test_the_case_pages_are_the_supervisors(person, region):
    zhang = person("zhang", "handler", agency="MKT")
    assert zhang.get("/admin/cases/MKT/C1").status_code == 403
    assert 'href="/admin/cases"' not in zhang.page("/admin/complaints")
    assert person("zhang2", "handler", agency="MKT").get("/admin/cases").status_code == 403
    chen = person("chen", "reviewer", agency="MKT", badge=reviews.REVIEWER_BADGE)
    assert chen.get("/admin/cases/MKT/C1").status_code == 403
    assert 'href="/admin/cases"' not in chen.page("/admin/reviews")
    assert reads() == []


def test_the_api_gives_the_case_file_and_audits_the_read(client, runner, decided_c1):
    li = admin_headers(client, runner, "li", "supervisor", "350500")
    found = client.get(f"{API}/MKT/C1", headers=li)
    assert found.status_code == 200, found.get_json()
    body = found.get_json()
    assert body["case"]["agency"] == "MKT" and body["case"]["decided_on"] == "2025-10-20"
    assert body["valid"] is True and [r["step"] for r in body["records"]] == ["filing", "investigation", "decision"]
    assert [r["number"] for r in body["reviews"]] == [1]
    assert [d["external_id"] for d in body["disclosures"]] == ["d-c1"]
    assert [c["tracking_no"] for c in body["complaints"]] == [decided_c1["tracking_no"]]
    other = client.get(f"{API}/XM/C1", headers=li)
    assert other.status_code == 404 and other.get_json()["status"] == "Not Found"
    assert reads() == [("admin:li", "MKT/C1", "api")]
    handler = admin_headers(client, runner, "zhang", "handler", agency="MKT")
    assert client.get(f"{API}/MKT/C1", headers=handler).status_code == 403
    listed = client.get(API, query_string={"agency": "MKT"}, headers=li).get_json()
    assert [(c["agency"], c["case_no"]) for c in listed["items"]] == [("MKT", "C1")] and listed["total"] == 1


def test_the_agency_sees_who_read_its_cases(client, runner, person, region):
    li = person("li", "supervisor", region="350500")
    assert li.get("/admin/cases/MKT/C1").status_code == 200
    headers = admin_headers(client, runner, "wang", "admin")
    assert client.get(f"{API}/MKT/C1", headers=headers).status_code == 200
    assert client.get(f"{API}/XM/C1", headers=headers).status_code == 200
    seen = client.get(f"{URL}/case-reads", headers=region["MKT"])
    assert seen.status_code == 200, seen.get_json()
    items = seen.get_json()["items"]
    assert [(i["reader"], i["role"], i["region"], i["case_no"], i["via"]) for i in items] == [
        ("wang", "admin", None, "C1", "api"),
        ("li", "supervisor", "350500", "C1", "page"),
    ]
    xm = client.get(f"{URL}/case-reads", headers=region["XM"]).get_json()["items"]
    assert [(i["reader"], i["case_no"]) for i in xm] == [("wang", "C1")]
    later = client.get(f"{URL}/case-reads", query_string={"from": "2099-01-01"}, headers=region["MKT"])
    assert later.get_json()["items"] == []
    assert client.get(f"{URL}/case-reads").status_code == 401
