"""The admin page's legal-review screens through the Flask test client: the reviewer's queue, case and
opinion form, the printable 法制审核意见书 and who may read it, the supervisor's registry, and refusals."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from backend.accounts.models import AdminUser
from backend.audit.models import AuditEntry
from backend.cases.models import CHECKLIST, CaseReview
from backend.cases.reviews import DEFAULT_MATERIALS
from backend.complaints import services as complaints
from tests.factories import AgencyFactory, reviews
from tests.factories.officers import register
from tests.support.admin_browser import PASSWORD, AdminBrowser
from tests.test_cases import OFFICERS, case_body, record

URL = "/api/v1/publish"
REVIEW = "/admin/reviews/MKT/C1/1"


@pytest.fixture
def region(auth, client, db_session) -> dict:
    """泉州 (司法局 SFJ, MKT with three officers and a filed reviewer, ENV with two officers and none) and
    厦门 (XM); MKT's case C1 with two records, submitted for review. The agencies' API headers."""
    judicial = AgencyFactory(code="SFJ", name="泉州市司法局", region_code="350500", supervises=True)
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500", parent=judicial)
    AgencyFactory(code="ENV", name="泉州市生态环境局", region_code="350500", parent=judicial)
    AgencyFactory(code="XM", name="厦门市市场监督管理局", region_code="350200")
    headers = {code: auth.headers(code) for code in ("MKT", "ENV", "XM")}
    register(client, headers["MKT"], *OFFICERS)
    register(client, headers["ENV"], "35050088881", "35050088882")
    register(client, headers["XM"], "35020012345", "35020012346")
    reviews.file_reviewer(client, headers["MKT"])
    for code, officers in (("MKT", OFFICERS[:2]), ("XM", ("35020012345", "35020012346"))):
        opened = client.put(f"{URL}/cases/C1", json=case_body(officers=list(officers)), headers=headers[code])
        assert opened.status_code == 201, opened.get_json()
        steps = [
            record("filing", officers=officers),
            record("investigation", officers=officers, at="2025-10-11T10:00:00+08:00"),
        ]
        added = client.post(f"{URL}/cases/C1/records", json={"records": steps}, headers=headers[code])
        assert added.status_code == 201, added.get_json()
        submitted = reviews.submit(client, headers[code], "C1", text=f"{code} 承办机构说明")
        assert submitted.status_code == 201, submitted.get_json()
    return headers


@pytest.fixture
def person(app: Flask, runner, region):
    """A logged-in browser: ``person("zhang", "handler", agency="MKT")``; a reviewer needs ``badge``."""

    def open_as(username: str, role: str, agency: str | None = None, region: str | None = None, badge=None):
        args = ["admin", "create", "--username", username, "--role", role]
        args += ["--agency", agency] if agency else []
        args += ["--region", region] if region else []
        args += ["--badge", badge] if badge else []
        password = reviews.PASSWORD if role == "reviewer" else PASSWORD
        created = runner.invoke(args=args, input=password + "\n")
        assert created.exit_code == 0, created.output
        browser = AdminBrowser(app.test_client())
        assert browser.login(username, password).status_code == 303
        return browser

    return open_as


@pytest.fixture
def chen(person) -> AdminBrowser:
    """MKT's filed reviewer, who recorded nothing in C1."""
    return person("chen", "reviewer", agency="MKT", badge=reviews.REVIEWER_BADGE)


def opinion_form(browser: AdminBrowser, path: str = REVIEW, **fields: str) -> dict:
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.page(path)).group(1)
    reasons = {f"reason_{key}": f"{label}：经审查，符合规定。" for key, label in CHECKLIST.items()}
    return {"csrf_token": token, **reasons, "outcome": "approve", "comment": "同意作出处罚决定。", **fields}


def review_of(db_session, agency: str = "MKT") -> CaseReview:
    db_session.expire_all()
    reviews_of = db_session.scalars(select(CaseReview).order_by(CaseReview.id)).all()
    return next(r for r in reviews_of if r.case.agency.code == agency)


def give_opinion(browser: AdminBrowser, **fields: str):
    return browser.client.post(f"{REVIEW}/opinion", data=opinion_form(browser, **fields))


