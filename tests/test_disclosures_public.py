"""Citizens' side: search with facets on both engines, one item, the agency's 事前公开 page, mobile pages."""

import pytest

from tests.factories import AgencyFactory
from tests.factories.disclosures import decision, power, service_guide

URL = "/api/v1/publish/disclosures"
ENGINES = ["embedded", "elasticsearch"]


@pytest.fixture
def published(client, auth, db_session, frozen_clock, indexer):
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500")
    AgencyFactory(code="LC", name="鲤城区市场监督管理局", region_code="350502", level="county")
    market_h, district_h = auth.headers("MKT"), auth.headers("LC")
    ids = {}
    for key, headers, body in [
        ("food", market_h, decision(decision_date="2025-10-15")),
        (
            "license",
            market_h,
            decision(
                category="licensing",
                title="食品经营许可证核发决定",
                document_no="泉市监许〔2025〕8号",
                content="准予泉州市某餐饮店食品经营许可。",
                decision_date="2025-10-10",
            ),
        ),
        (
            "district",
            district_h,
            decision(
                title="鲤城区某超市行政处罚决定书",
                content="该超市未按规定查验供货者许可证。",
                document_no="鲤市监罚〔2025〕3号",
                decision_date="2025-10-16",
            ),
        ),
        (
            "body_only",
            district_h,
            decision(
                title="鲤城区某药店处理决定",
                content="对该药店销售过期食品的行为作出行政处罚。",
                document_no="鲤市监罚〔2025〕4号",
                decision_date="2025-10-17",
            ),
        ),
        ("power", market_h, power()),
        ("guide", market_h, service_guide()),
        ("pending", market_h, decision(title="尚未公开的决定", document_no="泉市监罚〔2025〕99号", publish=False)),
    ]:
        response = client.put(f"{URL}/{key}", json=body, headers=headers)
        assert response.status_code == 201, response.get_json()
        ids[key] = response.get_json()["id"]
    indexer.sync()
    return ids


def search(client, **params):
    response = client.get("/api/v1/disclosures", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_two_character_words_phrases_and_ranking(client, published):
    body = search(client, q="食品")
    ids = [item["id"] for item in body["items"]]
    assert published["pending"] not in ids
    # A title match ranks above a body-only match.
    assert ids.index(published["food"]) < ids.index(published["body_only"])
    phrase = search(client, q="过期食品")
    assert {i["id"] for i in phrase["items"]} == {published["food"], published["body_only"]}
    assert search(client, q="期食过")["total"] == 0


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_results_carry_snippet_agency_and_date(client, published):
    item = next(i for i in search(client, q="过期食品")["items"] if i["id"] == published["body_only"])
    assert "<em>过期食品</em>" in item["snippet"]
    assert item["agency"] == {"code": "LC", "name": "鲤城区市场监督管理局"}
    assert (item["phase"], item["type"], item["category"], item["date"]) == (
        "post",
        "decision",
        "penalty",
        "2025-10-17",
    )


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_filters_and_facets_agree(client, published):
    everything = search(client)
    assert everything["total"] == 6
    facets = {name: {f["value"]: f["count"] for f in values} for name, values in everything["facets"].items()}
    assert facets["phase"] == {"post": 4, "pre": 2}
    assert facets["category"] == {"penalty": 3, "licensing": 1}
    assert facets["agency"] == {"MKT": 4, "LC": 2}
    assert facets["region"]["350500"] == 6 and facets["region"]["350502"] == 2
    labels = {f["value"]: f["label"] for f in everything["facets"]["agency"]}
    assert labels["LC"] == "鲤城区市场监督管理局"
    for name, values in facets.items():
        for value, count in values.items():
            assert search(client, **{name: value})["total"] == count, (name, value)
    assert search(client, category="penalty", agency="LC")["total"] == 2
    assert search(client, type="power")["items"][0]["id"] == published["power"]


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_date_range_and_sort_by_date(client, published):
    ranged = search(client, date_from="2025-10-15", date_to="2025-10-16", phase="post")
    assert {i["id"] for i in ranged["items"]} == {published["food"], published["district"]}
    by_date = search(client, phase="post", sort="date")
    assert [i["date"] for i in by_date["items"]] == ["2025-10-17", "2025-10-16", "2025-10-15", "2025-10-10"]


def test_bad_search_parameters_are_422(client, search_engine):
    response = client.get("/api/v1/disclosures?phase=later&sort=random&date_from=yesterday&page=0")
    assert response.status_code == 422
    assert set(response.get_json()["errors"]["query"]) == {"phase", "sort", "date_from", "page"}


def test_one_public_item(client, published):
    body = client.get(f"/api/v1/disclosures/{published['food']}").get_json()
    assert body["agency"]["code"] == "MKT" and body["type_label"] == "执法决定"
    assert body["document_no"] == "泉市监罚〔2025〕101号"
    assert body["subject_name"] == "泉州市鲤城区某食品店"
    assert client.get(f"/api/v1/disclosures/{published['pending']}").status_code == 404
    assert client.get("/api/v1/disclosures/" + "0" * 32).status_code == 404


def test_agency_page_lists_current_pre_phase_items_by_type(client, published, frozen_clock):
    body = client.get("/api/v1/agencies/MKT").get_json()
    assert set(body["disclosures"]) == {"power", "service_guide"}
    assert body["disclosures"]["power"][0]["id"] == published["power"]
    assert body["disclosures"]["power"][0]["type_label"] == "执法事项清单"


def test_expired_pre_phase_items_leave_the_agency_page(client, auth, db_session, frozen_clock):
    AgencyFactory(code="OLD")
    headers = auth.headers("OLD")
    client.put(f"{URL}/old", json=service_guide(effective_until="2025-01-01"), headers=headers)
    client.put(f"{URL}/future", json=service_guide(effective_from="2026-01-01"), headers=headers)
    assert client.get("/api/v1/agencies/OLD").get_json()["disclosures"] == {}


def test_mobile_pages(client, published):
    page = client.get("/s?q=过期食品")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<em>过期食品</em>" in html and f"/d/{published['food']}" in html and "共 2 条" in html
    detail = client.get(f"/d/{published['food']}").get_data(as_text=True)
    assert "泉市监罚〔2025〕101号" in detail and "泉州市市场监督管理局" in detail
    missing = client.get(f"/d/{published['pending']}")
    assert missing.status_code == 404 and "未找到" in missing.get_data(as_text=True)
    assert client.get("/s?q=" + "x" * 500).status_code == 200


def test_pages_escape_what_agencies_submit(client, auth, db_session, frozen_clock, indexer):
    AgencyFactory(code="X")
    headers = auth.headers("X")
    item = client.put(
        f"{URL}/xss", json=service_guide(title="<script>alert(1)</script>指南"), headers=headers
    ).get_json()
    indexer.sync()
    assert "<script>alert" not in client.get(f"/d/{item['id']}").get_data(as_text=True)
    assert "<script>alert" not in client.get("/s?q=指南").get_data(as_text=True)
