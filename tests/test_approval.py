"""Pre-publication approval ("经法制部门审核后公示", seed 000): a 司法局 requires that an agency's pre-phase
lists are approved before they go public; held items stay out of every public read until approved."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.transparency.models import LogEntry
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision, discretion_benchmark, inspection_list, power
from tests.factories.officers import register
from tests.support.admin_browser import PASSWORD, AdminBrowser
from tests.support.fake_wechat import FakeWeChat, configured, settings
from tests.test_cases import OFFICERS, case_body

PUBLISH = "/api/v1/publish/disclosures"
ADMIN = "/api/v1/admin"
ENGINES = ["embedded", "elasticsearch"]


@pytest.fixture
def city(db_session, runner):
    """泉州's 司法局 over the market regulator and the environment bureau; 厦门 elsewhere; their accounts."""
    judicial = AgencyFactory(code="SFJ", name="泉州市司法局", region_code="350500", supervises=True)
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500", parent=judicial)
    AgencyFactory(code="ENV", name="泉州市生态环境局", region_code="350500", parent=judicial)
    AgencyFactory(code="XM", name="厦门市市场监督管理局", region_code="350200")
    accounts = {
        "li": ["--role", "supervisor", "--region", "350500"],
        "wang": ["--role", "supervisor", "--region", "350200"],
        "mkt": ["--role", "handler", "--agency", "MKT"],
        "env": ["--role", "handler", "--agency", "ENV"],
    }
    for username, args in accounts.items():
        result = runner.invoke(args=["admin", "create", "--username", username, *args], input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output


@pytest.fixture
def admin(client, city):
    """Bearer headers of an admin account by username."""

    def headers(username: str) -> dict[str, str]:
        token = client.post(f"{ADMIN}/auth/token", json={"username": username, "password": PASSWORD})
        return {"Authorization": f"Bearer {token.get_json()['access_token']}"}

    return headers


@pytest.fixture
def miniapp(app):
    with FakeWeChat() as fake, configured(app, settings(fake)):
        yield fake


@pytest.fixture
def env(auth, city):
    return auth.headers("ENV")


def require(client, admin, type_: str = "power", agency: str = "ENV", **body):
    response = client.put(f"{ADMIN}/approval-requirements/{agency}/{type_}", json=body, headers=admin("li"))
    assert response.status_code in (200, 201), response.get_json()
    return response


def queue(client, headers) -> list[dict]:
    response = client.get(f"{ADMIN}/approvals", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def public_everywhere(client, item_id: str, words: str) -> dict[str, bool]:
    """Whether citizens find the item: search, detail (API, page, mini-program), the agency's 事前公开."""
    agency = client.get("/api/v1/agencies/ENV").get_json()
    return {
        "search": item_id
        in [i["id"] for i in client.get("/api/v1/disclosures", query_string={"q": words}).json["items"]],
        "detail": client.get(f"/api/v1/disclosures/{item_id}").status_code == 200,
        "page": client.get(f"/d/{item_id}").status_code == 200,
        "miniapp_search": item_id
        in [i["id"] for i in client.get("/miniapp/v1/disclosures", query_string={"q": words}).json["items"]],
        "miniapp_detail": client.get(f"/miniapp/v1/disclosures/{item_id}").status_code == 200,
        "agency_page": item_id in [i["id"] for i in agency["disclosures"].get("power", [])],
    }


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_an_item_held_for_approval_is_invisible_in_search_detail_and_the_mini_program_until_approved(
    client, admin, env, frozen_clock, indexer, miniapp
):
    require(client, admin)
    pushed = client.put(f"{PUBLISH}/p1", json=power(), headers=env)
    assert pushed.status_code == 201, pushed.get_json()
    item = pushed.get_json()
    assert item["status"] == "pending_approval" and item["approval"]["state"] == "pending"
    assert item["public_url"] is None and item["published_at"] is None
    indexer.sync()
    assert not any(public_everywhere(client, item["id"], "销售不符合食品安全标准").values())

    (waiting,) = queue(client, admin("li"))
    assert waiting["external_id"] == "p1" and waiting["submitted"]["title"] == power()["title"]
    assert waiting["public_now"] is None
    approved = client.post(f"{ADMIN}/approvals/{waiting['id']}/approve", headers=admin("li"))
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["state"] == "approved" and approved.get_json()["decided_by"] == "admin:li"
    indexer.sync()
    assert all(public_everywhere(client, item["id"], "销售不符合食品安全标准").values())
    own = client.get(f"{PUBLISH}/p1", headers=env).get_json()
    assert own["status"] == "published" and own["approval"]["state"] == "approved"
    # The agency pushing the same content again changes nothing: approval applied exactly what it pushed.
    assert client.put(f"{PUBLISH}/p1", json=power(), headers=env).get_json()["version"] == own["version"]
    assert queue(client, admin("li")) == []


def test_a_new_version_of_a_public_list_waits_while_citizens_keep_the_approved_one(
    client, admin, env, frozen_clock, indexer, db_session, miniapp
):
    first = client.put(f"{PUBLISH}/p1", json=power(), headers=env).get_json()
    assert first["status"] == "published"
    require(client, admin)
    changed = power(title="对生产经营超过保质期食品的行政处罚")
    held = client.put(f"{PUBLISH}/p1", json=changed, headers=env)
    assert held.status_code == 200
    assert held.get_json()["status"] == "published" and held.get_json()["approval"]["state"] == "pending"
    assert held.get_json()["title"] == power()["title"]  # the stored item is untouched until approved
    assert (
        client.put(f"{PUBLISH}/p1", json=changed, headers=env).get_json()["approval"]["id"]
        == (held.get_json()["approval"]["id"])
    )  # pushed again: the same request, not a second one
    indexer.sync()
    assert client.get(f"/api/v1/disclosures/{first['id']}").get_json()["title"] == power()["title"]
    assert public_everywhere(client, first["id"], "销售不符合食品安全标准")["search"]
    assert not public_everywhere(client, first["id"], "超过保质期")["search"]

    (waiting,) = queue(client, admin("li"))
    assert waiting["public_now"]["title"] == power()["title"]
    assert client.post(f"{ADMIN}/approvals/{waiting['id']}/approve", headers=admin("li")).status_code == 200
    indexer.sync()
    shown = client.get(f"/api/v1/disclosures/{first['id']}").get_json()
    assert shown["title"] == changed["title"] and shown["corrected_at"] is not None
    assert public_everywhere(client, first["id"], "超过保质期")["search"]
    events = db_session.scalars(select(LogEntry.event).where(LogEntry.item_id == first["id"]).order_by(LogEntry.index))
    assert list(events) == ["publish", "correct", "approve"]


def test_a_returned_item_goes_back_to_its_agency_with_reasons_and_a_later_push_resubmits_it(
    client, admin, env, frozen_clock, db_session
):
    require(client, admin)
    item = client.put(f"{PUBLISH}/p1", json=power(), headers=env).get_json()
    (waiting,) = queue(client, admin("li"))
    assert client.post(f"{ADMIN}/approvals/{waiting['id']}/return", json={}, headers=admin("li")).status_code == 422
    returned = client.post(
        f"{ADMIN}/approvals/{waiting['id']}/return", json={"reasons": "法律依据未写明条款项"}, headers=admin("li")
    )
    assert returned.status_code == 200 and returned.get_json()["state"] == "returned"
    own = client.get(f"{PUBLISH}/p1", headers=env).get_json()
    assert own["status"] == "returned" and own["approval"]["reasons"] == "法律依据未写明条款项"
    assert client.get(f"/api/v1/disclosures/{item['id']}").status_code == 404
    again = client.post(f"{ADMIN}/approvals/{waiting['id']}/approve", headers=admin("li"))
    assert again.status_code == 409  # decided once

    resubmitted = client.put(f"{PUBLISH}/p1", json=power(), headers=env).get_json()
    assert resubmitted["status"] == "pending_approval" and resubmitted["approval"]["state"] == "pending"
    assert [w["id"] for w in queue(client, admin("li"))] == [resubmitted["approval"]["id"]] != [waiting["id"]]
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.target_id == item["id"])).all()
    assert [(a.actor, a.action, a.detail.get("reasons")) for a in audit] == [
        ("admin:li", "disclosure.return", "法律依据未写明条款项")
    ]
    events = db_session.scalars(select(LogEntry).where(LogEntry.item_id == item["id"])).all()
    # The log names the approver as public_actor does: by role, pseudonymously.
    assert [(e.event, e.actor.startswith("admin:supervisor:")) for e in events] == [("return", True)]