# -- the reviewer's screens ---------------------------------------------------------------------
def test_a_reviewer_lands_on_the_queue_reads_the_case_and_approves(app, chen, db_session):
    assert chen.get("/admin/").location.endswith("/admin/reviews")
    queue = chen.page("/admin/reviews")
    assert "chen · 法制审核人员 · 泉州市市场监督管理局" in queue
    assert 'data-review="MKT/C1/1"' in queue and "食品安全行政处罚" in queue
    assert "XM/C1" not in queue  # another region's submission
    assert "法制审核" in queue and "投诉队列" not in queue and "监督统计" not in queue

    page = chen.page(REVIEW)
    assert "食品安全行政处罚" in page and "行政处罚" in page and OFFICERS[0] in page
    assert page.index("立案") < page.index("调查") and "2025-10-11 10:00" in page  # records in order, Beijing time
    for i, name in enumerate(DEFAULT_MATERIALS, start=1):
        assert name in page and f"{i:064x}" in page
    for key, label in CHECKLIST.items():
        assert label in page and f'name="reason_{key}"' in page
    assert page.count("MKT 承办机构说明") == len(CHECKLIST)
    assert "<script" not in page

    done = give_opinion(chen)
    assert done.status_code == 303 and done.location.endswith(REVIEW)
    after = chen.page(REVIEW)
    assert "已出具审核意见：同意" in after and 'data-state="decided"' in after and 'name="reason_' not in after
    review = review_of(db_session)
    assert (review.outcome, review.reviewer_badge, review.reviewer_actor) == (
        "approve",
        reviews.REVIEWER_BADGE,
        "admin:chen",
    )
    assert review.reasons["clear_facts"] == "案件事实是否清楚：经审查，符合规定。"
    assert (
        "review.opinion" in db_session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "admin:chen")).all()
    )
    assert 'data-review="MKT/C1/1"' not in chen.page("/admin/reviews")
    again = give_opinion(chen, outcome="reject")
    assert again.status_code == 409 and "该次审核已出具意见" in again.get_data(as_text=True)
    assert review_of(db_session).outcome == "approve"


def test_a_retired_reviewer_is_refused_with_403(chen, client, region, db_session):
    reviews.file_reviewer(client, region["MKT"], active=False)
    for path in ("/admin/reviews", REVIEW):
        refused = chen.get(path)
        assert refused.status_code == 403 and "已停止审核工作" in refused.get_data(as_text=True)


