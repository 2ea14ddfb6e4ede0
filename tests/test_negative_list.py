"""负面清单 (seed 004): matters go on the list when a figure over the window reaches its threshold, leave it when
the window moves past what put them there, and a 司法局 publishes its region's list. Every figure is counted by
hand in the comments."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, true

from backend.accounts.models import AdminUser
from backend.audit.models import AuditEntry
from backend.cases.models import Case
from backend.complaints import services as complaints
from backend.supervision import negative_list
from backend.supervision.evaluation_models import DEFAULT_SHEET, EvaluationCase, EvaluationRound
from backend.supervision.models import NegativeListEntry
from backend.supervision.negative_list import Thresholds
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision
from tests.factories.officers import register
from tests.support.admin_browser import PASSWORD, AdminBrowser
from tests.test_cases import case_body
from tests.test_supervision import at

PUBLISH = "/api/v1/publish"
LIST = "/api/v1/supervision/negative-list"
# A 30-day window: on 2026-03-10 it runs from 02-09; on 04-05 from 03-07.
THRESHOLDS = Thresholds(days=30, complaints=3, corrections=2, withdrawals=2, overdue=2, deductions=10)
SELLING = {"matter_code": "SC-0101", "matter": "销售过期食品"}


@pytest.fixture
def spring(client, auth, runner, db_session, frozen_clock):
    """Two cities' acts in spring 2026; returns the ids of the acts by external id."""
    judicial = AgencyFactory(code="SFJ", name="泉州市司法局", region_code="350500", supervises=True)
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500", parent=judicial)
    AgencyFactory(code="XM", name="厦门市市场监督管理局", region_code="350200")
    for username, args in {
        "li": ["--role", "supervisor", "--region", "350500"],
        "wang": ["--role", "supervisor", "--region", "350200"],
        "mkt": ["--role", "handler", "--agency", "MKT"],
    }.items():
        assert (
            runner.invoke(args=["admin", "create", "--username", username, *args], input=PASSWORD + "\n").exit_code == 0
        )
    at(frozen_clock, "2026-03-20")  # tokens issued at the end outlive every moment the spring replays
    mkt, xm = auth.headers("MKT"), auth.headers("XM")
    at(frozen_clock, "2026-03-02")
    ids = {}

    def put(headers, external_id, **body):
        response = client.put(f"{PUBLISH}/disclosures/{external_id}", json=decision(**body), headers=headers)
        assert response.status_code in (200, 201), response.get_json()
        ids[external_id] = response.get_json()["id"]

    # 销售过期食品 (SC-0101) at MKT: three decisions naming the matter in their details, one decided 02-10 and
    # published only now (late: its 7 working days ran out in February), and one of another matter.
    for n in (1, 2, 3):
        put(mkt, f"a{n}", decision_date="2026-03-02", document_no=f"罚A{n}", details=SELLING)
    put(mkt, "late", decision_date="2026-02-10", document_no="罚L", details=SELLING)
    # A person's decision naming no matter: its own, under its title as the privacy gate published it.
    put(
        mkt,
        "z1",
        decision_date="2026-03-02",
        document_no="罚Z",
        title="张三丰价格违法行政处罚决定书",
        subject_type="person",
        subject_name="张三丰",
        subject_id="350502199001011234",
    )
    at(frozen_clock, "2026-03-03")
    put(mkt, "a1", decision_date="2026-03-02", document_no="罚A1", details=SELLING, content="更正后的决定内容。")
    at(frozen_clock, "2026-03-04")
    withdrawn = {"reason": "revoked", "explanation": "复议决定撤销。"}
    assert client.post(f"{PUBLISH}/disclosures/a3/withdraw", json=withdrawn, headers=mkt).status_code == 200
    # A case of the same matter (by its code) and its decision: counted with the others.
    at(frozen_clock, "2026-03-05")
    register(client, mkt, "35050012345", "35050012346")
    case = case_body(matter="销售过期食品", matter_code="SC-0101", opened_on="2026-03-01")
    assert client.put(f"{PUBLISH}/cases/C1", json=case, headers=mkt).status_code == 201
    put(mkt, "b1", decision_date="2026-03-05", document_no="罚B1", case_no="C1")
    put(xm, "x1", decision_date="2026-03-05", document_no="厦罚1", title="厦门某店行政处罚决定书")
    at(frozen_clock, "2026-03-06")
    for n, item in enumerate(("a1", "a2", "b1", "z1")):
        complaints.submit(
            {"category": "misconduct", "content": f"对该处罚决定有异议，第{n}件。", "disclosure_id": ids[item]},
            channel="web",
        )
    at(frozen_clock, "2026-03-20")
    for n in range(3):
        complaints.submit(
            {"category": "misconduct", "content": f"厦门处罚不当，第{n}件。", "disclosure_id": ids["x1"]}, channel="web"
        )
    return ids


