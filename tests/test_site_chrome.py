"""What every public page carries around its content: the government-site footer from configuration, the
favicon, and the 大字模式 button that keeps the reader's choice in a cookie."""

from __future__ import annotations

import pytest

from backend.pages.display import TEXT_SIZE_COOKIE

PAGES = ("/s", "/s?q=食品", "/d/no-such-item", "/v/not-a-badge-token", "/complaints/new", "/complaints/track")


@pytest.mark.parametrize("path", PAGES)
def test_every_public_page_has_the_footer_one_h1_and_the_favicon(client, app, monkeypatch, path):
    monkeypatch.setitem(app.config, "SITE_SPONSOR", "泉州市司法局")
    monkeypatch.setitem(app.config, "SITE_ID_CODE", "3505000001")
    monkeypatch.setitem(app.config, "SITE_ICP", "闽ICP备12345678号")
    monkeypatch.setitem(app.config, "SITE_PSB_RECORD", "闽公网安备35050002000001号")
    monkeypatch.setitem(app.config, "SITE_CONTACT", "0595-22180001")
    page = client.get(path).get_data(as_text=True)
    footer = page[page.index('<footer class="site-footer">') :]
    for shown in ("主办单位：泉州市司法局", "网站标识码：3505000001", "闽ICP备12345678号", "0595-22180001"):
        assert shown in footer
    assert 'href="https://beian.mps.gov.cn/#/query/webSearch?code=35050002000001"' in footer
    assert page.count("<h1") == 1
    assert 'rel="icon" href="/static/favicon.svg"' in page


def test_the_police_record_is_left_out_until_set(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SITE_PSB_RECORD", None)
    assert "beian.mps.gov.cn" not in client.get("/s").get_data(as_text=True)


def test_favicon_ico_answers(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 200 and answer.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert answer.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header


def test_large_text_is_kept_in_a_cookie_and_the_reader_goes_back_to_the_page(client):
    assert 'class="large-text"' not in client.get("/s").get_data(as_text=True)
    answer = client.post("/display/text-size", data={"size": "large"}, headers={"Referer": "http://localhost/s?q=食品"})
    assert answer.status_code == 303 and answer.location == "/s?q=%E9%A3%9F%E5%93%81"
    cookie = client.get_cookie(TEXT_SIZE_COOKIE)
    assert cookie.value == "large" and cookie.http_only and cookie.same_site == "Lax"
    page = client.get("/s").get_data(as_text=True)
    assert '<html lang="zh-CN" class="large-text">' in page and "标准字号" in page
    client.post("/display/text-size", data={"size": "normal"}, headers={"Referer": "http://localhost/s"})
    assert client.get_cookie(TEXT_SIZE_COOKIE) is None
    assert "大字模式" in client.get("/s").get_data(as_text=True)


@pytest.mark.parametrize(
    "referrer",
    [
        None,
        "https://elsewhere.example/s",
        "http://localhost//elsewhere.example/x",
        "http://localhost/\\x",
        "http://[abc/x",  # no address at all: urlsplit refuses it
    ],
)
def test_the_button_never_sends_the_reader_to_another_site(client, referrer):
    headers = {"Referer": referrer} if referrer else {}
    answer = client.post("/display/text-size", data={"size": "large"}, headers=headers)
    assert answer.status_code == 303 and answer.location == "/"
