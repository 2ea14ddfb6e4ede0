"""Issue 20: a citizen typing simplified finds what was published in traditional characters, and the
reverse, through the public API on both engines; results are shown as published."""

import pytest

from tests.factories import AgencyFactory
from tests.factories.disclosures import service_guide

ENGINES = ["embedded", "elasticsearch"]
# From the Yancheng plan (seed 002, 盐城市人民政府办公室, 2019), published in traditional characters.
YANCHENG_PASSAGE = (
    "要及時編制、更新本部門及所屬行政執法主體的行政執法職權事項清單、行政執法人員信息、服務指南、"
    "行政執法流程圖、隨機抽查事項清單，並經相關主管部門審核後予以公示。"
)


@pytest.fixture
def published(client, auth, db_session, frozen_clock, indexer):
    AgencyFactory(code="YC", name="鹽城市司法局", region_code="320900")
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500")
    ids = {}
    for key, agency, body in [
        ("yancheng", "YC", service_guide(title="鹽城市行政執法事前公開辦事指南", content=YANCHENG_PASSAGE)),
        ("quanzhou", "MKT", service_guide(title="泉州市随机抽查办事指南", content="随机抽查事项清单每年公布。")),
    ]:
        response = client.put(f"/api/v1/publish/disclosures/{key}", json=body, headers=auth.headers(agency))
        assert response.status_code == 201, response.get_json()
        ids[response.get_json()["id"]] = key
    indexer.sync()
    return ids


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
@pytest.mark.parametrize("query", ["随机抽查", "隨機抽查"])
def test_the_yancheng_plan_and_a_simplified_list_are_found_in_either_script(client, published, query):
    body = client.get("/api/v1/disclosures", query_string={"q": query}).get_json()
    items = {published[item["id"]]: item for item in body["items"]}
    assert set(items) == {"yancheng", "quanzhou"} and body["total"] == 2
    assert "<em>隨機抽查</em>事項清單" in items["yancheng"]["snippet"]
    assert items["yancheng"]["title"] == "鹽城市行政執法事前公開辦事指南"
    assert items["quanzhou"]["snippet"] == "<em>随机抽查</em>事项清单每年公布。"


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_agencies_are_found_in_either_script(client, published):
    for query in ("盐城市司法局", "鹽城市司法局"):
        body = client.get("/api/v1/agencies", query_string={"q": query}).get_json()
        assert [(a["code"], a["highlight"]) for a in body["items"]] == [("YC", "<em>鹽城市司法局</em>")]
