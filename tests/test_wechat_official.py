"""The official account's chat, called as WeChat calls it: signed, in plaintext and in safe (AES) mode."""

import base64
import re
import threading
import time
from urllib.parse import quote, urlencode

import pytest
from wechatpy.utils import WeChatSigner

from backend.extensions import cache
from miniapp_api import chat
from miniapp_api.services import scene_for
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision
from tests.factories.officers import officer
from tests.support.fake_wechat import (
    ACCOUNT,
    OfficialAccountCaller,
    configured,
    event_message,
    settings,
    text_message,
)

URL = "/wechat/official"
BADGE = "35050012345"


@pytest.fixture
def official(app, db_session):
    with configured(app, settings()):
        yield OfficialAccountCaller()


@pytest.fixture
def market(client, auth, db_session):
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500")
    headers = auth.headers("MKT")
    assert client.put(f"/api/v1/publish/officers/{BADGE}", json=officer(), headers=headers).status_code == 201
    return headers


@pytest.fixture
def published(client, market, indexer):
    ids = []
    for n in range(5):
        body = decision(title=f"泉州市某食品店{n}销售过期食品行政处罚决定书", document_no=f"泉市监罚〔2025〕{n}号")
        response = client.put(f"/api/v1/publish/disclosures/food-{n}", json=body, headers=market)
        ids.append(response.get_json()["id"])
    indexer.sync()
    return ids


def send(client, caller, xml, *, encrypted=False):
    query, body = caller.message(xml, encrypted=encrypted)
    response = client.post(f"{URL}?{query}", data=body, content_type="text/xml")
    assert response.status_code == 200, response.get_data(as_text=True)
    return caller.read_reply(response.data, encrypted=encrypted)


# -- the protocol ---------------------------------------------------------------------------------
def test_wechat_verifies_the_server_with_a_signed_echo(client, official):
    response = client.get(f"{URL}?{official.verification('echo-1234567890')}")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "echo-1234567890")
    forged = client.get(f"{URL}?signature=0000&timestamp=1&nonce=2&echostr=echo")
    assert forged.status_code == 403 and forged.mimetype == "text/plain"
    assert "echo" not in forged.get_data(as_text=True)


def test_a_message_with_a_bad_signature_is_rejected_and_not_processed(client, official, monkeypatch):
    monkeypatch.setattr(chat, "answer", lambda message: pytest.fail("a forged message was processed"))
    query, body = official.message(text_message(BADGE))
    forged = query.replace("signature=", "signature=0")
    assert client.post(f"{URL}?{forged}", data=body).status_code == 403
    other = OfficialAccountCaller(token="someone-elses-token")
    query, body = other.message(text_message(BADGE))
    response = client.post(f"{URL}?{query}", data=body)
    assert response.status_code == 403 and response.get_data(as_text=True) == "invalid signature"


def test_safe_mode_messages_are_decrypted_and_the_reply_encrypted(client, official, market):
    reply = send(client, official, text_message(BADGE, openid="o-safe"), encrypted=True)
    assert (reply["MsgType"], reply["ToUserName"], reply["FromUserName"]) == ("text", "o-safe", ACCOUNT)
    assert reply["Content"].startswith("【有效】李明")
    # A tampered envelope fails its msg_signature: 403, nothing read.
    query, body = official.message(text_message(BADGE), encrypted=True)
    tampered = query.replace("msg_signature=", "msg_signature=0")
    assert client.post(f"{URL}?{tampered}", data=body).status_code == 403


def test_unreadable_messages_are_400(client, official):
    query, _ = official.message(text_message("x"))
    assert client.post(f"{URL}?{query}", data=b"<xml><not-closed>").status_code == 400
    # Signed correctly, but not something the account's key encrypted (17 bytes: not even AES blocks).
    garbage = base64.b64encode(b"not a real cipher").decode()
    query = official.query(encrypt_type="aes")
    signer = WeChatSigner()
    signer.add_data(official.token, query["timestamp"], query["nonce"], garbage)
    query["msg_signature"] = signer.signature
    body = f"<xml><Encrypt><![CDATA[{garbage}]]></Encrypt></xml>"
    response = client.post(f"{URL}?{urlencode(query)}", data=body)
    assert (response.status_code, response.get_data(as_text=True)) == (400, "cannot decrypt message")


def test_without_settings_the_chat_is_503_and_safe_mode_needs_its_key(client, app, db_session):
    assert client.post(URL, data=text_message("x")).status_code == 503
    with configured(app, settings(WECHAT_OFFICIAL_AES_KEY=None)):
        caller = OfficialAccountCaller()
        assert send(client, caller, text_message("你好"))["MsgType"] == "text"
        query, body = caller.message(text_message("你好"), encrypted=True)
        response = client.post(f"{URL}?{query}", data=body)
        assert response.status_code == 503 and "WECHAT_OFFICIAL_AES_KEY" in response.get_data(as_text=True)


