"""The admin page in a real browser (Playwright driving Debian's Chromium) against a real gunicorn."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from backend.accounts.services import create_admin
from backend.agencies.services import create_agency
from backend.cases.models import CHECKLIST
from tests.factories import reviews
from tests.factories.disclosures import CREDIT_DETAILS, decision
from tests.factories.officers import register
from tests.support.browser import BRAND_RED, CHROMIUM, CHROMIUM_ARGS, playwright_or_skip, watched_page
from tests.support.live_server import ROOT, LiveServer, agency_client, http_json, server_env
from tests.test_admin_totp import phone_code
from tests.test_cases import OFFICERS, case_body, record

PASSWORD = "a long password 1"


@pytest.fixture
def sync_playwright():
    return playwright_or_skip()


@pytest.fixture
def server(committed, tmp_path):
    app = committed
    with app.app_context():
        create_agency(code="MKT", name="泉州市市场监督管理局", region_code="350500", actor="test")
        create_admin(username="zhang", password=PASSWORD, role="handler", actor="test", agency_code="MKT")
    # Plain http on 127.0.0.1, as `make run` serves.
    env = server_env(app, tmp_path, ADMIN_COOKIE_SECURE="0")
    with LiveServer(env, workers=2) as live:
        yield live


def file_complaint(server: LiveServer) -> str:
    body = {"category": "misconduct", "content": "执法人员检查时未出示执法证件，态度生硬。", "agency": "MKT"}
    request = urllib.request.Request(
        f"{server.url}/api/v1/complaints",
        method="POST",
        headers={"Content-Type": "application/json"},
        data=json.dumps(body).encode(),
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.loads(response.read())["tracking_no"]


@pytest.mark.slow
def test_a_handler_logs_in_opens_a_complaint_and_replies(sync_playwright, server, tmp_path):
    tracking_no = file_complaint(server)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, problems = watched_page(browser)

            page.goto(f"{server.url}/admin/complaints")
            assert page.url.startswith(f"{server.url}/admin/login")
            page.screenshot(path=tmp_path / "login.png")
            page.fill("input[name=username]", "zhang")
            page.fill("input[name=password]", PASSWORD)
            page.click("button:has-text('登录')")
            page.wait_for_url(f"{server.url}/admin/complaints")
            assert "zhang · 办理人员 · 泉州市市场监督管理局" in page.inner_text("header")
            # The stylesheet got past the Content-Security-Policy.
            assert page.eval_on_selector("header.top", "e => getComputedStyle(e).backgroundColor") == BRAND_RED
            session = next(c for c in page.context.cookies() if c["name"] == "admin_session")
            assert session["httpOnly"] and session["sameSite"] == "Lax" and session["path"] == "/admin"
            page.screenshot(path=tmp_path / "queue.png")

            page.click(f"a:has-text('{tracking_no}')")
            page.wait_for_url(f"{server.url}/admin/complaints/{tracking_no}")
            assert page.inner_text("h1 [data-status]") == "待受理"
            page.click("form[data-action=accept] button")
            page.wait_for_selector("h1 [data-status=accepted]")
            page.fill("form[data-action=reply] textarea[name=text]", "经核查，已责令执法人员规范亮证执法，并向您致歉。")
            page.click("form[data-action=reply] button")
            page.wait_for_selector("h1 [data-status=replied]")
            assert page.inner_text("h1 [data-status]") == "已答复"
            assert "已答复" in page.inner_text(".flash.ok")
            assert "经核查，已责令执法人员规范亮证执法" in page.inner_text("ol.timeline")
            page.screenshot(path=tmp_path / "complaint.png", full_page=True)
            assert (tmp_path / "complaint.png").stat().st_size > 10_000

            page.click("header nav a:has-text('监督统计')")
            page.wait_for_url(f"{server.url}/admin/supervision")
            assert "泉州市市场监督管理局" in page.inner_text("table[data-table=agencies]")
            page.screenshot(path=tmp_path / "supervision.png")
            page.click("header nav a:has-text('公示变更')")
            page.wait_for_url(f"{server.url}/admin/disclosure-changes")
            page.click("header button:has-text('退出')")
            page.wait_for_url(f"{server.url}/admin/login")
            assert "已退出登录" in page.inner_text("main")
            page.goto(f"{server.url}/admin/complaints")
            assert page.url.startswith(f"{server.url}/admin/login")
            assert problems == []
        finally:
            browser.close()


# -- a reviewer approves a major decision ---------------------------------------------------------
@pytest.fixture
def review_server(committed, tmp_path):
    """MKT with its officers, a filed reviewer who has an account, and case C1 submitted for review."""
    app = committed
    credentials = agency_client(app)
    api = app.test_client()
    token = api.post("/api/v1/auth/token", json=credentials).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    register(api, headers, *OFFICERS)
    reviews.file_reviewer(api, headers)
    assert api.put("/api/v1/publish/cases/C1", json=case_body(), headers=headers).status_code == 201
    steps = {"records": [record("filing"), record("investigation", at="2025-10-11T10:00:00+08:00")]}
    assert api.post("/api/v1/publish/cases/C1/records", json=steps, headers=headers).status_code == 201
    assert reviews.submit(api, headers, "C1").status_code == 201
    with app.app_context():
        create_admin(
            username="chen",
            password=reviews.PASSWORD,
            role="reviewer",
            actor="test",
            agency_code="MKT",
            badge_no=reviews.REVIEWER_BADGE,
        )
    env = server_env(app, tmp_path, ADMIN_COOKIE_SECURE="0")
    with LiveServer(env, workers=2) as live:
        yield live, credentials


@pytest.mark.slow
def test_a_reviewer_signs_in_and_approves_a_submission(sync_playwright, review_server, tmp_path):
    server, credentials = review_server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, problems = watched_page(browser)

            page.goto(f"{server.url}/admin/login")
            page.fill("input[name=username]", "chen")
            page.fill("input[name=password]", reviews.PASSWORD)
            page.click("button:has-text('登录')")
            page.wait_for_url(f"{server.url}/admin/reviews")
            assert "chen · 法制审核人员" in page.inner_text("header")
            assert "投诉队列" not in page.inner_text("header nav")
            page.click("table[data-table=reviews] a:has-text('C1')")
            page.wait_for_url(f"{server.url}/admin/reviews/MKT/C1/1")
            assert "拟作出的执法决定书" in page.inner_text("table[data-table=materials]")
            for key, label in CHECKLIST.items():
                page.fill(f"textarea[name=reason_{key}]", f"{label}：经审查符合规定。")
            page.check("input[name=outcome][value=approve]")
            page.fill("textarea[name=comment]", "同意作出行政处罚决定。")
            page.screenshot(path=tmp_path / "review.png", full_page=True)
            page.click("form[data-action=opinion] button")
            page.wait_for_selector("h1 [data-state=decided]")
            assert "已出具审核意见：同意" in page.inner_text(".flash.ok")

            page.click("a:has-text('法制审核意见书')")
            page.wait_for_url(f"{server.url}/admin/reviews/MKT/C1/1/letter")
            assert "重大执法决定法制审核意见书" in page.inner_text("article.letter h1")
            assert page.inner_text("[data-outcome]") == "同意"
            index = int(page.inner_text("[data-field=log_index]"))
            # Printed, the menu goes and the body is set in a serif face.
            page.emulate_media(media="print")
            assert page.eval_on_selector("header.top", "e => getComputedStyle(e).display") == "none"
            assert "serif" in page.eval_on_selector("article.letter", "e => getComputedStyle(e).fontFamily")
            page.pdf(path=tmp_path / "letter.pdf", format="A4")
            assert problems == []
        finally:
            browser.close()
    token = http_json("POST", f"{server.url}/api/v1/auth/token", credentials)["access_token"]
    answer = http_json(
        "GET", f"{server.url}/api/v1/publish/cases/C1/reviews", headers={"Authorization": f"Bearer {token}"}
    )
    (review,) = answer["reviews"]
    assert (review["outcome"], review["reviewer"]) == ("approve", reviews.REVIEWER_BADGE)
    entry = http_json("GET", f"{server.url}/api/v1/transparency/entries?start={index}&end={index + 1}")["entries"][0]
    assert entry["event"] == "review_opinion" and entry["item_id"] == "MKT/C1/review/1"


# -- a supervisor requires approval, then approves one list and returns another ----------------------
def power_list(title: str) -> dict:
    return {
        "phase": "pre",
        "type": "power",
        "title": title,
        "legal_basis": "《中华人民共和国食品安全法》第一百二十四条",
        "details": {"matter": "食品安全行政处罚", "basis": "《食品安全法》"},
    }


def public_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def approval_server(committed, tmp_path):
    """MKT with a client, and li, a supervisor of 泉州 (350500)."""
    app = committed
    credentials = agency_client(app)
    with app.app_context():
        create_admin(username="li", password=PASSWORD, role="supervisor", actor="test", region_code="350500")
    env = server_env(app, tmp_path, ADMIN_COOKIE_SECURE="0")
    with LiveServer(env, workers=2) as live:
        token = http_json("POST", f"{live.url}/api/v1/auth/token", credentials)["access_token"]
        yield live, {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
def test_a_supervisor_works_the_approval_queue(sync_playwright, approval_server, tmp_path):
    server, agency = approval_server
    push = f"{server.url}/api/v1/publish/disclosures"
    first = http_json("PUT", f"{push}/p1", power_list("对销售不符合食品安全标准食品的行政处罚"), agency)
    assert first["status"] == "published"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, problems = watched_page(browser)

            page.goto(f"{server.url}/admin/login")
            page.fill("input[name=username]", "li")
            page.fill("input[name=password]", PASSWORD)
            page.click("button:has-text('登录')")
            page.wait_for_url(f"{server.url}/admin/complaints")
            page.click("header nav a:has-text('公开前审核')")
            page.wait_for_url(f"{server.url}/admin/approvals")
            assert "没有待审核的清单" in page.inner_text("[data-section=queue]")
            page.fill("form[data-action=require] input[name=agency]", "MKT")
            page.select_option("form[data-action=require] select[name=type]", "power")
            page.click("form[data-action=require] button")
            page.wait_for_selector("table[data-table=requirements] tr[data-agency=MKT][data-type=power]")
            assert "已设置" in page.inner_text(".flash.ok")

            # A new version of the public list, and a new list: both wait.
            changed = http_json("PUT", f"{push}/p1", power_list("对生产经营超过保质期食品的行政处罚"), agency)
            assert changed["status"] == "published" and changed["approval"]["state"] == "pending"
            second = http_json("PUT", f"{push}/p2", power_list("对未按规定公示营业执照的行政处罚"), agency)
            assert second["status"] == "pending_approval"
            shown = http_json("GET", f"{server.url}/api/v1/disclosures/{first['id']}")
            assert shown["title"] == "对销售不符合食品安全标准食品的行政处罚"
            assert public_status(f"{server.url}/api/v1/disclosures/{second['id']}") == 404

            page.reload()
            held = page.locator("[data-section=queue] article[data-request]")
            assert held.count() == 2
            assert "已公开，新版本待审核" in page.inner_text("article[data-external-id=p1]")
            page.screenshot(path=tmp_path / "approvals.png", full_page=True)
            page.click("article[data-external-id=p1] form[data-action=approve] button")
            page.wait_for_selector(".flash.ok:has-text('已审核通过')")
            page.fill("article[data-external-id=p2] textarea[name=reason]", "事项名称应与权责清单一致")
            page.click("article[data-external-id=p2] form[data-action=return] button")
            page.wait_for_selector(".flash.ok:has-text('已退回')")
            assert page.locator("[data-section=queue] article[data-request]").count() == 0
            assert problems == []
        finally:
            browser.close()
    shown = http_json("GET", f"{server.url}/api/v1/disclosures/{first['id']}")
    assert shown["title"] == "对生产经营超过保质期食品的行政处罚"
    assert public_status(f"{server.url}/api/v1/disclosures/{second['id']}") == 404
    returned = http_json("GET", f"{push}/p2", headers=agency)
    assert returned["status"] == "returned" and returned["approval"]["reasons"] == "事项名称应与权责清单一致"


# -- a supervisor starts a 案卷评查 round; a 监督员 scores the case drawn for them --------------------------------
@pytest.fixture
def evaluation_server(committed, tmp_path):
    """MKT and TAX (泉州) with two cases each closed in October 2025; li supervises 泉州, wang is MKT's 监督员."""
    app = committed
    api = app.test_client()
    for code, officers in (("MKT", OFFICERS[:2]), ("TAX", ("35050022221", "35050022222"))):
        token = api.post("/api/v1/auth/token", json=agency_client(app, code)).get_json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        register(api, headers, *officers)
        closing = record("closing", officers=officers, at="2025-10-15T16:00:00+08:00")
        closed = [record("filing", officers=officers), closing]
        for case in (f"{code}-1", f"{code}-2"):
            opened = api.put(f"/api/v1/publish/cases/{case}", json=case_body(officers=list(officers)), headers=headers)
            assert opened.status_code == 201, opened.get_json()
            added = api.post(f"/api/v1/publish/cases/{case}/records", json={"records": closed}, headers=headers)
            assert added.status_code == 201, added.get_json()
    with app.app_context():
        create_admin(username="li", password=PASSWORD, role="supervisor", actor="test", region_code="350500")
        create_admin(username="wang", password=PASSWORD, role="observer", actor="test", agency_code="MKT")
    env = server_env(app, tmp_path, ADMIN_COOKIE_SECURE="0")
    with LiveServer(env, workers=2) as live:
        yield live


