"""The mini-program API against a local WeChat protocol server: login, search, badges, complaints, codes."""

import datetime as dt
import io
import json
from urllib.parse import quote

import jwt
import pytest
from PIL import Image
from sqlalchemy import select

from backend.complaints import notify
from backend.complaints import services as complaint_services
from backend.complaints.models import Complaint, Notification
from backend.extensions import cache
from miniapp_api.models import BadgeScene
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision
from tests.factories.officers import officer
from tests.support.fake_wechat import SUBSCRIBE_TEMPLATE, FakeWeChat, configured, settings
from tests.support.qr import decode_qr

API = "/miniapp/v1"
BADGE = "35050012345"


@pytest.fixture
def fake():
    with FakeWeChat() as server:
        yield server


@pytest.fixture
def miniapp(app, fake, db_session):
    with configured(app, settings(fake)):
        yield fake


@pytest.fixture
def market(db_session):
    AgencyFactory(code="SFJ", name="泉州市司法局", region_code="350500", supervises=True)
    return AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500")


def login(client, fake, openid="o-citizen-1", code=None) -> dict:
    code = code or f"code-{openid}"
    fake.login_code(code, openid, session_key=f"SK-{openid}")
    response = client.post(f"{API}/login", json={"code": code})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def shape(response, code):
    assert response.status_code == code, response.get_json()
    body = response.get_json()
    assert body["code"] == code and body["status"] and body["message"]
    return body


