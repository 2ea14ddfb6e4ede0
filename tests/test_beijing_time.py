"""Every date and time a person reads is Beijing's, also in the eight hours when UTC is still on yesterday."""

import datetime as dt
import re

import pytest

from tests.factories import AgencyFactory
from tests.factories.disclosures import decision, service_guide
from tests.factories.officers import officer
from tests.support.admin_browser import AdminBrowser
from tests.support.complainant import read_complaint
from tests.support.complainant import track as track_page
from tests.support.fake_wechat import FakeWeChat, OfficialAccountCaller, configured, settings, text_message

PUBLISH = "/api/v1/publish/disclosures"
PASSWORD = "a long password 1"
# 07:01 on Monday 2025-10-20 in Beijing is 23:01 on Sunday 2025-10-19 in UTC.
BEIJING_DAY, UTC_DAY = "2025-10-20", "2025-10-19"
AT_0701 = dt.datetime(2025, 10, 19, 23, 1, tzinfo=dt.UTC)


@pytest.fixture
def early_morning(frozen_clock):
    frozen_clock.at = AT_0701
    return frozen_clock


@pytest.fixture
def mkt(auth, db_session):
    judicial = AgencyFactory(code="SFJ", name="泉州市司法局", region_code="350500", supervises=True)
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500", parent=judicial)
    return auth.headers("MKT")


@pytest.fixture
def miniapp(app):
    with FakeWeChat() as fake, configured(app, settings(fake)):
        yield fake


def text(response, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


@pytest.mark.parametrize("search_engine", ["embedded", "elasticsearch"], indirect=True)
def test_an_item_published_at_0701_beijing_time_is_dated_that_day_everywhere(
    client, mkt, early_morning, indexer, search_engine, miniapp
):
    # A service guide has no decision date: its public date is the day it was published.
    item = client.put(f"{PUBLISH}/guide-1", json=service_guide(), headers=mkt).get_json()
    assert item["status"] == "published"
    indexer.sync()

    page = text(client.get(f"/d/{item['id']}"))
    assert f"公开于 {BEIJING_DAY}" in page and UTC_DAY not in page

    hits = client.get("/api/v1/disclosures", query_string={"q": "办事指南"}).get_json()["items"]
    assert [(hit["id"], hit["date"]) for hit in hits] == [(item["id"], BEIJING_DAY)]
    assert f"· {BEIJING_DAY}" in text(client.get("/s", query_string={"q": "办事指南"}))

    # The date filter is a Beijing calendar day, on both engines.
    def found(day: str) -> list[str]:
        query = {"q": "办事指南", "date_from": day, "date_to": day}
        return [hit["id"] for hit in client.get("/api/v1/disclosures", query_string=query).get_json()["items"]]

    assert found(BEIJING_DAY) == [item["id"]]
    assert found(UTC_DAY) == []
    by_date = client.get("/api/v1/disclosures", query_string={"sort": "date", "date_from": BEIJING_DAY}).get_json()
    assert [hit["id"] for hit in by_date["items"]] == [item["id"]]

    public = client.get(f"/api/v1/disclosures/{item['id']}").get_json()
    assert public["published_on"] == BEIJING_DAY
    assert public["published_at"] == item["published_at"] == "2025-10-20T07:01:00+08:00"

    phone = client.get(f"/miniapp/v1/disclosures/{item['id']}").get_json()
    assert phone["published_on"] == BEIJING_DAY and phone["published_at"].startswith(f"{BEIJING_DAY}T07:01")
    phone_hits = client.get("/miniapp/v1/disclosures", query_string={"q": "办事指南"}).get_json()["items"]
    assert [hit["date"] for hit in phone_hits] == [BEIJING_DAY]


def test_wechat_chat_replies_date_and_time_in_beijing_time(app, client, mkt, early_morning, indexer):
    client.put(f"{PUBLISH}/guide-1", json=service_guide(), headers=mkt)
    assert client.put("/api/v1/publish/officers/35050012345", json=officer(), headers=mkt).status_code == 201
    indexer.sync()
    caller = OfficialAccountCaller()
    with configured(app, settings()):

        def chat(message: str) -> str:
            query, body = caller.message(text_message(message))
            response = client.post(f"/wechat/official?{query}", data=body, content_type="text/xml")
            return caller.read_reply(response.data)["Content"]

        assert f"· {BEIJING_DAY}" in chat("办事指南")
        assert f"核验时间：{BEIJING_DAY} 07:01" in chat("35050012345")


def test_a_withdrawal_at_0701_beijing_time_is_shown_in_beijing_time(client, mkt, early_morning):
    item = client.put(f"{PUBLISH}/case-1", json=decision(), headers=mkt).get_json()
    withdrawal = {"reason": "revoked", "explanation": "该处罚决定已被行政复议决定撤销。"}
    assert client.post(f"{PUBLISH}/case-1/withdraw", json=withdrawal, headers=mkt).status_code == 200

    page = text(client.get(f"/d/{item['id']}"), 410)
    assert f"{BEIJING_DAY} 07:01（北京时间）" in page
    assert "UTC" not in page and "23:01" not in page
    notice = client.get(f"/api/v1/disclosures/{item['id']}")
    assert notice.status_code == 410 and notice.get_json()["withdrawn_at"] == "2025-10-20T07:01:00+08:00"


def test_a_complaint_filed_and_handled_before_0800_shows_beijing_times_to_citizen_and_handler(
    app, client, mkt, early_morning, runner
):
    filed = client.post(
        "/api/v1/complaints",
        json={"category": "misconduct", "content": "执法人员未出示证件即要求检查。", "agency": "MKT"},
    ).get_json()
    assert filed["tracking_no"].startswith("TS20251020")
    result = runner.invoke(
        args=["admin", "create", "--username", "wang", "--role", "handler", "--agency", "MKT"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    handler = AdminBrowser(app.test_client())
    assert handler.login("wang", PASSWORD).status_code == 303
    early_morning.advance(dt.timedelta(minutes=1))  # accepted at 07:02 Beijing time, 23:02 UTC
    assert "已受理" in text(handler.act(filed["tracking_no"], "accept"))

    track = text(track_page(client, filed["tracking_no"], filed["query_code"]))
    assert re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d", track) == [f"{BEIJING_DAY} 07:01", f"{BEIJING_DAY} 07:02"]

    view = read_complaint(client, filed["tracking_no"], filed["query_code"]).get_json()
    assert view["created_at"] == "2025-10-20T07:01:00+08:00"
    assert [(e["kind"], e["at"]) for e in view["timeline"]] == [
        ("submitted", "2025-10-20T07:01:00+08:00"),
        ("accepted", "2025-10-20T07:02:00+08:00"),
    ]

    admin = handler.page(f"/admin/complaints/{filed['tracking_no']}")
    assert f"{BEIJING_DAY} 07:01" in admin and f"{BEIJING_DAY} 07:02" in admin
    assert UTC_DAY not in admin and "23:0" not in admin
