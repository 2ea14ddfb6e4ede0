"""法制审核 by reviewers who sign in and answer for their opinions (issue 16; seed 002 §三, seed 000 §四).

The agency submits (statements, materials, a time limit) and may withdraw; only a filed reviewer, signed in
with a personal token, gives the opinion, never on a case they worked; every step is audited and in the
transparency log, provably."""

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from backend.accounts.models import AdminUser
from backend.audit.models import AuditEntry
from backend.canonical import canonical_json
from backend.cases import reviews as review_service
from backend.cases.models import CaseReview
from backend.errors import Conflict
from backend.transparency import merkle
from tests.factories import AgencyFactory, reviews
from tests.factories.disclosures import decision
from tests.factories.officers import register
from tests.support.admin_browser import AdminBrowser
from tests.test_cases import OFFICERS, case_body, record
from tests.test_transparency import checkpoint_verifies

URL = "/api/v1/publish"
REVIEW = "/api/v1/review"


@pytest.fixture
def mkt(client, auth, db_session):
    """MKT (Licheng district), its officers and its filed reviewer; headers issued before the clock is frozen."""
    AgencyFactory(code="MKT", name="泉州市鲤城区市场监督管理局", region_code="350502")
    headers = auth.headers("MKT")
    register(client, headers, *OFFICERS)
    reviews.file_reviewer(client, headers)
    return headers


@pytest.fixture
def chen(client, runner, mkt):
    """MKT's reviewer, signed in with a personal token."""
    return reviews.reviewer_account(client, runner, "MKT")


def at(clock, moment: str) -> None:
    clock.at = dt.datetime.fromisoformat(moment).astimezone(dt.UTC)


# -- the opinion is the reviewer's own --------------------------------------------------------------
def test_a_major_decision_is_published_only_after_an_approved_review(client, mkt, chen, frozen_clock):
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    body = decision(case_no="C1", decision_date="2025-10-20")  # decided the day of the approval below
    blocked = client.put(f"{URL}/disclosures/d1", json=body, headers=mkt)
    assert blocked.status_code == 409
    assert "has not been submitted for review" in blocked.get_json()["errors"]["case_no"][0]
    assert client.put(f"{URL}/disclosures/d1", json={**body, "publish": False}, headers=mkt).status_code == 201

    first = reviews.submit(client, mkt, "C1").get_json()
    assert client.put(f"{URL}/disclosures/d1", json=body, headers=mkt).status_code == 409
    revise = reviews.opinion(
        client,
        chen,
        "MKT",
        "C1",
        first["number"],
        "revise",
        reasons={**reviews.checklist("符合"), "proper_discretion": "罚款偏高"},
    )
    assert revise.status_code == 200 and revise.get_json()["outcome"] == "revise"
    assert revise.get_json()["reviewer_name"] == "法制科 陈审"
    assert client.put(f"{URL}/disclosures/d1", json=body, headers=mkt).status_code == 409
    second = reviews.submit(client, mkt, "C1", "已按意见修改").get_json()
    assert second["number"] == 2
    assert reviews.opinion(client, chen, "MKT", "C1", 2).status_code == 200
    backdated = client.put(f"{URL}/disclosures/d1", json={**body, "decision_date": "2025-10-19"}, headers=mkt)
    assert backdated.status_code == 409 and list(backdated.get_json()["errors"]) == ["decision_date"]
    assert client.put(f"{URL}/disclosures/d1", json=body, headers=mkt).status_code == 200
    history = client.get(f"{URL}/cases/C1/reviews", headers=mkt).get_json()["reviews"]
    assert [(r["number"], r["outcome"], r["state"]) for r in history] == [
        (1, "revise", "decided"),
        (2, "approve", "decided"),
    ]


def test_the_agency_client_cannot_give_an_opinion(client, mkt, chen):
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    reviews.submit(client, mkt, "C1")
    # The old way: the agency's own client names a reviewer's badge.
    old_way = client.post(
        f"{URL}/cases/C1/reviews/1/opinion",
        headers=mkt,
        json={"reviewer": reviews.REVIEWER_BADGE, "outcome": "approve", "reasons": reviews.checklist()},
    )
    assert old_way.status_code == 403 and list(old_way.get_json()["errors"]) == ["reviewer"]
    # The agency's token on the reviewer's endpoint: not a reviewer's token at all.
    assert reviews.opinion(client, mkt, "MKT", "C1", 1).status_code == 401
    assert client.get(f"{URL}/cases/C1/reviews", headers=mkt).get_json()["reviews"][0]["state"] == "pending"


