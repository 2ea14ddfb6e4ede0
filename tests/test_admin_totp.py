"""Admin sign-in's second factor: enrolment with an authenticator app, a code for each sign-in (never the same
code twice), single-use recovery codes, the pending step expiring, ADMIN_TOTP_REQUIRED sending an account
without one to enrol first, admin API tokens asking for the code too, throttled guesses, a reset by CLI.

The phone is played by ``phone_code``: RFC 6238 written out here with hmac, independent of the pyotp the
service uses, so the two must agree on the standard."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import struct

import pytest
from sqlalchemy import select

from backend.accounts.models import AdminUser
from tests.factories import AgencyFactory
from tests.support.admin_browser import PASSWORD, AdminBrowser
from tests.test_admin_pages import audit_actions

TOKEN = "/api/v1/admin/auth/token"


def phone_code(secret: str, at: dt.datetime, step_offset: int = 0) -> str:
    """RFC 6238 TOTP, SHA-1, 30-second steps, 6 digits (RFC 4226 dynamic truncation)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int(at.timestamp()) // 30 + step_offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def form(person: AdminBrowser, path: str, **fields: str):
    page = person.client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return person.client.post(path, data={"csrf_token": token, **fields})


def secret_on(page: str) -> str:
    return re.search(r'id="otp-secret">([A-Z2-7]+)<', page).group(1)


