"""Every page of the site and each state it has, as one list that the accessibility test and the screenshot
tool (tools/screenshots.py) both walk.

A :class:`Visit` names a page, the path to open (or a function of the seeded :class:`Facts`), who must be
signed in to see it, and what to do once it is open (submit a form to reach an error or a result). A new
page is one more line in ``PUBLIC`` or ``ADMIN``; a page that needs more data gets it in :func:`seed`.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select

from backend.accounts.models import AdminUser
from backend.accounts.services import create_admin, create_client
from backend.complaints.models import Complaint
from backend.demo import load_demo_data
from backend.extensions import db
from backend.officers import tokens
from backend.supervision import evaluation
from tests.factories import reviews
from tests.factories.disclosures import decision
from tests.factories.officers import image_bytes, officer
from tests.test_cases import case_body, record

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
# What a server needs to show the tour's states beyond its defaults: plain http on 127.0.0.1 (the admin cookie),
# a low badge-check limit, so that the limited page is reached in a few requests, and a new index that projects
# the seeded database noticed within a second (the results page waits for it).
SERVER_ENV = {"ADMIN_COOKIE_SECURE": "0", "VERIFY_RATE_LIMIT_PER_MINUTE": "20", "SEARCH_INDEX_CHECK_SECONDS": "0.5"}
PASSWORD = "a long password 1"
AGENCY = "11350500MB0100002E"  # 泉州市市场监督管理局 in the demo data
REGION = "350500"
BADGE = "35050012345"
OFFICERS = (BADGE, "35050012346")
CASE = "A11Y-1"  # waiting for legal review
CLOSED_CASE = "A11Y-2"  # reviewed (the 意见书), closed, drawn for 案卷评查
PUBLISHED_ID = "a11y-decision"
WITHDRAWN_ID = "a11y-withdrawn"
# Each role the admin pages have, and who holds it.
USERS = {
    "handler": "zhang",
    "supervisor": "li",
    "reviewer": "chen",
    "observer": "wang",
    "publisher": "zhou",
    "admin": "root",
    "security": "xu",
    "auditor": "shen",
}


@dataclass
class Facts:
    """What :func:`seed` made that pages are opened with."""

    disclosure: str = ""
    withdrawn: str = ""
    token: str = ""
    tracking_no: str = ""
    query_code: str = ""
    search_word: str = "食品"
    extra: dict[str, Any] = field(default_factory=dict)


Setup = Callable[[Any, Facts], None]


@dataclass(frozen=True)
class Visit:
    name: str
    path: str | Callable[[Facts], str]
    user: str | None = None  # signed in as this admin (USERS' usernames)
    setup: Setup | None = None  # run once the page is open: it ends on the state to check

    def url(self, facts: Facts) -> str:
        return self.path(facts) if callable(self.path) else self.path


# -- actions reaching a state ---------------------------------------------------------------------
def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(lambda url: "/admin/login" not in url)


def fill_the_complaint(page, phone: str = "") -> None:
    page.select_option("select[name=category]", index=1)
    page.fill("textarea[name=content]", "执法人员检查时未出示执法证件，态度生硬。")
    page.fill("input[name=contact_phone]", phone)
    page.click("button.submit")


def file_a_complaint_with_a_photo(page, _facts: Facts) -> None:
    """When and where it happened, and a photo as evidence (a phone's camera roll)."""
    page.fill("input[name=occurred_at]", "2025-10-20T09:30")
    page.fill("input[name=place]", "泉州市丰泽区东海街道某超市")
    page.set_input_files(
        "input[name=evidence]", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": image_bytes("PNG")}]
    )
    file_a_complaint(page, _facts)


def turn_on_large_text(page, _facts: Facts) -> None:
    page.click("form.text-size button")
    page.wait_for_selector("html.large-text")


def submit_a_wrong_phone(page, _facts: Facts) -> None:
    """A field the browser lets through and the server refuses: the form again, with the error beside it."""
    fill_the_complaint(page, phone="12")
    page.wait_for_selector(".field-error")


def file_a_complaint(page, _facts: Facts) -> None:
    fill_the_complaint(page)
    page.wait_for_selector(".query-code")


def track_the_complaint(page, facts: Facts) -> None:
    page.fill("input[name=tracking_no]", facts.tracking_no)
    page.fill("input[name=code]", facts.query_code)
    page.click("button.submit")
    page.wait_for_load_state()


def track_the_overdue_complaint(page, facts: Facts) -> None:
    page.fill("input[name=tracking_no]", facts.extra["overdue"])
    page.fill("input[name=code]", facts.extra["overdue_code"])
    page.click("button.submit")
    page.wait_for_selector("#escalation")


def exhaust_the_verify_limit(page, facts: Facts) -> None:
    """Badge checks from this address until the limit answers (VERIFY_RATE_LIMIT_PER_MINUTE of the server)."""
    for _ in range(1000):
        if page.goto(page.url).status == 429:
            return
    raise AssertionError("the badge check never limited")


PUBLIC: list[Visit] = [
    Visit("search", "/s"),
    Visit("search-results", lambda f: f"/s?q={f.search_word}"),
    Visit("search-no-results", "/s?q=无此内容的检索词"),
    Visit("search-filtered", f"/s?q=食品&region={REGION}&type=decision&sort=date"),
    Visit("search-traditional", "/s?q=行政處罰"),
    Visit("agency", f"/a/{AGENCY}"),
    Visit("agency-roster-search", f"/a/{AGENCY}?q={BADGE}"),
    Visit("agency-not-found", "/a/NO-SUCH-AGENCY"),
    Visit("disclosure", lambda f: f"/d/{f.disclosure}"),
    Visit("disclosure-removed", lambda f: f"/d/{f.withdrawn}"),
    Visit("not-found", "/d/no-such-item"),
    Visit("refused", "/d/%3Cscript%3E"),
    Visit("verify-valid", lambda f: f"/v/{f.token}"),
    Visit("verify-invalid", "/v/not-a-badge-token"),
    Visit("badge-lookup", "/v"),
    Visit("badge-lookup-valid", f"/v?badge_no={BADGE}"),
    Visit("badge-lookup-unknown", "/v?badge_no=35059999999"),
    Visit("complaint-form", "/complaints/new"),
    Visit("complaint-form-error", "/complaints/new", setup=submit_a_wrong_phone),
    Visit("complaint-filed", "/complaints/new", setup=file_a_complaint),
    Visit("complaint-filed-with-evidence", "/complaints/new", setup=file_a_complaint_with_a_photo),
    Visit("tracking-form", "/complaints/track"),
    Visit("tracking-result", "/complaints/track", setup=track_the_complaint),
    Visit("tracking-overdue", "/complaints/track", setup=track_the_overdue_complaint),
    # Last of the badge pages: the limit then holds for a minute.
    Visit("verify-limited", "/v/not-a-badge-token", setup=exhaust_the_verify_limit),
    # Last of the public pages: the cookie it sets stays with this browser context.
    Visit("large-text", lambda f: f"/d/{f.disclosure}", setup=turn_on_large_text),
]

ADMIN: list[Visit] = [
    Visit("admin-login", "/admin/login"),
    Visit("admin-queue", "/admin/complaints", "zhang"),
    Visit("admin-complaint", lambda f: f"/admin/complaints/{f.tracking_no}", "zhang"),
    Visit("admin-supervision", "/admin/supervision", "zhang"),
    Visit("admin-dashboard", "/admin/dashboard", "zhang"),
    Visit("admin-disclosure-changes", "/admin/disclosure-changes", "zhang"),
    Visit("admin-approvals", "/admin/approvals", "li"),
    Visit("admin-cases", "/admin/cases", "li"),
    Visit("admin-case", f"/admin/cases/{AGENCY}/{CASE}", "li"),
    Visit("admin-reviewers", "/admin/reviewers", "li"),
    Visit("admin-evaluations", "/admin/evaluations", "li"),
    Visit("admin-evaluation-round", lambda f: f"/admin/evaluations/{f.extra['round']}", "li"),
    Visit("admin-evaluation-case", lambda f: f"/admin/evaluations/{f.extra['round']}/cases/1", "li"),
    Visit("admin-negative-list", "/admin/negative-list", "li"),
    Visit("admin-reviews", "/admin/reviews", "chen"),
    Visit("admin-review", f"/admin/reviews/{AGENCY}/{CASE}/1", "chen"),
    Visit("admin-review-decided", f"/admin/reviews/{AGENCY}/{CLOSED_CASE}/1", "chen"),
    Visit("admin-review-letter", f"/admin/reviews/{AGENCY}/{CLOSED_CASE}/1/letter", "chen"),
    Visit("admin-observer", "/admin/evaluations", "wang"),
    Visit("admin-publish", "/admin/publish", "zhou"),
    Visit("admin-publish-new", "/admin/publish/new", "zhou"),
    Visit("admin-publish-item", f"/admin/publish/items/{PUBLISHED_ID}", "zhou"),
    Visit("admin-officers", "/admin/officers", "zhou"),
    Visit("admin-officer-card", f"/admin/officers/{BADGE}/card", "zhou"),
    Visit("admin-accounts", "/admin/accounts", "root"),
    Visit("admin-push", "/admin/push", "root"),
    Visit("admin-security", "/admin/security", "xu"),
    Visit("admin-audit", "/admin/audit", "shen"),
    Visit("admin-otp", "/admin/account/otp", "shen"),
    Visit("admin-password", "/admin/account/password", "shen"),
    Visit("admin-forbidden", "/admin/complaints", "xu"),
    Visit("admin-not-found", "/admin/no-such-page", "zhang"),
]

PAGES: list[Visit] = PUBLIC + ADMIN


def walk(browser, base_url: str, facts: Facts, visits: list[Visit] = PAGES) -> Iterator[tuple[Visit, str, Any]]:
    """Each visit at each width: (visit, width name, the page showing its state). One browser context per width
    and person, kept from page to page (each holds its own sign-in)."""
    pages: dict[tuple[str, str | None], Any] = {}
    for visit in visits:
        for width, viewport in VIEWPORTS.items():
            if (width, visit.user) not in pages:
                context = browser.new_context(viewport=viewport, locale="zh-CN")
                context.set_default_timeout(15_000)
                pages[width, visit.user] = context.new_page()
                if visit.user:
                    sign_in(pages[width, visit.user], base_url, visit.user)
            page = pages[width, visit.user]
            page.goto(base_url + visit.url(facts))
            if visit.setup:
                visit.setup(page, facts)
            yield visit, width, page


def wait_until_searchable(base_url: str, facts: Facts, timeout: float = 60) -> None:
    """The server's indexer has projected the seeded items (the results page is one of the states)."""
    url = f"{base_url}/api/v1/disclosures?q={urllib.parse.quote(facts.search_word)}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if b'"items":[]' not in answer.read().replace(b" ", b""):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("the seeded items never became searchable")


# -- the data the pages show ----------------------------------------------------------------------
def seed(app: Flask) -> Facts:
    """Demo data, then what the pages above need beyond it, committed through the API and services."""
    api = app.test_client()
    with app.app_context():
        load_demo_data()
        issued = create_client(AGENCY, actor="tour")
        for role, username in USERS.items():
            create_admin(
                username=username,
                password=PASSWORD,
                role=role,
                actor="tour",
                agency_code=AGENCY if role in ("handler", "reviewer", "observer", "publisher") else None,
                region_code=REGION if role == "supervisor" else None,
                badge_no=reviews.REVIEWER_BADGE if role == "reviewer" else None,
            )
    credentials = {"client_id": issued.client.client_id, "client_secret": issued.secret}
    token = api.post("/api/v1/auth/token", json=credentials).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    photo = {"media_type": "image/jpeg", "data": base64.b64encode(image_bytes()).decode()}
    for badge in OFFICERS:
        answer = api.put(f"/api/v1/publish/officers/{badge}", json=officer(photo=photo), headers=headers)
        assert answer.status_code in (200, 201), answer.get_json()
    published = _publish(api, headers, PUBLISHED_ID, "泉州市某食品店销售过期食品行政处罚决定书")
    withdrawn = _publish(api, headers, WITHDRAWN_ID, "泉州市某超市销售不合格食品行政处罚决定书")
    withdrawal = {
        "reason": "revoked",
        "explanation": "该处罚决定已被行政复议决定撤销。",
        "document_no": "泉政复决〔2025〕12号",
    }
    answer = api.post(f"/api/v1/publish/disclosures/{WITHDRAWN_ID}/withdraw", json=withdrawal, headers=headers)
    assert answer.status_code == 200, answer.get_json()

    # Decisions first: once the agency reports a case, its decisions must name one.
    reviews.file_reviewer(api, headers)
    _open_case(api, headers, CASE)
    _open_case(api, headers, CLOSED_CASE)
    reviewer = reviews.opinion(api, _admin_headers(api, USERS["reviewer"]), AGENCY, CLOSED_CASE, 1)
    assert reviewer.status_code == 200, reviewer.get_json()
    closing = [record("closing", at="2025-10-15T16:00:00+08:00", officers=OFFICERS)]
    answer = api.post(f"/api/v1/publish/cases/{CLOSED_CASE}/records", json={"records": closing}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    with app.app_context():
        supervisor = db.session.scalar(select(AdminUser).filter_by(username=USERS["supervisor"]))
        period = {"date_from": dt.date(2025, 10, 1), "date_to": dt.date(2025, 10, 31)}
        drawn = evaluation.create_round(
            supervisor, {**period, "region": REGION, "sample_size": 1, "evaluators": [supervisor.username]}
        )
        round_id = drawn.id

    complaint = {"category": "misconduct", "content": "执法人员检查时未出示执法证件，态度生硬。", "agency": AGENCY}
    filed = api.post("/api/v1/complaints", json=complaint).get_json()
    evidence = {"evidence": (io.BytesIO(image_bytes("PNG")), "现场照片.png")}
    answer = api.post(
        f"/api/v1/complaints/{filed['tracking_no']}/evidence",
        data=evidence,
        headers={"X-Query-Code": filed["query_code"]},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.get_json()
    overdue = api.post(
        "/api/v1/complaints", json={**complaint, "content": "执法人员态度恶劣，至今无人受理。"}
    ).get_json()
    with app.app_context():
        # Filed weeks ago and never accepted: its deadlines have passed (the state that names whom to turn to).
        late = db.session.scalar(select(Complaint).filter_by(tracking_no=overdue["tracking_no"]))
        late.accept_due = late.created_at.date() - dt.timedelta(days=30)
        db.session.commit()
    with app.test_request_context():
        badge_token = tokens.issue(AGENCY, BADGE).token
    return Facts(
        disclosure=published["id"],
        withdrawn=withdrawn["id"],
        token=badge_token,
        tracking_no=filed["tracking_no"],
        query_code=filed["query_code"],
        extra={"round": round_id, "overdue": overdue["tracking_no"], "overdue_code": overdue["query_code"]},
    )


def _publish(api, headers: dict, external_id: str, title: str) -> dict:
    body = decision(title=title, decision_date="2025-10-15", document_no=f"泉市监罚〔2025〕{external_id}号")
    answer = api.put(f"/api/v1/publish/disclosures/{external_id}", json=body, headers=headers)
    assert answer.status_code in (200, 201), answer.get_json()
    return answer.get_json()


def _admin_headers(api, username: str) -> dict:
    token = api.post("/api/v1/admin/auth/token", json={"username": username, "password": PASSWORD})
    assert token.status_code == 200, token.get_json()
    return {"Authorization": f"Bearer {token.get_json()['access_token']}"}


def _open_case(api, headers: dict, case_no: str) -> None:
    """A penalty case with its filing and investigation records, submitted for legal review."""
    answer = api.put(f"/api/v1/publish/cases/{case_no}", json=case_body(officers=list(OFFICERS)), headers=headers)
    assert answer.status_code == 201, answer.get_json()
    steps = [
        record("filing", officers=OFFICERS),
        record("investigation", at="2025-10-11T10:00:00+08:00", officers=OFFICERS),
    ]
    answer = api.post(f"/api/v1/publish/cases/{case_no}/records", json={"records": steps}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    assert reviews.submit(api, headers, case_no).status_code == 201