def test_other_roles_and_unfiled_or_retired_reviewers_are_refused(client, mkt, chen, runner):
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    reviews.submit(client, mkt, "C1")
    runner.invoke(
        args=["admin", "create", "--username", "zhang", "--role", "handler", "--agency", "MKT"],
        input=reviews.PASSWORD + "\n",
    )
    handler = reviews.reviewer_headers(client, "zhang")
    assert reviews.opinion(client, handler, "MKT", "C1", 1).status_code == 403
    # An account whose badge MKT never filed (备案): refused, as is one whose filing was retired.
    unfiled = reviews.reviewer_account(client, runner, "MKT", badge="35050099999", username="wang")
    refused = reviews.opinion(client, unfiled, "MKT", "C1", 1)
    assert refused.status_code == 403 and list(refused.get_json()["errors"]) == ["reviewer"]
    reviews.file_reviewer(client, mkt, active=False)
    assert reviews.opinion(client, chen, "MKT", "C1", 1).status_code == 403
    reviews.file_reviewer(client, mkt, active=True)
    assert reviews.opinion(client, chen, "MKT", "C1", 1).status_code == 200


def test_a_reviewer_who_worked_the_case_is_refused(client, mkt, runner):
    client.put(f"{URL}/cases/C1", json=case_body(major=True, officers=["35050012345", "35050012346"]), headers=mkt)
    client.post(
        f"{URL}/cases/C1/records",
        json={"records": [record("investigation", officers=["35050012346", "35050066666"])]},
        headers=mkt,
    )
    reviews.submit(client, mkt, "C1")
    # One named on the case, one who only worked a record of it: both filed as reviewers, both refused.
    for n, badge in enumerate(("35050012345", "35050066666")):
        reviews.file_reviewer(client, mkt, badge=badge, name="既办案又审核")
        headers = reviews.reviewer_account(client, runner, "MKT", badge=badge, username=f"both{n}")
        refused = reviews.opinion(client, headers, "MKT", "C1", 1)
        assert refused.status_code == 409
        assert refused.get_json()["errors"] == {"reviewer": ["is an officer on this case"]}
    assert client.get(f"{URL}/cases/C1/reviews", headers=mkt).get_json()["reviews"][0]["outcome"] is None


def test_each_reviewer_sees_only_the_cases_it_may_review(client, auth, runner, mkt, chen):
    """A 司法局's reviewer is lent to the agencies of its region; another agency's reviewer sees nothing."""
    AgencyFactory(code="SFJ", name="泉州市司法局", region_code="350500", supervises=True)
    AgencyFactory(code="ENV", name="泉州市生态环境局", region_code="350500")
    AgencyFactory(code="XM", name="厦门市市场监督管理局", region_code="350200")
    for code, badge, username in (("SFJ", "35050055555", "lent"), ("ENV", "35050044444", "env")):
        reviews.file_reviewer(client, auth.headers(code), badge=badge)
        reviews.reviewer_account(client, runner, code, badge=badge, username=username)
    xm = auth.headers("XM")
    register(client, xm, *OFFICERS)
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    client.put(f"{URL}/cases/X1", json=case_body(major=True), headers=xm)
    reviews.submit(client, mkt, "C1")
    reviews.submit(client, xm, "X1")

    def queue(username):
        response = client.get(f"{REVIEW}/queue", headers=reviews.reviewer_headers(client, username))
        assert response.status_code == 200, response.get_json()
        return [(r["agency"], r["case_no"], r["number"]) for r in response.get_json()["reviews"]]

    assert queue("chen") == [("MKT", "C1", 1)]
    assert queue("lent") == [("MKT", "C1", 1)]  # Quanzhou's 司法局: not Xiamen's case
    assert queue("env") == []
    env = reviews.reviewer_headers(client, "env")
    assert client.get(f"{REVIEW}/cases/MKT/C1/1", headers=env).status_code == 404
    assert reviews.opinion(client, env, "MKT", "C1", 1).status_code == 404
    case = client.get(f"{REVIEW}/cases/MKT/C1/1", headers=reviews.reviewer_headers(client, "lent")).get_json()
    assert (case["case_no"], case["review"]["state"], len(case["review"]["materials"])) == ("C1", "pending", 4)
    lent = reviews.opinion(client, reviews.reviewer_headers(client, "lent"), "MKT", "C1", 1)
    assert lent.status_code == 200 and lent.get_json()["reviewer"] == "35050055555"


