"""The admin page through the Flask test client: login, sessions, CSRF, scope and the complaint lifecycle."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from backend import config as app_config
from backend.accounts.models import AdminUser
from backend.audit.models import AuditEntry
from backend.complaints.models import Complaint
from backend.extensions import clock
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision
from tests.factories.officers import officer
from tests.support.admin_browser import PASSWORD, AdminBrowser
from tests.support.complainant import read_complaint

COMPLAINTS = "/api/v1/complaints"
BADGE = "35050012345"


@pytest.fixture
def city(db_session):
    judicial = AgencyFactory(code="SFJ", name="泉州市司法局", region_code="350500", supervises=True)
    market = AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500", parent=judicial)
    environment = AgencyFactory(code="ENV", name="泉州市生态环境局", region_code="350500", parent=judicial)
    xiamen = AgencyFactory(code="XM", name="厦门市市场监督管理局", region_code="350200")
    return {"SFJ": judicial, "MKT": market, "ENV": environment, "XM": xiamen}


@pytest.fixture
def create_admin(runner):
    def create(username: str, role: str = "handler", agency: str | None = "MKT", region: str | None = None) -> None:
        args = ["admin", "create", "--username", username, "--role", role]
        args += ["--agency", agency] if agency and role == "handler" else []
        args += ["--region", region] if region else []
        result = runner.invoke(args=args, input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output

    return create


@pytest.fixture
def browser(app: Flask, db_session, create_admin, city, frozen_clock):
    """A logged-in browser for a user created on the spot: ``browser("zhang", agency="MKT")``."""

    def open_as(username: str, **user) -> AdminBrowser:
        create_admin(username, **user)
        person = AdminBrowser(app.test_client())
        assert person.login(username).status_code == 303
        return person

    return open_as


def file(client: FlaskClient, **body) -> dict:
    payload = {"category": "misconduct", "content": "执法人员未出示证件即要求检查。", "agency": "MKT", **body}
    response = client.post(COMPLAINTS, json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def status_of(db_session, tracking_no: str) -> str:
    db_session.expire_all()
    return db_session.scalar(select(Complaint.status).where(Complaint.tracking_no == tracking_no))


def audit_actions(db_session, **where) -> list[str]:
    query = select(AuditEntry.action).order_by(AuditEntry.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEntry, column) == value)
    return list(db_session.scalars(query))


# -- login and sessions ---------------------------------------------------------------------------
def test_the_login_page_has_its_fields_and_locks_down_the_response(client, city):
    response = client.get("/admin/login")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "管理端登录" in page
    for field in ("username", "password", "csrf_token"):
        assert f'name="{field}"' in page
    assert "<script" not in page
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "script-src" not in policy
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("admin_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/admin" in cookie
    assert client.get("/admin/static/admin.css").status_code == 200


def test_a_good_password_logs_in_and_shows_who_is_there(app, create_admin, city, db_session, frozen_clock):
    create_admin("zhang", agency="MKT")
    person = AdminBrowser(app.test_client())
    response = person.login("zhang")
    assert response.status_code == 303 and response.location.endswith("/admin/complaints")
    page = person.page("/admin/complaints")
    assert "zhang · 办理人员 · 泉州市市场监督管理局" in page
    for item in ("投诉队列", "监督统计", "公示变更", "退出"):
        assert item in page
    assert audit_actions(db_session, actor="admin:zhang") == ["admin.login"]
    missing = person.get("/admin/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)
    assert missing.headers["X-Frame-Options"] == "DENY"


def test_a_wrong_password_shows_the_login_page_again_with_401_and_is_audited(app, create_admin, city, db_session):
    create_admin("zhang")
    person = AdminBrowser(app.test_client())
    response = person.login("zhang", "not the password")
    page = response.get_data(as_text=True)
    assert response.status_code == 401 and response.mimetype == "text/html"
    assert "用户名或密码错误" in page and 'value="zhang"' in page and "not the password" not in page
    assert audit_actions(db_session, actor="admin:zhang") == ["admin.login_failed"]
    assert person.get("/admin/complaints").status_code == 302


def test_logins_are_refused_with_429_after_too_many_failures(app, create_admin, city, db_session, cache_clock):
    create_admin("zhang")
    person = AdminBrowser(app.test_client())
    for _ in range(app.config["TOKEN_FAILURES_ALLOWED"]):
        assert person.login("zhang", "wrong password").status_code == 401
    refused = person.login("zhang")  # even the right password, while locked
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "登录失败次数过多" in refused.get_data(as_text=True)
    assert person.get("/admin/complaints").status_code == 302


def browser_at(app: Flask, address: str) -> AdminBrowser:
    test_client = app.test_client()
    test_client.environ_base["REMOTE_ADDR"] = address
    return AdminBrowser(test_client)


def test_a_user_still_logs_in_after_100_failures_from_other_addresses(app, create_admin, city, cache_clock):
    create_admin("zhang")
    allowed = app.config["TOKEN_FAILURES_ALLOWED"]
    for n in range(100 // allowed):
        attacker = browser_at(app, f"203.0.113.{n}")
        for _ in range(allowed):
            if n % 2:
                assert attacker.login("zhang", "wrong password").status_code == 401
            else:
                wrong = {"username": "zhang", "password": "wrong password"}
                assert attacker.client.post("/api/v1/admin/auth/token", json=wrong).status_code == 401
    assert AdminBrowser(app.test_client()).login("zhang").status_code == 303
    right = {"username": "zhang", "password": PASSWORD}
    assert browser_at(app, "198.51.100.7").client.post("/api/v1/admin/auth/token", json=right).status_code == 200
    assert browser_at(app, "203.0.113.0").login("zhang").status_code == 429


def test_a_password_guesser_waits_twice_as_long_after_each_further_failure(app, create_admin, city, cache_clock):
    create_admin("zhang")
    guesser = browser_at(app, "203.0.113.9")
    for _ in range(app.config["TOKEN_FAILURES_ALLOWED"]):
        assert guesser.login("zhang", "wrong password").status_code == 401
    waits = []
    for _ in range(6):
        refused = guesser.login("zhang", "wrong password")
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        assert f"请 {waits[-1]} 秒后再试" in refused.get_data(as_text=True)
        cache_clock.advance(waits[-1])
        assert guesser.login("zhang", "wrong password").status_code == 401
    assert waits == [2**n for n in range(6)]
    assert guesser.login("zhang").status_code == 429
    cache_clock.advance(64)
    assert guesser.login("zhang").status_code == 303


def test_an_empty_form_is_not_a_login_attempt(app, create_admin, city, db_session):
    person = AdminBrowser(app.test_client())
    response = person.login("", "")
    assert response.status_code == 400 and "请输入用户名和密码" in response.get_data(as_text=True)
    assert audit_actions(db_session) == []


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/complaints", "/admin/complaints/TS1", "/admin/supervision", "/admin/disclosure-changes"]
)
def test_every_page_but_login_needs_a_session(client, city, path):
    response = client.get(path)
    assert response.status_code == 302 and "/admin/login" in response.location


def test_after_login_the_user_lands_where_they_were_going_but_never_off_site(app, create_admin, city, frozen_clock):
    create_admin("zhang")
    person = AdminBrowser(app.test_client())
    asked = person.get("/admin/supervision?from=2025-10-01")
    assert asked.location.endswith("/admin/login?next=/admin/supervision?from%3D2025-10-01")
    assert (
        person.login("zhang", next="/admin/supervision?from=2025-10-01").location
        == "/admin/supervision?from=2025-10-01"
    )
    for target in ("//evil.example/admin/", "https://evil.example/", "/admin/\\\\evil.example", "/api/v1/agencies"):
        other = AdminBrowser(app.test_client())
        assert other.login("zhang", next=target).location == "/admin/complaints"


def test_logout_needs_the_token_ends_the_session_and_is_audited(browser, db_session):
    zhang = browser("zhang")
    assert zhang.client.post("/admin/logout").status_code == 403
    assert zhang.get("/admin/complaints").status_code == 200
    out = zhang.client.post("/admin/logout", data={"csrf_token": zhang.token("/admin/complaints")})
    assert out.status_code == 303 and out.location.endswith("/admin/login")
    assert "已退出登录" in zhang.page("/admin/login")
    assert zhang.get("/admin/complaints").status_code == 302
    assert audit_actions(db_session, actor="admin:zhang") == ["admin.login", "admin.logout"]


def test_an_idle_session_ends_after_30_minutes(browser, frozen_clock, app):
    zhang = browser("zhang")
    for _ in range(3):  # active: each request moves the idle clock on
        frozen_clock.advance(dt.timedelta(minutes=29))
        assert zhang.get("/admin/complaints").status_code == 200
    frozen_clock.advance(dt.timedelta(seconds=app.config["ADMIN_IDLE_SECONDS"] + 1))
    expired = zhang.get("/admin/complaints")
    assert expired.status_code == 302 and "/admin/login" in expired.location
    assert "登录已超时" in zhang.page("/admin/login")
    assert zhang.get("/admin/complaints").status_code == 302


def test_a_session_ends_after_8_hours_however_active(browser, frozen_clock):
    zhang = browser("zhang")
    frozen_clock.advance(dt.timedelta(minutes=5))
    for _ in range(8 * 3):
        assert zhang.get("/admin/complaints").status_code == 200
        frozen_clock.advance(dt.timedelta(minutes=20))
    assert zhang.get("/admin/complaints").status_code == 302


def test_a_disabled_user_is_out_at_the_next_click(browser, db_session):
    zhang = browser("zhang")
    user = db_session.scalar(select(AdminUser).where(AdminUser.username == "zhang"))
    user.disabled_at = clock.now()
    db_session.commit()
    assert zhang.get("/admin/complaints").status_code == 302
    assert "账户已停用" in zhang.page("/admin/login")


def test_the_secure_flag_is_on_in_production_and_can_be_set(monkeypatch, tmp_path, client, city):
    monkeypatch.delenv("ADMIN_COOKIE_SECURE", raising=False)
    monkeypatch.setenv("APP_ENV", "development")
    assert app_config.load(str(tmp_path))["ADMIN_COOKIE_SECURE"] is False
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    assert app_config.load(str(tmp_path))["ADMIN_COOKIE_SECURE"] is True
    monkeypatch.setenv("ADMIN_COOKIE_SECURE", "0")
    assert app_config.load(str(tmp_path))["ADMIN_COOKIE_SECURE"] is False
    monkeypatch.setitem(client.application.config, "SESSION_COOKIE_SECURE", True)
    assert "Secure" in client.get("/admin/login").headers["Set-Cookie"]


# -- CSRF -----------------------------------------------------------------------------------------
def test_a_post_without_the_right_token_is_refused_and_changes_nothing(browser, client, db_session):
    zhang = browser("zhang")
    filed = file(client)
    url = f"/admin/complaints/{filed['tracking_no']}/accept"
    for form in ({}, {"csrf_token": "forged-token"}, {"csrf_token": ""}):
        refused = zhang.client.post(url, data=form)
        assert refused.status_code == 403 and refused.mimetype == "text/html"
        assert "操作未执行" in refused.get_data(as_text=True)
    # A token from another session is no better.
    other = AdminBrowser(client.application.test_client())
    assert zhang.client.post(url, data={"csrf_token": other.token()}).status_code == 403
    assert status_of(db_session, filed["tracking_no"]) == "submitted"
    assert "complaint.accepted" not in audit_actions(db_session)
    # The login form is protected too.
    assert client.post("/admin/login", data={"username": "zhang", "password": PASSWORD}).status_code == 403


def test_the_token_changes_at_login(app, create_admin, city, frozen_clock):
    create_admin("zhang")
    person = AdminBrowser(app.test_client())
    before = person.token()
    person.login("zhang")
    assert person.token("/admin/complaints") != before


# -- scope ----------------------------------------------------------------------------------------
def test_a_handler_sees_nothing_of_another_agency(browser, client, db_session):
    zhang = browser("zhang", agency="MKT")
    env = file(client, agency="ENV", content="生态环境执法人员态度恶劣。")
    mine = file(client, agency="MKT")
    queue = zhang.page("/admin/complaints")
    assert mine["tracking_no"] in queue and env["tracking_no"] not in queue
    assert zhang.get(f"/admin/complaints/{env['tracking_no']}").status_code == 404
    token = zhang.token("/admin/complaints")
    for action, form in (("accept", {}), ("note", {"text": "看看别人的"}), ("reject", {"reason": "不归我们管"})):
        refused = zhang.client.post(
            f"/admin/complaints/{env['tracking_no']}/{action}", data={"csrf_token": token, **form}
        )
        assert refused.status_code == 404 and "未找到该投诉" in refused.get_data(as_text=True)
    assert status_of(db_session, env["tracking_no"]) == "submitted"
    assert not [a for a in audit_actions(db_session) if a.startswith("complaint.")]


def test_a_supervisor_sees_their_region(browser, client):
    li = browser("li", role="supervisor", region="350500")
    in_region = [
        file(client, agency=code, content=f"{code} 的执法问题投诉。")["tracking_no"] for code in ("MKT", "ENV")
    ]
    elsewhere = file(client, agency="XM", content="厦门的执法问题投诉。")["tracking_no"]
    queue = li.page("/admin/complaints")
    assert all(no in queue for no in in_region) and elsewhere not in queue
    assert "li · 监督人员 · 区划 350500" in queue
    assert li.get(f"/admin/complaints/{in_region[1]}").status_code == 200
    assert li.get(f"/admin/complaints/{elsewhere}").status_code == 404


# -- the complaint lifecycle --------------------------------------------------------------------------
def test_the_whole_lifecycle_through_the_page_and_the_citizen_api(browser, create_admin, client, db_session):
    filed = file(client, contact_phone="13812345678", place="丰泽区东海街道")
    no, code = filed["tracking_no"], filed["query_code"]
    create_admin("wang", agency="MKT")
    zhang = browser("zhang", agency="MKT")

    queue = zhang.page("/admin/complaints")
    assert f'href="/admin/complaints/{no}"' in queue and "待受理" in queue and "受理 2025-10-23" in queue
    detail = zhang.page(f"/admin/complaints/{no}")
    assert "13812345678" in detail and "丰泽区东海街道" in detail and "网站" in detail
    assert {"accept", "reject", "assign", "escalate", "note"} == set(re.findall(r'data-action="(\w+)"', detail))

    page = zhang.act(no, "accept").get_data(as_text=True)
    assert "已受理" in page and 'data-status="accepted"' in page
    assert set(re.findall(r'data-action="(\w+)"', page)) == {"assign", "reply", "escalate", "note"}
    assert '<option value="wang"' in page
    zhang.act(no, "assign", username="wang")
    zhang.act(no, "note", text="已电话联系投诉人，约定下周回访。")
    page = zhang.act(no, "reply", text="经核查，执法人员已补正执法证件出示程序，并已向您说明情况。").get_data(
        as_text=True
    )
    assert 'data-status="replied"' in page and "已答复" in page
    page = zhang.act(no, "close", summary="已答复，群众无异议。").get_data(as_text=True)
    assert 'data-status="closed"' in page
    assert "内部，群众不可见" in page and "已电话联系投诉人" in page
    assert set(re.findall(r'data-action="(\w+)"', page)) == {"note"}

    view = read_complaint(client, no, code).get_json()
    assert [e["kind"] for e in view["timeline"]] == ["submitted", "accepted", "replied", "closed"]
    assert "已电话联系投诉人" not in str(view) and "wang" not in str(view) and view["can_rate"]

    rated = client.post(f"{COMPLAINTS}/{no}/rating", json={"code": code, "score": 4, "comment": "答复及时"})
    assert rated.status_code == 200 and rated.get_json()["rating"] == 4
    reopened = client.post(f"{COMPLAINTS}/{no}/reopen", json={"code": code, "reason": "问题仍未解决，请重新核查。"})
    assert reopened.status_code == 200 and reopened.get_json()["status"] == "accepted"
    assert (
        client.post(f"{COMPLAINTS}/{no}/reopen", json={"code": code, "reason": "再次申请重新办理。"}).status_code == 409
    )
    page = zhang.page(f"/admin/complaints/{no}")
    assert 'data-status="accepted"' in page and "已重新办理" in page and "4 分：答复及时" in page
    zhang.act(no, "reply", text="重新核查后，已对相关执法人员进行批评教育。")
    zhang.act(no, "close")
    again = client.post(f"{COMPLAINTS}/{no}/reopen", json={"code": code, "reason": "还想再重新办理一次。"})
    assert again.status_code == 409

    assert audit_actions(db_session, target_id=no) == [
        "complaint.accepted",
        "complaint.assigned",
        "complaint.note",
        "complaint.replied",
        "complaint.closed",
        "complaint.replied",
        "complaint.closed",
    ]
    note = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "complaint.note"))
    assert note.actor == "admin:zhang" and note.detail == {"text": "已电话联系投诉人，约定下周回访。"}
    assert note.ip == "127.0.0.1"  # the test client's address, given by the page


def test_escalation_from_the_page_reaches_the_supervising_agency(browser, client, db_session):
    zhang = browser("zhang", agency="MKT")
    sfj = browser("sun", agency="SFJ")
    no = file(client)["tracking_no"]
    assert no not in sfj.page("/admin/complaints")
    page = zhang.act(no, "escalate", reason="涉及多个部门，需司法局协调。").get_data(as_text=True)
    assert "已升级督办" in page and "泉州市司法局" in page and 'data-action="escalate"' not in page
    assert no in sfj.page("/admin/complaints?escalated=1")
    assert no not in sfj.page("/admin/complaints?escalated=0")
    detail = sfj.page(f"/admin/complaints/{no}")
    assert "督办单位" in detail and 'data-action="escalate"' not in detail
    assert audit_actions(db_session, target_id=no) == ["complaint.escalated"]


def test_refused_actions_come_back_as_messages(browser, client, create_admin, db_session):
    create_admin("zhou", agency="ENV")
    zhang = browser("zhang", agency="MKT")
    no = file(client)["tracking_no"]
    cases = [
        ("reply", {"text": "过早的答复"}, "当前状态不能执行该操作"),
        ("close", {}, "当前状态不能执行该操作"),
        ("assign", {"username": "zhou"}, "只能分派给本单位的办理人员"),
        ("reject", {"reason": "短"}, "理由须为 2 至 2000 个字"),
        ("reject", {"reason": "长" * 2001}, "理由须为 2 至 2000 个字"),
        ("note", {"text": "   "}, "内容不能为空"),
    ]
    for action, form, message in cases:
        response = zhang.act(no, action, **form)
        assert response.status_code == 200 and message in response.get_data(as_text=True), action
    assert status_of(db_session, no) == "submitted"
    assert zhang.act(no, "delete").status_code == 404
    assert not [a for a in audit_actions(db_session) if a.startswith("complaint.")]


# -- the queue ------------------------------------------------------------------------------------
def test_the_queue_filters_sorts_and_pages(browser, client, app, frozen_clock, monkeypatch, db_session):
    monkeypatch.setitem(app.config, "COMPLAINT_RATE_LIMIT_PER_HOUR", 0)
    early = file(client, category="attitude", content="最早的一件：态度恶劣。")["tracking_no"]
    frozen_clock.advance(dt.timedelta(days=4))  # Friday 10-24: the first one's 10-23 deadline has passed
    rest = [file(client, content=f"第 {n} 件：执法不规范。")["tracking_no"] for n in range(21)]
    zhang = browser("zhang", agency="MKT")
    first = zhang.page("/admin/complaints")
    assert "共 22 件" in first and "下一页" in first
    rows = re.findall(r'data-tracking-no="(\w+)"', first)
    assert len(rows) == 20 and rows[0] == early  # the earliest deadline first
    assert first.count('class="tag overdue"') == 1 and "受理 2025-10-23" in first and "受理 2025-10-29" in first
    second = re.findall(r'data-tracking-no="(\w+)"', zhang.page("/admin/complaints?page=2"))
    assert len(second) == 2 and not set(second) & set(rows)

    assert re.findall(r'data-tracking-no="(\w+)"', zhang.page("/admin/complaints?category=attitude")) == [early]
    assert re.findall(r'data-tracking-no="(\w+)"', zhang.page("/admin/complaints?overdue=1")) == [early]
    assert len(re.findall(r'data-tracking-no="(\w+)"', zhang.page("/admin/complaints?overdue=0"))) == 20
    zhang.act(rest[0], "accept")
    assert re.findall(r'data-tracking-no="(\w+)"', zhang.page("/admin/complaints?status=accepted")) == [rest[0]]
    assert re.findall(r'data-tracking-no="(\w+)"', zhang.page("/admin/complaints?agency=ENV")) == []
    assert "共 22 件" in zhang.page("/admin/complaints?agency=MKT&status=nonsense&page=x&overdue=maybe")


# -- supervision ----------------------------------------------------------------------------------
def test_the_supervision_page_counts_agencies_officers_and_disclosure_types(browser, client, auth, app, monkeypatch):
    monkeypatch.setitem(app.config, "COMPLAINT_RATE_LIMIT_PER_HOUR", 0)
    headers = auth.headers("MKT")
    assert client.put(f"/api/v1/publish/officers/{BADGE}", json=officer(), headers=headers).status_code in (200, 201)
    item = client.put("/api/v1/publish/disclosures/d1", json=decision(), headers=headers).get_json()
    about_officer = [file(client, badge_no=BADGE, content=f"执法人员第 {n} 次未亮证。") for n in range(3)]
    about_decision = file(
        client, disclosure_id=item["id"], content="公示的处罚决定书有误。", category="wrong_disclosure"
    )
    file(client, agency="ENV", content="生态环境局的投诉。")
    li = browser("li", role="supervisor", region="350500")

    page = li.page("/admin/supervision")
    assert "2025-09-21 至 2025-10-20" in page
    agencies = page.split('data-table="agencies"')[1].split("</table>")[0]
    assert re.findall(r"<td>(\S+?)<div", agencies) == ["泉州市市场监督管理局", "泉州市生态环境局"]
    assert re.findall(r'class="num">(\d+)<', agencies) == ["4", "1"]
    officers = page.split('data-table="officers"')[1].split("</table>")[0]
    assert BADGE in officers and 'class="num">3<' in officers
    types = page.split('data-table="disclosure_types"')[1].split("</table>")[0]
    assert "执法决定" in types and 'class="num">1<' in types

    empty = li.page("/admin/supervision?from=2025-01-01&to=2025-01-31")
    assert "2025-01-01 至 2025-01-31" in empty and empty.count("无</td>") == 3
    assert "2025-01-01 至 2025-01-31" in li.page("/admin/supervision?from=2025-01-31&to=2025-01-01")

    detail = li.page(f"/admin/complaints/{about_officer[0]['tracking_no']}")
    assert f"李明 · 执法证号 {BADGE} · 泉州市市场监督管理局" in detail and "证件有效" in detail
    assert f'href="/d/{item["id"]}"' in li.page(f"/admin/complaints/{about_decision['tracking_no']}")

    zhou = browser("zhou", agency="ENV")
    mine = zhou.page("/admin/supervision")
    assert "泉州市生态环境局" in mine and "泉州市市场监督管理局" not in mine


def test_the_disclosure_changes_page_shows_who_when_and_why(browser, client, auth):
    headers = auth.headers("MKT")
    client.put("/api/v1/publish/disclosures/case-1", json=decision(), headers=headers)
    client.put("/api/v1/publish/disclosures/case-1", json=decision(content="更正后的事实与理由。"), headers=headers)
    withdrawal = {"reason": "revoked", "explanation": "该处罚决定已被复议撤销。", "document_no": "泉政复决〔2025〕12号"}
    assert (
        client.post("/api/v1/publish/disclosures/case-1/withdraw", json=withdrawal, headers=headers).status_code == 200
    )
    li = browser("li", role="supervisor", region="350500")

    page = li.page("/admin/disclosure-changes")
    assert re.findall(r'data-event="(\w+)"', page) == ["withdraw", "correct"]
    assert "被依法撤销" in page and "该处罚决定已被复议撤销。" in page and "泉政复决〔2025〕12号" in page
    assert "client:ac_" in page and "泉州市某食品店销售过期食品行政处罚决定书" in page
    assert re.findall(r'data-event="(\w+)"', li.page("/admin/disclosure-changes?event=correct")) == ["correct"]
    assert re.findall(r'data-event="(\w+)"', li.page("/admin/disclosure-changes?agency=ENV")) == []
    assert "没有变更记录" in li.page("/admin/disclosure-changes?from=2030-01-01")
