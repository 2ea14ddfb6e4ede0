"""The agency page /a/{code}: who the agency is, its current 事前公开 items, roster and recent decisions; and the
links to it (disclosure pages, search results) and from a disclosure page to the complaint form."""

import datetime as dt
import re

import pytest

from backend.officers import services as officer_services
from search_index.interfaces import SearchUnavailable
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision, discretion_benchmark, power, service_guide
from tests.factories.officers import register

URL = "/api/v1/publish/disclosures"
ENGINES = ["embedded", "elasticsearch"]
WITHDRAWAL = {"reason": "revoked", "explanation": "该清单已被新的清单取代。", "document_no": "泉市监〔2025〕1号"}
ITEM_LINK = re.compile(r'href="/d/([0-9a-f]{32})"')


@pytest.fixture
def agencies(client, auth, db_session, frozen_clock, indexer):
    """MKT with current, withdrawn and expired items and two officers; XM, another agency, with its own."""
    AgencyFactory(
        code="MKT",
        name="鲤城区市场监督管理局",
        level="county",
        region_code="350502",
        address="泉州市鲤城区新华北路 1 号",
        phone="0595-22580000",
        complaint_phone="0595-22512315",
        remedy_channels={"reconsideration": ["鲤城区人民政府"], "litigation": ["鲤城区人民法院"]},
    )
    AgencyFactory(code="XM", name="厦门市市场监督管理局", region_code="350200")
    mkt, xm = auth.headers("MKT"), auth.headers("XM")
    bodies = {
        "power": (mkt, power(title="对销售过期食品的行政处罚")),
        "guide": (mkt, service_guide(title="食品经营许可办事指南")),
        "benchmark": (mkt, discretion_benchmark(title="占道经营行政处罚裁量基准")),
        "withdrawn": (mkt, power(title="已撤下的旧事项清单")),
        "old_guide": (mkt, service_guide(title="已失效的旧办事指南", effective_until="2025-01-01")),
        "older": (mkt, decision(title="较早的处罚决定", document_no="鲤市监罚〔2025〕1号", decision_date="2025-10-09")),
        "newer": (mkt, decision(title="较新的处罚决定", document_no="鲤市监罚〔2025〕2号", decision_date="2025-10-10")),
        # Decided four years ago: its three-year disclosure period is over (the expiry job has not yet run).
        "expired": (
            mkt,
            decision(title="公示期满的处罚决定", document_no="鲤市监罚〔2021〕9号", decision_date="2021-10-01"),
        ),
        # Decided before the others, published after them: the page orders by the date it shows.
        "backfilled": (
            mkt,
            decision(title="补录的处罚决定", document_no="鲤市监罚〔2025〕3号", decision_date="2025-10-08"),
        ),
        "xm_power": (xm, power(title="厦门的事项清单")),
        "xm_decision": (xm, decision(title="厦门的处罚决定", document_no="厦市监罚〔2025〕5号")),
    }
    ids = {}
    for key, (headers, body) in bodies.items():
        frozen_clock.advance(dt.timedelta(minutes=1))  # published one after another, in this order
        response = client.put(f"{URL}/{key}", json=body, headers=headers)
        assert response.status_code == 201, response.get_json()
        ids[key] = response.get_json()["id"]
    response = client.post(f"{URL}/withdrawn/withdraw", json=WITHDRAWAL, headers=mkt)
    assert response.status_code == 200, response.get_json()
    register(client, mkt, "35050200001", name="李明")
    register(client, mkt, "35050200002", name="王芳", domains=["特种设备"])
    register(client, xm, "35020000003", name="陈强")
    indexer.sync()
    return ids


def linked_items(html: str) -> list[str]:
    return ITEM_LINK.findall(html)


def test_the_agency_page_says_who_the_agency_is_and_how_to_reach_it(client, agencies):
    page = client.get("/a/MKT")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1" in html and "鲤城区市场监督管理局" in html
    assert "县级" in html and "福建省泉州市鲤城区" in html and "泉州市鲤城区新华北路 1 号" in html
    assert 'href="tel:0595-22580000"' in html and 'href="tel:0595-22512315"' in html and 'href="tel:12345"' in html
    assert "申请行政复议：鲤城区人民政府" in html and "提起行政诉讼：鲤城区人民法院" in html
    assert "/complaints/new?agency=MKT" in html