def test_withdrawing_a_public_list_takes_its_waiting_version_out_of_the_queue(client, admin, env, frozen_clock):
    first = client.put(f"{PUBLISH}/p1", json=power(), headers=env).get_json()
    require(client, admin)
    assert (
        client.put(f"{PUBLISH}/p1", json=power(title="新版本"), headers=env).get_json()["approval"]["state"]
        == "pending"
    )
    body = {"reason": "other", "explanation": "职责调整，该事项划出本机关"}
    assert client.post(f"{PUBLISH}/p1/withdraw", json=body, headers=env).status_code == 200
    assert queue(client, admin("li")) == []
    own = client.get(f"{PUBLISH}/p1", headers=env).get_json()
    assert own["status"] == "withdrawn" and own["approval"]["state"] == "superseded"
    assert client.get(f"/api/v1/disclosures/{first['id']}").status_code == 410


def test_the_market_regulator_approves_inspection_lists_it_is_named_for(client, admin, env, frozen_clock):
    require(client, admin, "inspection_list", approver_agency="MKT")
    item = client.put(f"{PUBLISH}/i1", json=inspection_list(), headers=env).get_json()
    assert item["status"] == "pending_approval"
    (waiting,) = queue(client, admin("mkt"))
    assert queue(client, admin("env")) == [] and queue(client, admin("wang")) == []
    assert client.post(f"{ADMIN}/approvals/{waiting['id']}/approve", headers=admin("env")).status_code == 404
    assert client.post(f"{ADMIN}/approvals/{waiting['id']}/approve", headers=admin("wang")).status_code == 404
    assert client.post(f"{ADMIN}/approvals/{waiting['id']}/approve", headers=admin("mkt")).status_code == 200
    assert client.get(f"/api/v1/disclosures/{item['id']}").status_code == 200