def test_a_form_with_missing_items_comes_back_as_typed_with_each_item_named(chen, db_session):
    form = opinion_form(chen, reason_clear_facts="", comment="我写的意见")
    del form["outcome"]
    refused = chen.client.post(f"{REVIEW}/opinion", data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "「案件事实是否清楚」须填写审核理由" in page and "审核结论须选择" in page
    assert "证据是否确凿充分：经审查，符合规定。" in page and "我写的意见" in page  # what was typed stays
    assert review_of(db_session).outcome is None


def test_a_reviewer_who_worked_the_case_is_refused_with_a_message(person, region, client, db_session):
    reviews.file_reviewer(client, region["MKT"], badge=OFFICERS[0], name="执法人员 兼审核")
    officer = person("wang", "reviewer", agency="MKT", badge=OFFICERS[0])
    refused = give_opinion(officer)
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "审核人员不得审核本人承办的案件" in page and "执法人员是否具备执法资格：经审查，符合规定。" in page
    assert 'value="approve" required checked' in page
    assert review_of(db_session).outcome is None


def test_an_opinion_without_the_csrf_token_is_refused_and_changes_nothing(app, chen, db_session):
    form = opinion_form(chen)
    for token in (None, "forged", AdminBrowser(app.test_client()).token()):  # the last: another session's
        data = {**form, "csrf_token": token} if token else {k: v for k, v in form.items() if k != "csrf_token"}
        refused = chen.client.post(f"{REVIEW}/opinion", data=data)
        assert refused.status_code == 403 and "操作未执行" in refused.get_data(as_text=True)
    assert review_of(db_session).outcome is None


def test_another_regions_case_is_not_found_for_the_reviewer(chen):
    for path in ("/admin/reviews/XM/C1/1", "/admin/reviews/MKT/C1/2", "/admin/reviews/XM/C1/1/letter"):
        missing = chen.get(path)
        assert missing.status_code == 404 and "未找到" in missing.get_data(as_text=True)
    form = opinion_form(chen)
    assert chen.client.post("/admin/reviews/XM/C1/1/opinion", data=form).status_code == 404


def test_a_reviewer_gets_403_on_the_complaint_and_supervision_pages(chen):
    for path in (
        "/admin/complaints",
        "/admin/complaints/X1",
        "/admin/supervision",
        "/admin/dashboard",
        "/admin/disclosure-changes",
        "/admin/reviewers",
    ):
        refused = chen.get(path)
        assert refused.status_code == 403, path
        assert "法制审核人员只能使用法制审核页面" in refused.get_data(as_text=True)
    token = chen.token("/admin/reviews")
    assert chen.client.post("/admin/complaints/X1/accept", data={"csrf_token": token}).status_code == 403


@pytest.mark.parametrize(
    ("role", "where"), [("handler", {"agency": "MKT"}), ("supervisor", {"region": "350500"}), ("admin", {})]
)
def test_other_roles_get_403_on_the_review_screens(person, role, where, db_session):
    other = person("zhang", role, **where)
    for path in ("/admin/reviews", REVIEW):
        refused = other.get(path)
        assert refused.status_code == 403 and "仅法制审核人员可审核案件" in refused.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', other.page("/admin/complaints")).group(1)
    reasons = {f"reason_{key}": "符合" for key in CHECKLIST}
    assert (
        other.client.post(f"{REVIEW}/opinion", data={"csrf_token": token, **reasons, "outcome": "approve"}).status_code
        == 403
    )
    assert review_of(db_session).outcome is None


# -- the 法制审核意见书 -------------------------------------------------------------------------------
def test_the_letter_shows_the_opinion_and_the_hash_the_log_commits_to(chen, client, db_session):
    assert chen.get(f"{REVIEW}/letter").status_code == 404  # no opinion yet
    give_opinion(chen, outcome="revise", comment="请补充听证告知材料后再报。")
    letter = chen.page(f"{REVIEW}/letter")
    assert "重大执法决定法制审核意见书" in letter and "泉州市市场监督管理局" in letter and "C1" in letter
    assert "食品安全行政处罚" in letter and "修改后再报" in letter and "请补充听证告知材料后再报。" in letter
    for label in CHECKLIST.values():
        assert f"{label}：经审查，符合规定。" in letter
    assert "法制科 陈审" in letter and reviews.REVIEWER_BADGE in letter and "法律职业资格" in letter
    review = review_of(db_session)
    index = int(re.search(r'data-field="log_index">(\d+)<', letter).group(1))
    digest = re.search(r'data-field="sha256">([0-9a-f]{64})<', letter).group(1)
    assert index == review.opinion_log_index
    (entry,) = client.get(f"/api/v1/transparency/entries?start={index}&end={index + 1}").get_json()["entries"]
    assert (entry["event"], entry["item_id"], entry["commitment"]) == ("review_opinion", "MKT/C1/review/1", digest)
    assert f"/api/v1/transparency/entries?start={index}&amp;end={index + 1}" in letter
    css = client.get("/admin/static/admin.css").get_data(as_text=True)
    assert "@media print" in css and "size: A4" in css


@pytest.mark.parametrize(
    ("role", "where", "status"),
    [
        ("handler", {"agency": "MKT"}, 200),
        ("supervisor", {"region": "350500"}, 200),
        ("supervisor", {"region": "350000"}, 200),
        ("admin", {}, 200),
        ("handler", {"agency": "ENV"}, 404),
        ("supervisor", {"region": "350200"}, 404),
    ],
)
def test_the_letter_is_read_by_the_agency_and_its_supervisors_only(chen, person, role, where, status):
    give_opinion(chen)
    reader = person("reader", role, **where)
    response = reader.get(f"{REVIEW}/letter")
    assert response.status_code == status
    assert ("重大执法决定法制审核意见书" in response.get_data(as_text=True)) == (status == 200)


# -- the supervisor's registry ------------------------------------------------------------------
def test_the_registry_shows_filed_reviewers_and_the_agencies_below_five_percent(person, db_session):
    supervisor = person("su", "supervisor", region="350500")
    page = supervisor.page("/admin/reviewers")
    assert "审核人员备案" in page  # in the menu
    reviewers_table = page[page.index('data-table="reviewers"') :]
    assert "法制科 陈审" in reviewers_table and reviews.REVIEWER_BADGE in reviewers_table
    assert "法律职业资格" in reviewers_table and "2019-09-30" in reviewers_table and "未开通" in reviewers_table
    staffing = page[page.index('data-table="staffing"') : page.index('data-table="reviewers"')]
    mkt = staffing[staffing.index('data-agency="MKT"') :]
    assert re.search(r"<td class=\"num\">3</td>\s*<td class=\"num\">1</td>\s*<td class=\"num\">33.3%</td>", mkt)
    env = staffing[staffing.index('data-agency="ENV"') :]
    assert 'class="below"' in env[:40] and "0.0%" in env and 'class="below"' not in mkt[:40]
    assert "XM" not in staffing  # another region
    person("chen", "reviewer", agency="MKT", badge=reviews.REVIEWER_BADGE)
    assert "已开通" in supervisor.page("/admin/reviewers")
    assert (
        "supervision.read" in db_session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "admin:su")).all()
    )


def test_a_handler_gets_403_on_the_registry_and_has_no_link_to_it(person):
    handler = person("zhang", "handler", agency="MKT")
    refused = handler.get("/admin/reviewers")
    assert refused.status_code == 403 and "仅监督人员和系统管理员可查看" in refused.get_data(as_text=True)
    assert "审核人员备案" not in handler.page("/admin/complaints")


def test_a_reviewer_sees_no_complaint_of_any_agency_even_past_the_page(chen, client, db_session):
    """The page refuses a reviewer; the scope behind it would not show one anything either (a reviewer has
    no region, and an empty region prefix used to match every agency)."""
    filed = client.post(
        "/api/v1/complaints", json={"category": "misconduct", "content": "执法人员未出示证件。", "agency": "MKT"}
    )
    assert filed.status_code == 201, filed.get_json()
    reviewer = db_session.scalar(select(AdminUser).where(AdminUser.username == "chen"))
    assert complaints.queue(reviewer).total == 0