@pytest.fixture
def create_admin(runner, db_session):
    """A handler of 泉州市市场监督管理局 with the shared test password."""
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500")

    def create(username: str) -> None:
        args = ["admin", "create", "--username", username, "--role", "handler", "--agency", "MKT"]
        result = runner.invoke(args=args, input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output

    return create


@pytest.fixture
def browser(app, create_admin, frozen_clock):
    """A signed-in browser of a handler created on the spot (no second factor yet)."""

    def open_as(username: str) -> AdminBrowser:
        create_admin(username)
        person = AdminBrowser(app.test_client())
        assert person.login(username).status_code == 303
        return person

    return open_as


@pytest.fixture
def enrolled(app, browser, frozen_clock):
    """zhang (a handler) enrolled from their account page: the secret their phone holds and their recovery codes."""
    zhang = browser("zhang")
    secret = secret_on(zhang.page("/admin/account/otp"))
    done = form(zhang, "/admin/account/otp", otp=phone_code(secret, frozen_clock.at))
    assert done.status_code == 200, done.get_data(as_text=True)
    codes = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", done.get_data(as_text=True))
    frozen_clock.advance(dt.timedelta(seconds=30))  # the enrolment spent this step's code
    return {"secret": secret, "codes": codes, "browser": zhang}


def sign_in(app, username: str = "zhang"):
    person = AdminBrowser(app.test_client())
    return person, person.login(username)


def test_enrolment_takes_a_right_first_code_and_shows_ten_recovery_codes_once(app, browser, db_session, frozen_clock):
    zhang = browser("zhang")
    page = zhang.page("/admin/account/otp")
    secret = secret_on(page)
    assert "<svg" in page and secret == secret_on(zhang.page("/admin/account/otp"))  # a reload keeps the seed
    wrong = form(zhang, "/admin/account/otp", otp=phone_code(secret, frozen_clock.at, step_offset=5))
    assert wrong.status_code == 422
    done = form(zhang, "/admin/account/otp", otp=phone_code(secret, frozen_clock.at))
    codes = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", done.get_data(as_text=True))
    assert done.status_code == 200 and len(set(codes)) == 10
    assert "已启用两步验证" in zhang.page("/admin/account/otp") and "otp-secret" not in zhang.page("/admin/account/otp")
    user = db_session.scalar(select(AdminUser).where(AdminUser.username == "zhang"))
    assert secret not in user.totp_secret  # sealed at rest
    assert not any(code in str(user.totp_recovery) for code in codes)  # only their hashes are kept
    assert "admin.otp_enrolled" in audit_actions(db_session, target_id="zhang")


def test_an_enrolled_account_signs_in_with_its_code_and_never_twice_with_the_same(app, enrolled, frozen_clock):
    person, password_ok = sign_in(app)
    assert password_ok.status_code == 303 and password_ok.location.endswith("/admin/login/otp")
    assert person.get("/admin/complaints").status_code == 302  # a right password alone opens nothing
    code = phone_code(enrolled["secret"], frozen_clock.at)
    assert form(person, "/admin/login/otp", otp=code).status_code == 303
    assert person.get("/admin/complaints").status_code == 200

    again, _ = sign_in(app)
    assert form(again, "/admin/login/otp", otp=code).status_code == 401  # spent, though still in its window
    frozen_clock.advance(dt.timedelta(seconds=30))
    assert form(again, "/admin/login/otp", otp=phone_code(enrolled["secret"], frozen_clock.at)).status_code == 303


def test_a_phone_a_step_off_still_signs_in_but_not_two_steps_off(app, enrolled, frozen_clock):
    frozen_clock.advance(dt.timedelta(minutes=5))
    person, _ = sign_in(app)
    assert form(person, "/admin/login/otp", otp=phone_code(enrolled["secret"], frozen_clock.at, -2)).status_code == 401
    assert form(person, "/admin/login/otp", otp=phone_code(enrolled["secret"], frozen_clock.at, -1)).status_code == 303


def test_a_recovery_code_signs_in_once(app, db_session, enrolled):
    code = enrolled["codes"][0]
    person, _ = sign_in(app)
    assert form(person, "/admin/login/otp", otp=code.upper()).status_code == 303
    person, _ = sign_in(app)
    assert form(person, "/admin/login/otp", otp=code).status_code == 401
    assert audit_actions(db_session, target_id="zhang").count("admin.otp") == 1


def test_the_second_step_waits_five_minutes_for_its_code(app, enrolled, frozen_clock):
    person, _ = sign_in(app)
    token = person.token("/admin/login/otp")
    frozen_clock.advance(dt.timedelta(seconds=301))
    code = phone_code(enrolled["secret"], frozen_clock.at)
    late = person.client.post("/admin/login/otp", data={"csrf_token": token, "otp": code})
    assert late.status_code == 303 and late.location.endswith("/admin/login")
    assert person.get("/admin/complaints").status_code == 302


def test_wrong_codes_are_slowed_down_like_wrong_passwords(app, enrolled, frozen_clock):
    person, _ = sign_in(app)
    statuses = [form(person, "/admin/login/otp", otp="000000").status_code for _ in range(7)]
    assert statuses[0] == 401 and statuses[-1] == 429


def test_when_required_an_account_without_a_second_factor_must_enrol_first(
    app, browser, create_admin, frozen_clock, monkeypatch
):
    monkeypatch.setitem(app.config, "ADMIN_TOTP_REQUIRED", True)
    create_admin("li")
    person, password_ok = sign_in(app, "li")
    assert password_ok.location.endswith("/admin/login/enrol")
    assert person.get("/admin/complaints").status_code == 302
    secret = secret_on(person.page("/admin/login/enrol"))
    done = form(person, "/admin/login/enrol", otp=phone_code(secret, frozen_clock.at))
    assert done.status_code == 200 and "恢复码只显示这一次" in done.get_data(as_text=True)
    assert person.get("/admin/complaints").status_code == 200


def test_admin_api_tokens_need_the_code_too(app, client, enrolled, frozen_clock, monkeypatch, create_admin):
    body = {"username": "zhang", "password": PASSWORD}
    refused = client.post(TOKEN, json=body)
    assert refused.status_code == 401 and "otp" in refused.get_json()["errors"]
    frozen_clock.advance(dt.timedelta(seconds=60))
    issued = client.post(TOKEN, json={**body, "otp": phone_code(enrolled["secret"], frozen_clock.at)})
    assert issued.status_code == 200 and issued.get_json()["access_token"]
    monkeypatch.setitem(app.config, "ADMIN_TOTP_REQUIRED", True)
    create_admin("li")
    unenrolled = client.post(TOKEN, json={"username": "li", "password": PASSWORD, "otp": "123456"})
    assert unenrolled.status_code == 401 and "enrol" in unenrolled.get_json()["errors"]["otp"][0]


def test_a_reset_lets_the_account_enrol_again(app, runner, db_session, enrolled):
    assert runner.invoke(args=["admin", "reset-otp", "zhang"]).exit_code == 0
    _, password_ok = sign_in(app)
    assert password_ok.status_code == 303 and not password_ok.location.endswith("/otp")
    assert "admin.otp_reset" in audit_actions(db_session, target_id="zhang")


def test_a_seed_sealed_under_a_replaced_secret_key_refuses_codes_but_not_recovery_codes(
    app, enrolled, frozen_clock, monkeypatch
):
    """A new SECRET_KEY cannot unseal the old seed: a code is refused (401, never a 500), a recovery code still
    signs in."""
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret-key-for-this-test-only-0123456789")
    person, _ = sign_in(app)
    assert form(person, "/admin/login/otp", otp=phone_code(enrolled["secret"], frozen_clock.at)).status_code == 401
    assert form(person, "/admin/login/otp", otp=enrolled["codes"][0]).status_code == 303