def test_who_may_require_approval_and_of_what(client, admin, env, frozen_clock, db_session):
    li, wang = admin("li"), admin("wang")
    assert client.put(f"{ADMIN}/approval-requirements/ENV/power", json={}, headers=wang).status_code == 404
    assert client.put(f"{ADMIN}/approval-requirements/ENV/power", json={}, headers=admin("env")).status_code == 403
    refused = client.put(f"{ADMIN}/approval-requirements/ENV/decision", json={}, headers=li)
    assert refused.status_code == 422 and "type" in refused.get_json()["errors"]
    named = client.put(f"{ADMIN}/approval-requirements/ENV/power", json={"approver_agency": "MKT"}, headers=li)
    assert named.status_code == 422 and "approver_agency" in named.get_json()["errors"]
    unknown = client.put(
        f"{ADMIN}/approval-requirements/ENV/inspection_list", json={"approver_agency": "NO"}, headers=li
    )
    assert unknown.status_code == 422
    assert require(client, admin).status_code == 201
    assert require(client, admin).status_code == 200
    (listed,) = client.get(f"{ADMIN}/approval-requirements", headers=li).get_json()
    assert (listed["agency"]["code"], listed["type"], listed["set_by"]) == ("ENV", "power", "admin:li")
    assert client.get(f"{ADMIN}/approval-requirements", headers=wang).get_json() == []
    # Post-phase decisions are never held, whatever is required of the agency's lists.
    assert client.put(f"{PUBLISH}/d1", json=decision(), headers=env).get_json()["status"] == "published"
    # Registering a list without publishing it asks nothing of the approver.
    assert client.put(f"{PUBLISH}/p0", json=power(publish=False), headers=env).get_json()["status"] == "pending"
    assert client.delete(f"{ADMIN}/approval-requirements/ENV/power", headers=li).status_code == 204
    assert client.delete(f"{ADMIN}/approval-requirements/ENV/power", headers=li).status_code == 404
    assert client.put(f"{PUBLISH}/p1", json=power(), headers=env).get_json()["status"] == "published"
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == "ENV")).all()
    assert sorted(actions) == ["approval.lift", "approval.require", "approval.require"]
    logged = db_session.scalars(select(LogEntry.event).where(LogEntry.agency == "ENV", LogEntry.item_id == "power"))
    assert sorted(logged) == ["approval_lifted", "approval_required", "approval_required"]


def test_bulk_pushes_are_held_like_single_ones(client, admin, env, frozen_clock):
    require(client, admin)
    items = [{"external_id": f"p{i}", **power(title=f"第{i}项执法事项")} for i in range(3)]
    items.append({"external_id": "d1", **decision()})
    result = client.post(f"{PUBLISH}:bulk", json={"items": items}, headers=env).get_json()
    assert result["created"] == 4, result
    statuses = {e: client.get(f"{PUBLISH}/{e}", headers=env).get_json()["status"] for e in ("p0", "p1", "p2", "d1")}
    assert statuses == {"p0": "pending_approval", "p1": "pending_approval", "p2": "pending_approval", "d1": "published"}
    assert sorted(w["external_id"] for w in queue(client, admin("li"))) == ["p0", "p1", "p2"]
    waiting = client.get(PUBLISH, query_string={"status": "pending_approval"}, headers=env).get_json()["items"]
    assert sorted((i["external_id"], i["approval"]["state"]) for i in waiting) == [
        ("p0", "pending"),
        ("p1", "pending"),
        ("p2", "pending"),
    ]