# -- login ----------------------------------------------------------------------------------------
def test_login_gives_our_own_token_and_keeps_the_session_key_on_the_server(client, miniapp):
    miniapp.login_code("good-code", "o-alice", session_key="SESSION-KEY-OF-ALICE")
    response = client.post(f"{API}/login", json={"code": "good-code"})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "subscribe_template_id"}
    assert body["token_type"] == "Bearer" and body["subscribe_template_id"] == SUBSCRIBE_TEMPLATE
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (claims["aud"], claims["sub"]) == ("miniapp", "o-alice")
    # The session_key is nowhere in what the mini-program gets: not in the body, not in the token.
    assert "SESSION-KEY-OF-ALICE" not in response.get_data(as_text=True)
    assert "SESSION-KEY-OF-ALICE" not in json.dumps(claims)
    assert json.loads(cache.get("miniapp:session:o-alice"))["session_key"] == "SESSION-KEY-OF-ALICE"
    # code2session authenticates with appid and secret: no access token was fetched or sent for it.
    (call,) = miniapp.calls_to("/sns/jscode2session")
    assert call[1]["js_code"] == "good-code" and "access_token" not in call[1]
    assert miniapp.token_fetches == 0
    mine = client.get(f"{API}/complaints", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert mine.status_code == 200 and mine.get_json()["items"] == []


@pytest.mark.parametrize(
    ("errcode", "status", "retry_after"),
    [(40029, 401, None), (40163, 401, None), (40226, 403, None), (-1, 503, "5"), (45011, 503, "60")],
)
def test_wechat_login_errors_map_to_clear_api_errors(client, miniapp, errcode, status, retry_after):
    miniapp.fail("/sns/jscode2session", errcode)
    response = client.post(f"{API}/login", json={"code": "any-code"})
    body = shape(response, status)
    assert response.headers.get("Retry-After") == retry_after
    assert str(errcode) in json.dumps(body["errors"])


def test_a_code_works_once_and_an_unknown_code_is_401(client, miniapp):
    login(client, miniapp, code="once")
    assert "40163" in json.dumps(shape(client.post(f"{API}/login", json={"code": "once"}), 401)["errors"])
    assert "40029" in json.dumps(shape(client.post(f"{API}/login", json={"code": "never-issued"}), 401)["errors"])


def test_wechat_down_or_unreachable_is_503_with_retry_advice(client, miniapp):
    miniapp.down.add("/sns/jscode2session")
    down = client.post(f"{API}/login", json={"code": "c"})
    assert shape(down, 503)["message"] == "暂时无法连接微信服务，请稍后再试"
    assert down.headers["Retry-After"] == "5"
    miniapp.stop()
    unreachable = client.post(f"{API}/login", json={"code": "c"})
    assert shape(unreachable, 503)["errors"] == {"wechat": ["unreachable"]}


def test_without_configuration_the_wechat_endpoints_say_so_and_the_rest_works(client, db_session):
    body = shape(client.post(f"{API}/login", json={"code": "c"}), 503)
    assert body["message"] == "微信小程序服务未配置"
    shape(client.get(f"{API}/disclosures"), 503)
    # A user's operation without a token says 401 first (the client's own fault), whatever the configuration.
    assert shape(client.get(f"{API}/complaints/Z20251020001"), 401)["message"] == "缺少 Bearer 令牌"
    official = client.get("/wechat/official")
    assert official.status_code == 503 and "WECHAT_OFFICIAL_TOKEN" in official.get_data(as_text=True)
    assert client.get("/api/v1/badges/keys").status_code == 200


def test_the_spec_documents_the_mini_program_security_scheme(client, db_session):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["MiniappBearer"]["bearerFormat"] == "JWT"
    mine = spec["paths"]["/miniapp/v1/complaints"]["get"]
    assert mine["security"] == [{"MiniappBearer": []}] and "401" in mine["responses"]
    assert "security" not in spec["paths"]["/miniapp/v1/disclosures"]["get"]


def test_a_mini_program_token_is_not_an_agency_token_nor_the_reverse(client, miniapp, auth, market):
    user = login(client, miniapp)
    assert client.get("/api/v1/auth/whoami", headers=user).status_code == 401
    assert client.get(f"{API}/complaints", headers=auth.headers("MKT")).status_code == 401
    assert client.get(f"{API}/complaints").status_code == 401


# -- search and detail ----------------------------------------------------------------------------
def test_search_and_detail_use_the_public_engine_with_smaller_payloads(client, miniapp, auth, market, indexer):
    headers = auth.headers("MKT")
    for n in range(3):
        body = decision(title=f"食品店{n}行政处罚决定书", document_no=f"泉市监罚〔2025〕{n}号")
        assert client.put(f"/api/v1/publish/disclosures/f{n}", json=body, headers=headers).status_code == 201
    indexer.sync()
    public = client.get("/api/v1/disclosures", query_string={"q": "食品", "page_size": 2}).get_json()
    phone = client.get(f"{API}/disclosures", query_string={"q": "食品", "page_size": 2}).get_json()
    assert [i["id"] for i in phone["items"]] == [i["id"] for i in public["items"]]
    assert phone["total"] == public["total"] == 3
    assert set(phone) == {"items", "total", "total_exact", "facets", "facets_exact", "page"}
    assert phone["total_exact"] is True
    assert phone["facets"] == {}  # counted only when asked for
    assert set(phone["items"][0]) == {"id", "title", "title_highlight", "snippet", "agency_name", "type_label", "date"}
    detail = client.get(f"{API}/disclosures/{phone['items'][0]['id']}").get_json()
    assert detail["agency_name"] == "泉州市市场监督管理局" and detail["url"].endswith(f"/d/{detail['id']}")
    assert "commitment_salt" not in detail and "attachments" not in detail
    shape(client.get(f"{API}/disclosures/nope"), 404)


@pytest.mark.parametrize("search_engine", ["embedded", "elasticsearch"], indirect=True)
def test_search_filters_and_counts_facets_with_names(client, miniapp, auth, market, indexer):
    AgencyFactory(code="YC", name="盐城市市场监督管理局", region_code="320900")
    for agency, key, body in [
        ("MKT", "q1", decision(title="泉州市某食品店行政处罚决定书", decision_date="2025-10-10")),
        ("MKT", "q2", decision(category="licensing", title="食品经营许可决定", document_no="泉市监许〔2025〕2号")),
        ("YC", "y1", decision(title="盐城市某食品店行政处罚决定书", document_no="盐市监罚〔2025〕1号")),
    ]:
        assert (
            client.put(f"/api/v1/publish/disclosures/{key}", json=body, headers=auth.headers(agency)).status_code == 201
        )
    indexer.sync()
    phone = client.get(f"{API}/disclosures", query_string={"q": "食品", "facets": "true"}).get_json()
    assert phone["total"] == 3
    labels = {name: {f["value"]: (f["label"], f["count"]) for f in values} for name, values in phone["facets"].items()}
    assert labels["region"] == {
        "350000": ("福建省", 2),
        "350500": ("泉州市", 2),
        "320000": ("江苏省", 1),
        "320900": ("盐城市", 1),
    }
    assert labels["agency"] == {"MKT": ("泉州市市场监督管理局", 2), "YC": ("盐城市市场监督管理局", 1)}
    assert labels["category"] == {"penalty": ("行政处罚", 2), "licensing": ("行政许可", 1)}
    assert labels["type"] == {"decision": ("执法决定", 3)}
    narrowed = client.get(
        f"{API}/disclosures", query_string={"q": "食品", "region": "350500", "category": "penalty", "sort": "date"}
    ).get_json()
    assert [(i["agency_name"], i["title"]) for i in narrowed["items"]] == [
        ("泉州市市场监督管理局", "泉州市某食品店行政处罚决定书")
    ]
    assert narrowed["items"][0]["title_highlight"] == "泉州市某<em>食品</em>店行政处罚决定书"
    assert shape(client.get(f"{API}/disclosures", query_string={"region": "abc"}), 422)["errors"]["query"]["region"]


# -- badges ---------------------------------------------------------------------------------------
@pytest.fixture
def registered(client, auth, market):
    headers = auth.headers("MKT")
    assert client.put(f"/api/v1/publish/officers/{BADGE}", json=officer(), headers=headers).status_code == 201
    return headers


def test_badges_verify_from_a_token_or_the_qr_link_the_mini_program_was_opened_with(client, app, miniapp, registered):
    from backend.officers import tokens

    with app.test_request_context():
        issued = tokens.issue("MKT", BADGE)
    bare = client.get(f"{API}/badges/verify", query_string={"token": issued.token}).get_json()
    assert (bare["result"], bare["label"], bare["officer"]["name"]) == ("valid", "有效", "李明")
    assert bare["officer"]["agency_name"] == "泉州市市场监督管理局"
    assert bare["officer"]["photo_url"] == f"{issued.url}/photo" and bare["receipt"]
    # 扫普通链接二维码打开小程序: options.q is the QR's URL, URL-encoded.
    linked = client.get(f"{API}/badges/verify", query_string={"token": quote(issued.url, safe="")}).get_json()
    assert linked["result"] == "valid" and linked["page_url"] == issued.url
    forged = client.get(f"{API}/badges/verify", query_string={"token": issued.token[:-4] + "AAAA"}).get_json()
    assert (forged["result"], forged["officer"], forged["receipt"]) == ("invalid", None, None)
    shape(client.get(f"{API}/badges/verify"), 422)


def test_a_badge_mini_program_code_carries_a_short_scene_that_verifies_live(client, miniapp, registered, db_session):
    url = f"/api/v1/publish/officers/{BADGE}/badge-wxacode.png"
    response = client.get(url, headers=registered)
    assert response.status_code == 200 and response.mimetype == "image/png"
    (made,) = miniapp.codes_made
    scene = made["scene"]
    assert len(scene) == 16 and scene.isalnum()
    assert (made["page"], made["env_version"], made["check_path"]) == ("pages/verify/index", "release", True)
    (qr,) = decode_qr(Image.open(io.BytesIO(response.data)))
    assert f"scene={scene}" in qr
    # Cached: the same image again without asking WeChat; the scene is kept for good.
    assert client.get(url, headers=registered).data == response.data
    assert len(miniapp.codes_made) == 1
    stored = db_session.scalar(select(BadgeScene))
    assert (stored.code, stored.agency_code, stored.badge_no) == (scene, "MKT", BADGE)
    verified = client.get(f"{API}/badges/verify", query_string={"scene": scene}).get_json()
    assert (verified["result"], verified["officer"]["badge_no"]) == ("valid", BADGE)
    client.post(
        f"/api/v1/publish/officers/{BADGE}/status", json={"status": "suspended", "reason": "调查"}, headers=registered
    )
    assert client.get(f"{API}/badges/verify", query_string={"scene": scene}).get_json()["result"] == "suspended"
    unknown = client.get(f"{API}/badges/verify", query_string={"scene": "0123456789abcdef"}).get_json()
    assert (unknown["result"], unknown["reason"], unknown["officer"]) == ("invalid", "unknown_scene", None)


def test_badge_code_errors(client, app, miniapp, registered, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_MINIAPP_BADGE_PAGE", "pages/not/published")
    refused = client.get(f"/api/v1/publish/officers/{BADGE}/badge-wxacode.png", headers=registered)
    assert "41030" in json.dumps(shape(refused, 503)["errors"])
    shape(client.get("/api/v1/publish/officers/99999999/badge-wxacode.png", headers=registered), 404)
    assert client.get(f"/api/v1/publish/officers/{BADGE}/badge-wxacode.png").status_code == 401


# -- complaints and the content check -----------------------------------------------------------
def file(client, headers, content="执法人员未出示证件即要求检查。", **body):
    return client.post(
        f"{API}/complaints",
        json={"category": "misconduct", "content": content, "agency": "MKT", **body},
        headers=headers,
    )


def test_text_that_msgseccheck_passes_is_filed_as_usual(client, miniapp, market, db_session):
    user = login(client, miniapp)
    response = file(client, user)
    assert response.status_code == 201
    body = response.get_json()
    assert body["under_review"] is False and body["agency"]["code"] == "MKT"
    ((_, params, payload),) = miniapp.calls_to("/wxa/msg_sec_check")
    assert payload == {"content": "执法人员未出示证件即要求检查。", "version": 2, "scene": 3, "openid": "o-citizen-1"}
    assert params["access_token"].startswith("FAKE_AT_")
    complaint = db_session.scalar(select(Complaint).where(Complaint.tracking_no == body["tracking_no"]))
    assert (complaint.channel, complaint.openid, complaint.needs_review) == ("miniapp", "o-citizen-1", False)


@pytest.mark.parametrize("suggest_word", ["炸弹", "傻"])
def test_risky_or_doubtful_text_is_filed_for_a_handlers_review_not_dropped(
    client, miniapp, market, db_session, suggest_word
):
    user = login(client, miniapp)
    body = file(client, user, content=f"执法人员说要用{suggest_word}吓唬我们。").get_json()
    assert body["under_review"] is True
    complaint = db_session.scalar(select(Complaint).where(Complaint.tracking_no == body["tracking_no"]))
    assert complaint.needs_review is True
    (note,) = [e for e in complaint.events if e.kind == "note"]
    assert not note.public and "微信内容安全检测" in note.text
    view = client.get(f"{API}/complaints/{body['tracking_no']}", headers=user).get_json()
    assert [e["kind"] for e in view["timeline"]] == ["submitted"]  # the note stays internal


@pytest.mark.parametrize("outage", ["down", "busy", "user_not_seen_lately"])
def test_when_msgseccheck_is_unavailable_the_local_filter_decides(client, miniapp, market, outage):
    if outage == "down":
        miniapp.down.add("/wxa/msg_sec_check")
    elif outage == "busy":
        miniapp.fail("/wxa/msg_sec_check", -1, times=2)
    else:
        miniapp.stale_openids.add("o-citizen-1")
    user = login(client, miniapp)
    assert file(client, user).get_json()["under_review"] is False
    doubtful = file(client, user, content="他们说加微信就能少罚款，www.example.com").get_json()
    assert doubtful["under_review"] is True
    assert len(miniapp.calls_to("/wxa/msg_sec_check")) == 2


def test_a_user_not_fresh_enough_for_msgseccheck_gets_the_local_filter(
    client, app, miniapp, market, frozen_clock, monkeypatch
):
    monkeypatch.setitem(app.config, "TOKEN_TTL_SECONDS", 6 * 3600)
    user = login(client, miniapp)
    frozen_clock.advance(dt.timedelta(hours=2, minutes=1))
    assert file(client, user, content="执法人员说要用炸弹吓唬我们。").get_json()["under_review"] is True
    assert miniapp.calls_to("/wxa/msg_sec_check") == []


def test_a_user_sees_only_their_own_complaints(client, miniapp, market):
    alice, bob = login(client, miniapp, "o-alice"), login(client, miniapp, "o-bob")
    first = file(client, alice).get_json()
    second = file(client, alice, content="执法车辆占用人行道，影响通行。").get_json()
    file(client, bob, content="另一位市民的投诉内容。")
    mine = client.get(f"{API}/complaints", headers=alice).get_json()
    assert mine["total"] == 2
    assert [c["tracking_no"] for c in mine["items"]] == [second["tracking_no"], first["tracking_no"]]
    assert mine["items"][0]["status_label"] == "待受理"
    detail = client.get(f"{API}/complaints/{first['tracking_no']}", headers=alice).get_json()
    assert detail["status"] == "submitted" and detail["notify_consent"] is False
    shape(client.get(f"{API}/complaints/{first['tracking_no']}", headers=bob), 404)


def test_rating_comments_pass_the_content_check_too(client, miniapp, market, db_session, runner):
    user = login(client, miniapp)
    filed = file(client, user).get_json()
    complaint = db_session.scalar(select(Complaint).where(Complaint.tracking_no == filed["tracking_no"]))
    complaint.status, complaint.closed_at = "closed", complaint.created_at
    db_session.commit()
    rated = client.post(
        f"{API}/complaints/{filed['tracking_no']}/rating", json={"score": 1, "comment": "处理的人真傻"}, headers=user
    )
    assert rated.status_code == 200 and rated.get_json()["rating"] == 1
    assert complaint.needs_review is True and complaint.rating_comment == "处理的人真傻"
    assert miniapp.calls_to("/wxa/msg_sec_check")[-1][2]["scene"] == 2
    again = client.post(f"{API}/complaints/{filed['tracking_no']}/rating", json={"score": 5}, headers=user)
    shape(again, 409)


def test_consent_is_recorded_and_each_accept_brings_one_subscribe_message(
    client, app, miniapp, market, db_session, runner
):
    user = login(client, miniapp)
    filed = file(client, user, notify_consent=True).get_json()
    tracking_no = filed["tracking_no"]
    runner.invoke(
        args=["admin", "create", "--username", "wang", "--role", "handler", "--agency", "MKT"],
        input="a long password 1\n",
    )
    from backend.accounts.models import AdminUser

    handler = db_session.scalar(select(AdminUser).where(AdminUser.username == "wang"))
    complaint = complaint_services.for_citizen(tracking_no, filed["query_code"])
    assert isinstance(app.extensions["notifier"], notify.WeChatSubscribeNotifier)
    complaint_services.accept(handler, complaint)
    assert notify.deliver_pending() == 1
    (message,) = miniapp.sent_messages
    assert message["touser"] == "o-citizen-1" and message["template_id"] == SUBSCRIBE_TEMPLATE
    assert message["page"] == f"pages/complaint/detail?tracking_no={tracking_no}"
    assert message["data"]["character_string1"]["value"] == tracking_no
    assert message["data"]["phrase2"]["value"] == "办理中"
    # The one-time consent is used up: the next change waits for the user to accept again.
    assert client.get(f"{API}/complaints/{tracking_no}", headers=user).get_json()["notify_consent"] is False
    complaint_services.reply(handler, complaint, "已核实并批评教育执法人员。")
    assert db_session.scalar(select(Notification).where(Notification.kind == "replied")) is None
    consent = {"template_id": SUBSCRIBE_TEMPLATE, "choice": "accept"}
    put = client.put(f"{API}/complaints/{tracking_no}/subscription", json=consent, headers=user)
    assert put.status_code == 200 and put.get_json()["notify_consent"] is True
    miniapp.refusing_openids.add("o-citizen-1")
    complaint_services.close(handler, complaint, "办结")
    assert notify.deliver_pending() == 0
    pending = db_session.scalar(select(Notification).where(Notification.kind == "closed"))
    assert pending.sent_at is None and "43101" in pending.last_error
    wrong = client.put(
        f"{API}/complaints/{tracking_no}/subscription", json={**consent, "template_id": "other"}, headers=user
    )
    shape(wrong, 422)


def test_filing_is_limited_per_user(client, app, miniapp, market, monkeypatch):
    monkeypatch.setitem(app.config, "COMPLAINT_RATE_LIMIT_PER_HOUR", 1)
    user = login(client, miniapp)
    assert file(client, user).status_code == 201
    limited = file(client, user, content="第二件投诉内容，过于频繁。")
    shape(limited, 429)
    assert limited.headers["Retry-After"]