def test_the_first_to_settle_a_submission_wins_and_the_second_is_refused(client, mkt, chen, db_session):
    """A reviewer answering a submission the agency has just withdrawn (or another reviewer has just decided)
    holds a stale copy: the conditional update refuses it instead of overwriting."""
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    reviews.submit(client, mkt, "C1")
    user = db_session.scalar(select(AdminUser).where(AdminUser.username == "chen"))
    stale = review_service.for_reviewer(user, "MKT", "C1", 1)
    db_session.execute(
        update(CaseReview)
        .where(CaseReview.id == stale.id)
        .values(withdrawn_at=dt.datetime.now(dt.UTC), withdrawn_reason="撤回")
        .execution_options(synchronize_session=False)
    )
    db_session.commit()
    # What the reviewer's request read before the agency's withdrawal committed.
    set_committed_value(stale, "withdrawn_at", None)
    with pytest.raises(Conflict):
        review_service.give_opinion(user, stale, {"outcome": "approve", "reasons": reviews.checklist()}, None)
    (row,) = client.get(f"{URL}/cases/C1/reviews", headers=mkt).get_json()["reviews"]
    assert (row["state"], row["outcome"]) == ("withdrawn", None)


# -- what the agency submits ---------------------------------------------------------------------
def test_a_submission_carries_the_materials_the_catalogue_asks_for(client, mkt):
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    short = reviews.submit(client, mkt, "C1", materials=reviews.materials(["拟作出的执法决定书", "证据材料"]))
    assert short.status_code == 422
    assert short.get_json()["errors"]["materials"] == ["missing: 案件调查终结报告", "missing: 法律依据"]
    twice = reviews.materials() + reviews.materials(["证据材料"])
    assert reviews.submit(client, mkt, "C1", materials=twice).status_code == 422
    bad_hash = [{**reviews.materials()[0], "sha256": "xyz"}, *reviews.materials()[1:]]
    invalid = reviews.submit(client, mkt, "C1", materials=bad_hash)
    assert invalid.status_code == 422 and "sha256" in str(invalid.get_json()["errors"])
    # The agency's published 审核目录清单 sets its own list.
    catalogue = {
        "phase": "pre",
        "type": "review_catalogue",
        "title": "重大执法决定法制审核目录清单",
        "details": {"matters": ["较大数额罚款"], "materials": ["拟作出的执法决定书", "听证笔录"]},
    }
    assert client.put(f"{URL}/disclosures/catalogue", json=catalogue, headers=mkt).status_code == 201
    assert reviews.submit(client, mkt, "C1").status_code == 422  # no 听证笔录
    own = reviews.materials(["拟作出的执法决定书", "听证笔录"])
    submitted = reviews.submit(client, mkt, "C1", materials=own)
    assert submitted.status_code == 201 and submitted.get_json()["materials"] == own


def test_the_time_limit_counts_working_days_and_overdue_reviews_are_flagged(
    app, client, mkt, chen, runner, frozen_clock
):
    runner.invoke(
        args=["admin", "create", "--username", "li", "--role", "supervisor", "--region", "350500"],
        input=reviews.PASSWORD + "\n",
    )
    supervisor = reviews.reviewer_headers(client, "li")
    at(frozen_clock, "2025-09-29T10:00:00+08:00")  # Monday before the National Day holiday (10-01 to 10-08)
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    submitted = reviews.submit(client, mkt, "C1").get_json()
    # Hand count: 09-30, 10-09, 10-10, the make-up working day 10-11 (Saturday), 10-13; the holiday does not count.
    assert submitted["due_on"] == "2025-10-13" and not submitted["overdue"]

    def summary():
        response = client.get(
            "/api/v1/supervision/summary", query_string={"from": "2025-01-01", "to": "2025-12-31"}, headers=supervisor
        )
        return response.get_json()["reviews_overdue"]

    at(frozen_clock, "2025-10-13T18:00:00+08:00")  # the due day itself: not yet late
    assert not client.get(f"{URL}/reviews", headers=mkt).get_json()["reviews"][0]["overdue"]
    assert summary() == []
    at(frozen_clock, "2025-10-14T09:00:00+08:00")
    pending = client.get(f"{URL}/reviews", headers=mkt).get_json()["reviews"]
    assert [(r["number"], r["overdue"]) for r in pending] == [(1, True)]
    assert [(r["agency"], r["case_no"], r["due_on"]) for r in summary()] == [("MKT", "C1", "2025-10-13")]
    browser = AdminBrowser(app.test_client())
    assert browser.login("li", reviews.PASSWORD).status_code == 303
    dashboard = browser.page("/admin/dashboard?from=2025-01-01&to=2025-12-31")
    overdue = dashboard.split('data-table="reviews_overdue"')[1].split("</table>")[0]
    assert "C1 第1次送审" in overdue and "期限 2025-10-13" in overdue
    assert reviews.opinion(client, chen, "MKT", "C1", 1).status_code == 200
    assert summary() == [] and client.get(f"{URL}/reviews", headers=mkt).get_json()["reviews"] == []