@pytest.fixture
def admin(client, spring):
    def headers(username: str) -> dict[str, str]:
        token = client.post("/api/v1/admin/auth/token", json={"username": username, "password": PASSWORD})
        return {"Authorization": f"Bearer {token.get_json()['access_token']}"}

    return headers


def listed(client, headers, **query) -> list[dict]:
    response = client.get(LIST, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_a_matter_crosses_a_threshold_and_leaves_as_the_window_moves(client, admin, frozen_clock):
    at(frozen_clock, "2026-03-10")
    assert negative_list.refresh(THRESHOLDS) == {"opened": 1, "closed": 0}
    # SC-0101 at MKT: complaints on a1, a2, b1 (3, the threshold); a1 corrected once; a3 withdrawn as revoked;
    # "late" decided 02-10 and published late (1). z1 has one complaint; XM's three come on 03-20.
    (entry,) = listed(client, admin("li"))
    assert (entry["agency"]["code"], entry["matter_key"], entry["matter_name"]) == ("MKT", "SC-0101", "销售过期食品")
    assert entry["entered_at"] == "2026-03-10T10:00:00+08:00" and entry["left_at"] is None
    assert entry["entered_figures"] == {
        "period": {"from": "2026-02-09", "to": "2026-03-10"},
        "complaints": 3,
        "corrections": 1,
        "withdrawals": {"revoked": 1},
        "overdue": 1,
        "deductions": 0,
        "crossed": ["complaints"],
    }
    assert listed(client, admin("wang")) == []  # another region's supervisor sees none of it
    assert negative_list.refresh(THRESHOLDS) == {"opened": 0, "closed": 0}  # idempotent

    at(frozen_clock, "2026-04-05")  # the window is now 03-07 .. 04-05: MKT's complaints are behind it
    assert negative_list.refresh(THRESHOLDS) == {"opened": 1, "closed": 1}
    (gone,) = listed(client, admin("li"), current="false")
    assert gone["id"] == entry["id"] and gone["left_at"] == "2026-04-05T10:00:00+08:00"
    assert gone["left_figures"] == {
        "period": {"from": "2026-03-07", "to": "2026-04-05"},
        "complaints": 0,
        "corrections": 0,
        "withdrawals": {},
        "overdue": 0,
        "deductions": 0,
        "crossed": [],
    }
    assert listed(client, admin("li"), current="true") == []
    (xm,) = listed(client, admin("wang"), current="true")
    assert (xm["agency"]["code"], xm["matter_key"], xm["entered_figures"]["complaints"]) == (
        "XM",
        "厦门某店行政处罚决定书",
        3,
    )
    assert negative_list.refresh(THRESHOLDS) == {"opened": 0, "closed": 0}


def test_a_threshold_per_figure_and_corrective_withdrawals_only():
    figures = {"complaints": 2, "corrections": 2, "withdrawals": {"credit_repair": 5, "remade": 1}, "overdue": 2}
    assert THRESHOLDS.crossed({**figures, "deductions": 0}) == ["corrections", "overdue"]
    figures["withdrawals"]["confirmed_illegal"] = 1
    assert THRESHOLDS.crossed({**figures, "deductions": 10}) == ["corrections", "withdrawals", "overdue", "deductions"]


def test_the_list_is_kept_by_the_cli_with_the_configured_thresholds(app, client, admin, runner, frozen_clock):
    at(frozen_clock, "2026-03-10")
    # With the defaults (5 complaints, 3 corrections, 2 withdrawals, 3 overdue over 90 days) nothing is listed.
    assert (
        runner.invoke(args=["supervision", "negative-list", "refresh"]).output
        == "opened 0, closed 0 负面清单 entries\n"
    )
    app.config["NEGATIVE_LIST_COMPLAINTS"] = 3
    try:
        assert runner.invoke(args=["supervision", "negative-list", "refresh"]).output.startswith("opened 1,")
    finally:
        app.config["NEGATIVE_LIST_COMPLAINTS"] = 5
    assert [e["matter_key"] for e in listed(client, admin("li"))] == ["SC-0101"]


def test_the_judicial_bureau_publishes_its_regions_list(client, admin, frozen_clock, db_session, indexer):
    at(frozen_clock, "2026-03-10")
    negative_list.refresh(THRESHOLDS)
    assert client.post(f"{LIST}/publish", json={"agency": "SFJ"}, headers=admin("wang")).status_code == 404
    assert client.post(f"{LIST}/publish", json={"agency": "SFJ"}, headers=admin("mkt")).status_code == 403
    assert client.post(f"{LIST}/publish", json={"agency": "MKT"}, headers=admin("li")).status_code == 404
    response = client.post(f"{LIST}/publish", json={"agency": "SFJ"}, headers=admin("li"))
    assert response.status_code == 200, response.get_json()
    published = response.get_json()
    assert (published["type"], published["status"], published["external_id"]) == (
        "negative_list",
        "published",
        "negative-list",
    )
    indexer.sync()
    found = client.get("/api/v1/disclosures", query_string={"type": "negative_list", "agency": "SFJ"}).get_json()
    assert [hit["id"] for hit in found["items"]] == [published["id"]]
    item = client.get(f"/api/v1/disclosures/{published['id']}").get_json()
    assert item["details"]["as_of"] == "2026-03-10"
    (entry,) = item["details"]["entries"]  # 厦门's XM is another region's, and not listed yet anyway
    assert entry["agency"] == "MKT" and entry["matter"] == "销售过期食品" and entry["entered_on"] == "2026-03-10"
    assert entry["figures"]["complaints"] == 3 and entry["crossed"] == ["complaints"]
    assert "销售过期食品 · 2026-03-10 列入 · 投诉 3、更正 1、撤下 1、逾期公示 1" in client.get(
        f"/d/{published['id']}"
    ).get_data(as_text=True)
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "negative_list.publish")).all()
    assert [(a.actor, a.target_id, a.detail["entries"]) for a in audit] == [("admin:li", "SFJ", 1)]
    assert db_session.scalar(select(NegativeListEntry.left_at)) is None


