"""Separate administrators (三员分立) and an admin account's life: the system administrator manages accounts, the
security administrator sessions and second factors, the auditor the audit trail, and none does another's job;
the password policy (length, classes, username, history of 5, expiry); server-side sessions listed and ended;
disable, enable and reset ending sessions, a reset forcing a new password at the next sign-in; all audited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from backend.accounts import passwords
from backend.accounts.models import AdminSession, AdminUser
from backend.accounts.services import create_admin
from backend.audit.models import AuditEntry
from backend.errors import Invalid
from tests.factories import AgencyFactory
from tests.support.admin_browser import PASSWORD, AdminBrowser
from tests.test_admin_pages import audit_actions

TOKEN = "/api/v1/admin/auth/token"
NEW_PASSWORDS = [f"New password {n}" for n in range(7)]


@pytest.fixture
def people(app, runner, db_session, frozen_clock):
    """``people("zhang", "handler")``: a user made by the CLI with the shared password, signed in in a browser of
    their own (the handler in 泉州市市场监督管理局)."""
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500")

    def open_as(username: str, role: str, *, sign_in: bool = True) -> AdminBrowser:
        args = ["admin", "create", "--username", username, "--role", role]
        args += ["--agency", "MKT"] if role == "handler" else []
        created = runner.invoke(args=args, input=PASSWORD + "\n")
        assert created.exit_code == 0, created.output
        person = AdminBrowser(app.test_client())
        if sign_in:
            assert person.login(username).status_code == 303
        return person

    return open_as


def post(person: AdminBrowser, path: str, from_page: str, **fields: str):
    """Submit a form of ``from_page`` (its CSRF token read from it) to ``path``."""
    return person.client.post(path, data={"csrf_token": person.token(from_page), **fields})


def token_headers(client, username: str, password: str = PASSWORD) -> dict:
    issued = client.post(TOKEN, json={"username": username, "password": password})
    assert issued.status_code == 200, issued.get_json()
    return {"Authorization": f"Bearer {issued.get_json()['access_token']}"}


def user(db_session, username: str) -> AdminUser:
    db_session.expire_all()
    return db_session.scalar(select(AdminUser).where(AdminUser.username == username))


def ends_of(db_session, username: str) -> list[str | None]:
    """Why each session of ``username`` ended (None: live), oldest first."""
    db_session.expire_all()
    query = select(AdminSession.end_reason).join(AdminSession.user).where(AdminUser.username == username)
    return list(db_session.scalars(query.order_by(AdminSession.id)))


def temporary_password_on(page: str) -> str:
    return re.search(r'id="temporary-password">([^<]+)<', page).group(1)


def change_password(person: AdminBrowser, current: str, new: str, confirm: str | None = None):
    return post(
        person,
        "/admin/account/password",
        "/admin/account/password",
        current_password=current,
        new_password=new,
        confirm_password=new if confirm is None else confirm,
    )


# -- 三员分立 ---------------------------------------------------------------------------------------
def test_each_administrator_opens_only_their_own_pages(people):
    root, an, shen = people("root", "admin"), people("an", "security"), people("shen", "auditor")
    zhang = people("zhang", "handler")
    assert root.get("/admin/accounts").status_code == 200
    assert an.get("/admin/security").status_code == 200
    assert shen.get("/admin/audit").status_code == 200
    landed = AdminBrowser(an.client.application.test_client()).login("an")
    assert landed.location.endswith("/admin/security")
    refused = {
        root: ["/admin/security", "/admin/audit"],
        an: ["/admin/accounts", "/admin/audit", "/admin/complaints", "/admin/push", "/admin/cases"],
        shen: ["/admin/accounts", "/admin/security"],
        zhang: ["/admin/accounts", "/admin/security", "/admin/audit"],
    }
    for person, paths in refused.items():
        for path in paths:
            assert person.get(path).status_code == 403, path
    # Their forms too, each with a good CSRF token: nothing is done.
    assert post(root, "/admin/security/users/zhang/revoke", "/admin/accounts").status_code == 403
    assert post(root, "/admin/security/second-factor/reset", "/admin/accounts", username="zhang").status_code == 403
    assert post(an, "/admin/accounts/zhang/disable", "/admin/security").status_code == 403
    assert post(an, "/admin/accounts/zhang/reset-password", "/admin/security").status_code == 403
    assert post(shen, "/admin/accounts/zhang/disable", "/admin/audit").status_code == 403
    assert post(zhang, "/admin/accounts", "/admin/complaints", username="x1", role="admin").status_code == 403
    assert zhang.get("/admin/complaints").status_code == 200


def test_each_administrator_is_refused_the_others_apis_and_none_erases_the_trail(client, people, db_session):
    for username, role in (("root", "admin"), ("an", "security"), ("shen", "auditor")):
        people(username, role, sign_in=False)
    tokens = {
        role: token_headers(client, name) for name, role in (("root", "admin"), ("an", "security"), ("shen", "auditor"))
    }
    allowed = {
        ("GET", "/api/v1/admin/accounts"): "admin",
        ("POST", "/api/v1/admin/accounts/shen/reset-password"): "admin",
        ("GET", "/api/v1/admin/sessions"): "security",
        ("DELETE", "/api/v1/admin/accounts/shen/sessions"): "security",
        ("GET", "/api/v1/admin/audit"): "auditor",
    }
    for (method, path), owner in allowed.items():
        for role, headers in tokens.items():
            if role != owner:
                answer = client.open(path, method=method, headers=headers)
                assert answer.status_code == 403, (role, method, path)
                assert answer.get_json()["errors"]["role"]
    assert client.get("/api/v1/admin/accounts", headers=tokens["admin"]).status_code == 200
    assert client.get("/api/v1/admin/sessions", headers=tokens["security"]).status_code == 200
    entries = db_session.scalar(select(func.count()).select_from(AuditEntry))
    for headers in tokens.values():
        assert client.delete("/api/v1/admin/audit", headers=headers).status_code == 405
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) >= entries


# -- the password policy --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Short 1", "密码至少 12 个字符"),
        ("only lower case and spaces", "至少三类"),
        ("ALLUPPERCASE1234", "至少三类"),
        ("My name is Zhang 1", "不能包含用户名"),
    ],
)
def test_the_password_policy_refuses_with_422_naming_password(people, password, message):
    zhang = people("zhang", "handler")
    refused = change_password(zhang, PASSWORD, password)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert message in page and 'data-field="password"' in page


def test_the_policy_applies_to_creation_in_the_cli_and_the_service(app, runner, db_session):
    weak = runner.invoke(args=["admin", "create", "--username", "root", "--role", "admin"], input="lowercaseonly\n")
    assert weak.exit_code == 1 and "'password'" in weak.output
    with app.app_context(), pytest.raises(Invalid) as refused:
        create_admin(username="root", password="root Password 1", role="admin", actor="test")
    assert refused.value.status == 422 and list(refused.value.errors) == ["password"]
    assert "用户名" in refused.value.message


def test_a_password_is_not_one_of_the_last_five(people, db_session):
    zhang = people("zhang", "handler")
    current = PASSWORD
    for new in NEW_PASSWORDS[:5]:
        assert change_password(zhang, current, new).status_code == 303
        current = new
    # The five last chosen are refused, the current one among them ...
    for old in NEW_PASSWORDS[:5]:
        refused = change_password(zhang, current, old)
        assert refused.status_code == 422 and "最近 5 次" in refused.get_data(as_text=True)
    # ... and the first one, six changes back, is allowed again.
    assert change_password(zhang, current, PASSWORD).status_code == 303
    assert len(user(db_session, "zhang").password_history) == 5
    assert len(audit_actions(db_session, action="admin.password_changed")) == 6


def test_a_change_needs_the_current_password_and_the_same_new_one_twice(people, db_session):
    zhang = people("zhang", "handler")
    wrong = change_password(zhang, "not my password", NEW_PASSWORDS[0])
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    mismatch = change_password(zhang, PASSWORD, NEW_PASSWORDS[0], NEW_PASSWORDS[1])
    assert mismatch.status_code == 422 and "不一致" in mismatch.get_data(as_text=True)
    assert audit_actions(db_session, action="admin.password_changed") == []


def test_a_change_ends_the_users_other_sessions_and_keeps_this_one(app, people, db_session):
    zhang = people("zhang", "handler")
    elsewhere = AdminBrowser(app.test_client())
    assert elsewhere.login("zhang").status_code == 303
    assert change_password(zhang, PASSWORD, NEW_PASSWORDS[0]).status_code == 303
    assert zhang.get("/admin/complaints").status_code == 200
    assert elsewhere.get("/admin/complaints").status_code == 302
    assert "密码已修改，请重新登录" in elsewhere.page("/admin/login")
    assert ends_of(db_session, "zhang") == [None, "password_changed"]


def test_an_expired_password_opens_only_the_password_page(app, client, people, frozen_clock, monkeypatch, db_session):
    monkeypatch.setitem(app.config, "PASSWORD_MAX_AGE_DAYS", 90)
    people("zhang", "handler", sign_in=False)
    frozen_clock.advance(dt.timedelta(days=90))
    on_the_day = AdminBrowser(app.test_client())
    on_the_day.login("zhang")
    assert on_the_day.get("/admin/complaints").status_code == 200  # 90 days: not yet
    frozen_clock.advance(dt.timedelta(days=1))
    zhang = AdminBrowser(app.test_client())
    assert zhang.login("zhang").status_code == 303
    forced = zhang.get("/admin/complaints")
    assert forced.status_code == 302 and forced.location.endswith("/admin/account/password")
    assert "密码为临时密码或已过期" in zhang.page("/admin/account/password")
    refused = client.post(TOKEN, json={"username": "zhang", "password": PASSWORD})
    assert refused.status_code == 403 and "password" in refused.get_json()["errors"]
    assert change_password(zhang, PASSWORD, NEW_PASSWORDS[0]).status_code == 303
    assert zhang.get("/admin/complaints").status_code == 200
    monkeypatch.setitem(app.config, "PASSWORD_MAX_AGE_DAYS", 0)  # 0: never
    frozen_clock.advance(dt.timedelta(days=400))
    assert AdminBrowser(app.test_client()).login("zhang", NEW_PASSWORDS[0]).location.endswith("/admin/complaints")


# -- sessions ---------------------------------------------------------------------------------------
def test_the_security_administrator_lists_and_ends_sessions(app, people, db_session):
    an = people("an", "security")
    zhang_at_work = people("zhang", "handler")
    zhang_at_home = AdminBrowser(app.test_client())
    assert zhang_at_home.login("zhang").status_code == 303
    page = an.page("/admin/security")
    rows = re.findall(r'data-session="(\d+)" data-user="zhang"', page)
    assert len(rows) == 2 and 'data-user="an"' in page
    assert 'data-setting="PASSWORD_MIN_LENGTH"' in page and "ADMIN_IDLE_SECONDS" in page
    kids = re.findall(r"<code>([^<]+)</code>（当前签名）", page)
    assert sorted(kids) == sorted(
        [app.extensions[ring].signing_key().kid for ring in ("badge_keys", "transparency_keys")]
    )
    # One session ended: that browser is out at its next click, the other is not.
    newest = max(int(row) for row in rows)
    assert post(an, f"/admin/security/sessions/{newest}/revoke", "/admin/security").status_code == 303
    out = zhang_at_home.get("/admin/complaints")
    assert out.status_code == 302 and "/admin/login" in out.location
    assert "会话已被安全管理员终止" in zhang_at_home.page("/admin/login")
    assert zhang_at_work.get("/admin/complaints").status_code == 200
    again = post(an, f"/admin/security/sessions/{newest}/revoke", "/admin/security")
    assert again.status_code == 303 and "会话不存在或已结束" in an.page("/admin/security")
    # All of a user's.
    assert post(an, "/admin/security/users/zhang/revoke", "/admin/security").status_code == 303
    assert zhang_at_work.get("/admin/complaints").status_code == 302
    assert f'data-session="{newest}"' not in an.page("/admin/security")
    assert ends_of(db_session, "zhang") == ["revoked", "revoked"]
    assert audit_actions(db_session, actor="admin:an", target_type="admin_session") == ["admin.session_revoked"]
    assert "admin.sessions_revoked" in audit_actions(db_session, actor="admin:an")


def test_sessions_through_the_api(client, people, db_session):
    people("an", "security", sign_in=False)
    people("zhang", "handler")
    security = token_headers(client, "an")
    listed = client.get("/api/v1/admin/sessions", headers=security).get_json()["items"]
    assert [item["username"] for item in listed] == ["zhang"]
    assert client.delete(f"/api/v1/admin/sessions/{listed[0]['id']}", headers=security).status_code == 204
    assert client.get("/api/v1/admin/sessions", headers=security).get_json()["items"] == []
    gone = client.delete(f"/api/v1/admin/sessions/{listed[0]['id']}", headers=security)
    assert gone.status_code == 404 and gone.get_json()["errors"]["session"]


def test_logout_ends_the_server_side_session(people, db_session):
    zhang = people("zhang", "handler")
    assert post(zhang, "/admin/logout", "/admin/complaints").status_code == 303
    row = db_session.scalar(select(AdminSession))
    assert row.ended_at is not None and row.end_reason == "logout"


def test_the_security_administrator_resets_a_second_factor_from_the_page(people, db_session):
    an = people("an", "security")
    people("zhang", "handler")
    zhang = user(db_session, "zhang")
    zhang.totp_secret, zhang.totp_confirmed_at = "sealed", dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
    db_session.commit()
    done = post(an, "/admin/security/second-factor/reset", "/admin/security", username="zhang")
    assert done.status_code == 303 and "已重置 zhang 的两步验证" in an.page("/admin/security")
    assert user(db_session, "zhang").totp_confirmed_at is None
    assert audit_actions(db_session, actor="admin:an", action="admin.otp_reset") == ["admin.otp_reset"]


# -- the account lifecycle -------------------------------------------------------------------------
def test_disabling_ends_the_accounts_sessions_and_tokens_and_enabling_lets_it_back(client, people, db_session):
    root = people("root", "admin")
    zhang = people("zhang", "handler")
    api = token_headers(client, "zhang")
    assert client.get("/api/v1/admin/disclosure-changes", headers=api).status_code == 200
    assert post(root, "/admin/accounts/zhang/disable", "/admin/accounts").status_code == 303
    # Ended at once on the server, not only when its browser next comes.
    assert ends_of(db_session, "zhang") == ["disabled"]
    assert "已停用 zhang" in root.page("/admin/accounts")
    out = zhang.get("/admin/complaints")
    assert out.status_code == 302 and "账户已停用" in zhang.page("/admin/login")
    assert client.get("/api/v1/admin/disclosure-changes", headers=api).status_code == 401
    assert AdminBrowser(client.application.test_client()).login("zhang").status_code == 401
    assert post(root, "/admin/accounts/zhang/enable", "/admin/accounts").status_code == 303
    assert AdminBrowser(client.application.test_client()).login("zhang").status_code == 303
    # Not oneself: someone must be left to manage the accounts.
    assert post(root, "/admin/accounts/root/disable", "/admin/accounts").status_code == 303
    assert "不能停用自己的账户" in root.page("/admin/accounts")
    done_by_root = audit_actions(db_session, actor="admin:root", target_type="admin_user")
    assert [action for action in done_by_root if action != "admin.login"] == ["admin.disable", "admin.enable"]


def test_a_reset_gives_a_temporary_password_once_and_forces_a_new_one(client, people, db_session):
    root = people("root", "admin")
    zhang = people("zhang", "handler")
    shown = post(root, "/admin/accounts/zhang/reset-password", "/admin/accounts")
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    temporary = temporary_password_on(shown.get_data(as_text=True))
    assert temporary not in root.page("/admin/accounts")
    with client.application.app_context():
        passwords.check("zhang", temporary, [])  # within the policy, like any other
    # The old session is over, the old password too.
    assert zhang.get("/admin/complaints").status_code == 302
    assert "密码已被系统管理员重置" in zhang.page("/admin/login")
    assert zhang.login("zhang").status_code == 401
    signed_in = zhang.login("zhang", temporary)
    assert signed_in.status_code == 303
    for path in ("/admin/complaints", "/admin/account/otp", "/admin/"):
        forced = zhang.get(path)
        assert forced.status_code == 302 and forced.location.endswith("/admin/account/password"), path
    assert post(zhang, "/admin/complaints/X/accept", "/admin/account/password").status_code == 303
    refused = client.post(TOKEN, json={"username": "zhang", "password": temporary})
    assert refused.status_code == 403 and refused.get_json()["errors"]["password"]
    weak = change_password(zhang, temporary, "weak")
    assert weak.status_code == 422
    done = change_password(zhang, temporary, NEW_PASSWORDS[0])
    assert done.status_code == 303 and done.location.endswith("/admin/complaints")
    assert zhang.get("/admin/complaints").status_code == 200
    assert user(db_session, "zhang").must_change_password is False
    assert audit_actions(db_session, target_id="zhang", target_type="admin_user")[-1:] == ["admin.password_changed"]
    assert "admin.password_reset" in audit_actions(db_session, actor="admin:root")


def test_the_system_administrator_creates_an_account_with_a_temporary_password(app, people, db_session):
    root = people("root", "admin")
    shown = post(root, "/admin/accounts", "/admin/accounts", username="an", role="security")
    assert shown.status_code == 200
    temporary = temporary_password_on(shown.get_data(as_text=True))
    assert user(db_session, "an").must_change_password and user(db_session, "an").role == "security"
    an = AdminBrowser(app.test_client())
    assert an.login("an", temporary).status_code == 303
    assert an.get("/admin/security").location.endswith("/admin/account/password")
    taken = post(root, "/admin/accounts", "/admin/accounts", username="an", role="auditor")
    assert taken.status_code == 303 and "用户名已存在" in root.page("/admin/accounts")


def test_the_cli_disables_enables_and_resets(app, runner, people, db_session):
    zhang = people("zhang", "handler")
    assert runner.invoke(args=["admin", "disable", "zhang"]).exit_code == 0
    assert zhang.get("/admin/complaints").status_code == 302
    assert runner.invoke(args=["admin", "enable", "zhang"]).exit_code == 0
    reset = runner.invoke(args=["admin", "reset-password", "zhang"])
    assert reset.exit_code == 0
    temporary = reset.output.strip()
    assert AdminBrowser(app.test_client()).login("zhang", temporary).status_code == 303
    assert runner.invoke(args=["admin", "disable", "nobody"]).exit_code == 1
    assert audit_actions(db_session, actor="cli", target_id="zhang")[-3:] == [
        "admin.disable",
        "admin.enable",
        "admin.password_reset",
    ]


def test_accounts_through_the_api(client, people, db_session):
    people("root", "admin", sign_in=False)
    people("zhang", "handler")
    admin = token_headers(client, "root")
    accounts = client.get("/api/v1/admin/accounts", headers=admin).get_json()["items"]
    assert {item["username"]: item["role"] for item in accounts} == {"root": "admin", "zhang": "handler"}
    disabled = client.post("/api/v1/admin/accounts/zhang/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.get_json()["disabled_at"]
    assert client.post("/api/v1/admin/accounts/zhang/enable", headers=admin).get_json()["disabled_at"] is None
    reset = client.post("/api/v1/admin/accounts/zhang/reset-password", headers=admin).get_json()
    assert client.post(TOKEN, json={"username": "zhang", "password": reset["temporary_password"]}).status_code == 403
    assert client.post("/api/v1/admin/accounts/root/disable", headers=admin).status_code == 409
    assert client.post("/api/v1/admin/accounts/nobody/enable", headers=admin).status_code == 404