def test_a_pending_submission_can_be_withdrawn_and_submitted_again(client, mkt, chen):
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    reviews.submit(client, mkt, "C1")
    withdrawn = client.post(f"{URL}/cases/C1/reviews/1/withdraw", json={"reason": "补充证据"}, headers=mkt)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["state"] == "withdrawn"
    assert reviews.opinion(client, chen, "MKT", "C1", 1).status_code == 409
    gate = client.put(f"{URL}/disclosures/d1", json=decision(case_no="C1"), headers=mkt)
    assert gate.status_code == 409 and "was withdrawn" in gate.get_json()["errors"]["case_no"][0]
    assert client.post(f"{URL}/cases/C1/reviews/1/withdraw", json={"reason": "再撤"}, headers=mkt).status_code == 409
    assert reviews.submit(client, mkt, "C1").get_json()["number"] == 2
    assert reviews.opinion(client, chen, "MKT", "C1", 2).status_code == 200
    decided = client.post(f"{URL}/cases/C1/reviews/2/withdraw", json={"reason": "晚了"}, headers=mkt)
    assert decided.status_code == 409 and list(decided.get_json()["errors"]) == ["number"]


# -- audited and provable -------------------------------------------------------------------------
def test_every_review_action_is_audited_and_provably_in_the_log(client, mkt, chen, db_session):
    client.put(f"{URL}/cases/C1", json=case_body(major=True), headers=mkt)
    reviews.submit(client, mkt, "C1")
    client.post(f"{URL}/cases/C1/reviews/1/withdraw", json={"reason": "补充证据"}, headers=mkt)
    reviews.submit(client, mkt, "C1", "补充后再报")
    reviews.opinion(client, chen, "MKT", "C1", 2, comment="同意按拟定意见作出决定")
    first, second = client.get(f"{URL}/cases/C1/reviews", headers=mkt).get_json()["reviews"]

    audit = db_session.execute(
        select(AuditEntry.action, AuditEntry.actor, AuditEntry.target_id)
        .where(AuditEntry.action.like("review.%"))
        .order_by(AuditEntry.id)
    ).all()
    client_actor = audit[0].actor
    assert client_actor.startswith("client:")
    assert audit == [
        ("review.submit", client_actor, "MKT/C1/review/1"),
        ("review.withdraw", client_actor, "MKT/C1/review/1"),
        ("review.submit", client_actor, "MKT/C1/review/2"),
        ("review.opinion", "admin:chen", "MKT/C1/review/2"),
    ]

    identity = {"agency": "MKT", "case_no": "C1"}
    contents = {
        first["submit_log_index"]: ("review_submit", _submission(identity, first)),
        first["withdraw_log_index"]: (
            "review_withdraw",
            {**identity, "number": 1, "withdrawn_at": _utc(first["withdrawn_at"]), "reason": "补充证据"},
        ),
        second["submit_log_index"]: ("review_submit", _submission(identity, second)),
        second["opinion_log_index"]: ("review_opinion", _opinion(identity, second)),
    }
    checkpoint = client.get("/api/v1/transparency/checkpoint").get_json()
    root = bytes.fromhex(checkpoint["root_hash"])
    for index, (event, content) in contents.items():
        (entry,) = client.get(
            "/api/v1/transparency/entries", query_string={"start": index, "end": index + 1}
        ).get_json()["entries"]
        assert (entry["event"], entry["item_id"]) == (event, f"MKT/C1/review/{content['number']}")
        # The entry commits to the hash of the content only: recomputed here from what the API shows.
        assert entry["commitment"] == hashlib.sha256(canonical_json(content).encode()).hexdigest()
        assert "admin:chen" not in str(entry) and "client:" not in entry["actor"]
        proof = client.get(
            "/api/v1/transparency/proof/inclusion",
            query_string={"index": index, "tree_size": checkpoint["tree_size"]},
        ).get_json()["hashes"]
        assert merkle.verify_inclusion(
            bytes.fromhex(entry["leaf_hash"]), index, checkpoint["tree_size"], [bytes.fromhex(h) for h in proof], root
        )
    assert checkpoint_verifies(client, checkpoint)
    # An opinion altered in the database no longer matches its entry.
    altered = _opinion(identity, {**second, "outcome": "reject"})
    assert hashlib.sha256(canonical_json(altered).encode()).hexdigest() != contents[second["opinion_log_index"]]