# -- what the chat answers ------------------------------------------------------------------------
def test_a_badge_number_gets_the_live_verification(client, official, market):
    reply = send(client, official, text_message(f" {BADGE} "))["Content"]
    assert reply.startswith("【有效】李明")
    assert f"执法证号：{BADGE}" in reply and "执法主体：泉州市市场监督管理局" in reply
    assert "执法领域：食品安全、市场监管" in reply and "/v/ey" in reply
    client.post(
        f"/api/v1/publish/officers/{BADGE}/status", json={"status": "revoked", "reason": "离职"}, headers=market
    )
    revoked = send(client, official, text_message(BADGE))["Content"]
    assert revoked.startswith("【注销】李明") and "不得从事执法活动" in revoked


def test_an_unknown_badge_number_says_so(client, official, market):
    reply = send(client, official, text_message("35059999999"))["Content"]
    assert reply.startswith("未查到执法证号 35059999999") and "扫描证件上的二维码" in reply


def test_free_text_gets_the_top_three_disclosures_with_links(client, official, published):
    public = client.get("/api/v1/disclosures", query_string={"q": "过期食品", "page_size": 3}).get_json()
    reply = send(client, official, text_message("过期食品"))["Content"]
    lines = reply.splitlines()
    assert lines[0] == "“过期食品”的公示信息（共 5 条）："
    links = [line for line in lines if line[:2] in ("1.", "2.", "3.")]
    assert [link.split("/d/")[1].split('"')[0] for link in links] == [item["id"] for item in public["items"]]
    assert f'/s?q={quote("过期食品")}">查看全部</a>' in lines[-1]
    none = send(client, official, text_message("房屋征收"))["Content"]
    assert none.startswith("未找到与“房屋征收”相关的公示信息") and "/s?q=" in none


def test_a_reply_says_when_its_count_is_an_estimate(client, app, official, published, monkeypatch):
    monkeypatch.setitem(app.config, "SEARCH_EXACT_COUNT_LIMIT", 2)  # 5 matches: more than the limit
    reply = send(client, official, text_message("过期食品"))["Content"]
    assert re.match(r"“过期食品”的公示信息（约\d+ 条）：", reply.splitlines()[0])


def test_a_slow_search_still_gets_a_reply_in_time(client, app, official, published, monkeypatch):
    released = threading.Event()
    engine = app.extensions["search"]
    real_search = engine.search

    def slow_search(definition, query):
        released.wait(10)
        return real_search(definition, query)

    monkeypatch.setattr(engine, "search", slow_search)
    monkeypatch.setitem(app.config, "WECHAT_REPLY_SECONDS", 0.2)
    try:
        reply = send(client, official, text_message("过期食品"))["Content"]
    finally:
        released.set()
    assert reply.startswith("正在检索“过期食品”") and f'/s?q={quote("过期食品")}"' in reply
    # The search goes on in the background and its answer is kept: asking again gets it at once.
    for _ in range(200):
        if cache.get(chat._cache_key("过期食品")):
            break
        time.sleep(0.05)
    again = send(client, official, text_message("过期食品"))["Content"]
    assert again.startswith("“过期食品”的公示信息（共 5 条）")


def test_following_gets_a_welcome_and_a_scanned_badge_code_its_verification(client, official, market):
    welcome = send(client, official, event_message("subscribe"))["Content"]
    assert "发送执法证号" in welcome and "发送关键词" in welcome
    code = scene_for("MKT", BADGE)  # the scene of the badge's mini-program code
    scanned = send(client, official, event_message("SCAN", code))["Content"]
    assert scanned.startswith("【有效】李明")
    followed = send(client, official, event_message("subscribe", f"qrscene_{code}"))["Content"]
    assert followed.startswith("欢迎关注") and "【有效】李明" in followed
    by_number = send(client, official, event_message("SCAN", BADGE))["Content"]
    assert by_number.startswith("【有效】李明")
    assert send(client, official, event_message("SCAN", "no-such-scene"))["Content"].startswith("请发送执法证号")


def test_other_messages_get_a_hint_and_other_events_nothing(client, official):
    image = text_message("x").replace("<MsgType><![CDATA[text]]>", "<MsgType><![CDATA[image]]>")
    assert send(client, official, image)["Content"].startswith("请发送执法证号")
    query, body = official.message(event_message("CLICK", "menu-1"))
    response = client.post(f"{URL}?{query}", data=body)
    assert response.get_data(as_text=True) == "success"


def test_a_message_wechat_sends_again_gets_the_same_answer_and_is_not_worked_twice(client, app, official, market):
    xml = text_message(BADGE)
    first = send(client, official, xml, encrypted=True)["Content"]
    app.extensions["scan_log"].flush()
    again = send(client, official, xml)["Content"]  # the repeat: a new signature, the same message
    assert again == first and first.startswith("【有效】")
    assert app.extensions["scan_log"].flush() == 0  # the repeat logged no second scan
    other = send(client, official, text_message(BADGE))["Content"]  # a new message (its own MsgId)
    assert other.startswith("【有效】") and app.extensions["scan_log"].flush() == 1