HELD_TYPES = {
    "power": power(effective_from="2026-01-01", effective_until="2026-12-31"),
    "inspection_list": inspection_list(),
    "review_catalogue": {
        "phase": "pre",
        "type": "review_catalogue",
        "title": "重大执法决定法制审核目录清单",
        "details": {"matters": ["吊销许可证", "较大数额罚款"], "materials": ["拟作出的执法决定书"]},
    },
    "av_matter_list": {
        "phase": "pre",
        "type": "av_matter_list",
        "title": "音像记录事项清单",
        "details": {"matters": [{"step": "evidence", "categories": ["penalty"], "recording": "continuous"}]},
    },
    "discretion_benchmark": discretion_benchmark(),
}


@pytest.mark.parametrize("type_", list(HELD_TYPES))
def test_every_list_that_can_be_held_goes_public_exactly_as_pushed(client, admin, env, frozen_clock, type_):
    """Approval reloads the held submission: it must come out with the digest it was pushed with."""
    require(client, admin, type_)
    body = HELD_TYPES[type_]
    held = client.put(f"{PUBLISH}/x1", json=body, headers=env).get_json()
    assert held["status"] == "pending_approval", held
    (waiting,) = queue(client, admin("li"))
    assert client.post(f"{ADMIN}/approvals/{waiting['id']}/approve", headers=admin("li")).status_code == 200
    published = client.get(f"{PUBLISH}/x1", headers=env).get_json()
    assert published["status"] == "published" and published["version"] == held["version"] + 1
    again = client.put(f"{PUBLISH}/x1", json=body, headers=env)
    assert (again.status_code, again.get_json()["version"]) == (200, published["version"])
    assert queue(client, admin("li")) == []


def test_a_review_catalogue_is_in_force_only_once_approved(client, admin, env, frozen_clock):
    """What the platform enforces (which cases are major) follows the approved list, not the pushed one."""
    register(client, env, *OFFICERS)
    case = case_body(matter="较大数额罚款")
    require(client, admin, "review_catalogue")
    client.put(f"{PUBLISH}/catalogue", json=HELD_TYPES["review_catalogue"], headers=env)
    assert not client.put("/api/v1/publish/cases/C1", json=case, headers=env).get_json()["is_major"]
    (waiting,) = queue(client, admin("li"))
    assert client.post(f"{ADMIN}/approvals/{waiting['id']}/approve", headers=admin("li")).status_code == 200
    assert client.get("/api/v1/publish/cases/C1", headers=env).get_json()["is_major"]


# -- the admin page ---------------------------------------------------------------------------------
def signed_in(app, username: str) -> AdminBrowser:
    person = AdminBrowser(app.test_client())
    assert person.login(username).status_code == 303
    return person


def post(person: AdminBrowser, path: str, **form: str) -> str:
    token = person.token("/admin/approvals")
    response = person.client.post(path, data={"csrf_token": token, **form}, follow_redirects=True)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_approval_page_sets_requirements_and_approves_or_returns(app, client, city, env, frozen_clock):
    li = signed_in(app, "li")
    page = post(li, "/admin/approval-requirements", agency="ENV", type="power", approver_agency="")
    assert "已设置" in page and 'data-agency="ENV" data-type="power"' in page
    assert "仅随机抽查事项清单" in post(
        li, "/admin/approval-requirements", agency="ENV", type="power", approver_agency="MKT"
    )
    assert "清单类别须选择清单类别" in post(li, "/admin/approval-requirements", agency="ENV", type="decision")
    for n in (1, 2):
        assert client.put(f"{PUBLISH}/p{n}", json=power(title=f"第{n}项执法事项"), headers=env).status_code == 201
    page = li.page("/admin/approvals")
    assert "第1项执法事项" in page and "第2项执法事项" in page and "食品安全行政处罚" in page
    ids = [int(i) for i in re.findall(r'data-request="(\d+)"', page)]
    assert "已审核通过" in post(li, f"/admin/approvals/{ids[0]}/approve")
    assert "理由不能为空" in post(li, f"/admin/approvals/{ids[1]}/return", reason="")
    page = post(li, f"/admin/approvals/{ids[1]}/return", reason="事项名称与权责清单不一致")
    assert "已退回" in page and "data-request" not in page
    assert "该信息已处理" in post(li, f"/admin/approvals/{ids[1]}/approve")
    assert client.get(f"{PUBLISH}/p1", headers=env).get_json()["status"] == "published"
    assert client.get(f"{PUBLISH}/p2", headers=env).get_json()["approval"]["reasons"] == "事项名称与权责清单不一致"

    handler = signed_in(app, "env")
    page = handler.page("/admin/approvals")
    assert "没有待审核的清单" in page and 'data-section="requirements"' not in page
    token = handler.token("/admin/approvals")
    refused = handler.client.post("/admin/approval-requirements", data={"csrf_token": token, "agency": "ENV"})
    assert refused.status_code == 403
    assert "已取消" in post(li, "/admin/approval-requirements/ENV/power/lift")