def test_the_agency_page_lists_exactly_its_current_items(client, agencies):
    html = client.get("/a/MKT").get_data(as_text=True)
    pre, _, rest = html.partition('class="card roster"')
    _, _, recent = rest.partition('class="card recent"')
    # 事前公开: its current items, by type (the withdrawn one, the lapsed one and XM's are not there).
    assert sorted(linked_items(pre)) == sorted(agencies[key] for key in ("power", "guide", "benchmark"))
    for label in ("执法事项清单", "服务指南", "行政处罚裁量基准"):
        assert f"<h3>{label}</h3>" in pre
    # 事后公开: its decisions, newest first; the one whose disclosure period is over is not shown.
    assert linked_items(recent) == [agencies["newer"], agencies["older"], agencies["backfilled"]]
    for absent in ("已撤下的旧事项清单", "已失效的旧办事指南", "公示期满的处罚决定", "厦门的"):
        assert absent not in html


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_the_roster_on_the_page_is_the_agencys_and_searchable(client, agencies):
    html = client.get("/a/MKT").get_data(as_text=True)
    assert "李明" in html and "王芳" in html and "陈强" not in html and "共 2 人" in html
    by_name = client.get("/a/MKT", query_string={"q": "王芳"}).get_data(as_text=True)
    assert "王芳" in by_name and "35050200002" in by_name and "李明" not in by_name
    by_badge = client.get("/a/MKT", query_string={"q": "35050200001"}).get_data(as_text=True)
    assert "李明" in by_badge and "王芳" not in by_badge
    # Another agency's officer is not found through this agency's page.
    other = client.get("/a/MKT", query_string={"q": "陈强"}).get_data(as_text=True)
    assert "35020000003" not in other and "共 0 人" in other and "没有找到相关的执法人员" in other
    # A query the roster refuses (too long) is cut, not a 500.
    assert client.get("/a/MKT", query_string={"q": "王" * 500, "page": "x"}).status_code == 200


def test_without_search_the_page_still_says_who_the_agency_is(client, agencies, monkeypatch):
    def search_down(**_):
        raise SearchUnavailable("down")

    monkeypatch.setattr(officer_services, "roster", search_down)
    page = client.get("/a/MKT")
    html = page.get_data(as_text=True)
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "执法人员名单暂时无法查询" in html and 'href="tel:0595-22512315"' in html
    assert sorted(linked_items(html)) == sorted(
        agencies[k] for k in ("power", "guide", "benchmark", "newer", "older", "backfilled")
    )


def test_an_unknown_agency_is_a_404_page(client, agencies):
    for code in ("NOPE", "x" * 300, "a%20b"):
        page = client.get(f"/a/{code}")
        assert page.status_code == 404 and "未找到该执法主体" in page.get_data(as_text=True)


def test_a_disclosure_page_links_its_agency_and_the_complaint_form_and_shows_its_period(client, agencies):
    html = client.get(f"/d/{agencies['newer']}").get_data(as_text=True)
    assert 'href="/a/MKT"' in html
    complaint = re.search(r'href="(/complaints/new\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert f"disclosure={agencies['newer']}" in complaint and "agency=MKT" in complaint
    # A penalty on an organization stays public three years from its decision date (a Beijing date).
    assert "公示至 2028-10-09" in html
    assert client.get(f"/api/v1/disclosures/{agencies['newer']}").get_json()["expires_on"] == "2028-10-09"
    guide = client.get(f"/d/{agencies['guide']}").get_data(as_text=True)
    assert "公示至" not in guide and 'href="/a/MKT"' in guide
    # The link leads to the form, prefilled with the item.
    form = client.get(complaint).get_data(as_text=True)
    assert f'name="disclosure" value="{agencies["newer"]}"' in form


def test_search_results_link_their_agency(client, agencies):
    html = client.get("/s", query_string={"q": "处罚决定"}).get_data(as_text=True)
    assert 'href="/a/MKT"' in html and 'href="/a/XM"' in html