def sign_in(page, server: LiveServer, username: str, lands_on: str) -> None:
    page.goto(f"{server.url}/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(f"{server.url}{lands_on}")


@pytest.mark.slow
def test_a_supervisor_starts_an_evaluation_round_and_an_observer_scores(sync_playwright, evaluation_server, tmp_path):
    server = evaluation_server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, problems = watched_page(browser)
            sign_in(page, server, "li", "/admin/complaints")
            page.click("header nav a:has-text('案卷评查')")
            page.wait_for_url(f"{server.url}/admin/evaluations")
            form = "form[data-action=start]"
            page.fill(f"{form} input[name=region]", "350500")
            page.fill(f"{form} input[name=date_from]", "2025-10-01")
            page.fill(f"{form} input[name=date_to]", "2025-10-31")
            page.fill(f"{form} input[name=sample_percent]", "100")
            page.fill(f"{form} input[name=evaluators]", "wang, li")
            page.click(f"{form} button")
            page.wait_for_selector(".flash.ok:has-text('抽取 4 件')")
            round_id = int(page.url.rsplit("/", 1)[1])
            rows = page.locator("table[data-table=sample] tr[data-case]")
            assert rows.count() == 4
            # 交叉评查: MKT's 监督员 gets TAX's cases, never MKT's (the round-robin gives them one or both).
            wangs = page.locator("table[data-table=sample] tr[data-evaluator=wang]")
            given = [wangs.nth(n).get_attribute("data-case") for n in range(wangs.count())]
            assert given and all(case.startswith("TAX/") for case in given)
            page.screenshot(path=tmp_path / "evaluation-round.png", full_page=True)
            page.click("form[action$='/logout'] button")

            sign_in(page, server, "wang", "/admin/evaluations")
            assert "投诉队列" not in page.inner_text("header nav")
            assigned = page.locator("table[data-table=assignments] tr[data-case]")
            assert assigned.count() == len(given)
            page.click("table[data-table=assignments] tr[data-case] a >> nth=0")
            page.wait_for_selector("form[data-action=score]")
            page.fill("input[name=score_proper_documents]", "7")
            page.fill("textarea[name=comment_proper_documents]", "处罚决定书未载明救济途径")
            page.screenshot(path=tmp_path / "evaluation-score.png", full_page=True)
            page.click("form[data-action=score] button")
            page.wait_for_selector("h1 [data-state=scored]")
            assert "已评分：97 分" in page.inner_text(".flash.ok")
            page.click("form[action$='/logout'] button")

            sign_in(page, server, "li", "/admin/complaints")
            page.goto(f"{server.url}/admin/evaluations/{round_id}")
            assert page.inner_text("table[data-table=results] tr[data-agency=TAX] [data-field=mean_score]") == "97.0"
            assert "文书规范 −3" in page.inner_text("table[data-table=results] tr[data-agency=TAX]")
            assert problems == []
        finally:
            browser.close()
    public = http_json("GET", f"{server.url}/api/v1/supervision/evaluations/{round_id}")
    assert sorted(public["sample"]) == public["eligible"] == ["MKT/MKT-1", "MKT/MKT-2", "TAX/TAX-1", "TAX/TAX-2"]
    assert public["checkpoint"]["tree_size"] > public["announcement_index"]
    # README's script recomputes the draw from the public round alone.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    script = re.search(r"## 案卷评查: recomputing a draw.*?```python\n(.*?)```", readme, re.S).group(1)
    ran = subprocess.run([sys.executable, "-c", script, server.url, str(round_id)], capture_output=True, text=True)
    assert ran.stdout.startswith("True"), ran.stderr


# -- a publisher without a case system publishes, corrects and withdraws -----------------------------------
@pytest.fixture
def publish_server(committed, tmp_path):
    """MKT with a publisher (wang), and ENV with an item of its own published through the API."""
    app = committed
    env_credentials = agency_client(app, code="ENV")
    api = app.test_client()
    token = api.post("/api/v1/auth/token", json=env_credentials).get_json()["access_token"]
    put = api.put("/api/v1/publish/disclosures/ENV-1", json=decision(), headers={"Authorization": f"Bearer {token}"})
    assert put.status_code == 201
    with app.app_context():
        create_agency(code="MKT", name="泉州市市场监督管理局", region_code="350500", actor="test")
        create_admin(username="wang", password=PASSWORD, role="publisher", actor="test", agency_code="MKT")
    env = server_env(app, tmp_path, ADMIN_COOKIE_SECURE="0")
    with LiveServer(env, workers=2) as live:
        yield live


@pytest.mark.slow
def test_a_publisher_publishes_corrects_and_withdraws_through_the_form(sync_playwright, publish_server, tmp_path):
    server = publish_server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, problems = watched_page(browser)
            page.goto(f"{server.url}/admin/login")
            page.fill("input[name=username]", "wang")
            page.fill("input[name=password]", PASSWORD)
            page.click("button:has-text('登录')")
            page.wait_for_url(f"{server.url}/admin/publish")
            assert "wang · 信息发布员 · 泉州市市场监督管理局" in page.inner_text("header")
            assert "投诉队列" not in page.inner_text("header nav")

            # Publish: the form, the preview (a person's name masked), then confirm.
            page.select_option("select[name=type]", "decision")
            page.click("button:has-text('填写')")
            page.fill("input[name=external_id]", "WEB-1")
            page.fill("input[name=title]", "泉州市某食品店销售过期食品行政处罚决定书")
            page.fill("textarea[name=content]", "当事人张三丰无证经营，决定罚款二千元。")
            page.fill("textarea[name=legal_basis]", "《中华人民共和国食品安全法》第一百二十四条")
            page.select_option("select[name=category]", "penalty")
            page.fill("input[name=document_no]", "泉市监罚〔2025〕201号")
            page.fill("input[name=decision_date]", "2025-09-30")
            page.select_option("select[name=subject_type]", "person")
            page.fill("input[name=subject_name]", "张三丰")
            # The 双公示 fields a penalty carries, as the form takes a type's details: JSON text.
            page.fill("textarea[name=details]", json.dumps(CREDIT_DETAILS["penalty"], ensure_ascii=False))
            page.click("button:has-text('预览群众所见')")
            page.wait_for_selector("[data-section=preview]")
            preview = page.inner_text("[data-section=preview]")
            assert "张某某" in preview and "张三丰" not in preview
            page.screenshot(path=tmp_path / "preview.png", full_page=True)
            page.click("button:has-text('确认发布')")
            page.wait_for_url(f"{server.url}/admin/publish/items/WEB-1")
            assert page.inner_text("[data-status]") == "已公开"
            public_path = page.get_attribute("a:has-text('群众所见')", "href")
            assert http_json("GET", f"{server.url}{public_path}")["content"] == "当事人张某某无证经营，决定罚款二千元。"

            # Correct: the same form, prefilled.
            assert page.input_value("input[name=document_no]") == "泉市监罚〔2025〕201号"
            page.fill("textarea[name=content]", "当事人张三丰无证经营，决定罚款三千元。")
            page.click("button:has-text('预览群众所见')")
            page.wait_for_selector("[data-section=preview]")
            page.click("button:has-text('确认发布')")
            page.wait_for_url(f"{server.url}/admin/publish/items/WEB-1")
            assert "已更正" in page.inner_text(".flash.ok")
            assert http_json("GET", f"{server.url}{public_path}")["content"] == "当事人张某某无证经营，决定罚款三千元。"

            # Withdraw, with the reason citizens are shown.
            page.select_option("select[name=reason]", "revoked")
            page.fill("textarea[name=explanation]", "该决定已被依法撤销。")
            page.click("form[data-form=withdraw] button")
            page.wait_for_selector("[data-status=withdrawn]")
            assert public_status(f"{server.url}{public_path}") == 410

            # Another agency's item is not there for them.
            page.click("header nav a:has-text('信息发布')")
            page.wait_for_url(f"{server.url}/admin/publish")
            assert "WEB-1" in page.inner_text("main") and "ENV-1" not in page.inner_text("main")
            page.goto(f"{server.url}/admin/publish/items/ENV-1")
            assert "未找到该公示信息" in page.inner_text("main")
            problems.remove(f"{server.url}/admin/publish/items/ENV-1")
            page.goto(f"{server.url}/admin/complaints")
            assert "信息发布员只能使用信息发布页面" in page.inner_text("main")
            problems.remove(f"{server.url}/admin/complaints")
            assert problems == []
        finally:
            browser.close()


# -- the system administrator disables and resets an account --------------------------------------------
@pytest.fixture
def accounts_server(committed, tmp_path):
    """root, the system administrator, and zhang, a handler of MKT."""
    app = committed
    with app.app_context():
        create_agency(code="MKT", name="泉州市市场监督管理局", region_code="350500", actor="test")
        create_admin(username="root", password=PASSWORD, role="admin", actor="test")
        create_admin(username="zhang", password=PASSWORD, role="handler", actor="test", agency_code="MKT")
        create_admin(username="xu", password=PASSWORD, role="security", actor="test")
    env = server_env(app, tmp_path, ADMIN_COOKIE_SECURE="0")
    with LiveServer(env, workers=2) as live:
        yield live


@pytest.mark.slow
def test_the_security_administrator_ends_a_session_and_opens_nothing_else(sync_playwright, accounts_server, tmp_path):
    server = accounts_server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            zhang, zhang_problems = watched_page(browser)
            xu, xu_problems = watched_page(browser)
            sign_in(zhang, server, "zhang", "/admin/complaints")
            sign_in(xu, server, "xu", "/admin/security")
            assert xu.locator("tr[data-user=zhang]").count() == 1
            assert xu.locator("tr[data-setting=ADMIN_TOTP_REQUIRED]").count() == 1  # the settings in force, read-only
            xu.click("tr[data-user=zhang] form[data-action=revoke] button")
            xu.wait_for_selector("[data-section=sessions]")
            assert xu.locator("tr[data-user=zhang]").count() == 0
            xu.screenshot(path=tmp_path / "security.png", full_page=True)
            zhang.click("header nav a:has-text('监督统计')")
            zhang.wait_for_url(re.compile(rf"{re.escape(server.url)}/admin/login.*"))
            # The security administrator's job is sessions and settings: the complaint queue is not theirs.
            refused = xu.goto(f"{server.url}/admin/complaints")
            assert refused.status == 403
            assert [url for url in xu_problems if not url.endswith("/admin/complaints")] == []
            assert [url for url in zhang_problems if "/admin/" not in url] == []
        finally:
            browser.close()


@pytest.mark.slow
def test_a_disabled_user_is_out_at_the_next_click_and_a_reset_user_chooses_a_new_password(
    sync_playwright, accounts_server, tmp_path
):
    server = accounts_server
    new_password = "Quanzhou market 2026"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            zhang, zhang_problems = watched_page(browser)
            root, root_problems = watched_page(browser)
            sign_in(zhang, server, "zhang", "/admin/complaints")
            sign_in(root, server, "root", "/admin/complaints")

            root.click("header nav a:has-text('账户管理')")
            root.wait_for_url(f"{server.url}/admin/accounts")
            root.click("tr[data-account=zhang] form[data-action=disable] button")
            root.wait_for_selector("tr[data-account=zhang] [data-state=disabled]")
            assert "已停用 zhang" in root.inner_text(".flash.ok")
            root.screenshot(path=tmp_path / "accounts.png", full_page=True)

            # zhang's open page: the next click lands on the login page, saying why.
            zhang.click("header nav a:has-text('监督统计')")
            zhang.wait_for_url(re.compile(rf"{re.escape(server.url)}/admin/login.*"))
            assert "账户已停用" in zhang.inner_text("main")

            root.click("tr[data-account=zhang] form[data-action=enable] button")
            root.wait_for_selector("tr[data-account=zhang] [data-state=enabled]")
            root.click("tr[data-account=zhang] form[data-action=reset-password] button")
            temporary = root.inner_text("#temporary-password")
            assert len(temporary) >= 12

            zhang.fill("input[name=username]", "zhang")
            zhang.fill("input[name=password]", temporary)
            zhang.click("button:has-text('登录')")
            zhang.wait_for_url(f"{server.url}/admin/account/password")
            assert "临时密码或已过期" in zhang.inner_text("main")
            # Nothing else opens until a new password is chosen.
            zhang.goto(f"{server.url}/admin/complaints")
            assert zhang.url == f"{server.url}/admin/account/password"
            zhang.fill("input[name=current_password]", temporary)
            zhang.fill("input[name=new_password]", "too weak")
            zhang.fill("input[name=confirm_password]", "too weak")
            zhang.click("button:has-text('修改密码')")
            assert "密码至少 12 个字符" in zhang.inner_text("main")
            zhang.fill("input[name=current_password]", temporary)
            zhang.fill("input[name=new_password]", new_password)
            zhang.fill("input[name=confirm_password]", new_password)
            zhang.click("button:has-text('修改密码')")
            zhang.wait_for_url(f"{server.url}/admin/complaints")
            assert "密码已修改" in zhang.inner_text(".flash.ok")
            assert root_problems == []
            # The refused weak password (422) and the page the disabled session asked for are the only misses.
            assert [url for url in zhang_problems if not url.endswith("/admin/account/password")] == []
        finally:
            browser.close()


# -- two-step sign-in and the audit trail -----------------------------------------------------------------
@pytest.fixture
def auditor_server(committed, tmp_path):
    """shen, the auditor, on a server where every account must have a second factor (as in production)."""
    app = committed
    with app.app_context():
        create_admin(username="shen", password=PASSWORD, role="auditor", actor="test")
    env = server_env(app, tmp_path, ADMIN_COOKIE_SECURE="0", ADMIN_TOTP_REQUIRED="1")
    with LiveServer(env, workers=2) as live:
        yield live


@pytest.mark.slow
def test_an_auditor_enrols_a_second_factor_signs_in_with_it_and_reads_the_trail(
    sync_playwright, auditor_server, tmp_path
):
    server = auditor_server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, problems = watched_page(browser)
            sign_in(page, server, "shen", "/admin/login/enrol")
            assert page.locator("figure.otp-qr svg").is_visible()  # the QR drawn inline, under the CSP
            secret = page.inner_text("#otp-secret")
            page.fill("input[name=otp]", phone_code(secret, dt.datetime.now(dt.UTC)))
            page.click("button:has-text('启用')")
            codes = page.locator("#recovery-codes code").all_inner_texts()
            assert len(codes) == 10
            page.screenshot(path=tmp_path / "recovery.png")
            page.click("a:has-text('我已保存，继续')")
            page.wait_for_url(f"{server.url}/admin/audit")
            page.fill("input[name=action]", "admin.otp")
            page.click("button:has-text('筛选')")
            assert page.locator("tr[data-action='admin.otp_enrolled']").count() == 1
            with page.expect_download() as download:
                page.click("#audit-export")
            exported = download.value.path().read_text(encoding="utf-8-sig")
            assert exported.startswith("id,at,actor,action") and "admin.otp_enrolled" in exported

            page.click("button:has-text('退出')")
            page.wait_for_url(re.compile(rf"{re.escape(server.url)}/admin/login.*"))
            page.fill("input[name=username]", "shen")
            page.fill("input[name=password]", PASSWORD)
            page.click("button:has-text('登录')")
            page.wait_for_url(f"{server.url}/admin/login/otp")
            # The enrolment spent this step's code; the next step's is good now (a phone a little ahead).
            page.fill("input[name=otp]", phone_code(secret, dt.datetime.now(dt.UTC), step_offset=1))
            page.click("button:has-text('验证')")
            page.wait_for_url(f"{server.url}/admin/audit")
            assert page.locator("tr[data-action='admin.otp']").count() >= 1
            assert problems == []
        finally:
            browser.close()