def _utc(beijing: str) -> str:
    return dt.datetime.fromisoformat(beijing).astimezone(dt.UTC).isoformat()


def _submission(identity: dict, review: dict) -> dict:
    return {
        **identity,
        "number": review["number"],
        "submitted_at": _utc(review["submitted_at"]),
        "checklist": review["checklist"],
        "materials": review["materials"],
        "due_on": review["due_on"],
    }


def _opinion(identity: dict, review: dict) -> dict:
    return {
        **identity,
        "number": review["number"],
        "outcome": review["outcome"],
        "reasons": review["reasons"],
        "comment": review["comment"],
        "reviewer_badge": review["reviewer"],
        "reviewer_name": review["reviewer_name"],
        "decided_at": _utc(review["decided_at"]),
    }


# -- what supervisors see ---------------------------------------------------------------------------
def test_the_registry_and_the_five_percent_rule_against_a_hand_count(client, auth, runner, db_session, mkt):
    """Hand count (today, Beijing): MKT 3 active officers + 1 filed active reviewer = 33% (fine);
    ENV 25 active officers (1 more suspended, 1 expired: not counted) and 1 reviewer = 4% (below);
    TAX 20 officers, 1 reviewer = exactly 5% (fine); XM is another region (not shown)."""
    for code, region in (("ENV", "350500"), ("TAX", "350500"), ("XM", "350200")):
        AgencyFactory(code=code, region_code=region)
    env, tax, xm = (auth.headers(code) for code in ("ENV", "TAX", "XM"))
    badges = {code: [f"{n:04d}{code}" for n in range(count)] for code, count in (("ENV", 26), ("TAX", 20), ("XM", 1))}
    for code, headers in (("ENV", env), ("TAX", tax), ("XM", xm)):
        register(client, headers, *badges[code])
    register(client, env, "EXPIRED-1", valid_until="2025-12-31")
    suspended = client.post(
        f"{URL}/officers/{badges['ENV'][0]}/status", json={"status": "suspended", "reason": "调离"}, headers=env
    )
    assert suspended.status_code == 200, suspended.get_json()
    reviews.file_reviewer(client, env, badge="REV-ENV-1")
    reviews.file_reviewer(client, tax, badge="REV-TAX-1")
    reviews.file_reviewer(client, xm, badge="REV-XM-1")
    reviews.file_reviewer(client, mkt, badge="REV-MKT-OLD", active=False)
    runner.invoke(
        args=["admin", "create", "--username", "li", "--role", "supervisor", "--region", "350500"],
        input=reviews.PASSWORD + "\n",
    )
    response = client.get("/api/v1/supervision/reviewers", headers=reviews.reviewer_headers(client, "li"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    staffing = {row["agency"]: (row["officers"], row["reviewers"], row["below_minimum"]) for row in body["staffing"]}
    assert staffing == {"ENV": (25, 1, True), "MKT": (3, 1, False), "TAX": (20, 1, False)}
    assert body["below_minimum"] == ["ENV"]
    filed = {(r["agency"], r["badge_no"]): (r["active"], r["qualification"]) for r in body["reviewers"]}
    assert filed[("MKT", "REV-MKT-OLD")] == (False, "法律职业资格") and ("XM", "REV-XM-1") not in filed
    read = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "supervision.read"))
    assert (read.actor, read.target_type) == ("admin:li", "reviewer_registry")