def test_the_admin_page_shows_the_list_and_publishes_it(app, spring, frozen_clock):
    at(frozen_clock, "2026-03-10")
    negative_list.refresh(THRESHOLDS)
    li = AdminBrowser(app.test_client())
    assert li.login("li").status_code == 303
    page = li.page("/admin/negative-list")
    row = re.search(r'<tr data-agency="MKT" data-matter="SC-0101">(.*?)</tr>', page, re.S).group(1)
    assert "销售过期食品" in row and "2026-03-10 10:00" in row and "2026-02-09 至 2026-03-10" in row
    assert "被依法撤销 1" in row and "在清单中" in row
    assert 'data-agency="XM"' not in page and "泉州市司法局" in page
    assert "已移出" not in li.page("/admin/negative-list?current=0").split('data-table="negative-list"')[1]
    ranked = li.page("/admin/negative-list?from=2026-02-09&to=2026-03-10").split('data-table="ranking"')[1]
    assert re.findall(r'<tr data-agency="(\w+)" data-matter="([^"]+)"', ranked.split("</table>")[0]) == [
        ("MKT", "SC-0101"),
        ("MKT", "张某某价格违法行政处罚决定书"),
    ]
    token = li.token("/admin/negative-list")
    posted = li.client.post(
        "/admin/negative-list/publish", data={"csrf_token": token, "agency": "SFJ"}, follow_redirects=True
    )
    assert "已公开负面清单：泉州市司法局行政执法负面清单" in posted.get_data(as_text=True)
    refused = li.client.post("/admin/negative-list/publish", data={"agency": "SFJ"})
    assert refused.status_code == 403  # no CSRF token
    handler = AdminBrowser(app.test_client())
    handler.login("mkt")
    assert handler.get("/admin/negative-list").status_code == 403


def test_only_a_judicial_bureau_publishes_a_negative_list(client, auth, spring, frozen_clock):
    at(frozen_clock, "2026-03-10")
    body = {
        "phase": "pre",
        "type": "negative_list",
        "title": "泉州市市场监督管理局负面清单",
        "details": {"as_of": "2026-03-10", "entries": []},
    }
    refused = client.put(f"{PUBLISH}/disclosures/negative-list", json=body, headers=auth.headers("MKT"))
    assert refused.status_code == 422 and list(refused.get_json()["errors"]) == ["type"]
    assert client.put(f"{PUBLISH}/disclosures/negative-list", json=body, headers=auth.headers("SFJ")).status_code == 201


def test_matters_are_ranked_over_any_period_in_scope(client, admin, frozen_clock):
    at(frozen_clock, "2026-04-01")
    period = {"from": "2026-02-09", "to": "2026-03-10"}
    response = client.get(f"{LIST}/matters", query_string=period, headers=admin("li"))
    assert response.status_code == 200, response.get_json()
    ranked = response.get_json()["items"]
    # SC-0101: 3 complaints, 1 correction, 1 revoked, 1 late; z1 (no matter: its public title) 1 complaint. With the
    # configured thresholds (5 complaints, 3 corrections, 2 withdrawals, 3 overdue) none is reached.
    assert [(m["agency"]["code"], m["matter_key"], m["complaints"], m["crossed"]) for m in ranked] == [
        ("MKT", "SC-0101", 3, []),
        ("MKT", "张某某价格违法行政处罚决定书", 1, []),  # the party's name as published, masked
    ]
    assert ranked[0]["withdrawals"] == {"revoked": 1} and ranked[0]["overdue"] == 1
    assert client.get(f"{LIST}/matters", query_string=period, headers=admin("wang")).get_json()["items"] == []
    march = {"from": "2026-03-01", "to": "2026-03-31", "limit": 1}
    (xm,) = client.get(f"{LIST}/matters", query_string=march, headers=admin("wang")).get_json()["items"]
    assert (xm["agency"]["code"], xm["complaints"]) == ("XM", 3)
    backwards = client.get(
        f"{LIST}/matters", query_string={"from": "2026-03-10", "to": "2026-03-01"}, headers=admin("li")
    )
    assert backwards.status_code == 422 and "to" in backwards.get_json()["errors"]["query"]


def test_a_refresh_that_loses_a_race_starts_again_from_the_winners_list(admin, frozen_clock, db_session, monkeypatch):
    at(frozen_clock, "2026-03-10")
    computed = negative_list._apply_window
    calls = []

    def racing(thresholds, on):
        changed = computed(thresholds, on)
        if not calls:  # the first time, another run has just opened the same entry
            calls.append(on)
            key = next(e for e in db_session.new if isinstance(e, NegativeListEntry))
            db_session.add(
                NegativeListEntry(
                    **{c: getattr(key, c) for c in ("agency_id", "matter_key", "matter_name")},
                    entered_at=key.entered_at,
                    entered_figures={},
                )
            )
        return changed

    monkeypatch.setattr(negative_list, "_apply_window", racing)
    assert negative_list.refresh(THRESHOLDS) == {"opened": 1, "closed": 0}
    assert db_session.scalars(select(NegativeListEntry.matter_key)).all() == ["SC-0101"]


def test_unpublished_acts_past_their_deadline_count_under_any_matter_code(client, auth, spring, frozen_clock):
    at(frozen_clock, "2026-03-02")
    mkt = auth.headers("MKT")
    # Two decisions of 2026-02-24 never published: due 7 working days later, overdue by 03-10. Their free details
    # give a numeric code (keyed as text) and an empty name (no name: the code keys them, their title names them).
    for n in (1, 2):
        body = decision(decision_date="2026-02-24", document_no=f"罚P{n}", details={"matter_code": 4401, "matter": ""})
        response = client.put(f"{PUBLISH}/disclosures/p{n}", json={**body, "publish": False}, headers=mkt)
        assert response.status_code == 201, response.get_json()
    at(frozen_clock, "2026-03-10")
    assert negative_list.refresh(THRESHOLDS) == {"opened": 2, "closed": 0}
    assert negative_list.refresh(THRESHOLDS) == {"opened": 0, "closed": 0}
    found = negative_list.figures(true(), dt.date(2026, 2, 9), dt.date(2026, 3, 10))
    assert {key: f["overdue"] for (_, key), f in found.items() if f["overdue"]} == {"SC-0101": 1, "4401": 2}
    assert [f["matter"] for (_, key), f in found.items() if key == "4401"] == [decision()["title"]]


def test_points_deducted_in_case_evaluations_count_for_the_cases_matter(spring, frozen_clock, db_session):
    """A scored 案卷评查 case loses what its total misses of the sheet's 100 points, under its case's matter
    (SC-0101, as the matter's decisions are keyed); a case scored outside the window counts nothing."""
    case = db_session.scalar(select(Case).where(Case.case_no == "C1"))
    reviewer = db_session.scalar(select(AdminUser).where(AdminUser.username == "li"))
    made = EvaluationRound(
        parameters={},
        date_from=dt.date(2026, 1, 1),
        date_to=dt.date(2026, 3, 31),
        sheet=DEFAULT_SHEET,
        evaluators=["li"],
        eligible=["MKT/C1"],
        announce_index=0,
        sample=["MKT/C1"],
        created_by="admin:li",
        created_at=frozen_clock.now(),
    )
    db_session.add(made)
    db_session.flush()
    for rank, (total, day) in enumerate(((72, 10), (90, 28)), start=1):  # 28 February: before the window
        db_session.add(
            EvaluationCase(
                round_id=made.id,
                rank=rank,
                case_id=case.id,
                evaluator_id=reviewer.id,
                scores={},
                total=total,
                scored_at=dt.datetime(2026, 3 if day == 10 else 2, day, 2, tzinfo=dt.UTC),
            )
        )
    db_session.flush()
    found = negative_list.figures(true(), dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert found[(case.agency_id, "SC-0101")]["deductions"] == 28.0
    assert THRESHOLDS.crossed(found[(case.agency_id, "SC-0101")]).count("deductions") == 1
